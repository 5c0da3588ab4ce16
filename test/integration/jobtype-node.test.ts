/**
 * The node job type against the real Docker engine: the builder prepares a build context, the
 * engine builds the generated Dockerfile (dockerode, the context packed as Pitlane packs it) and
 * runs the image; the wrapper contract is exercised over HTTP. Needs `node:24-slim`
 * (scripts/setup/node-base-image.sh makes it from debian:bookworm-slim and the npm registry's
 * Node 24 when it cannot be pulled; this test runs it when the image is missing) and the npm
 * registry (the builds run `npm ci`).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContext } from '../../src/build/context.js';
import { lintDockerfile } from '../../src/dockerfile/index.js';
import { nodeBuilder } from '../../src/jobtypes/node/index.js';
import type { JobTypeSettings, PreparedBuild } from '../../src/jobtypes/types.js';
import type { JobManifest } from '../../src/manifest/types.js';
import { validateManifest } from '../../src/manifest/index.js';
import { docker, REPO_ROOT, sleep } from './helpers/pitlane.js';

const BASE = 'node:24-slim';
const TAG_PREFIX = 'pitlane-test/node';
const LABEL = 'pitlane-test.jobtype-node';
const FIXTURES = join(REPO_ROOT, 'test/fixtures/node-job');
const tags = new Set<string>();
const temps: string[] = [];
const containers: string[] = [];

function manifest(name: string, extra: Record<string, unknown>): JobManifest {
  // The normalised manifest the server would build (defaults from the manifest module).
  return validateManifest({ name, version: '1.0.0', owner_email: 'nobody@example.com', jobtype: 'node', jobtype_extra: extra }).manifest;
}

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** Copies a job directory (as an upload would be) and runs the builder on the copy; the Dockerfile must lint clean. */
async function prepare(source: string, m: JobManifest, settings: Partial<JobTypeSettings> = {}): Promise<{ dir: string; prepared: PreparedBuild }> {
  const dir = await tempDir('pitlane-node-ctx-');
  await cp(source, dir, { recursive: true });
  const prepared = await nodeBuilder.prepare(m, dir, { baseImages: {}, wheelhouseDir: null, commit: null, ...settings });
  const dockerfile = await readFile(join(dir, prepared.dockerfilePath), 'utf8');
  expect(lintDockerfile(dockerfile, { hasDockerignore: true }).findings).toEqual([]);
  return { dir, prepared };
}

interface Built {
  tag: string;
  output: string;
  ms: number;
}

/** `docker build` of the prepared context (legacy builder, plain output). Rejects with the output when the build fails. */
async function build(dir: string, prepared: PreparedBuild, tag: string): Promise<Built> {
  tags.add(tag);
  const t0 = Date.now();
  const stream = await docker.buildImage(packContext(dir, prepared.dockerfilePath) as unknown as NodeJS.ReadableStream, {
    t: tag,
    dockerfile: prepared.dockerfilePath,
    rm: true,
    forcerm: true,
    labels: { [LABEL]: 'true' },
  });
  const events: Array<{ stream?: string; error?: string }> = await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, res: Array<{ stream?: string; error?: string }>) => (err ? reject(err) : resolve(res))),
  );
  const output = events.map((e) => e.stream ?? (e.error ? `ERROR: ${e.error}\n` : '')).join('');
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`build of ${tag} failed: ${failed.error}\n${output}`);
  return { tag, output, ms: Date.now() - t0 };
}

/** The build output of the step whose instruction contains `needle`. */
function step(output: string, needle: string): string {
  const steps = output.split(/^(?=Step \d+\/\d+ : )/m);
  const found = steps.find((s) => s.split('\n')[0]!.includes(needle));
  if (!found) throw new Error(`no step with ${needle} in:\n${output}`);
  return found;
}

interface Running {
  id: string;
  url: string;
  logs: () => Promise<string>;
}

/** Docker's multiplexed log stream to text. */
function demux(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString();
    i += 8 + size;
  }
  return out;
}

/** Runs the image with the environment Pitlane injects, the wrapper's port published on loopback. */
async function run(tag: string, name: string, env: Record<string, string> = {}): Promise<Running> {
  const allEnv = { JOB_NAME: name, JOB_VERSION: '1.0.0', JOB_DEPLOYMENT_TIMESTAMP: '1700000000', ...env };
  const container = await docker.createContainer({
    Image: tag,
    Env: Object.entries(allEnv).map(([k, v]) => `${k}=${v}`),
    Labels: { [LABEL]: 'true' },
    ExposedPorts: { '7000/tcp': {} },
    HostConfig: { PortBindings: { '7000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  containers.push(container.id);
  await container.start();
  const info = await container.inspect();
  const port = info.NetworkSettings.Ports['7000/tcp']?.[0]?.HostPort;
  if (!port) throw new Error('port 7000 is not published');
  const url = `http://127.0.0.1:${port}`;
  const logs = async (): Promise<string> => demux((await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(`${url}/live`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`the container does not answer on ${url}:\n${await logs()}`);
      await sleep(50);
    }
  }
  return { id: container.id, url, logs };
}

async function untilReady(r: Running, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while ((await fetch(`${r.url}/ready`)).status !== 200) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`not ready:\n${await r.logs()}`);
    await sleep(50);
  }
  return Date.now() - t0;
}

async function call(r: Running, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${r.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Runs a shell command in a throwaway container of `image` (as `user`) and returns its stdout. */
async function shell(image: string, script: string, user = ''): Promise<string> {
  const container = await docker.createContainer({ Image: image, Cmd: ['sh', '-c', script], User: user, Labels: { [LABEL]: 'true' } });
  containers.push(container.id);
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  docker.modem.demuxStream(stream, stdout, stderr);
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  await sleep(50);
  if (StatusCode !== 0) throw new Error(`${script} exited ${StatusCode}: ${err}`);
  return out;
}

/** `docker stop` (SIGTERM, then SIGKILL after 10 s): how long it took and the exit code. */
async function stop(r: Running): Promise<{ ms: number; exitCode: number }> {
  const container = docker.getContainer(r.id);
  const t0 = Date.now();
  await container.stop({ t: 10 });
  const ms = Date.now() - t0;
  return { ms, exitCode: (await container.inspect()).State.ExitCode };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

beforeAll(async () => {
  try {
    await docker.getImage(BASE).inspect();
  } catch {
    // Air-gapped mode: make node:24-slim from debian:bookworm-slim and the npm registry's Node 24.
    await promisify(execFile)(join(REPO_ROOT, 'scripts/setup/node-base-image.sh'), [], { timeout: 280_000 });
    await docker.getImage(BASE).inspect();
  }
});

afterAll(async () => {
  await Promise.all(containers.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
  for (const tag of tags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('node job type on the Docker engine', () => {
  describe('examples/adder-node (TypeScript, its own typescript from the lockfile)', () => {
    const tag = `${TAG_PREFIX}-adder:1.0.0`;
    const commit = 'c'.repeat(40);
    let r: Running;
    let cold: Built;
    let coldSource: string;
    beforeAll(async () => {
      // Cold for this job: a description unique to this run changes package.json, so both npm ci
      // steps and everything after them run (earlier runs left their layers in the cache). Not
      // `nocache`: that would leave duplicate copies of the shared first layers (WORKDIR), and the
      // legacy builder, which follows the newest match, would then miss other jobs' cached layers once.
      const source = (coldSource = await tempDir('pitlane-node-src-'));
      await cp(join(REPO_ROOT, 'examples/adder-node'), source, { recursive: true });
      const pkg = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(source, 'package.json'), `${JSON.stringify({ ...pkg, description: `run ${Date.now()}-${Math.random()}` }, null, 2)}\n`);
      const { dir, prepared } = await prepare(source, manifest('adder-node', { entrypoint_path: 'adder.ts' }), { commit });
      expect(prepared).toMatchObject({ dockerfilePath: '.pitlane/Dockerfile', port: 7000, readinessPath: '/ready', warnings: [] });
      cold = await build(dir, prepared, tag);
      expect(step(cold.output, 'npm ci --omit=dev')).not.toContain('Using cache');
      expect(step(cold.output, 'npm ci --no-audit')).toContain('added 1 package');
      r = await run(tag, 'adder-node');
      await untilReady(r);
    });

    it('POST /api/v1/perform {"numbers":[40,2]} gives 42 (root and /pub/job prefix)', async () => {
      expect(await call(r, '/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: 42 });
      expect(await call(r, '/pub/job/adder-node/1.0.0/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: 42 });
    });

    it('bad input is 400 {error, type}; parameters, docs, metrics, health answer', async () => {
      expect(await call(r, '/api/v1/perform', { numbers: 'x' })).toEqual({ status: 400, json: { error: 'numbers must be an array of finite numbers', type: 'TypeError' } });
      expect(await call(r, '/api/v1/perform', [40, 2])).toEqual({ status: 400, json: { error: 'the request body must be a JSON object, got an array', type: 'TypeError' } });
      expect(await (await fetch(`${r.url}/api/v1/parameters`)).json()).toEqual([{ name: 'numbers', type: 'array', description: 'the numbers to add up', required: true }]);
      const doc = (await (await fetch(`${r.url}/pub/job/adder-node/1.0.0/docs`)).json()) as any;
      expect(doc.servers).toEqual([{ url: '/pub/job/adder-node/1.0.0' }]);
      expect(doc.paths['/api/v1/perform'].post.requestBody.content['application/json'].example).toEqual({ numbers: [40, 2] });
      const metrics = await (await fetch(`${r.url}/metrics`)).text();
      expect(metrics).toMatch(/^pitlane_job_requests_total\{endpoint="\/api\/v1\/perform",method="POST",status="200"\} [1-9]/m);
      expect(metrics).toMatch(/^pitlane_job_request_duration_seconds_count\{endpoint="\/api\/v1\/perform"\} [1-9]/m);
      const health = (await (await fetch(`${r.url}/health`)).json()) as any;
      expect(health).toMatchObject({ status: 'pass', job_type: 'node', job_name: 'adder-node', deployment_timestamp: 1700000000 });
      expect(health.node_version).toMatch(/^24\./);
    });

    it('the image: non-root numeric user, SIGTERM, port 7000, labels; only node, compiled code, production node_modules and the wrapper', async () => {
      const info = await docker.getImage(tag).inspect();
      expect(info.Config.User).toBe('1000:1000');
      expect((info.Config as { StopSignal?: string }).StopSignal).toBe('SIGTERM');
      expect(Object.keys(info.Config.ExposedPorts ?? {})).toEqual(['7000/tcp']);
      expect(info.Config.Cmd).toEqual(['node', '--enable-source-maps', '/opt/pitlane/wrapper/server.mjs', '/app/adder.js']);
      expect(info.Config.Env).toContain('NODE_ENV=production');
      expect(info.Config.Labels).toMatchObject({ 'pitlane.job': 'adder-node', 'pitlane.version': '1.0.0', 'pitlane.jobtype': 'node', 'pitlane.git-commit': commit });
      const listing = await shell(
        tag,
        'id -u; echo ---; ls -A /app; echo ---; ls -A /app/node_modules; echo ---; ls /opt/pitlane/wrapper; command -v tsc gcc make || echo no-build-tools; test -e /root/.npm/_cacache && echo npm-cache || echo no-npm-cache; command -v npm npx corepack yarn || echo no-npm; { test -e /usr/local/lib/node_modules || test -e /usr/local/include/node; } && echo node-modules-or-headers || echo no-node-modules-or-headers; getent passwd 1000 | cut -d: -f1,6',
        'root',
      );
      const [who, app, modules, rest] = listing.split('---\n');
      expect(listing.split('---\n')).toHaveLength(4);
      expect(who).toBe('0\n');
      expect(app!.trim().split('\n').sort()).toEqual(['README.md', 'adder.js', 'adder.js.map', 'adder.ts', 'job.yaml', 'node_modules', 'package-lock.json', 'package.json', 'tsconfig.json']);
      expect(modules!.trim()).toBe(''); // typescript is a dev dependency
      // The runtime: debian:bookworm-slim with the node binary alone (no npm, corepack, headers) and the node user.
      expect(rest!.trim().split('\n')).toEqual(['job.mjs', 'metrics.mjs', 'openapi.mjs', 'package.json', 'server.mjs', 'no-build-tools', 'no-npm-cache', 'no-npm', 'no-node-modules-or-headers', 'node:/home/node']);
      const base = await docker.getImage(BASE).inspect();
      const runtimeBase = await docker.getImage('debian:bookworm-slim').inspect();
      console.log(`[node] ${tag}: ${mb(info.Size)} (node image ${BASE} ${mb(base.Size)}, runtime base debian:bookworm-slim ${mb(runtimeBase.Size)}); cold build (new package.json) ${cold.ms} ms`);
      // Smaller than the node image it was built with: npm, corepack and the rest stay behind.
      expect(info.Size).toBeLessThan(base.Size - 10_000_000);
    });

    it('one log line per request; docker stop ends it gracefully with exit code 0', async () => {
      const logs = await r.logs();
      expect(logs).toContain('listening on http://0.0.0.0:7000');
      expect(logs).toMatch(/INFO +POST \/api\/v1\/perform status=200 ms=[\d.]+ request_id=\S+/);
      const stopped = await stop(r);
      expect(stopped.exitCode).toBe(0);
      expect(stopped.ms).toBeLessThan(5000);
      expect(await r.logs()).toContain('SIGTERM: closing the listener');
    });

    it('a one-line code change rebuilds with both npm ci steps from the cache', async () => {
      const source = await tempDir('pitlane-node-src-');
      await cp(coldSource, source, { recursive: true });
      const code = await readFile(join(source, 'adder.ts'), 'utf8');
      await writeFile(join(source, 'adder.ts'), code.replace("return numbers.reduce((sum, n) => sum + n, 0);", 'return numbers.reduce((sum, n) => sum + n, 1000);'));
      const { dir, prepared } = await prepare(source, manifest('adder-node', { entrypoint_path: 'adder.ts' }), { commit: 'd'.repeat(40) });
      const rebuilt = await build(dir, prepared, `${TAG_PREFIX}-adder:1.0.1`);
      expect(step(rebuilt.output, 'npm ci --omit=dev')).toContain('Using cache');
      expect(step(rebuilt.output, 'npm ci --no-audit')).toContain('Using cache');
      expect(step(rebuilt.output, 'tsc --project')).not.toContain('Using cache');
      console.log(`[node] code-only rebuild ${rebuilt.ms} ms (cold ${cold.ms} ms)`);
      const r2 = await run(`${TAG_PREFIX}-adder:1.0.1`, 'adder-node');
      await untilReady(r2);
      expect(await call(r2, '/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: 1042 });
      const labels = (await docker.getImage(`${TAG_PREFIX}-adder:1.0.1`).inspect()).Config.Labels;
      expect(labels['pitlane.git-commit']).toBe('d'.repeat(40));
    });
  });

  describe('the kitchen-sink fixture (JavaScript, a production and a dev dependency, init())', () => {
    const tag = `${TAG_PREFIX}-kitchen-sink:1.0.0`;
    beforeAll(async () => {
      const { dir, prepared } = await prepare(join(FIXTURES, 'kitchen-sink'), manifest('kitchen-sink', { entrypoint_path: 'src/main.mjs' }));
      await build(dir, prepared, tag);
    });

    it('/ready only after init(); then 200, 400 (TypeError, RangeError), 500, auxiliary endpoints, files of the job', async () => {
      const r = await run(tag, 'kitchen-sink', { INIT_MS: '2000' });
      expect((await fetch(`${r.url}/ready`)).status).toBe(500);
      expect((await fetch(`${r.url}/live`)).status).toBe(200);
      expect(await call(r, '/api/v1/perform', { kind: 'ms', value: '1s' })).toMatchObject({ status: 503, json: { type: 'NotReady' } });
      const waited = await untilReady(r);
      expect(waited).toBeGreaterThan(700);
      expect(await call(r, '/api/v1/perform', { kind: 'ms', value: '2 days' })).toEqual({ status: 200, json: { ms: 172_800_000 } });
      expect(await call(r, '/api/v1/perform', { kind: 'type' })).toEqual({ status: 400, json: { error: 'value must be a string like "2 days"', type: 'TypeError' } });
      expect(await call(r, '/api/v1/perform', { kind: 'range' })).toEqual({ status: 400, json: { error: 'too far', type: 'RangeError' } });
      expect(await call(r, '/api/v1/perform', { kind: 'other' })).toEqual({ status: 500, json: { error: 'the database is down', type: 'Error' } });
      expect(await call(r, '/api/v1/perform', { kind: 'data' })).toEqual({ status: 200, json: { answer: 42 } });
      expect(await call(r, '/pub/job/kitchen-sink/1.0.0/api/v1/explain', { kind: 'x' })).toEqual({ status: 200, json: { explained: 'x' } });
      const metrics = await (await fetch(`${r.url}/metrics`)).text();
      expect(metrics).toMatch(/^request_internal_errors_total\{endpoint="\/api\/v1\/perform"\} 1$/m);
      expect(await r.logs()).toMatch(/ERROR \/api\/v1\/perform threw Error: the database is down/);
      expect((await stop(r)).exitCode).toBe(0);
    });

    it('npm ci --omit=dev: the production dependency is in the image, the dev dependency is not', async () => {
      expect((await shell(tag, 'ls /app/node_modules')).trim().split('\n')).toEqual(['ms']);
    });
  });

  describe('TypeScript without package.json (typescript@5.9.3 installed by the build)', () => {
    let source: string;
    beforeAll(async () => {
      source = await tempDir('pitlane-node-src-');
      await writeFile(join(source, 'helper.ts'), 'export const twice = (n: number): number => n * 2;\n');
      await writeFile(
        join(source, 'job.ts'),
        "import { twice } from './helper.ts';\nexport function perform({ n }: { n: number }): number {\n  return twice(n);\n}\nconst unused: string = 1;\n",
      );
    });

    it('compiles without type checking (CommonJS, no package.json) and serves perform', async () => {
      const tag = `${TAG_PREFIX}-plain-ts:1.0.0`;
      const { dir, prepared } = await prepare(source, manifest('plain-ts', { entrypoint_path: 'job.ts' }));
      const built = await build(dir, prepared, tag);
      expect(step(built.output, 'npm install --global')).toMatch(/added 1 package|Using cache/);
      const r = await run(tag, 'plain-ts');
      await untilReady(r);
      expect(await call(r, '/api/v1/perform', { n: 21 })).toEqual({ status: 200, json: 42 });
      expect((await shell(tag, 'ls -A /app')).trim().split('\n').sort()).toEqual(['helper.js', 'helper.js.map', 'helper.ts', 'job.js', 'job.js.map', 'job.ts']);
    });

    it('typecheck: true makes the type error fail the build', async () => {
      const { dir, prepared } = await prepare(source, manifest('plain-ts', { entrypoint_path: 'job.ts', typecheck: true }));
      const failure = await build(dir, prepared, `${TAG_PREFIX}-plain-ts:1.0.1`).then(
        () => '',
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/job\.ts\(5,7\): error TS2322: Type 'number' is not assignable to type 'string'/);
    });
  });

  describe('bad input', () => {
    it('a module that throws while loading: /live 500 with the error, /ready 500, the error in the logs', async () => {
      const tag = `${TAG_PREFIX}-throws:1.0.0`;
      const { dir, prepared } = await prepare(join(FIXTURES, 'throws-at-import'), manifest('throws-at-import', { entrypoint_path: 'job.js' }));
      await build(dir, prepared, tag);
      const r = await run(tag, 'throws-at-import');
      let live = await fetch(`${r.url}/live`);
      const deadline = Date.now() + 20_000;
      while (live.status === 200 && Date.now() < deadline) {
        await sleep(50);
        live = await fetch(`${r.url}/live`);
      }
      expect(live.status).toBe(500);
      expect(await live.json()).toEqual({ live: false, error: 'Error: model.bin not found', type: 'Error', deployment_timestamp: 1700000000 });
      expect((await fetch(`${r.url}/ready`)).status).toBe(500);
      expect(await r.logs()).toContain('the job failed to load (/app/job.js): Error: model.bin not found');
    });

    it('a TypeScript syntax error fails the build at the tsc step, naming file, line and column', async () => {
      const source = await tempDir('pitlane-node-src-');
      await writeFile(join(source, 'job.ts'), 'export function perform(input: { a: number }): number {\n  return input.a +;\n}\n');
      const { dir, prepared } = await prepare(source, manifest('ts-syntax-error', { entrypoint_path: 'job.ts' }));
      const failure = await build(dir, prepared, `${TAG_PREFIX}-syntax:1.0.0`).then(
        () => '',
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/^build of .* failed: The command '\/bin\/sh -c tsc --project \.pitlane\/tsconfig\.json .*' returned a non-zero code: 2/);
      expect(failure).toMatch(/job\.ts\(2,\d+\): error TS1109: Expression expected/);
    });
  });
});
