/**
 * The python3 wrapper (wrappers/python3/pitlane_wrapper) run with the host's python3 as a child
 * process, without Docker: the whole HTTP contract. Skipped when the host has no Python >= 3.8.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const WRAPPER = join(REPO, 'wrappers/python3');
const FIXTURES = join(REPO, 'test/fixtures/python3');
const PYTHON = process.env.PITLANE_TEST_PYTHON ?? 'python3';
const hasPython = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)'], { timeout: 10_000 });
  return r.status === 0;
})();

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Wrapper {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
}

const running: Wrapper[] = [];

/** Starts `python -m pitlane_wrapper ARGS` in `cwd` and waits until it answers /live. */
async function startWrapper(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Wrapper> {
  const port = await freePort();
  const child = spawn(PYTHON, ['-m', 'pitlane_wrapper', ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      PYTHONPATH: WRAPPER,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
      PORT: String(port),
      PITLANE_WRAPPER_HOST: '127.0.0.1',
      JOB_NAME: 'adder',
      JOB_VERSION: '1.0.0',
      JOB_DEPLOYMENT_TIMESTAMP: '1700000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const w: Wrapper = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  running.push(w);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the wrapper exited with ${child.exitCode}:\n${out}`);
    try {
      await fetch(`${w.url}/live`);
      return w;
    } catch {
      if (Date.now() > deadline) throw new Error(`the wrapper did not answer:\n${out}`);
      await sleep(50);
    }
  }
}

/** Waits until GET /ready answers 200. */
async function untilReady(w: Wrapper, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await fetch(`${w.url}/ready`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`not ready:\n${w.output()}`);
    await sleep(50);
  }
}

async function post(w: Wrapper, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(`${w.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: await r.json(), headers: r.headers };
}

async function get(w: Wrapper, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(`${w.url}${path}`, { headers, redirect: 'manual' });
  return { status: r.status, text: await r.text(), headers: r.headers };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

describe.skipIf(!hasPython)('python3 wrapper (host python3)', () => {
  describe('the adder example', () => {
    let w: Wrapper;
    beforeAll(async () => {
      w = await startWrapper(join(REPO, 'examples/adder'), ['adder.py']);
      running.splice(running.indexOf(w), 1);
      await untilReady(w);
    });
    afterAll(async () => {
      await w.stop();
    });

    it('POST /api/v1/perform {"numbers":[40,2]} gives 42, at the root and under /pub/job/{name}/{version}', async () => {
      expect(await post(w, '/api/v1/perform', { numbers: [40, 2] })).toMatchObject({ status: 200, json: 42 });
      expect((await post(w, '/pub/job/adder/1.0.0/api/v1/perform', { numbers: [40, 2] })).json).toBe(42);
      expect((await post(w, '/pub/job/adder/latest/api/v1/perform', { numbers: [1.5, 2] })).json).toBe(3.5);
      expect((await post(w, '/pub/fatman/adder/1.x/api/v1/perform', { numbers: [] })).json).toBe(0);
      const r = await post(w, '/api/v1/perform', { numbers: [1] });
      expect(r.headers.get('content-type')).toBe('application/json');
    });

    it('GET /api/v1/parameters describes perform\'s signature', async () => {
      expect(JSON.parse((await get(w, '/api/v1/parameters')).text)).toEqual([{ name: 'numbers', type: 'list[float]' }]);
    });

    it('GET /live has the deployment timestamp; /ready and /health are 200', async () => {
      const live = await get(w, '/live');
      expect(live.status).toBe(200);
      expect(live.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(live.text)).toEqual({ live: true, deployment_timestamp: 1700000000 });
      expect(JSON.parse((await get(w, '/pub/job/adder/1.0.0/ready')).text)).toEqual({ ready: true });
      const health = await get(w, '/health');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.text)).toMatchObject({ service: 'job', job_name: 'adder', job_version: '1.0.0', live: true, ready: true, status: 'pass', entrypoint_class: 'AdderModel' });
    });

    it('/docs: an HTML page linking the OpenAPI document, whose perform example is docs_input_example()', async () => {
      const html = await get(w, '/docs');
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(html.text).toContain('href="docs/openapi.json"');
      const doc = JSON.parse((await get(w, '/pub/job/adder/1.0.0/docs/openapi.json')).text);
      expect(doc.openapi).toBe('3.0.3');
      expect(doc.info).toMatchObject({ title: 'Job - adder', version: '1.0.0', description: 'Adds numbers.' });
      expect(doc.servers).toEqual([{ url: '/pub/job/adder/1.0.0' }]);
      const perform = doc.paths['/api/v1/perform'].post;
      expect(perform.requestBody.content['application/json']).toEqual({
        schema: { type: 'object', properties: { numbers: { type: 'array', items: { type: 'number' } } }, required: ['numbers'] },
        example: { numbers: [40, 2] },
      });
      expect(perform.description).toContain('Return the sum of the numbers.');
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/parameters', '/live', '/ready', '/health', '/metrics']));
      // Clients that ask for JSON get the document at /docs itself.
      expect(JSON.parse((await get(w, '/docs', { accept: 'application/json' })).text)).toEqual(doc);
    });

    it('/ redirects to the docs, keeping the prefix', async () => {
      expect((await get(w, '/')).headers.get('location')).toBe('/docs');
      const r = await get(w, '/pub/job/adder/1.0.0');
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe('/pub/job/adder/1.0.0/docs');
    });

    it('a TypeError from the call is 400 {error, type}', async () => {
      expect(await post(w, '/api/v1/perform', { numbers: 'x' })).toMatchObject({ status: 400, json: { error: "unsupported operand type(s) for +: 'int' and 'str'", type: 'TypeError' } });
      expect(await post(w, '/api/v1/perform', { nums: [1] })).toMatchObject({ status: 400, json: { type: 'TypeError', error: expect.stringContaining("unexpected keyword argument 'nums'") } });
    });

    it('unknown paths are 404, another job\'s prefix too, and GET on perform is 405 (JSON errors)', async () => {
      const unknown = await get(w, '/api/v1/nope');
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.text)).toEqual({ error: 'no endpoint GET /api/v1/nope', type: 'NotFound' });
      expect((await post(w, '/pub/job/other/1.0.0/api/v1/perform', { numbers: [] })).status).toBe(404);
      const r = await get(w, '/api/v1/perform');
      expect(r.status).toBe(405);
      expect(JSON.parse(r.text).type).toBe('MethodNotAllowed');
    });
  });

  describe('the behaviours fixture', () => {
    let w: Wrapper;
    beforeAll(async () => {
      w = await startWrapper(join(FIXTURES, 'behaviours'), ['job.py'], { INIT_SECONDS: '1.5', REQUEST_TRACING_HEADER: 'X-Request-Id' });
      running.splice(running.indexOf(w), 1);
    });
    afterAll(async () => {
      await w.stop();
    });

    it('/ready is 503 and calls are 503 until the class is constructed; /live is 200 meanwhile', async () => {
      const ready = await get(w, '/ready');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text)).toEqual({ ready: false });
      expect((await get(w, '/live')).status).toBe(200);
      expect(await post(w, '/api/v1/perform', { numbers: [1] })).toMatchObject({ status: 503, json: { error: 'the job is still initialising', type: 'NotReady' } });
      expect((await get(w, '/health')).status).toBe(500);
      const t0 = Date.now();
      await untilReady(w);
      expect(Date.now() - t0).toBeGreaterThan(300);
      expect(await post(w, '/api/v1/perform', { numbers: [40, 2] })).toMatchObject({ status: 200, json: 42 });
    });

    it('ValueError and TypeError are 400, other exceptions 500, each as {error, type}', async () => {
      await untilReady(w);
      expect(await post(w, '/api/v1/perform', { numbers: [1], mode: 'value-error' })).toMatchObject({ status: 400, json: { error: 'numbers must be positive', type: 'ValueError' } });
      expect(await post(w, '/api/v1/perform', { numbers: [1], mode: 'boom' })).toMatchObject({ status: 500, json: { error: 'boom: something broke', type: 'RuntimeError' } });
      expect(w.output()).toContain('RuntimeError: boom: something broke');
      expect(w.output()).toMatch(/File ".*job\.py", line \d+, in perform/);
    });

    it('a body that is not a JSON object is 400', async () => {
      await untilReady(w);
      expect(await post(w, '/api/v1/perform', [1, 2])).toMatchObject({ status: 400, json: { error: 'the request body must be a JSON object of keyword arguments, not an array', type: 'TypeError' } });
      expect(await post(w, '/api/v1/perform', '"text"')).toMatchObject({ status: 400, json: { type: 'TypeError' } });
      expect(await post(w, '/api/v1/perform', '{"numbers": [1,')).toMatchObject({ status: 400, json: { type: 'JSONDecodeError', error: expect.stringContaining('not valid JSON') } });
    });

    it('results JSON cannot hold are 500; sets become lists', async () => {
      await untilReady(w);
      expect(await post(w, '/api/v1/perform', { numbers: [], mode: 'nan' })).toMatchObject({ status: 500, json: { type: 'ValueError', error: expect.stringContaining('cannot be encoded as JSON') } });
      expect(await post(w, '/api/v1/perform', { numbers: [], mode: 'object' })).toMatchObject({ status: 500, json: { type: 'TypeError' } });
      expect((await post(w, '/api/v1/perform', { numbers: [], mode: 'set' })).json).toEqual([3]);
    });

    it('auxiliary_endpoints() become POST /api/v1/{path}, async methods included', async () => {
      await untilReady(w);
      expect(await post(w, '/api/v1/explain', { numbers: [1, 3] })).toMatchObject({ status: 200, json: { shares: [0.25, 0.75] } });
      expect(await post(w, '/pub/job/adder/1.0.0/api/v1/async-double', { x: 21 })).toMatchObject({ status: 200, json: 42 });
      expect((await get(w, '/api/v1/explain')).status).toBe(405);
      const doc = JSON.parse((await get(w, '/docs/openapi.json')).text);
      expect(doc.paths['/api/v1/explain'].post.requestBody.content['application/json'].example).toEqual({ numbers: [1, 3] });
      expect(doc.paths['/api/v1/perform'].post.requestBody.content['application/json'].example).toEqual({ numbers: [40, 2] });
      expect(doc.paths['/api/v1/readme'].get).toBeDefined();
    });

    it('static_endpoints() are served with their mimetypes', async () => {
      await untilReady(w);
      const readme = await get(w, '/api/v1/readme');
      expect(readme.status).toBe(200);
      expect(readme.headers.get('content-type')).toBe('text/plain');
      expect(readme.text).toBe('A static file served at /api/v1/readme.\n');
      const data = await get(w, '/pub/job/adder/1.0.0/api/v1/data');
      expect(data.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(data.text)).toEqual({ static: true });
    });

    it('the call sees its request through self.request_context (Racetrack\'s convention)', async () => {
      await untilReady(w);
      expect((await post(w, '/api/v1/perform', { numbers: [], mode: 'caller' }, { 'X-Caller-Name': 'alice' })).json).toBe('alice');
    });

    it('serves calls concurrently', async () => {
      await untilReady(w);
      const t0 = Date.now();
      const results = await Promise.all([0, 1, 2, 3].map(() => post(w, '/api/v1/perform', { numbers: [0.6], mode: 'sleep' })));
      const elapsed = Date.now() - t0;
      expect(results.map((r) => r.json)).toEqual([0.6, 0.6, 0.6, 0.6]);
      expect(elapsed).toBeLessThan(1800); // one after another would take 2.4 s
    });

    it('takes chunked request bodies', async () => {
      await untilReady(w);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"numbers": [40,'));
          controller.enqueue(new TextEncoder().encode(' 2]}'));
          controller.close();
        },
      });
      const r = await fetch(`${w.url}/api/v1/perform`, { method: 'POST', body, duplex: 'half' } as RequestInit);
      expect(await r.json()).toBe(42);
    });

    it('GET /metrics: Prometheus text with request counts and duration histograms per endpoint, Racetrack\'s series and the user\'s gauges', async () => {
      await untilReady(w);
      await post(w, '/api/v1/perform', { numbers: [1, 2] });
      await post(w, '/api/v1/perform', { numbers: [1], mode: 'boom' });
      const r = await get(w, '/metrics');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const m = r.text;
      expect(m).toContain('# TYPE pitlane_job_requests_total counter');
      expect(m).toMatch(/^pitlane_job_requests_total\{endpoint="\/api\/v1\/perform",method="POST",status="200"\} \d+$/m);
      expect(m).toMatch(/^pitlane_job_requests_total\{endpoint="\/api\/v1\/perform",method="POST",status="500"\} \d+$/m);
      expect(m).toContain('# TYPE pitlane_job_request_duration_seconds histogram');
      expect(m).toMatch(/^pitlane_job_request_duration_seconds_bucket\{endpoint="\/api\/v1\/perform",le="0\.005"\} \d+$/m);
      expect(m).toMatch(/^pitlane_job_request_duration_seconds_bucket\{endpoint="\/api\/v1\/perform",le="\+Inf"\} \d+$/m);
      expect(m).toMatch(/^pitlane_job_request_duration_seconds_count\{endpoint="\/ready"\} \d+$/m);
      expect(m).toMatch(/^request_internal_errors_total\{endpoint="\/perform"\} [1-9]\d*$/m);
      expect(m).toMatch(/^request_duration_bucket\{endpoint="\/explain",le="1000\.0"\} \d+$/m);
      expect(m).toMatch(/^requests_started_total [1-9]\d*$/m);
      expect(m).toMatch(/^last_call_timestamp \d+\.\d+$/m);
      expect(m).toContain('pitlane_job_ready 1');
      expect(m).toMatch(/^job_calls\{kind="all"\} [1-9]\d*\.0$/m);
      // Every sample line parses as name{labels} value.
      for (const line of m.trim().split('\n')) {
        if (!line.startsWith('#')) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/);
      }
    });

    it('logs one line per request on stdout', async () => {
      await untilReady(w);
      await post(w, '/api/v1/perform', { numbers: [5] }, { 'X-Request-Id': 'req-123' });
      await sleep(100);
      expect(w.output()).toMatch(/^\S+Z INFO {2}POST \/api\/v1\/perform 200 \d+\.\dms request_id=req-123$/m);
    });
  });

  describe('start-up failures are reported through /live', () => {
    it('an exception in __init__: /live 500 with the error, /ready 500, calls 503', async () => {
      const w = await startWrapper(join(FIXTURES, 'behaviours'), ['job.py', 'BehaviourJob'], { FAIL_INIT: 'cannot load the model' });
      const deadline = Date.now() + 10_000;
      let live = await get(w, '/live');
      while (live.status === 200 && Date.now() < deadline) {
        await sleep(50);
        live = await get(w, '/live');
      }
      expect(live.status).toBe(500);
      expect(JSON.parse(live.text)).toEqual({ live: false, deployment_timestamp: 1700000000, error: 'BehaviourJob() failed: RuntimeError: cannot load the model' });
      expect(JSON.parse((await get(w, '/ready')).text)).toEqual({ ready: false, error: 'BehaviourJob() failed: RuntimeError: cannot load the model' });
      expect(await post(w, '/api/v1/perform', { numbers: [] })).toMatchObject({ status: 503, json: { error: 'the job failed to start: BehaviourJob() failed: RuntimeError: cannot load the model' } });
      expect(w.output()).toContain('ERROR initialisation failed: BehaviourJob() failed: RuntimeError: cannot load the model');
    });

    async function liveError(cwd: string, args: string[]): Promise<string> {
      const w = await startWrapper(cwd, args);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const live = await get(w, '/live');
        if (live.status === 500) return JSON.parse(live.text).error as string;
        if (Date.now() > deadline) throw new Error(w.output());
        await sleep(50);
      }
    }

    it('several classes and no class argument: the error names them and entrypoint_class', async () => {
      expect(await liveError(join(FIXTURES, 'two-classes'), ['job.py'])).toBe('job.py defines 2 classes (First, Second); say which one to serve in jobtype_extra.entrypoint_class');
    });

    it('a syntax error: the file and line', async () => {
      expect(await liveError(join(FIXTURES, 'syntax-error'), ['job.py'])).toBe('syntax error in job.py, line 3: invalid syntax');
    });

    it('a class the file does not have, and a missing file', async () => {
      expect(await liveError(join(FIXTURES, 'two-classes'), ['job.py', 'Third'])).toBe('job.py has no class Third (jobtype_extra.entrypoint_class); it defines First, Second');
      expect(await liveError(join(FIXTURES, 'two-classes'), ['nope.py'])).toBe('entrypoint file not found: nope.py');
    });

    it('the class argument picks one of several classes', async () => {
      const w = await startWrapper(join(FIXTURES, 'two-classes'), ['job.py', 'Second']);
      await untilReady(w);
      expect((await post(w, '/api/v1/perform', {})).json).toBe(2);
    });
  });

  describe('process', () => {
    it('stops on SIGTERM with exit code 0', async () => {
      const w = await startWrapper(join(REPO, 'examples/adder'), ['adder.py']);
      await untilReady(w);
      const t0 = Date.now();
      expect(await w.stop()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(w.output()).toContain('received SIGTERM');
    });

    it('prints usage without arguments (exit 2) and fails when the port is taken (exit 1)', async () => {
      const r = spawnSync(PYTHON, ['-m', 'pitlane_wrapper'], { env: { ...process.env, PYTHONPATH: WRAPPER, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('usage: python -m pitlane_wrapper ENTRYPOINT_PATH [ENTRYPOINT_CLASS]');
      const w = await startWrapper(join(REPO, 'examples/adder'), ['adder.py']);
      const clash = spawnSync(PYTHON, ['-m', 'pitlane_wrapper', 'adder.py'], {
        cwd: join(REPO, 'examples/adder'),
        env: { ...process.env, PYTHONPATH: WRAPPER, PYTHONDONTWRITEBYTECODE: '1', PORT: String(w.port), PITLANE_WRAPPER_HOST: '127.0.0.1' },
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(clash.status).toBe(1);
      expect(clash.stdout).toContain(`cannot listen on 127.0.0.1:${w.port}`);
    });
  });

  describe('chain calls (racetrack_job_wrapper.call.call_job)', () => {
    let pub: Server;
    const seen: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
    beforeAll(async () => {
      pub = createHttpServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          seen.push({ url: req.url ?? '', headers: req.headers, body });
          const numbers = (JSON.parse(body) as { numbers: number[] }).numbers;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(numbers.reduce((a, b) => a + b, 0)));
        });
      });
      await new Promise<void>((r) => pub.listen(0, '127.0.0.1', () => r()));
    });
    afterAll(() => {
      pub.close();
    });

    it('calls {PUB_URL}/job/{name}/{version}{path} with the job\'s token and the incoming tracing and caller headers', async () => {
      const address = pub.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const w = await startWrapper(join(FIXTURES, 'chain'), ['entrypoint.py'], {
        JOB_NAME: 'python-chain',
        PUB_URL: `http://127.0.0.1:${port}/pub`,
        AUTH_TOKEN: 'job-token',
        REQUEST_TRACING_HEADER: 'X-Request-Id',
      });
      await untilReady(w);
      const r = await post(w, '/pub/job/python-chain/1.0.0/api/v1/perform', { numbers: [0.2, 0.9] }, { 'X-Request-Id': 'trace-1', 'X-Caller-Name': 'bob' });
      expect(r).toMatchObject({ status: 200, json: 1 });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.url).toBe('/pub/job/adder/latest/api/v1/perform');
      expect(JSON.parse(seen[0]!.body)).toEqual({ numbers: [0.2, 0.9] });
      expect(seen[0]!.headers).toMatchObject({ 'x-racetrack-auth': 'job-token', authorization: 'Bearer job-token', 'x-request-id': 'trace-1', 'x-caller-name': 'bob' });
    });
  });
});
