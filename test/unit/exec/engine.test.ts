/**
 * The small Engine API client (`src/exec/engine.ts`) and `runContainer` over it, against a
 * stand-in engine on a Unix socket: request order (attach and wait registered before start),
 * the hijacked attach stream, exit status, pull on a missing image, start failures, signal
 * forwarding, removal (AutoRemove and `wait?condition=removed`, DELETE only for a container that
 * never started) and the watchdog. The real engine is exercised by test/integration/exec.test.ts.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer as createNetServer, type Socket } from 'node:net';
import { ChunkedDecoder, Engine, engineAddress, EngineError, parseHead, pullReference } from '../../../src/exec/engine.js';
import { ExecFailure, type ForwardedSignal } from '../../../src/exec/failure.js';
import { runContainer } from '../../../src/exec/run-container.js';
import { guardContainer, type Watchdog } from '../../../src/exec/watchdog.js';
import { parseExecEnvironment } from '../../../src/exec/spec.js';

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

interface Behaviour {
  /** Images the engine has; others answer 404 on create until pulled. */
  images: Set<string>;
  /** A pull error sent inside the progress stream. */
  pullError?: string;
  /** Start answers this error (status 400). */
  startError?: string;
  /** Output frames the container writes, then its exit status; `undefined`: runs until killed. */
  output: Buffer[];
  exitCode?: number;
}

/** A stand-in Docker engine speaking the requests of engine.ts on a Unix socket. */
class FakeEngine {
  readonly dir = mkdtempSync(join(tmpdir(), 'pitlane-fake-engine-'));
  readonly socketPath = join(this.dir, 'docker.sock');
  server: Server | undefined;
  log: string[] = [];
  createBody: unknown;
  private attach: Duplex | undefined;
  private wait: ServerResponse | undefined;
  /** The container exists (created, not yet removed). */
  exists = false;

  constructor(readonly behaviour: Behaviour) {}

  async start(): Promise<Engine> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      this.log.push(`${req.method} ${req.url}`);
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      this.attach = socket;
    });
    await new Promise<void>((resolve) => this.server?.listen(this.socketPath, resolve));
    return Engine.connect({ socketPath: this.socketPath });
  }

  async stop(): Promise<void> {
    this.attach?.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get autoRemove(): boolean {
    return (this.createBody as { HostConfig?: { AutoRemove?: boolean } } | undefined)?.HostConfig?.AutoRemove === true;
  }

  /** Like the engine: the output, then (AutoRemove) the removal, then the wait answer (condition=removed). */
  private exit(code: number): void {
    for (const chunk of this.behaviour.output) this.attach?.write(chunk);
    this.attach?.end();
    if (this.autoRemove) this.removed(code);
  }

  private removed(code: number): void {
    this.exists = false;
    this.log.push('(removed)');
    this.wait?.end(JSON.stringify({ StatusCode: code, Error: null }));
    this.wait = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += (chunk as Buffer).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://engine');
    this.log.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body?: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const path = url.pathname.replace(/^\/v1\.41/, '');
    if (path === '/containers/create') {
      this.createBody = JSON.parse(text);
      const image = (this.createBody as { Image: string }).Image;
      if (!this.behaviour.images.has(image)) json(404, { message: `No such image: ${image}` });
      else {
        this.exists = true;
        json(201, { Id: 'c0ffee', Warnings: [] });
      }
    } else if (path === '/images/create') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"Pulling from library/x"}\r\n');
      if (this.behaviour.pullError) res.end(`${JSON.stringify({ errorDetail: { message: this.behaviour.pullError }, error: this.behaviour.pullError })}\r\n`);
      else {
        this.behaviour.images.add(`${url.searchParams.get('fromImage')}:${url.searchParams.get('tag')}`);
        res.end('{"status":"Status: Downloaded newer image"}\r\n');
      }
    } else if (path === '/containers/c0ffee/wait') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      this.wait = res;
    } else if (path === '/containers/c0ffee/start') {
      if (this.behaviour.startError) {
        json(400, { message: this.behaviour.startError });
        // The engine removes an AutoRemove container whose start failed.
        if (this.autoRemove) setTimeout(() => this.removed(127), 10);
        return;
      }
      res.writeHead(204).end();
      if (this.behaviour.exitCode !== undefined) setTimeout(() => this.exit(this.behaviour.exitCode as number), 20);
    } else if (path === '/containers/c0ffee/kill') {
      res.writeHead(204).end();
      const signal = url.searchParams.get('signal');
      setTimeout(() => this.exit(signal === 'SIGKILL' ? 137 : 143), 10);
    } else if (path === '/containers/c0ffee' && req.method === 'DELETE') {
      if (!this.exists) return json(404, { message: 'No such container: c0ffee' });
      res.writeHead(204).end();
      this.removed(137);
    } else json(404, { message: `unexpected ${req.method} ${path}` });
  }
}

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

let fake: FakeEngine | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

describe('engineAddress and pullReference', () => {
  it('reads DOCKER_HOST like the docker CLI', () => {
    expect(engineAddress({})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(engineAddress({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({ socketPath: '/run/user/1000/docker.sock' });
    expect(engineAddress({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toEqual({ host: '10.0.0.5', port: 2375, tls: false });
    expect(engineAddress({ DOCKER_HOST: 'tcp://docker', DOCKER_TLS_VERIFY: '1' })).toEqual({ host: 'docker', port: 2376, tls: true });
    expect(engineAddress({ DOCKER_HOST: 'tcp://[::1]:2375' })).toEqual({ host: '::1', port: 2375, tls: false });
    expect(() => engineAddress({ DOCKER_HOST: 'ssh://me@host' })).toThrow(/unix:\/\/ and tcp:\/\//);
  });

  it('splits an image reference for the pull endpoint, defaulting the tag to latest', () => {
    expect(pullReference('busybox')).toEqual({ fromImage: 'busybox', tag: 'latest' });
    expect(pullReference('busybox:1.36')).toEqual({ fromImage: 'busybox', tag: '1.36' });
    expect(pullReference('127.0.0.1:5000/team/app')).toEqual({ fromImage: '127.0.0.1:5000/team/app', tag: 'latest' });
    expect(pullReference('127.0.0.1:5000/team/app:v2')).toEqual({ fromImage: '127.0.0.1:5000/team/app', tag: 'v2' });
    expect(pullReference('app:v2@sha256:abcd')).toEqual({ fromImage: 'app', tag: 'sha256:abcd' });
  });
});

describe('the HTTP/1.1 wire format of engine.ts', () => {
  it('parses a status line and headers (names lower-cased, repeats joined), refuses what is not HTTP/1.x', () => {
    expect(parseHead('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-A: 1\r\nx-a: 2')).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'x-a': '1, 2' },
    });
    expect(parseHead('HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp')?.statusCode).toBe(101);
    expect(parseHead('HTTP/1.0 204')?.statusCode).toBe(204);
    expect(parseHead('SSH-2.0-OpenSSH')).toBeUndefined();
    expect(parseHead('HTTP/1.1 20 OK')).toBeUndefined();
  });

  it('decodes chunked bodies split anywhere, with extensions and trailers, and refuses bad framing', () => {
    const wire = Buffer.from('5;ext=1\r\nhello\r\n1A\r\n' + 'x'.repeat(26) + '\r\n0\r\nTrailer: t\r\n\r\n', 'latin1');
    for (let size = 1; size <= wire.length; size += 1) {
      const decoder = new ChunkedDecoder();
      const out: Buffer[] = [];
      for (let at = 0; at < wire.length; at += size) decoder.push(wire.subarray(at, at + size), (data) => out.push(Buffer.from(data)));
      expect(Buffer.concat(out).toString('latin1'), `pieces of ${size}`).toBe('hello' + 'x'.repeat(26));
      expect(decoder.done).toBe(true);
    }
    const unfinished = new ChunkedDecoder();
    unfinished.push(Buffer.from('3\r\nabc\r\n'), () => {});
    expect(unfinished.done).toBe(false);
    expect(() => new ChunkedDecoder().push(Buffer.from('zz\r\n'), () => {})).toThrow(/bad chunk size/);
    expect(() => new ChunkedDecoder().push(Buffer.from('1\r\nab\r\n'), () => {})).toThrow(/not followed by CRLF/);
  });

  /** A server on a Unix socket that answers every connection with `answer` (bytes written in pieces of `piece`). */
  async function rawServer(answer: Buffer, piece = answer.length): Promise<{ engine: Engine; requests: string[]; close: () => Promise<void> }> {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-raw-engine-'));
    const socketPath = join(dir, 'docker.sock');
    const requests: string[] = [];
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      let request = '';
      socket.on('data', (d: Buffer) => {
        request += d.toString('latin1');
        if (!request.includes('\r\n\r\n')) return;
        requests.push(request);
        const pieces: Buffer[] = [];
        for (let at = 0; at < answer.length; at += piece) pieces.push(answer.subarray(at, at + piece));
        const next = (): void => {
          const chunk = pieces.shift();
          if (chunk) socket.write(chunk, () => setTimeout(next, 1));
          else if (!/Connection: Upgrade/i.test(request)) socket.end();
        };
        next();
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return {
      engine: await Engine.connect({ socketPath }),
      requests,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  it('reads Content-Length, chunked and close-delimited answers, byte by byte too', async () => {
    const bodies = [
      'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"Id":"abc1"}',
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"Id"\r\n8\r\n:"abc1"}\r\n0\r\n\r\n',
      'HTTP/1.0 201 Created\r\n\r\n{"Id":"abc1"}',
    ];
    for (const text of bodies) {
      for (const piece of [1, 7, 1000]) {
        const raw = await rawServer(Buffer.from(text, 'latin1'), piece);
        expect(await raw.engine.json('POST', '/containers/create', { Image: 'x' }), `${text} in pieces of ${piece}`).toEqual({ Id: 'abc1' });
        raw.engine.close();
        await raw.close();
        expect(raw.requests[0]).toMatch(/^POST \/v1\.41\/containers\/create HTTP\/1\.1\r\n/);
        expect(raw.requests[0]).toContain('Content-Type: application/json\r\n');
        expect(raw.requests[0]).toMatch(/\r\n\r\n\{"Image":"x"\}$/);
      }
    }
  });

  it('takes 204 as an empty answer, turns 4xx into an EngineError with the engine message, fails on a cut answer', async () => {
    const empty = await rawServer(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
    expect(await empty.engine.json('POST', '/containers/x/start')).toBeUndefined();
    await empty.close();
    const message = '{"message":"already in progress"}';
    const refused = await rawServer(Buffer.from(`HTTP/1.1 409 Conflict\r\nContent-Length: ${message.length}\r\n\r\n${message}`));
    await expect(refused.engine.json('DELETE', '/containers/x')).rejects.toMatchObject({ statusCode: 409, message: 'already in progress' });
    await refused.close();
    const cut = await rawServer(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial"'));
    await expect(cut.engine.json('GET', '/x')).rejects.toThrow(/closed the connection before the end/);
    await cut.close();
    const silent = await rawServer(Buffer.alloc(0));
    await expect(silent.engine.json('GET', '/x')).rejects.toThrow(/without answering GET \/x/);
    await silent.close();
  });

  it('hands over the connection after 101, bytes that came with the headers first', async () => {
    const raw = await rawServer(Buffer.concat([Buffer.from('HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\n'), frame(1, 'early'), frame(2, 'late')]), 13);
    const stream = await raw.engine.hijack('/containers/x/attach?stream=1&stdout=1&stderr=1');
    expect(raw.requests[0]).toContain('Connection: Upgrade\r\nUpgrade: tcp\r\n');
    const received: Buffer[] = [];
    stream.on('data', (d: Buffer) => received.push(d));
    stream.resume();
    await new Promise((r) => setTimeout(r, 200));
    expect(Buffer.concat(received)).toEqual(Buffer.concat([frame(1, 'early'), frame(2, 'late')]));
    raw.engine.close();
    await raw.close();
  });
});

describe('runContainer over the small Engine API client', () => {
  it('creates, attaches and registers the wait before starting, pipes both streams, removes, returns the status', async () => {
    fake = new FakeEngine({ images: new Set(['busybox:latest']), output: [frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'tail')], exitCode: 3 });
    const engine = await fake.start();
    const out = sink();
    const err = sink();
    const spec = parseExecEnvironment({ IMAGE: 'busybox:latest', COMMAND: 'sh -c "exit 3"', DB_NAME_ENV: 'analytics' });
    const code = await runContainer(spec, { stdout: out.stream, stderr: err.stream, engine, signals: new EventEmitter() });
    engine.close();
    expect(code).toBe(3);
    expect(out.text()).toBe('out\ntail');
    expect(err.text()).toBe('err\n');
    expect(fake.createBody).toMatchObject({ Image: 'busybox:latest', Cmd: ['sh', '-c', 'exit 3'], Env: ['DB_NAME_ENV=analytics'], Labels: { 'pitlane.exec': 'true' } });
    expect((fake.createBody as { HostConfig: { AutoRemove?: boolean } }).HostConfig.AutoRemove).toBe(true);
    const start = fake.log.indexOf('POST /v1.41/containers/c0ffee/start');
    const attach = fake.log.findIndex((line) => line.includes('/attach?stream=1&stdout=1&stderr=1'));
    const wait = fake.log.findIndex((line) => line.includes('/wait?condition=removed'));
    expect(start).toBeGreaterThan(attach);
    expect(start).toBeGreaterThan(wait);
    expect(attach).toBeGreaterThan(0);
    // The engine removed it (AutoRemove) before the wait answered: no DELETE round trip.
    expect(fake.log.at(-1)).toBe('(removed)');
    expect(fake.log.some((line) => line.startsWith('DELETE'))).toBe(false);
    expect(fake.exists).toBe(false);
  });

  it('drops a sink that fails (EPIPE) and still waits, removes and returns the status', async () => {
    fake = new FakeEngine({ images: new Set(['busybox:latest']), output: [frame(1, 'lost\n'), frame(2, 'kept\n'), frame(1, 'lost too\n')], exitCode: 4 });
    const engine = await fake.start();
    const gone = new Writable({
      write(_chunk, _encoding, callback): void {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const err = sink();
    const code = await runContainer(parseExecEnvironment({ IMAGE: 'busybox:latest' }), { stdout: gone, stderr: err.stream, engine, signals: new EventEmitter() });
    engine.close();
    expect(code).toBe(4);
    expect(err.text()).toBe('kept\n');
    expect(fake.exists).toBe(false);
  });

  it('pulls a missing image once, then creates the container', async () => {
    fake = new FakeEngine({ images: new Set(), output: [], exitCode: 0 });
    const engine = await fake.start();
    const notes: string[] = [];
    const code = await runContainer(parseExecEnvironment({ IMAGE: 'team/app:v2' }), { stdout: sink().stream, stderr: sink().stream, engine, note: (t) => notes.push(t), signals: new EventEmitter() });
    engine.close();
    expect(code).toBe(0);
    expect(notes.join('')).toContain("Unable to find image 'team/app:v2' locally");
    expect(fake.log.filter((line) => line.startsWith('POST /v1.41/images/create'))).toEqual(['POST /v1.41/images/create?fromImage=team%2Fapp&tag=v2']);
  });

  it('fails with 125 and the message from the progress stream when the pull fails; nothing to remove', async () => {
    fake = new FakeEngine({ images: new Set(), pullError: 'pull access denied for nope', output: [] });
    const engine = await fake.start();
    const failure = await runContainer(parseExecEnvironment({ IMAGE: 'nope' }), { stdout: sink().stream, stderr: sink().stream, engine, signals: new EventEmitter() }).catch((e: unknown) => e);
    engine.close();
    expect(failure).toBeInstanceOf(ExecFailure);
    expect(failure).toMatchObject({ exitCode: 125, message: 'cannot pull image nope: pull access denied for nope' });
    expect(fake.log.some((line) => line.startsWith('DELETE'))).toBe(false);
  });

  it('maps a start failure like docker run (127) and returns once the engine has removed the container', async () => {
    fake = new FakeEngine({ images: new Set(['busybox:latest']), startError: 'OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown', output: [] });
    const engine = await fake.start();
    const failure = await runContainer(parseExecEnvironment({ IMAGE: 'busybox:latest', COMMAND: 'nope' }), { stdout: sink().stream, stderr: sink().stream, engine, signals: new EventEmitter() }).catch((e: unknown) => e);
    engine.close();
    expect(failure).toMatchObject({ exitCode: 127 });
    expect((failure as Error).message).toContain('executable file not found');
    expect(fake.exists).toBe(false);
    expect(fake.log.at(-1)).toBe('(removed)');
  });

  it('removes a container interrupted before it started (AutoRemove does not cover those) and returns 128 + the signal', async () => {
    fake = new FakeEngine({ images: new Set(['busybox:latest']), output: [], exitCode: 0 });
    const engine = await fake.start();
    const signals = new EventEmitter();
    const code = await runContainer(parseExecEnvironment({ IMAGE: 'busybox:latest' }), {
      stdout: sink().stream,
      stderr: sink().stream,
      engine,
      signals,
      onCreated: () => signals.emit('SIGINT' satisfies ForwardedSignal),
    });
    engine.close();
    expect(code).toBe(130);
    expect(fake.log.some((line) => line.includes('/start'))).toBe(false);
    expect(fake.log).toContain('DELETE /v1.41/containers/c0ffee?force=1&v=1');
    expect(fake.exists).toBe(false);
  });

  it('starts the watchdog only for a run that outlasts watchdogAfterMs, and stops it at the end', async () => {
    fake = new FakeEngine({ images: new Set(['busybox:latest']), output: [] });
    const engine = await fake.start();
    const signals = new EventEmitter();
    const events: string[] = [];
    const startWatchdog = async (id: string): Promise<Watchdog> => {
      events.push(`start ${id}`);
      return { pid: 1234, stop: () => events.push('stop') };
    };
    const running = runContainer(parseExecEnvironment({ IMAGE: 'busybox:latest' }), { stdout: sink().stream, stderr: sink().stream, engine, signals, watchdogAfterMs: 30, startWatchdog });
    for (let i = 0; i < 100 && events.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['start c0ffee']);
    signals.emit('SIGTERM' satisfies ForwardedSignal);
    expect(await running).toBe(143);
    expect(events).toEqual(['start c0ffee', 'stop']);

    // A run shorter than watchdogAfterMs never starts one.
    const quick = new FakeEngine({ images: new Set(['busybox:latest']), output: [], exitCode: 0 });
    const quickEngine = await quick.start();
    events.length = 0;
    expect(await runContainer(parseExecEnvironment({ IMAGE: 'busybox:latest' }), { stdout: sink().stream, stderr: sink().stream, engine: quickEngine, signals, watchdogAfterMs: 5_000, startWatchdog })).toBe(0);
    quickEngine.close();
    await quick.stop();
    engine.close();
    expect(events).toEqual([]);
  });

  it('forwards SIGTERM to the container and returns its status', async () => {
    fake = new FakeEngine({ images: new Set(['busybox:latest']), output: [frame(1, 'got-term\n')] });
    const engine = await fake.start();
    const signals = new EventEmitter();
    const out = sink();
    const running = runContainer(parseExecEnvironment({ IMAGE: 'busybox:latest' }), { stdout: out.stream, stderr: sink().stream, engine, signals });
    for (let i = 0; i < 100 && !fake.log.some((line) => line.includes('/start')); i += 1) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    signals.emit('SIGTERM' satisfies ForwardedSignal);
    const code = await running;
    engine.close();
    expect(code).toBe(143);
    expect(out.text()).toBe('got-term\n');
    expect(fake.log).toContain('POST /v1.41/containers/c0ffee/kill?signal=SIGTERM');
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('the watchdog removes the container only once its parent pipe ends, and takes an already removed one as done', async () => {
    fake = new FakeEngine({ images: new Set(['busybox:latest']), output: [] });
    const engine = await fake.start();
    await engine.json('POST', '/containers/create', { Image: 'busybox:latest', HostConfig: { AutoRemove: true } });
    const parent = new PassThrough();
    const guarded = guardContainer('c0ffee', parent, async () => engine);
    parent.write('not an end of file\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.log.some((line) => line.startsWith('DELETE'))).toBe(false);
    parent.end();
    expect(await guarded).toBe(0);
    expect(fake.log.at(-2)).toBe('DELETE /v1.41/containers/c0ffee?force=1&v=1');
    expect(fake.exists).toBe(false);

    const again = new PassThrough();
    const second = await Engine.connect({ socketPath: fake.socketPath });
    const done = guardContainer('c0ffee', again, async () => second);
    again.end();
    expect(await done).toBe(0); // 404: gone already
  });

  it('reports engine errors with the engine message and status', async () => {
    fake = new FakeEngine({ images: new Set(), output: [] });
    const engine = await fake.start();
    const error = await engine.json('POST', '/containers/nope/start').catch((e: unknown) => e);
    engine.close();
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ statusCode: 404, message: 'unexpected POST /containers/nope/start', json: { message: 'unexpected POST /containers/nope/start' } });
  });
});
