import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  BUILDER_REQUIREMENTS_PATH,
  builderDockerfile,
  buildWheels,
  checkRequirements,
  pipFailure,
  requirementLines,
  Wheelhouse,
  WheelBuildService,
} from '../../../src/wheelhouse/index.js';
import { FakeEngine } from './fake-engine.js';
import { expectPitlaneError, makeWheel, tempDir } from './helpers.js';

async function house(): Promise<Wheelhouse> {
  const wheelhouse = new Wheelhouse(join(tempDir(), 'wheelhouse'));
  await wheelhouse.init();
  return wheelhouse;
}

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

describe('requirements', () => {
  it('finds the meaningful lines', () => {
    expect(requirementLines('# comment\n\nrequests==2.0  # pinned\n./local\n  \n')).toEqual(['requests==2.0', './local']);
  });

  it('refuses empty, oversized, NUL and non-text requirements (naming the field)', async () => {
    expect((await expectPitlaneError(() => checkRequirements('# nothing\n\n'), 400, 'REQUEST_INVALID')).details[0]?.path).toBe('requirements');
    await expectPitlaneError(() => checkRequirements(42), 400, 'REQUEST_INVALID');
    await expectPitlaneError(() => checkRequirements('a\0b'), 400, 'REQUEST_INVALID');
    await expectPitlaneError(() => checkRequirements('x'.repeat(1024 * 1024 + 1)), 413, 'PAYLOAD_TOO_LARGE');
    expect(checkRequirements('a')).toBe('a\n');
  });
});

describe('pipFailure', () => {
  it("names the requirement the wheelhouse cannot satisfy and quotes pip's ERROR lines", () => {
    const error = pipFailure([
      'Looking in links: /wheelhouse',
      'ERROR: Could not find a version that satisfies the requirement nope==1.0 (from versions: none)',
      'ERROR: No matching distribution found for nope==1.0',
    ], 1);
    expect(error.status).toBe(422);
    expect(error.code).toBe('REQUIREMENT_UNSATISFIED');
    expect(error.message).toContain('cannot satisfy "nope==1.0"');
    expect(error.message).toContain('(from versions: none)');
    expect(error.details).toHaveLength(2);
  });

  it('reports other failures as WHEEL_BUILD_FAILED with the diagnostics', () => {
    const failed = pipFailure(['Processing ./broken', '  error: subprocess-exited-with-error', '  × python setup.py egg_info did not run successfully.'], 1);
    expect(failed.code).toBe('WHEEL_BUILD_FAILED');
    expect(failed.message).toContain('× python setup.py egg_info');
    expect(pipFailure(['some', 'output'], 2).message).toContain('exit code 2');
  });
});

describe('builderDockerfile', () => {
  it('adds the Debian wheels of setuptools and wheel, cleans apt lists, no BuildKit syntax', () => {
    const text = builderDockerfile('python:3.11-slim', ['git', 'python3-wheel-whl']);
    expect(text.split('\n')[0]).toBe('FROM python:3.11-slim');
    expect(text).toContain('apt-get install -y --no-install-recommends git python3-wheel-whl');
    expect(text).toContain('rm -rf /var/lib/apt/lists/*');
    expect(text).not.toContain('--mount');
    expect(builderDockerfile('x', [])).not.toContain('apt-get');
  });
});

describe('buildWheels (fake engine)', () => {
  it('stages requirements, sources and the wheelhouse, runs pip wheel --no-index, stores new wheels and reuses known ones', async () => {
    const wheelhouse = await house();
    const known = makeWheel('known', '1.0');
    await wheelhouse.add(known.data, known.filename);
    const fresh = makeWheel('fresh', '2.0');
    const engine = new FakeEngine();
    engine.next = { wheels: [known, fresh], files: { 'notes.txt': 'x' }, lines: ['Successfully built fresh'] };
    const pkg = join(tempDir(), 'mypkg');
    mkdirSync(join(pkg, 'mypkg'), { recursive: true });
    mkdirSync(join(pkg, '.git'));
    writeFileSync(join(pkg, 'pyproject.toml'), '[project]\nname = "mypkg"\n');
    writeFileSync(join(pkg, '.git', 'HEAD'), 'ref');
    const log: string[] = [];
    const result = await buildWheels(
      { requirements: './mypkg\n./other\nfresh', localPaths: [pkg], sourceArchive: await tarGz({ 'other/setup.py': 'print(1)' }) },
      engine,
      wheelhouse,
      { buildId: 'b-1', onLog: (line) => log.push(line) },
    );
    expect(result.added.map((w) => w.filename)).toEqual([fresh.filename]);
    expect(result.reused.map((w) => w.filename)).toEqual([known.filename]);
    expect(result.rejected).toEqual([]);
    expect(wheelhouse.get(fresh.filename)).toMatchObject({ source: 'build', build_id: 'b-1' });

    const run = engine.runs[0];
    expect(run?.command).toEqual([
      'python3', '-m', 'pip', 'wheel', '--no-index', '--find-links', '/wheelhouse', '--find-links', '/usr/share/python-wheels',
      '--wheel-dir', '/out', '--progress-bar', 'off', '-r', BUILDER_REQUIREMENTS_PATH,
    ]);
    expect(run?.workingDir).toBe('/src');
    expect(run?.labels['pitlane.wheel-build']).toBe('b-1');
    const context = run?.context ?? new Map();
    expect(context.get('src/.pitlane-requirements.txt')?.toString()).toBe('./mypkg\n./other\nfresh\n');
    expect(context.get('src/mypkg/pyproject.toml')?.toString()).toContain('mypkg');
    expect(context.has('src/mypkg/.git/HEAD')).toBe(false);
    expect(context.get('src/other/setup.py')?.toString()).toBe('print(1)');
    expect(context.get(`wheelhouse/${known.filename}`)).toEqual(known.data);
    expect(context.has('out')).toBe(true);
    expect(log.join('\n')).toContain('1 wheel from the wheelhouse available');
    expect(log.join('\n')).toContain('ignoring notes.txt');
    expect(log).toContain('Successfully built fresh');
  });

  it('uses --index-url instead of --no-index when a fallback index is configured', async () => {
    const engine = new FakeEngine();
    await buildWheels({ requirements: 'x' }, engine, await house(), { indexUrl: 'http://mirror.example/simple' });
    expect(engine.runs[0]?.command).toContain('--index-url');
    expect(engine.runs[0]?.command).not.toContain('--no-index');
  });

  it("fails with pip's message when the wheelhouse cannot satisfy a requirement", async () => {
    const engine = new FakeEngine();
    engine.next = { exitCode: 1, lines: ['ERROR: Could not find a version that satisfies the requirement ghost==9 (from versions: none)', 'ERROR: No matching distribution found for ghost==9'] };
    const error = await expectPitlaneError(buildWheels({ requirements: 'ghost==9' }, engine, await house()), 422, 'REQUIREMENT_UNSATISFIED');
    expect(error.message).toContain('ghost==9');
  });

  it('reports wheels the wheelhouse refuses, keeping the good ones', async () => {
    const wheelhouse = await house();
    const good = makeWheel('good', '1.0');
    const liar = makeWheel('liar', '1.0', { metadataName: 'someone-else' });
    const engine = new FakeEngine();
    engine.next = { wheels: [good, liar] };
    const result = await buildWheels({ requirements: 'good\nliar' }, engine, wheelhouse);
    expect(result.added.map((w) => w.filename)).toEqual([good.filename]);
    expect(result.rejected).toMatchObject([{ filename: liar.filename, code: 'WHEEL_MISMATCH' }]);
  });

  it('refuses the UNKNOWN-0.0.0 wheel setuptools makes when it cannot read a package\'s metadata', async () => {
    const engine = new FakeEngine();
    engine.next = { wheels: [makeWheel('UNKNOWN', '0.0.0')] };
    const wheelhouse = await house();
    const result = await buildWheels({ requirements: './x' }, engine, wheelhouse);
    expect(result.rejected).toMatchObject([{ filename: 'UNKNOWN-0.0.0-py3-none-any.whl', code: 'WHEEL_METADATA_MISSING' }]);
    expect(wheelhouse.list()).toEqual([]);
  });

  it('times out and cancels', async () => {
    const engine = new FakeEngine();
    engine.next = { hang: true };
    await expectPitlaneError(buildWheels({ requirements: 'x' }, engine, await house(), { timeoutMs: 50 }), 504, 'WHEEL_BUILD_TIMEOUT');
    const controller = new AbortController();
    const pending = buildWheels({ requirements: 'x' }, engine, await house(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expectPitlaneError(pending, 499, 'WHEEL_BUILD_CANCELLED');
  });

  it('refuses local paths that are not directories or that collide, and unsafe source archives', async () => {
    const engine = new FakeEngine();
    const wheelhouse = await house();
    await expectPitlaneError(buildWheels({ requirements: 'x', localPaths: ['/nonexistent/dir'] }, engine, wheelhouse), 400, 'REQUEST_INVALID');
    const a = join(tempDir(), 'same');
    const b = join(tempDir(), 'same');
    mkdirSync(a);
    mkdirSync(b);
    await expectPitlaneError(buildWheels({ requirements: 'x', localPaths: [a, b] }, engine, wheelhouse), 400, 'REQUEST_INVALID');
    await expectPitlaneError(buildWheels({ requirements: 'x', sourceArchive: await tarGz({ '../escape.py': 'x' }) }, engine, wheelhouse), 400, 'ARCHIVE_INVALID');
    expect(engine.runs).toHaveLength(0);
  });

  it('leaves no staging directory behind', async () => {
    const work = tempDir();
    const engine = new FakeEngine();
    engine.next = { exitCode: 1 };
    await buildWheels({ requirements: 'x' }, engine, await house(), { workDir: work }).catch(() => undefined);
    expect(readdirSync(work)).toEqual([]);
  });
});

describe('WheelBuildService', () => {
  it('records a build, runs it in the background, keeps its log and result', async () => {
    const wheelhouse = await house();
    const engine = new FakeEngine();
    const wheel = makeWheel('built', '1.0');
    engine.next = { wheels: [wheel], lines: ['Building wheel for built', 'Successfully built built'] };
    const service = new WheelBuildService({ wheelhouse, engine });
    await service.init();
    expect(engine.leftoversRemoved).toBe(1);
    const started = await service.start({ requirements: 'built' });
    expect(started.status).toBe('queued');
    const done = await service.wait(started.id);
    expect(done).toMatchObject({ status: 'succeeded', wheels_added: [wheel.filename], wheels_reused: [], error: null, requirements: 'built\n' });
    expect(done.duration_ms).toBeGreaterThanOrEqual(0);
    const log = await service.log(started.id);
    expect(log.lines).toContain('Successfully built built');
    expect(log.lines.at(-1)).toContain('build succeeded: 1 wheel(s) added');
    expect((await service.log(started.id, log.total - 1)).lines).toHaveLength(1);

    // Another process (a restart) reads the same records and logs.
    const again = new WheelBuildService({ wheelhouse, engine });
    await again.init();
    expect(await again.get(started.id)).toMatchObject({ status: 'succeeded' });
    expect((await again.log(started.id)).lines).toEqual(log.lines);
    expect((await again.list()).map((b) => b.id)).toEqual([started.id]);
  });

  it('keeps a waiting build\'s uploaded sources on disk and removes them after the build', async () => {
    const wheelhouse = await house();
    const engine = new FakeEngine();
    engine.next = { hang: true };
    const service = new WheelBuildService({ wheelhouse, engine });
    await service.init();
    const first = await service.start({ requirements: 'a' });
    const second = await service.start({ requirements: './pkg', sourceArchive: await tarGz({ 'pkg/setup.py': 'print(2)' }) });
    expect(readdirSync(service.dir)).toContain(`${second.id}.source`);
    engine.next = {};
    // Cancel the first (hanging) build so the second one runs.
    const running = (service as unknown as { running?: { controller: AbortController } }).running;
    running?.controller.abort();
    await service.wait(first.id);
    await service.wait(second.id);
    expect(engine.runs[1]?.context.get('src/pkg/setup.py')?.toString()).toBe('print(2)');
    expect(readdirSync(service.dir).filter((n) => n.endsWith('.source'))).toEqual([]);
  });

  it('runs builds one at a time and records failures with their code', async () => {
    const wheelhouse = await house();
    const engine = new FakeEngine();
    engine.next = { exitCode: 1, lines: ['ERROR: No matching distribution found for ghost'] };
    const service = new WheelBuildService({ wheelhouse, engine });
    await service.init();
    const first = await service.start({ requirements: 'ghost' });
    const second = await service.start({ requirements: 'ghost' });
    const [a, b] = await Promise.all([service.wait(first.id), service.wait(second.id)]);
    expect(a.status).toBe('failed');
    expect(a.error).toMatchObject({ code: 'REQUIREMENT_UNSATISFIED' });
    expect(b.status).toBe('failed');
    expect(Date.parse(b.started_at ?? '')).toBeGreaterThanOrEqual(Date.parse(a.finished_at ?? ''));
  });

  it('marks builds a stopped process left unfinished as failed at start-up', async () => {
    const wheelhouse = await house();
    const engine = new FakeEngine();
    engine.next = { hang: true };
    const service = new WheelBuildService({ wheelhouse, engine });
    await service.init();
    const running = await service.start({ requirements: 'x' });
    const queued = await service.start({ requirements: 'y' });
    // Simulate a crash: records stay "running"/"queued" on disk.
    const records = join(wheelhouse.dir, '.builds');
    const later = new WheelBuildService({ wheelhouse, engine: new FakeEngine() });
    await later.init();
    for (const id of [running.id, queued.id]) {
      expect(await later.get(id)).toMatchObject({ status: 'failed', error: { code: 'WHEEL_BUILD_INTERRUPTED' } });
    }
    expect(JSON.parse(readFileSync(join(records, `${queued.id}.json`), 'utf8')).status).toBe('failed');
    await service.close();
  });

  it('cancels the running build on close', async () => {
    const engine = new FakeEngine();
    engine.next = { hang: true };
    const service = new WheelBuildService({ wheelhouse: await house(), engine });
    await service.init();
    const build = await service.start({ requirements: 'x' });
    await new Promise((r) => setTimeout(r, 50));
    await service.close();
    expect(await service.get(build.id)).toMatchObject({ status: 'failed', error: { code: 'WHEEL_BUILD_CANCELLED' } });
    await expectPitlaneError(service.start({ requirements: 'x' }), 503, 'SHUTTING_DOWN');
  });

  it('answers 404 for unknown ids, 400 for bad requirements, 503 when the queue is full', async () => {
    const engine = new FakeEngine();
    engine.next = { hang: true };
    const service = new WheelBuildService({ wheelhouse: await house(), engine, maxQueued: 1 });
    await service.init();
    await expectPitlaneError(service.get('nope'), 404, 'WHEEL_BUILD_NOT_FOUND');
    await expectPitlaneError(service.get('00000000-0000-0000-0000-000000000000'), 404, 'WHEEL_BUILD_NOT_FOUND');
    await expectPitlaneError(service.log('../../etc/passwd'), 404, 'WHEEL_BUILD_NOT_FOUND');
    await expectPitlaneError(service.start({ requirements: '' }), 400, 'REQUEST_INVALID');
    await service.start({ requirements: 'a' });
    await new Promise((r) => setTimeout(r, 20));
    await service.start({ requirements: 'b' });
    await expectPitlaneError(service.start({ requirements: 'c' }), 503, 'WHEEL_BUILD_QUEUE_FULL');
    await service.close();
  });

  it('caps the kept log', async () => {
    const engine = new FakeEngine();
    engine.next = { lines: Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(50)}`) };
    const service = new WheelBuildService({ wheelhouse: await house(), engine, maxLogBytes: 1000 });
    await service.init();
    const build = await service.start({ requirements: 'x' });
    await service.wait(build.id);
    const log = await service.log(build.id);
    expect(log.lines.length).toBeLessThan(30);
    expect(log.lines.at(-1)).toContain('the rest is not kept');
  });
});
