/**
 * A ~100-line Docker Engine API client written for start-up time. `pitlane exec` has to start a
 * trivial container about as fast as `docker run --rm` does, and loading dockerode (docker-modem,
 * ssh2, protobufjs and the gRPC parts it pulls in) takes about 0.4 s, most of such a run's wall
 * time. This speaks HTTP/1.1 over node:http (node:https only for a TLS DOCKER_HOST) and covers only
 * what `pitlane exec` needs, in Engine API version 1.41 (Docker Engine 20.10; later engines accept
 * it too). Reference: Docker Engine API v1.41, https://docs.docker.com/engine/api/v1.41/
 *
 * | request                                                    | use                                              |
 * |------------------------------------------------------------|--------------------------------------------------|
 * | `POST /containers/create`                                  | create (404: the image is not there)             |
 * | `POST /images/create?fromImage=NAME&tag=TAG`               | pull; errors can come inside the progress stream |
 * | `POST /containers/{id}/attach?stream=1&stdout=1&stderr=1`  | `Upgrade: tcp`, 101: a hijacked multiplexed stream |
 * | `POST /containers/{id}/wait?condition=next-exit`           | headers once registered, `{StatusCode}` at exit  |
 * | `POST /containers/{id}/start`, `POST /containers/{id}/kill?signal=S` | start, forward a signal                 |
 * | `DELETE /containers/{id}?force=1&v=1`                      | remove, anonymous volumes too                    |
 *
 * The engine is found as the docker CLI and dockerode find it: DOCKER_HOST `unix:///path` or
 * `tcp://host:port` (`https` when DOCKER_TLS_VERIFY is set, with ca.pem, cert.pem and key.pem
 * from DOCKER_CERT_PATH, default ~/.docker), else /var/run/docker.sock.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

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

/** A connection to the engine; requests share keep-alive sockets. */
export class Engine {
  private constructor(
    private readonly request: typeof http.request,
    private readonly base: http.RequestOptions & { agent: http.Agent },
  ) {}

  static async connect(address: EngineAddress = engineAddress()): Promise<Engine> {
    if (!address.tls) return new Engine(http.request, { socketPath: address.socketPath, host: address.host, port: address.port, agent: new http.Agent({ keepAlive: true }) });
    const [https, fs, os, path] = await Promise.all([import('node:https'), import('node:fs'), import('node:os'), import('node:path')]);
    const dir = address.certPath || path.join(os.homedir(), '.docker');
    const read = (name: string): Buffer | undefined => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name)) : undefined);
    const agent = new https.Agent({ keepAlive: true, ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') });
    return new Engine(https.request, { host: address.host, port: address.port, agent });
  }

  /** Sends a request; resolves with the response (any status), or the hijacked socket after a 101. */
  private send(method: string, path: string, body?: unknown, upgrade = false): Promise<{ res: IncomingMessage; socket?: Duplex }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = { 'content-length': payload?.length ?? 0, ...(payload ? { 'content-type': 'application/json' } : {}) };
    if (upgrade) Object.assign(headers, { connection: 'Upgrade', upgrade: 'tcp' });
    return new Promise((resolve, reject) => {
      const req = this.request({ ...this.base, method, path: `/v${ENGINE_API_VERSION}${path}`, headers });
      req.on('error', reject);
      req.on('response', (res) => resolve({ res }));
      req.on('upgrade', (res, socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        resolve({ res, socket });
      });
      req.end(payload);
    });
  }

  /** A request whose answer is JSON (or empty); @throws EngineError for a 4xx/5xx answer. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const { res } = await this.send(method, path, body);
    const text = await readText(res);
    if ((res.statusCode ?? 500) >= 400) throw engineError(res.statusCode ?? 500, text);
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A request whose answer streams; resolves once the headers are in. @throws EngineError for a 4xx/5xx answer. */
  async stream(method: string, path: string): Promise<IncomingMessage> {
    const { res } = await this.send(method, path);
    if ((res.statusCode ?? 500) >= 400) throw engineError(res.statusCode ?? 500, await readText(res));
    return res;
  }

  /** `POST path` upgraded to a raw TCP stream (attach). @throws EngineError when the engine refuses. */
  async hijack(path: string): Promise<Duplex> {
    const { res, socket } = await this.send('POST', path, undefined, true);
    if (socket) return socket;
    const text = await readText(res);
    throw (res.statusCode ?? 500) >= 400 ? engineError(res.statusCode ?? 500, text) : new EngineError(502, `the engine did not upgrade the attach connection (HTTP ${res.statusCode})`);
  }

  /** Pulls `image`; rejects with the engine's message, also when it arrives inside the progress stream. */
  async pull(image: string): Promise<void> {
    const { fromImage, tag } = pullReference(image);
    const res = await this.stream('POST', `/images/create?fromImage=${encodeURIComponent(fromImage)}&tag=${encodeURIComponent(tag)}`);
    let failure: string | undefined;
    for (const line of (await readText(res)).split('\n')) {
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

  /** Closes the idle keep-alive sockets. */
  close(): void {
    this.base.agent.destroy();
  }
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
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
