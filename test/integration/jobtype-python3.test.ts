/**
 * The python3 job type against the real Docker engine: the builder prepares a build context, the
 * engine builds the generated Dockerfile (dockerode, the context packed as Pitlane packs it) and
 * runs the image; the wrapper contract is exercised over HTTP. Needs `python:3.11-slim`
 * (scripts/setup/base-images.sh builds it from Debian packages when it cannot be pulled).
 */
import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContext } from '../../src/build/context.js';
import { lintDockerfile } from '../../src/dockerfile/index.js';
import { python3Builder } from '../../src/jobtypes/python3/index.js';
import type { JobTypeSettings, PreparedBuild } from '../../src/jobtypes/types.js';
import type { JobManifest } from '../../src/manifest/types.js';
import { validateManifest } from '../../src/manifest/index.js';
import { docker, REPO_ROOT, sleep } from './helpers/pitlane.js';

const BASE = 'python:3.11-slim';
const TAG_PREFIX = 'pitlane-test/python3';
const LABEL = 'pitlane-test.jobtype-python3';
const FIXTURES = join(REPO_ROOT, 'test/fixtures/python3');
const tags = new Set<string>();
const temps: string[] = [];

function manifest(name: string, extra: Record<string, unknown>): JobManifest {
  // The normalised manifest the server would build (defaults from the manifest module).
  return validateManifest({ name, version: '1.0.0', owner_email: 'nobody@example.com', jobtype: 'python3', jobtype_extra: extra }).manifest;
}

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** Copies a job directory (as an upload would be) and runs the builder on the copy. */
async function prepare(source: string, m: JobManifest, settings: Partial<JobTypeSettings> = {}): Promise<{ dir: string; prepared: PreparedBuild }> {
  const dir = await tempDir('pitlane-py3-ctx-');
  await cp(source, dir, { recursive: true });
  const prepared = await python3Builder.prepare(m, dir, { baseImages: {}, wheelhouseDir: null, commit: null, ...settings });
  return { dir, prepared };
}

interface Built {
  tag: string;
  output: string;
  ms: number;
}

/** `docker build` of the prepared context with the legacy builder's plain output. */
async function build(dir: string, prepared: PreparedBuild, tag: string, options: { nocache?: boolean } = {}): Promise<Built> {
  tags.add(tag);
  const t0 = Date.now();
  const stream = await docker.buildImage(packContext(dir, prepared.dockerfilePath) as unknown as NodeJS.ReadableStream, {
    t: tag,
    dockerfile: prepared.dockerfilePath,
    nocache: options.nocache ?? false,
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
const containers: string[] = [];

/** Runs the image with the environment Pitlane injects, the wrapper's port published on loopback. */
async function run(tag: string, env: Record<string, string> = {}, name = 'adder'): Promise<Running> {
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
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(`${url}/live`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`the container does not answer on ${url}`);
      await sleep(100);
    }
  }
  return {
    id: container.id,
    url,
    logs: async () => {
      const buf = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      return demux(buf);
    },
  };
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

async function untilReady(r: Running, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while ((await fetch(`${r.url}/ready`)).status !== 200) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`not ready:\n${await r.logs()}`);
    await sleep(100);
  }
  return Date.now() - t0;
}

async function call(r: Running, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${r.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Runs a command in a throwaway container of `image` and returns its stdout (stdin optional). */
async function output(image: string, cmd: string[], stdin?: string): Promise<string> {
  const container = await docker.createContainer({ Image: image, Cmd: cmd, OpenStdin: stdin !== undefined, StdinOnce: true, AttachStdin: stdin !== undefined, Labels: { [LABEL]: 'true' }, User: '' });
  containers.push(container.id);
  const stream = await container.attach({ stream: true, stdin: stdin !== undefined, stdout: true, stderr: true, hijack: stdin !== undefined });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  docker.modem.demuxStream(stream, stdout, stderr);
  await container.start();
  if (stdin !== undefined) stream.end(stdin);
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  await sleep(50);
  if (StatusCode !== 0) throw new Error(`${cmd.join(' ')} exited ${StatusCode}: ${err}`);
  return out;
}

beforeAll(async () => {
  await docker.getImage(BASE).inspect(); // scripts/setup/base-images.sh makes it
});

afterAll(async () => {
  await Promise.all(containers.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
  for (const tag of tags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('python3 job type on the Docker engine', () => {
  describe('examples/adder (Racetrack\'s adder sample)', () => {
    let tag: string;
    let r: Running;
    let built: Built;
    beforeAll(async () => {
      const { dir, prepared } = await prepare(join(REPO_ROOT, 'examples/adder'), manifest('adder', { entrypoint_path: 'adder.py' }), { commit: 'c'.repeat(40) });
      expect(prepared).toMatchObject({ dockerfilePath: '.pitlane/Dockerfile', port: 7000, readinessPath: '/ready' });
      const dockerfile = await readFile(join(dir, prepared.dockerfilePath), 'utf8');
      expect(lintDockerfile(dockerfile, { hasDockerignore: true }).findings).toEqual([]);
      tag = `${TAG_PREFIX}-adder:1.0.0`;
      built = await build(dir, prepared, tag);
      r = await run(tag);
      await untilReady(r);
    });

    it('POST /api/v1/perform {"numbers":[40,2]} gives 42 (root and /pub/job prefix)', async () => {
      expect(await call(r, '/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: 42 });
      expect(await call(r, '/pub/job/adder/1.0.0/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: 42 });
    });

    it('a TypeError is 400 {error, type}; parameters, docs and metrics answer', async () => {
      expect(await call(r, '/api/v1/perform', { numbers: 'x' })).toEqual({ status: 400, json: { error: "unsupported operand type(s) for +: 'int' and 'str'", type: 'TypeError' } });
      expect(await (await fetch(`${r.url}/api/v1/parameters`)).json()).toEqual([{ name: 'numbers', type: 'list[float]' }]);
      const doc = (await (await fetch(`${r.url}/pub/job/adder/1.0.0/docs/openapi.json`)).json()) as any;
      expect(doc.paths['/api/v1/perform'].post.requestBody.content['application/json'].example).toEqual({ numbers: [40, 2] });
      const metrics = await (await fetch(`${r.url}/metrics`)).text();
      expect(metrics).toMatch(/^pitlane_job_requests_total\{endpoint="\/api\/v1\/perform",method="POST",status="200"\} [1-9]/m);
      expect(metrics).toMatch(/^pitlane_job_request_duration_seconds_count\{endpoint="\/api\/v1\/perform"\} [1-9]/m);
    });

    it('the image: non-root numeric user, SIGTERM, port 7000, labels, no .pitlane/ and no compilers', async () => {
      const info = await docker.getImage(tag).inspect();
      expect(info.Config.User).toBe('10001:10001');
      expect((info.Config as { StopSignal?: string }).StopSignal).toBe('SIGTERM');
      expect(Object.keys(info.Config.ExposedPorts ?? {})).toEqual(['7000/tcp']);
      expect(info.Config.Cmd).toEqual(['python', '-m', 'pitlane_wrapper', 'adder.py']);
      expect(info.Config.Labels).toMatchObject({ 'pitlane.job': 'adder', 'pitlane.version': '1.0.0', 'pitlane.jobtype': 'python3', 'pitlane.git-commit': 'c'.repeat(40) });
      const listing = await output(tag, ['sh', '-c', 'id -u; ls -A /srv/job; ls /opt/pitlane; command -v gcc cc make || echo no-compilers']);
      // The job directory without Pitlane's .pitlane/ and .dockerignore.
      expect(listing.trim().split('\n')).toEqual(['10001', 'README.md', 'adder.py', 'job.yaml', 'wrapper', 'no-compilers']);
      const base = await docker.getImage(BASE).inspect();
      console.log(`[python3] ${tag}: ${(info.Size / 1e6).toFixed(1)} MB (base ${BASE} ${(base.Size / 1e6).toFixed(1)} MB); build ${built.ms} ms`);
      expect(info.Size - base.Size).toBeLessThan(1_000_000);
    });

    it('the container logs one line per request', async () => {
      const logs = await r.logs();
      expect(logs).toContain('listening on 0.0.0.0:7000');
      expect(logs).toMatch(/INFO {2}POST \/api\/v1\/perform 200 /);
    });
  });

  describe('the behaviours fixture', () => {
    let tag: string;
    beforeAll(async () => {
      const { dir, prepared } = await prepare(join(FIXTURES, 'behaviours'), manifest('behaviours', { entrypoint_path: 'job.py', entrypoint_class: 'BehaviourJob' }));
      tag = `${TAG_PREFIX}-behaviours:1.0.0`;
      await build(dir, prepared, tag);
    });

    it('/ready only once the class is constructed (slow __init__); then 200, 400, 500 as the contract says', async () => {
      const r = await run(tag, { INIT_SECONDS: '3' }, 'behaviours');
      expect((await fetch(`${r.url}/ready`)).status).toBe(503);
      expect((await fetch(`${r.url}/live`)).status).toBe(200);
      expect((await call(r, '/api/v1/perform', { numbers: [1] })).status).toBe(503);
      const waited = await untilReady(r);
      expect(waited).toBeGreaterThan(1000);
      expect(await call(r, '/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: 42 });
      expect(await call(r, '/api/v1/perform', { numbers: [1], mode: 'value-error' })).toEqual({ status: 400, json: { error: 'numbers must be positive', type: 'ValueError' } });
      expect(await call(r, '/api/v1/perform', { wrong: 1 })).toMatchObject({ status: 400, json: { type: 'TypeError' } });
      expect(await call(r, '/api/v1/perform', { numbers: [1], mode: 'boom' })).toEqual({ status: 500, json: { error: 'boom: something broke', type: 'RuntimeError' } });
      expect(await call(r, '/pub/job/behaviours/1.0.0/api/v1/explain', { numbers: [1, 3] })).toEqual({ status: 200, json: { shares: [0.25, 0.75] } });
      const metrics = await (await fetch(`${r.url}/metrics`)).text();
      expect(metrics).toMatch(/^request_internal_errors_total\{endpoint="\/perform"\} 1$/m);
      expect(metrics).toMatch(/^job_calls\{kind="all"\} 3\.0$/m); // the TypeError call never reached perform
    });

    it('a failing constructor: /live 500 with the error, and the error in the logs', async () => {
      const r = await run(tag, { FAIL_INIT: 'model file missing' }, 'behaviours');
      const deadline = Date.now() + 20_000;
      let live = await fetch(`${r.url}/live`);
      while (live.status === 200 && Date.now() < deadline) {
        await sleep(100);
        live = await fetch(`${r.url}/live`);
      }
      expect(live.status).toBe(500);
      expect(await live.json()).toEqual({ live: false, deployment_timestamp: 1700000000, error: 'BehaviourJob() failed: RuntimeError: model file missing' });
      expect((await fetch(`${r.url}/ready`)).status).toBe(500);
      expect(await r.logs()).toContain('initialisation failed: BehaviourJob() failed: RuntimeError: model file missing');
    });
  });

  describe('requirements from the wheelhouse; a code-only change reuses the dependency layer', () => {
    let wheelhouse: string;
    const extra = { entrypoint_path: 'adder.py', requirements_path: 'requirements.txt' };
    beforeAll(async () => {
      // A tiny pure-Python wheel, made with the base image's python (no PyPI, no bind mount).
      wheelhouse = await tempDir('pitlane-py3-wheels-');
      const script = await readFile(join(FIXTURES, 'make_wheel.py'), 'utf8');
      const b64 = await output(BASE, ['python', '-'], script);
      await mkdir(join(wheelhouse, 'pitlane-fixture-greeting'), { recursive: true });
      await writeFile(join(wheelhouse, 'pitlane-fixture-greeting', 'pitlane_fixture_greeting-1.0.0-py3-none-any.whl'), Buffer.from(b64.trim(), 'base64'));
    });

    it('builds with a cold dependency layer, then rebuilds after a one-line code change with the pip install step from the cache', async () => {
      const tag = `${TAG_PREFIX}-deps:1.0.0`;
      // A comment unique to this run makes the dependency layers cold (earlier runs left them in the cache).
      const source = await tempDir('pitlane-py3-src-');
      await cp(join(FIXTURES, 'deps'), source, { recursive: true });
      const requirements = await readFile(join(source, 'requirements.txt'), 'utf8');
      await writeFile(join(source, 'requirements.txt'), `${requirements}# test run ${Date.now()}-${Math.random()}\n`);
      const first = await prepare(source, manifest('adder', extra), { wheelhouseDir: wheelhouse });
      const dockerfile = await readFile(join(first.dir, first.prepared.dockerfilePath), 'utf8');
      expect(dockerfile).toContain('--no-index --find-links /opt/pitlane/wheels');
      expect(lintDockerfile(dockerfile, { hasDockerignore: true }).findings).toEqual([]);
      const cold = await build(first.dir, first.prepared, tag);
      expect(step(cold.output, 'install --no-cache-dir')).not.toContain('Using cache');
      expect(step(cold.output, 'install --no-cache-dir')).toContain('Successfully installed pitlane-fixture-greeting-1.0.0');
      const r1 = await run(tag);
      await untilReady(r1);
      expect(await call(r1, '/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: { sum: 42, message: 'hello adder' } });
      const listing = await output(tag, ['sh', '-c', 'ls /opt/pitlane; ls -A /srv/job; ls /opt/pitlane/venv/bin']);
      expect(listing).not.toContain('wheels');
      expect(listing).not.toContain('.pitlane');
      expect(listing).not.toMatch(/^pip/m);

      // A new deploy of the same job with one line of code changed.
      const changedSource = await tempDir('pitlane-py3-src-');
      await cp(source, changedSource, { recursive: true });
      const code = await readFile(join(changedSource, 'adder.py'), 'utf8');
      await writeFile(join(changedSource, 'adder.py'), code.replace('"sum": sum(numbers)', '"sum": sum(numbers), "changed": True'));
      const second = await prepare(changedSource, manifest('adder', extra), { wheelhouseDir: wheelhouse });
      const warm = await build(second.dir, second.prepared, tag);
      expect(step(warm.output, 'install --no-cache-dir')).toContain('Using cache');
      expect(step(warm.output, 'COPY requirements.txt')).toContain('Using cache');
      expect(step(warm.output, 'COPY --from=build')).toContain('Using cache');
      // Only the code's COPY runs, and no RUN step at all (nothing to remove from the code).
      expect(step(warm.output, 'COPY --chown=10001:10001 ')).not.toContain('Using cache');
      const ran = warm.output.split(/^(?=Step \d+\/\d+ : )/m).filter((s) => /^Step /.test(s) && !/^Step \d+\/\d+ : FROM /.test(s) && !s.includes('Using cache'));
      expect(ran.filter((s) => /^Step \d+\/\d+ : RUN /.test(s))).toEqual([]);
      console.log(`[python3] deps job: build with cold dependency layers ${cold.ms} ms, code-only rebuild ${warm.ms} ms`);
      expect(warm.ms).toBeLessThan(cold.ms);

      const r2 = await run(tag);
      await untilReady(r2);
      expect(await call(r2, '/api/v1/perform', { numbers: [40, 2] })).toEqual({ status: 200, json: { sum: 42, changed: true, message: 'hello adder' } });
      const info = await docker.getImage(tag).inspect();
      console.log(`[python3] ${tag}: ${(info.Size / 1e6).toFixed(1)} MB`);
    });

    it('a requirement the wheelhouse cannot satisfy fails the build at the pip step, with pip\'s reason', async () => {
      const source = await tempDir('pitlane-py3-src-');
      await cp(join(FIXTURES, 'deps'), source, { recursive: true });
      await writeFile(join(source, 'requirements.txt'), 'pitlane-fixture-greeting==9.9.9\n');
      const { dir, prepared } = await prepare(source, manifest('adder', extra), { wheelhouseDir: wheelhouse });
      const error = await build(dir, prepared, `${TAG_PREFIX}-unsatisfiable:1.0.0`).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toContain('No matching distribution found for pitlane-fixture-greeting==9.9.9');
    });
  });
});

