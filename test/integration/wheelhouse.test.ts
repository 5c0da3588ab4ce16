/**
 * The wheelhouse against the real engine (seed 004): wheels of two small local packages
 * (test/fixtures/wheels, setuptools, no PyPI) are built in the builder container, stored, reused
 * by a later build that resolves only from the wheelhouse, installed with
 * `pip install --no-index --find-links` in a fresh python:3.11-slim container with no network,
 * and fetched by the host's pip through the PEP 503 index and the find-links page. Bad input: a
 * requirement the wheelhouse cannot satisfy, a corrupt wheel, a wheel whose filename lies.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import tarFs from 'tar-fs';
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/errors.js';
import { registerWheelRoutes } from '../../src/api/wheel-routes.js';
import { packSources } from '../../src/cli/wheel-commands.js';
import { buildWheels, copyWheelsForBuild, DockerWheelBuildEngine, Wheelhouse, WheelBuildService, type WheelBuildRecord } from '../../src/wheelhouse/index.js';
import { docker, REPO_ROOT } from './helpers/pitlane.js';

const PYTHON_IMAGE = process.env.PITLANE_TEST_PYTHON_IMAGE ?? 'python:3.11-slim';
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'wheels');
const GREET = 'Pitlane.Greet-0.1.0-py3-none-any.whl';
const SHOUT = 'pitlane_shout-0.2.0-py3-none-any.whl';
const installationId = `wheelhouse-test-${process.pid}`;

const dataDir = mkdtempSync(join(tmpdir(), 'pitlane-wheelhouse-it-'));
const wheelhouse = new Wheelhouse(join(dataDir, 'wheelhouse'));
const engine = new DockerWheelBuildEngine({ docker, baseImage: PYTHON_IMAGE, installationId });
const builds = new WheelBuildService({ wheelhouse, engine, workDir: dataDir });
let app: FastifyInstance;
let base: string;

async function api(method: 'GET' | 'POST' | 'DELETE', path: string, body?: FormData | object): Promise<{ status: number; body: any }> {
  const response = await request(`${base}${path}`, {
    method,
    body: body instanceof FormData ? (body as never) : body ? JSON.stringify(body) : undefined,
    headers: body && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {},
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text.startsWith('{') ? JSON.parse(text) : text };
}

async function finished(id: string): Promise<WheelBuildRecord & { log: string[] }> {
  await builds.wait(id);
  return (await api('GET', `/api/v1/wheels/builds/${id}`)).body;
}

/** Runs `script` with sh in a fresh container of `image`, with `files` put at `/wheels`; returns exit code and output. */
async function runInContainer(image: string, script: string, wheelsDir: string, network: string): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['sh', '-c', script],
    Labels: { 'pitlane.managed': 'true', 'pitlane.instance': installationId },
    HostConfig: { NetworkMode: network },
  });
  try {
    const pack = tarFs.pack(wheelsDir, { map: (header) => ({ ...header, name: `wheels/${header.name}`, uid: 0, gid: 0 }) }) as unknown as Readable;
    await container.putArchive(pack as unknown as NodeJS.ReadableStream, { path: '/' });
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    const out = new PassThrough();
    let output = '';
    out.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const splitter = new PassThrough();
    docker.modem.demuxStream(splitter, out, out);
    splitter.end(logs);
    await new Promise((r) => setTimeout(r, 50));
    return { code: StatusCode, output };
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** Runs the host's pip without blocking the event loop (the index is served by this process). */
function pip(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile('python3', ['-m', 'pip', ...args, '--timeout', '30'], { env, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolvePromise({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

function hostPip(): boolean {
  return spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' }).status === 0;
}

beforeAll(async () => {
  try {
    await docker.getImage(PYTHON_IMAGE).inspect();
  } catch {
    throw new Error(`the image ${PYTHON_IMAGE} is needed (Debian python3.11 + pip + venv); build it first (scripts/setup)`);
  }
  await wheelhouse.init();
  await builds.init();
  app = fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } } });
  app.setErrorHandler(errorHandler);
  await app.register(multipart, { limits: { fileSize: 64 * 1024 * 1024, files: 2, fields: 20 } });
  app.register(async (scope) => registerWheelRoutes(scope, { wheelhouse, builds }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await builds.close();
  await app?.close();
  const leftovers = await docker.listContainers({ all: true, filters: { label: [`pitlane.instance=${installationId}`] } });
  for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
});

describe('wheel builds in the builder container', () => {
  it('builds wheels of two local packages sent as a source archive, stores them and keeps the log', async () => {
    const source = await packSources(new Map([
      ['pitlane-greet', join(FIXTURES, 'pitlane-greet')],
      ['pitlane-shout', join(FIXTURES, 'pitlane-shout')],
    ]));
    const form = new FormData();
    form.set('requirements', './pitlane-greet\n./pitlane-shout\n');
    form.set('source', new Blob([source]), 'source.tar.gz');
    const started = await api('POST', '/api/v1/wheels/build', form);
    expect(started.status).toBe(202);
    const build = await finished(started.body.id);
    expect(build.error).toBeNull();
    expect(build.status).toBe('succeeded');
    expect([...build.wheels_added].sort()).toEqual([GREET, SHOUT]);
    expect(build.log.join('\n')).toContain('Successfully built');
    expect(build.log.join('\n')).toContain('python3 -m pip wheel --no-index');

    const listed = (await api('GET', '/api/v1/wheels')).body.wheels as { filename: string; name: string; version: string; tags: string[]; build_id: string }[];
    expect(listed.map((w) => [w.name, w.version, w.tags.join(','), w.build_id])).toEqual([
      ['pitlane-greet', '0.1.0', 'py3-none-any', build.id],
      ['pitlane-shout', '0.2.0', 'py3-none-any', build.id],
    ]);
    // The log is kept on disk and readable by a later process.
    const later = new WheelBuildService({ wheelhouse, engine });
    expect((await later.log(build.id)).lines.join('\n')).toContain('Successfully built');
  });

  it('resolves a later build from the wheelhouse alone (nothing rebuilt)', async () => {
    const lines: string[] = [];
    const started = Date.now();
    const result = await buildWheels({ requirements: 'pitlane-shout==0.2.0\n' }, engine, wheelhouse, { onLog: (l) => lines.push(l) });
    expect(result.added).toEqual([]);
    expect(result.reused.map((w) => w.filename).sort()).toEqual([GREET, SHOUT]);
    expect(lines.join('\n')).toContain(`Processing /wheelhouse/${SHOUT}`);
    expect(lines.join('\n')).not.toContain('Building wheel');
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("fails a requirement the wheelhouse cannot satisfy with pip's message, and keeps the log", async () => {
    const started = await api('POST', '/api/v1/wheels/build', { requirements: 'pitlane-greet==9.9\n' });
    const build = await finished(started.body.id);
    expect(build.status).toBe('failed');
    expect(build.error?.code).toBe('REQUIREMENT_UNSATISFIED');
    expect(build.error?.message).toContain('"pitlane-greet==9.9"');
    expect(build.error?.message).toContain('from versions: 0.1.0');
    expect(build.log.join('\n')).toContain('ERROR: No matching distribution found for pitlane-greet==9.9');
  });

  it('reports a package that does not build as WHEEL_BUILD_FAILED, quoting the failure', async () => {
    const pkg = join(mkdtempSync(join(tmpdir(), 'pitlane-broken-')), 'broken-pkg');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'setup.py'), 'raise SystemExit("broken-pkg refuses to build")\n');
    const error = await buildWheels({ requirements: './broken-pkg\n', localPaths: [pkg] }, engine, wheelhouse).then(
      () => undefined,
      (e: { code: string; message: string }) => e,
    );
    expect(error?.code).toBe('WHEEL_BUILD_FAILED');
    expect(error?.message).toContain('did not run successfully');
    expect(wheelhouse.list().map((w) => w.filename)).toEqual([GREET, SHOUT]);
  });

  it('refuses what setuptools builds from a package whose metadata it could not read (UNKNOWN-0.0.0)', async () => {
    const pkg = join(mkdtempSync(join(tmpdir(), 'pitlane-unknown-')), 'nameless');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'setup.py'), 'from setuptools import setup\nsetup()\n');
    const result = await buildWheels({ requirements: './nameless\n', localPaths: [pkg] }, engine, wheelhouse);
    expect(result.added).toEqual([]);
    expect(result.rejected).toMatchObject([{ filename: 'UNKNOWN-0.0.0-py3-none-any.whl', code: 'WHEEL_METADATA_MISSING' }]);
    expect(wheelhouse.list().map((w) => w.filename)).toEqual([GREET, SHOUT]);
  });
});

describe('the builder image', () => {
  it('answers 503 WHEEL_BUILDER_UNAVAILABLE, naming the image, when the base image is missing', async () => {
    const missing = new DockerWheelBuildEngine({ docker, baseImage: 'pitlane-no-such-python:0', installationId });
    const error = await buildWheels({ requirements: 'x\n' }, missing, wheelhouse).then(
      () => undefined,
      (e: { status: number; code: string; message: string }) => e,
    );
    expect(error).toMatchObject({ status: 503, code: 'WHEEL_BUILDER_UNAVAILABLE' });
    expect(error?.message).toContain('pitlane-no-such-python:0');
  });
});

describe('installing from the wheelhouse', () => {
  it('pip install --no-index --find-links works in a fresh python:3.11-slim container with no network', async () => {
    const context = mkdtempSync(join(tmpdir(), 'pitlane-wheel-ctx-'));
    const copied = await copyWheelsForBuild(wheelhouse.dir, join(context, 'wheels'));
    expect(copied).toEqual([GREET, SHOUT]);
    const { code, output } = await runInContainer(
      PYTHON_IMAGE,
      'python3 -m venv /venv && /venv/bin/pip install --no-index --find-links /wheels pitlane-shout && /venv/bin/python -c "import pitlane_shout; print(pitlane_shout.shout(\'pit\'))"',
      join(context, 'wheels'),
      'none',
    );
    expect(output, output).toContain('Successfully installed pitlane-greet-0.1.0 pitlane-shout-0.2.0');
    expect(output).toContain('HELLO, PIT!');
    expect(code).toBe(0);
  });

  it.skipIf(!hostPip())("the host's pip resolves through the PEP 503 index and the find-links page", async () => {
    const simple = mkdtempSync(join(tmpdir(), 'pitlane-pip-simple-'));
    const env = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
    const viaIndex = await pip(['download', '--isolated', '--no-cache-dir', '--index-url', `${base}/wheels/simple/`, '-d', simple, 'pitlane-shout==0.2.0'], env);
    expect(viaIndex.output).toContain('Saved');
    expect(viaIndex.status).toBe(0);
    expect(readdirSync(simple).sort()).toEqual([GREET, SHOUT]);
    expect(readFileSync(join(simple, GREET))).toEqual(readFileSync(join(wheelhouse.dir, GREET)));

    const flat = mkdtempSync(join(tmpdir(), 'pitlane-pip-flat-'));
    const viaLinks = await pip(['download', '--isolated', '--no-cache-dir', '--no-index', '--find-links', `${base}/wheels/find-links/`, '-d', flat, 'Pitlane_Greet'], env);
    expect(viaLinks.status, viaLinks.output).toBe(0);
    expect(readdirSync(flat)).toEqual([GREET]);
  });
});

describe('uploads over HTTP', () => {
  it('refuses a corrupt wheel (400) and a wheel whose filename lies (422), accepts a real one', async () => {
    const upload = async (filename: string, data: Buffer): Promise<{ status: number; body: any }> => {
      const form = new FormData();
      form.set('file', new Blob([data]), filename);
      return api('POST', '/api/v1/wheels', form);
    };
    const real = readFileSync(join(FIXTURES, GREET));
    const corrupt = await upload('pitlane_greet-0.1.1-py3-none-any.whl', Buffer.concat([real.subarray(0, 200), Buffer.alloc(300, 0x41)]));
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.error.code).toBe('WHEEL_CORRUPT');
    const lying = await upload('requests-2.32.3-py3-none-any.whl', real);
    expect(lying.status).toBe(422);
    expect(lying.body.error).toMatchObject({ code: 'WHEEL_MISMATCH', details: [{ path: 'dist-info' }] });
    // Replace the built Pitlane.Greet by the committed fixture (built the same way, other timestamps).
    expect((await api('DELETE', `/api/v1/wheels/${GREET}`)).status).toBe(200);
    const stored = await upload(GREET, real);
    expect(stored.status).toBe(201);
    expect(stored.body).toMatchObject({ name: 'pitlane-greet', version: '0.1.0', source: 'upload' });
    expect((await upload(GREET, real)).status).toBe(200);
    expect(wheelhouse.list().map((w) => w.filename)).toEqual([GREET, SHOUT]);
  });
});
