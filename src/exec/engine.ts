/**
 * A small Docker Engine API client written for start-up time. `pitlane exec` has to start a
 * trivial container about as fast as `docker run --rm` does, and loading dockerode (docker-modem,
 * ssh2, protobufjs and the gRPC parts it pulls in) takes about 0.4 s, most of such a run's wall
 * time. This covers only what `pitlane exec` needs, in Engine API version 1.41 (Docker Engine
 * 20.10; later engines accept it too). Reference: Docker Engine API v1.41,
 * https://docs.docker.com/engine/api/v1.41/
 *
 * | request                                                    | use                                              |
 * |------------------------------------------------------------|--------------------------------------------------|
 * | `POST /containers/create`                                  | create (404: the image is not there)             |
 * | `POST /images/create?fromImage=NAME&tag=TAG`               | pull; errors can come inside the progress stream |
 * | `POST /containers/{id}/attach?stream=1&stdout=1&stderr=1`  | `Upgrade: tcp`, 101: a hijacked multiplexed stream |
 * | `POST /containers/{id}/wait?condition=removed`             | headers once registered, `{StatusCode}` once removed |
 * | `POST /containers/{id}/start`, `POST /containers/{id}/kill?signal=S` | start, forward a signal                 |
 * | `DELETE /containers/{id}?force=1&v=1`                      | remove, anonymous volumes too                    |
 *
 * It speaks HTTP/1.1 itself over a node:net socket (node:tls for a TLS DOCKER_HOST), one
 * connection per request (`Connection: close`; a Unix socket connects in microseconds), instead
 * of node:http: loading node:http and the first request through it cost about 10 ms of CPU at
 * start-up, a sizeable part of the difference with `docker run`. The wire format it handles is
 * the engine's (Go net/http): a status line and headers, then a body framed by Content-Length,
 * chunked transfer coding, or the end of the connection; 101 Switching Protocols for attach.
 *
 * The engine is found as the docker CLI and dockerode find it: DOCKER_HOST `unix:///path` or
 * `tcp://host:port` (`https` when DOCKER_TLS_VERIFY is set, with ca.pem, cert.pem and key.pem
 * from DOCKER_CERT_PATH, default ~/.docker), else /var/run/docker.sock.
 */
import { createConnection } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';

export const ENGINE_API_VERSION = '1.41';

/** An error answer of the engine; `json.message` is the engine's own text (as dockerode's errors have it). */
export class EngineError extends Error {
  readonly json: { message: string };
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
    this.json = { message };
  }
}

/** Where the engine listens. */
export interface EngineAddress {
  socketPath?: string;
  host?: string;
  port?: number;
  tls?: boolean;
  /** With `tls`: the directory of ca.pem, cert.pem and key.pem (DOCKER_CERT_PATH, default ~/.docker). */
  certPath?: string;
}

/** Reads DOCKER_HOST (and DOCKER_TLS_VERIFY) like the docker CLI. @throws Error for a scheme this client does not speak. */
export function engineAddress(env: Record<string, string | undefined> = process.env): EngineAddress {
  const host = env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const match = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (!match) throw new Error(`DOCKER_HOST=${host}: pitlane exec talks to unix:// and tcp:// engines only`);
  const tls = match[1] === 'https' || (env.DOCKER_TLS_VERIFY ?? '') !== '';
  const address: EngineAddress = { host: (match[2] as string).replace(/^\[|\]$/g, ''), port: Number(match[3] ?? (tls ? 2376 : 2375)), tls };
  if (tls && env.DOCKER_CERT_PATH) address.certPath = env.DOCKER_CERT_PATH;
  return address;
}

/** `repo[:tag]` or `repo[:tag]@digest` as the pull endpoint wants it (the docker CLI defaults the tag to latest). */
export function pullReference(image: string): { fromImage: string; tag: string } {
  const at = image.indexOf('@');
  const named = at < 0 ? image : image.slice(0, at);
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const tagged = colon > slash;
  const name = tagged ? named.slice(0, colon) : named;
  return { fromImage: name, tag: at >= 0 ? image.slice(at + 1) : tagged ? named.slice(colon + 1) : 'latest' };
}

/** An answer of the engine: its status, its headers (lower-case names) and its body as it arrives. */
export interface EngineResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** The body, de-chunked, ending when the answer ends; destroying it closes the connection. */
  body: PassThrough;
}

/** Largest status line + headers accepted from the engine. */
const MAX_HEAD_BYTES = 64 * 1024;

/** A connection to the engine (a socket per request); {@link Engine.close} ends those still open. */
export class Engine {
  private readonly sockets = new Set<Duplex>();

  private constructor(
    private readonly open: () => Duplex,
    private readonly hostHeader: string,
  ) {}

  static async connect(address: EngineAddress = engineAddress()): Promise<Engine> {
    if (address.socketPath !== undefined) {
      const socketPath = address.socketPath;
      return new Engine(() => createConnection(socketPath), 'docker');
    }
    const host = address.host ?? 'localhost';
    const port = address.port ?? 2375;
    const hostHeader = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (!address.tls) return new Engine(() => createConnection(port, host), hostHeader);
    const [tls, fs, os, path] = await Promise.all([import('node:tls'), import('node:fs'), import('node:os'), import('node:path')]);
    const dir = address.certPath || path.join(os.homedir(), '.docker');
    const read = (name: string): Buffer | undefined => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name)) : undefined);
    const options = { host, port, ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
    return new Engine(() => tls.connect(options), hostHeader);
  }

  /**
   * Sends a request on a new connection; resolves once the status line and headers are in, with
   * the response, or with the connection itself after a 101 (when `upgrade`).
   */
  private send(method: string, path: string, body?: unknown, upgrade = false): Promise<{ response: EngineResponse; socket?: Duplex }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const head =
      `${method} /v${ENGINE_API_VERSION}${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nUser-Agent: pitlane-exec\r\n` +
      `Content-Length: ${payload?.length ?? 0}\r\n${payload ? 'Content-Type: application/json\r\n' : ''}` +
      `${upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : 'Connection: close\r\n'}\r\n`;
    const socket = this.open();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return new Promise((resolve, reject) => {
      let received: Buffer = Buffer.alloc(0);
      const fail = (error: Error): void => {
        detach();
        socket.destroy();
        reject(error);
      };
      const onError = (error: Error): void => fail(error);
      const onClose = (): void => fail(new Error(`the engine closed the connection without answering ${method} ${path}`));
      const onData = (chunk: Buffer): void => {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) {
          if (received.length > MAX_HEAD_BYTES) fail(new Error('the engine sent an answer header over 64 KiB'));
          return;
        }
        const parsed = parseHead(received.subarray(0, end).toString('latin1'));
        if (!parsed) return fail(new Error(`the engine sent a malformed answer: ${JSON.stringify(received.subarray(0, Math.min(end, 200)).toString('latin1'))}`));
        socket.pause();
        detach();
        const rest = received.subarray(end + 4);
        if (upgrade && parsed.statusCode === 101) {
          if (rest.length > 0) socket.unshift(rest);
          // Until its reader attaches (which checks `destroyed`), a reset must not crash the process.
          socket.on('error', () => {});
          resolve({ response: { ...parsed, body: new PassThrough() }, socket });
          return;
        }
        resolve({ response: { ...parsed, body: readBody(socket, rest, parsed, method) } });
      };
      const detach = (): void => {
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.write(payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : head);
    });
  }

  /** A request whose answer is JSON (or empty); @throws EngineError for a 4xx/5xx answer. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const { response } = await this.send(method, path, body);
    const text = await readText(response.body);
    if (response.statusCode >= 400) throw engineError(response.statusCode, text);
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A request whose answer streams; resolves once the headers are in, with the body. @throws EngineError for a 4xx/5xx answer. */
  async stream(method: string, path: string): Promise<PassThrough> {
    const { response } = await this.send(method, path);
    if (response.statusCode >= 400) throw engineError(response.statusCode, await readText(response.body));
    return response.body;
  }

  /**
   * `POST path` upgraded to a raw TCP stream (attach); the stream is returned paused (call
   * `resume()`, or pipe it). @throws EngineError when the engine refuses.
   */
  async hijack(path: string): Promise<Duplex> {
    const { response, socket } = await this.send('POST', path, undefined, true);
    if (socket) return socket;
    const text = await readText(response.body);
    throw response.statusCode >= 400 ? engineError(response.statusCode, text) : new EngineError(502, `the engine did not upgrade the attach connection (HTTP ${response.statusCode})`);
  }

  /** Pulls `image`; rejects with the engine's message, also when it arrives inside the progress stream. */
  async pull(image: string): Promise<void> {
    const { fromImage, tag } = pullReference(image);
    const body = await this.stream('POST', `/images/create?fromImage=${encodeURIComponent(fromImage)}&tag=${encodeURIComponent(tag)}`);
    let failure: string | undefined;
    for (const line of (await readText(body)).split('\n')) {
      try {
        const event = JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } };
        const message = event.errorDetail?.message ?? event.error;
        if (typeof message === 'string') failure = message;
      } catch {
        // Not a JSON line (blank): nothing to learn.
      }
    }
    if (failure !== undefined) throw new EngineError(500, failure);
  }

  /** Closes the connections still open (requests in flight fail, streams end). */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

/**
 * Parses an HTTP/1.x status line and header lines (without the blank line that ends them).
 * Header names are lower-cased; repeated headers are joined with ", ". Undefined when the status
 * line is not HTTP/1.x.
 */
export function parseHead(text: string): { statusCode: number; headers: Record<string, string> } | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { statusCode: Number(status[1]), headers };
}

/**
 * Decoder of the chunked transfer coding (RFC 9112 section 7.1): chunk sizes in hex with
 * optional extensions, each chunk followed by CRLF, a last chunk of size 0, then optional trailer
 * lines and a blank line. Chunks may be split across `push` calls anywhere.
 */
export class ChunkedDecoder {
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  private remaining = 0;

  /** Whether the last chunk and the trailers have been read. */
  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Decodes `chunk`, handing each piece of payload to `out` as it comes.
   * @throws Error for a malformed size or chunk ending.
   */
  push(chunk: Buffer, out: (data: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length && this.state !== 'done') {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, chunk.length - offset);
        out(chunk.subarray(offset, offset + take));
        this.remaining -= take;
        offset += take;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      // The other states read a line.
      const newline = chunk.indexOf(10, offset);
      if (newline < 0) {
        this.line += chunk.subarray(offset).toString('latin1');
        if (this.line.length > 4096) throw new Error('chunked answer: line over 4 KiB');
        return;
      }
      const line = (this.line + chunk.subarray(offset, newline).toString('latin1')).replace(/\r$/, '');
      this.line = '';
      offset = newline + 1;
      if (this.state === 'size') {
        const size = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/.exec(line);
        if (!size) throw new Error(`chunked answer: bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
        this.remaining = parseInt(size[1] as string, 16);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
      } else if (this.state === 'data-end') {
        if (line !== '') throw new Error('chunked answer: chunk not followed by CRLF');
        this.state = 'size';
      } else if (line === '') {
        this.state = 'done'; // the blank line after the (optional) trailers
      }
    }
  }
}

/**
 * The body of an answer read from `socket` (after `rest`, the bytes that came with the headers):
 * none for 1xx/204/304 and HEAD; Content-Length bytes; de-chunked; or everything until the
 * connection ends. The socket is closed once the body is complete; a connection lost before
 * that fails the body with an error.
 */
function readBody(socket: Duplex, rest: Buffer, head: { statusCode: number; headers: Record<string, string> }, method: string): PassThrough {
  const body = new PassThrough();
  // Its consumers check `errored` when they come; no listener yet must not crash the process.
  body.on('error', () => {});
  const { statusCode, headers } = head;
  let complete = false;
  const finish = (): void => {
    if (complete) return;
    complete = true;
    body.end();
    socket.destroy();
  };
  body.on('close', () => socket.destroy());
  if (method === 'HEAD' || statusCode < 200 || statusCode === 204 || statusCode === 304) {
    finish();
    return body;
  }
  let feed: (chunk: Buffer) => void;
  if (/(?:^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '')) {
    const decoder = new ChunkedDecoder();
    feed = (chunk) => {
      decoder.push(chunk, (data) => body.write(data));
      if (decoder.done) finish();
    };
  } else if (headers['content-length'] !== undefined) {
    let remaining = Number(headers['content-length']);
    if (!Number.isSafeInteger(remaining) || remaining < 0) {
      body.destroy(new Error(`the engine sent a bad Content-Length: ${headers['content-length']}`));
      return body;
    }
    feed = (chunk) => {
      const take = chunk.subarray(0, remaining);
      if (take.length > 0) body.write(take);
      remaining -= take.length;
      if (remaining === 0) finish();
    };
    if (remaining === 0) finish();
  } else {
    feed = (chunk) => {
      if (chunk.length > 0) body.write(chunk);
    };
    socket.on('end', finish);
  }
  const onData = (chunk: Buffer): void => {
    if (complete) return;
    try {
      feed(chunk);
    } catch (error) {
      complete = true;
      body.destroy(error as Error);
      socket.destroy();
    }
  };
  socket.on('error', (error) => {
    if (!complete) body.destroy(error);
  });
  socket.on('close', () => {
    if (!complete) {
      complete = true;
      body.destroy(new Error('the engine closed the connection before the end of its answer'));
    }
  });
  if (!complete) {
    if (rest.length > 0) onData(rest);
    socket.on('data', onData);
    socket.resume();
  }
  return body;
}

/** The whole of `res` as UTF-8 text; rejects when it failed, fails or closes before its end. */
function readText(res: PassThrough): Promise<string> {
  return new Promise((resolve, reject) => {
    // A body can fail before anyone listens (a malformed answer that came with the headers).
    if (res.errored) return reject(res.errored);
    if (res.destroyed) return reject(new Error('the engine closed the connection before the end of its answer'));
    const chunks: Buffer[] = [];
    let ended = false;
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', reject);
    res.on('close', () => {
      if (!ended) reject(new Error('the engine closed the connection before the end of its answer'));
    });
  });
}

function engineError(status: number, text: string): EngineError {
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message.trim();
  } catch {
    // Plain text: keep it.
  }
  return new EngineError(status, message || `HTTP ${status} from the engine`);
}
