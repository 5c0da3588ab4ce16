/**
 * The node wrapper (`wrappers/node/server.mjs`) without Docker: started as a child process on a
 * free port with a fixture module from `test/fixtures/node-job/wrapper/`, every endpoint called.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SERVER = join(REPO, 'wrappers/node/server.mjs');
const FIXTURES = join(REPO, 'test/fixtures/node-job/wrapper');

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

/** A wrapper process serving one fixture module. */
class Wrapper {
  child!: ChildProcess;
  port = 0;
  output = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });

  constructor(
    private readonly module: string,
    private readonly env: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.child = spawn(process.execPath, this.module === '' ? [SERVER] : [SERVER, this.module], {
      cwd: FIXTURES,
      env: { PATH: process.env.PATH ?? '', PORT: String(this.port), JOB_NAME: 'fixture', JOB_VERSION: '1.2.3', JOB_DEPLOYMENT_TIMESTAMP: '1700000000', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exit = new Promise((done) => this.child.on('exit', (code, signal) => done({ code, signal })));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        await request(`${this.url}/live`).then((r) => r.body.dump());
        return this;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`the wrapper did not listen: ${this.output}`);
  }

  async waitReady(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.get('/ready')).status === 200) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`not ready: ${this.output}`);
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; text: string; headers: Record<string, string | string[] | undefined> }> {
    const response = await request(`${this.url}${path}`, { headers });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // text answers (metrics)
    }
    return { status: response.statusCode, body, text, headers: response.headers };
  }

  async post(path: string, data: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Record<string, string | string[] | undefined> }> {
    const response = await request(`${this.url}${path}`, {
      method: 'POST',
      body: typeof data === 'string' ? data : JSON.stringify(data),
      headers: { 'content-type': 'application/json', ...headers },
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exit;
  }
}

const started: Wrapper[] = [];
async function serve(module: string, env: Record<string, string> = {}): Promise<Wrapper> {
  const w = new Wrapper(module, env);
  started.push(w);
  return w.start();
}
afterAll(async () => {
  await Promise.all(started.map((w) => w.stop()));
});

describe('node wrapper: a full job module (errors.mjs)', () => {
  let w: Wrapper;
  beforeAll(async () => {
    w = await serve('./errors.mjs', { FIXTURE_INIT_MS: '700' });
  });

  it('/ready is 500 until init() resolved, then 200; /live is 200 meanwhile; perform answers 503 before', async () => {
    expect(await w.get('/ready')).toMatchObject({ status: 500, body: { ready: false } });
    expect(await w.get('/live')).toMatchObject({ status: 200, body: { live: true, deployment_timestamp: 1700000000 } });
    const early = await w.post('/api/v1/perform', { kind: 'ok' });
    expect(early.status).toBe(503);
    expect(early.body).toMatchObject({ type: 'NotReady' });
    expect(early.headers['retry-after']).toBe('1');
    await w.waitReady();
    expect(await w.get('/ready')).toMatchObject({ status: 200, body: { ready: true } });
  });

  it('POST /api/v1/perform: the input object in, the result as JSON out, at the root and under /pub/job and /pub/fatman', async () => {
    await w.waitReady();
    expect(await w.post('/api/v1/perform', { kind: 'ok', value: 7 })).toMatchObject({ status: 200, body: { value: 7, initialised: true } });
    expect(await w.post('/pub/job/fixture/1.2.3/api/v1/perform', { kind: 'ok', value: 8 })).toMatchObject({ status: 200, body: { value: 8 } });
    expect(await w.post('/pub/job/fixture/latest/api/v1/perform/', { kind: 'ok', value: 9 })).toMatchObject({ status: 200, body: { value: 9 } });
    expect(await w.post('/pub/fatman/fixture/1.x/api/v1/perform', { kind: 'ok' })).toMatchObject({ status: 200 });
    expect((await w.post('/pub/job/other-job/1.2.3/api/v1/perform', { kind: 'ok' })).status).toBe(404);
  });

  it('an empty body is {}; undefined becomes null; BigInt, Map, Set and typed arrays serialise', async () => {
    await w.waitReady();
    expect(await w.post('/api/v1/perform', '')).toMatchObject({ status: 200, body: {} });
    expect(await w.post('/api/v1/perform', { kind: 'undefined' })).toMatchObject({ status: 200, body: null });
    expect(await w.post('/api/v1/perform', { kind: 'bigint' })).toMatchObject({
      status: 200,
      body: { big: '12345678901234567890', set: [1, 2], map: { a: 1 }, bytes: [1, 2] },
    });
  });

  it('perform gets a context with the tracing id, the caller and the path', async () => {
    await w.waitReady();
    const r = await w.post('/pub/job/fixture/1.2.3/api/v1/perform', { kind: 'context' }, { 'x-request-tracing-id': 'trace-1', 'x-caller-name': 'alice' });
    expect(r.body).toEqual({ requestId: 'trace-1', callerName: 'alice', path: '/api/v1/perform', method: 'POST' });
    expect(r.headers['x-request-tracing-id']).toBe('trace-1');
  });

  it.each([
    ['type', 400, { error: 'value must be a number', type: 'TypeError' }],
    ['range', 400, { error: 'value out of range', type: 'RangeError' }],
    ['other', 500, { error: 'something broke', type: 'Error' }],
    ['custom', 404, { error: 'no such thing', type: 'NotFoundError' }],
    ['string', 500, { error: 'a plain string', type: 'string' }],
  ])('perform throwing %s gives %i {error, type}', async (kind, status, body) => {
    await w.waitReady();
    const r = await w.post('/api/v1/perform', { kind });
    expect(r.status).toBe(status);
    expect(r.body).toEqual(body);
  });

  it('a result that is not JSON-serialisable is a 500', async () => {
    await w.waitReady();
    const r = await w.post('/api/v1/perform', { kind: 'circular' });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ type: 'TypeError', error: expect.stringMatching(/^the result cannot be serialised as JSON/) });
  });

  it.each([
    ['[1, 2]', 'the request body must be a JSON object, got an array', 'TypeError'],
    ['"text"', 'the request body must be a JSON object, got a string', 'TypeError'],
    ['null', 'the request body must be a JSON object, got null', 'TypeError'],
    ['42', 'the request body must be a JSON object, got a number', 'TypeError'],
    ['{"kind":', /^the request body is not valid JSON/, 'SyntaxError'],
  ])('body %s is a 400', async (body, error, type) => {
    await w.waitReady();
    const r = await w.post('/api/v1/perform', body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: typeof error === 'string' ? error : expect.stringMatching(error), type });
  });

  it('wrong methods and unknown paths', async () => {
    const get = await w.get('/api/v1/perform');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await w.post('/live', {})).status).toBe(405);
    expect(await w.get('/nope')).toMatchObject({ status: 404, body: { type: 'NotFound' } });
  });

  it('auxiliary endpoints: POST /api/v1/explain and nested paths', async () => {
    await w.waitReady();
    expect(await w.post('/api/v1/explain', { text: 'x' })).toEqual(expect.objectContaining({ status: 200, body: { explanation: 'you asked: x' } }));
    expect(await w.post('/pub/job/fixture/1.2.3/api/v1/nested/echo', { a: 1 })).toMatchObject({ status: 200, body: { a: 1 } });
    expect((await w.post('/api/v1/unknown', {})).status).toBe(404);
  });

  it('GET /api/v1/parameters from the parameters export (a function here)', async () => {
    expect(await w.get('/api/v1/parameters')).toMatchObject({
      status: 200,
      body: [
        { name: 'kind', type: 'string', description: 'what to do', required: true },
        { name: 'value', type: 'number', default_value: 1 },
      ],
    });
  });

  it('GET /health', async () => {
    await w.waitReady();
    expect(await w.get('/health')).toMatchObject({
      status: 200,
      body: { service: 'job', job_name: 'fixture', job_version: '1.2.3', job_type: 'node', live: true, ready: true, status: 'pass', error: null, deployment_timestamp: 1700000000 },
    });
  });

  it('GET /docs: OpenAPI with the examples, the auxiliary endpoints and the prefix the request came in under', async () => {
    const root = (await w.get('/docs')).body as { openapi: string; servers: Array<{ url: string }>; paths: Record<string, any>; info: { title: string; version: string } };
    expect(root.openapi).toBe('3.0.3');
    expect(root.info).toMatchObject({ title: 'fixture', version: '1.2.3' });
    expect(root.servers).toEqual([{ url: '/' }]);
    expect(root.paths['/api/v1/perform'].post.requestBody.content['application/json'].example).toEqual({ kind: 'ok', value: 1 });
    expect(root.paths['/api/v1/perform'].post.requestBody.content['application/json'].schema).toEqual({
      type: 'object',
      properties: { kind: { type: 'string', description: 'what to do' }, value: { type: 'number', default: 1 } },
      required: ['kind'],
    });
    expect(root.paths['/api/v1/explain'].post.requestBody.content['application/json'].example).toEqual({ text: 'why?' });
    expect(Object.keys(root.paths)).toEqual(
      expect.arrayContaining(['/api/v1/perform', '/api/v1/explain', '/api/v1/nested/echo', '/api/v1/parameters', '/live', '/ready', '/health', '/metrics']),
    );
    const prefixed = (await w.get('/pub/job/fixture/1.2.3/docs')).body as { servers: Array<{ url: string }> };
    expect(prefixed.servers).toEqual([{ url: '/pub/job/fixture/1.2.3' }]);
    const redirect = await w.get('/pub/job/fixture/1.2.3/');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/pub/job/fixture/1.2.3/docs');
  });

  it('GET /metrics: request counts and durations per endpoint, Racetrack series, the job gauges', async () => {
    await w.waitReady();
    await w.post('/api/v1/perform', { kind: 'ok' });
    await w.post('/api/v1/perform', { kind: 'other' });
    const { status, text, headers } = await w.get('/metrics');
    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/^text\/plain/);
    expect(text).toMatch(/^pitlane_job_requests_total\{endpoint="\/api\/v1\/perform",method="POST",status="200"\} \d+$/m);
    expect(text).toMatch(/^pitlane_job_requests_total\{endpoint="\/api\/v1\/perform",method="POST",status="500"\} \d+$/m);
    expect(text).toMatch(/^pitlane_job_requests_total\{endpoint="unmatched",method="GET",status="404"\} \d+$/m);
    expect(text).toMatch(/^pitlane_job_request_duration_seconds_bucket\{endpoint="\/api\/v1\/perform",le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^pitlane_job_request_duration_seconds_count\{endpoint="\/live"\} \d+$/m);
    expect(text).toMatch(/^pitlane_job_ready 1$/m);
    expect(text).toMatch(/^request_internal_errors_total\{endpoint="\/api\/v1\/perform"\} \d+$/m);
    expect(text).toMatch(/^requests_started_total \d+$/m);
    expect(text).toMatch(/^request_duration_bucket\{endpoint="\/api\/v1\/perform",le="0\.001"\} \d+$/m);
    expect(text).toMatch(/^last_call_timestamp \d+(\.\d+)?$/m);
    expect(text).toContain('# TYPE fixture_items gauge\nfixture_items{kind="a"} 3\nfixture_items{kind="b"} 4\n');
    expect(text).not.toContain('bad name');
    // Every sample line belongs to a family declared by # TYPE before it.
    const declared = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0].replace(/_(bucket|sum|count)$/, '');
      expect(declared.has(name) || declared.has(`${name}`)).toBe(true);
    }
  });

  it('one log line per request, with status, duration and tracing id', async () => {
    await w.post('/api/v1/perform', { kind: 'ok' }, { 'x-request-tracing-id': 'log-me' });
    await new Promise((r) => setTimeout(r, 100));
    expect(w.output).toMatch(/INFO +POST \/api\/v1\/perform status=200 ms=[\d.]+ request_id=log-me/);
    expect(w.output).toMatch(/ERROR .*\/api\/v1\/perform threw Error: something broke/);
  });
});

describe('node wrapper: module shapes', () => {
  it('CommonJS module.exports (tsc output without "type": "module")', async () => {
    const w = await serve('./cjs/job.js');
    await w.waitReady();
    expect(await w.post('/api/v1/perform', { a: 6, b: 7 })).toMatchObject({ status: 200, body: 42 });
    expect(((await w.get('/docs')).body as any).paths['/api/v1/perform'].post.requestBody.content['application/json'].example).toEqual({ a: 6, b: 7 });
  });

  it('a default-exported class, constructed once (Racetrack style)', async () => {
    const w = await serve('./class-default.mjs');
    await w.waitReady();
    expect(await w.post('/api/v1/perform', { numbers: [40, 2] })).toMatchObject({ status: 200, body: 142 });
    expect(await w.post('/api/v1/offset', {})).toMatchObject({ status: 200, body: 100 });
  });

  it('an absolute entrypoint path, PITLANE_ENTRYPOINT, no JOB_NAME (any /pub/job name)', async () => {
    const w = new Wrapper('', { PITLANE_ENTRYPOINT: join(FIXTURES, 'cjs/job.js'), JOB_NAME: '' });
    started.push(w);
    await w.start();
    await w.waitReady();
    expect((await w.post('/pub/job/whatever/1/api/v1/perform', { a: 2, b: 3 })).body).toBe(6);
  });
});

describe('node wrapper: a job that cannot load reports it on /live', () => {
  it.each([
    ['./throws-at-import.mjs', 'Error: cannot open the model file'],
    ['./syntax-error.mjs', /^SyntaxError: Unexpected token .* \(at .*syntax-error\.mjs:2\)$/],
    ['./no-perform.mjs', /^JobDefinitionError: \.\/no-perform\.mjs does not export a perform function.*it exports: answer/],
    ['./init-fails.mjs', 'RangeError: the model needs 64 GB'],
    ['./bad-example.mjs', /docsInputExample` must be a JSON object/],
    ['./reserved-aux.mjs', /clashes with the built-in POST \/api\/v1\/perform/],
    ['./missing.mjs', /Cannot find module/],
  ])('%s', async (module, error) => {
    const w = await serve(module);
    let live = await w.get('/live');
    const deadline = Date.now() + 5000;
    while (live.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      live = await w.get('/live');
    }
    expect(live.status).toBe(500);
    expect(live.body).toMatchObject({ live: false, deployment_timestamp: 1700000000, error: typeof error === 'string' ? error : expect.stringMatching(error) });
    expect(await w.get('/ready')).toMatchObject({ status: 500, body: { ready: false } });
    expect(await w.get('/health')).toMatchObject({ status: 500, body: { status: 'fail', live: false } });
    const perform = await w.post('/api/v1/perform', {});
    expect(perform.status).toBe(500);
    expect(perform.body).toMatchObject({ type: 'JobLoadError', error: expect.stringMatching(/^the job failed to load: /) });
    expect(w.output).toContain('the job failed to load');
  });
});

describe('node wrapper: process behaviour', () => {
  it('SIGTERM: /ready turns 500, the call in flight finishes, shutdown() runs, exit 0', async () => {
    const w = await serve('./slow-shutdown.mjs');
    await w.waitReady();
    const call = w.post('/api/v1/perform', { ms: 800 });
    await new Promise((r) => setTimeout(r, 200));
    w.child.kill('SIGTERM');
    const answer = await call;
    expect(answer).toMatchObject({ status: 200, body: 'finished' });
    expect(await w.exit).toEqual({ code: 0, signal: null });
    expect(w.output).toContain('SIGTERM: closing the listener');
    expect(w.output).toContain('fixture shutdown hook ran');
  });

  it('LOG_STRUCTURED=true writes JSON lines', async () => {
    const w = await serve('./cjs/job.js', { LOG_STRUCTURED: 'true', LOG_CALLER_NAME: 'true' });
    await w.waitReady();
    await w.post('/api/v1/perform', { a: 1, b: 1 }, { 'x-caller-name': 'bob' });
    await new Promise((r) => setTimeout(r, 100));
    const lines = w.output.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'POST /api/v1/perform', status: 200, caller: 'bob', job: 'fixture', version: '1.2.3' }));
  });

  it('a body over PITLANE_MAX_BODY_BYTES is a 413', async () => {
    const w = await serve('./cjs/job.js', { PITLANE_MAX_BODY_BYTES: '100' });
    await w.waitReady();
    const r = await w.post('/api/v1/perform', { a: 'x'.repeat(200), b: 1 });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ type: 'PayloadTooLarge' });
  });

  it('serves calls concurrently', async () => {
    const w = await serve('./slow-shutdown.mjs');
    await w.waitReady();
    const t0 = Date.now();
    const answers = await Promise.all([1, 2, 3, 4].map(() => w.post('/api/v1/perform', { ms: 500 })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('without an entrypoint it exits 2 with a usage line', async () => {
    const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise((done) => child.on('exit', done));
    expect(code).toBe(2);
    expect(err).toContain('usage: node server.mjs ENTRYPOINT');
  });
});
