/**
 * Issue 4 against the real engine and a real server: the Dockerfile linter in deployments and as
 * `pitlane lint` / `POST /api/v1/lint`, the image report and its `.dive-ci` gates in deployments and
 * as `pitlane inspect` / `GET /api/v1/images/{ref}/report`, structure tests in deployments and as
 * `pitlane test-image`, and the course's acceptance (task 1 vs the `--fix`ed task 2).
 *
 * Fixtures: `test/fixtures/checks/web` (a busybox web job, wasteful and with lint warnings on
 * purpose), `test/fixtures/checks/*.yaml` (structure tests), `test/fixtures/course/task1` (the
 * course's task 1 on Debian: the only images here that run apt-get, built once in the background).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { packContext, packContextGzip } from '../../src/build/index.js';
import { containersOfJob, docker, PitlaneProcess, REPO_ROOT, removeJobContainers, type CliResult } from './helpers/pitlane.js';

const run = promisify(execFile);
const FIXTURES = join(REPO_ROOT, 'test/fixtures');
const WEB_DIR = join(FIXTURES, 'checks/web');
const WEB_DOCKERFILE = join(WEB_DIR, 'Dockerfile');
const LINT_ERROR_DOCKERFILE = join(FIXTURES, 'checks/lint-error.Dockerfile');
const STRUCTURE_PASS = join(FIXTURES, 'checks/structure-pass.yaml');
const STRUCTURE_FAIL = join(FIXTURES, 'checks/structure-fail.yaml');
const COURSE_DIR = join(FIXTURES, 'course/task1');

const JOBS = ['checks-lint', 'checks-web', 'checks-gate', 'checks-st'];
const TEST_LABEL = 'pitlane.test';
const TEST_LABEL_VALUE = `checks-${process.pid}`;
const SUFFIX = `${process.pid}-${Date.now().toString(36)}`;
const TASK1_TAG = `pitlane-test/checks-course:task1-${SUFFIX}`;
const TASK2_TAG = `pitlane-test/checks-course:task2-${SUFFIX}`;
const WEB_TAG = 'pitlane-job/checks-web:1.0.0';

const server = new PitlaneProcess({ PITLANE_READY_TIMEOUT_S: '20' });
const work = mkdtempSync(join(tmpdir(), 'pitlane-checks-'));
let webContext: string;

/** What preparing the course's images produced (started in beforeAll, awaited by the course tests). */
interface CourseImages {
  task1Dir: string;
  task2Dir: string;
  fix: CliResult;
  task1Text: string;
  task2Text: string;
}
let course: Promise<CourseImages>;

/** Image ids created here, for the clean-up of structure-test leftovers. */
const imageIds = new Set<string>();

function manifest(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, version: '1.0.0', owner_email: 'test@example.com', jobtype: 'docker-proxy', ...extra };
}

async function deployWeb(name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const queued = await server.api('POST', '/api/v1/deploy', { manifest: manifest(name, extra), build_context: webContext });
  expect(queued.status, JSON.stringify(queued.body)).toBe(202);
  const finished = await server.waitForDeployment(queued.body.id);
  if (finished.image_id) imageIds.add(finished.image_id);
  return finished;
}

/** Replica containers of a job (structure-test containers carry the image's labels but `pitlane.managed=false`). */
async function replicasOf(job: string): Promise<unknown[]> {
  return (await containersOfJob(job)).filter((c) => c.Labels['pitlane.managed'] === 'true');
}

async function buildLogs(id: string): Promise<string> {
  const logs = await server.api('GET', `/api/v1/deploy/${id}/logs`);
  return logs.body.lines.map((l: { line: string }) => l.line).join('\n');
}

/** Builds `tag` from `dir` with the engine's builder (dockerode), labelled as this test's. */
async function dockerBuild(dir: string, tag: string): Promise<void> {
  const stream = await docker.buildImage(packContext(dir), { t: tag, rm: true, forcerm: true, labels: { [TEST_LABEL]: TEST_LABEL_VALUE } });
  const events = await new Promise<Array<{ stream?: string; error?: string }>>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, res: Array<{ stream?: string; error?: string }>) => (err ? reject(err) : resolve(res)));
  });
  const failure = events.find((e) => e.error);
  if (failure) throw new Error(`docker build of ${tag} failed: ${failure.error}\n${events.map((e) => e.stream ?? e.error ?? '').join('')}`);
  imageIds.add((await docker.getImage(tag).inspect()).Id);
}

/** Copies the course's task 1, `pitlane lint --fix`es a copy into task 2, builds both in parallel. */
async function prepareCourse(): Promise<CourseImages> {
  const task1Dir = join(work, 'task1');
  const task2Dir = join(work, 'task2');
  cpSync(COURSE_DIR, task1Dir, { recursive: true });
  cpSync(COURSE_DIR, task2Dir, { recursive: true });
  const fix = await server.cli(['lint', '--fix', join(task2Dir, 'Dockerfile')]);
  await Promise.all([dockerBuild(task1Dir, TASK1_TAG), dockerBuild(task2Dir, TASK2_TAG)]);
  return {
    task1Dir,
    task2Dir,
    fix,
    task1Text: readFileSync(join(task1Dir, 'Dockerfile'), 'utf8'),
    task2Text: readFileSync(join(task2Dir, 'Dockerfile'), 'utf8'),
  };
}

/** `docker run --rm IMAGE ARGS...`: stdout (stderr appended), labelled as this test's. */
async function dockerRun(image: string, args: string[] = []): Promise<string> {
  const { stdout, stderr } = await run('docker', ['run', '--rm', '--label', `${TEST_LABEL}=${TEST_LABEL_VALUE}`, image, ...args], { timeout: 60_000 });
  return stdout + stderr;
}

async function cleanUp(): Promise<void> {
  await removeJobContainers(JOBS);
  // Structure-test containers and `docker run` leftovers of the images made here.
  const containers = await docker.listContainers({ all: true });
  for (const c of containers) {
    const structureTest = c.Labels?.['pitlane.structure-test'] === '1';
    const ours =
      c.Labels?.[TEST_LABEL] === TEST_LABEL_VALUE ||
      (structureTest && (imageIds.has(c.ImageID) || c.Image === WEB_TAG || JOBS.includes(c.Labels?.['pitlane.job'] ?? '')));
    if (ours) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const job of JOBS) {
    for (const image of await docker.listImages({ filters: { label: [`pitlane.job=${job}`] } })) {
      await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
    }
  }
  for (const image of await docker.listImages({ filters: { label: [`${TEST_LABEL}=${TEST_LABEL_VALUE}`] } })) {
    await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
  }
}

beforeAll(async () => {
  await removeJobContainers(JOBS);
  webContext = (await buffer(packContextGzip(WEB_DIR))).toString('base64');
  await server.start();
  // The only apt-get builds of this file: started now, awaited by the course tests.
  course = prepareCourse();
  course.catch(() => undefined);
});

afterAll(async () => {
  await course?.catch(() => undefined);
  await server.stop();
  await cleanUp();
  rmSync(work, { recursive: true, force: true });
});

describe('deploy-time lint', () => {
  it('fails a build at lint.failure_threshold warning, naming the rule and the line, and stores the findings', async () => {
    const failed = await deployWeb('checks-lint', { lint: { failure_threshold: 'warning' } });
    expect(failed.status).toBe('failed');
    expect(failed.phase).toBe('failed');
    expect(failed.error).toContain('failure threshold "warning"');
    expect(failed.error).toContain('line 5 DL3003');
    expect(failed.error).toContain('line 6 PL1002');
    expect(failed.error).not.toContain('DL3059'); // info: below the threshold
    // Stopped before the build: no image, no container.
    expect(failed.image_id).toBeNull();
    expect(failed.image_report).toBeNull();
    expect(await replicasOf('checks-lint')).toHaveLength(0);
    const codes = failed.lint.map((f: any) => f.code);
    expect(codes).toEqual(expect.arrayContaining(['DL3003', 'DL3059', 'PL1002']));
    expect(codes).not.toContain('DL3007'); // `# hadolint ignore=DL3007` above FROM busybox:latest
    const dl3003 = failed.lint.find((f: any) => f.code === 'DL3003');
    expect(dl3003).toMatchObject({ severity: 'warning', line: 5, column: 5 });
    expect(dl3003.message).toContain('WORKDIR');
    const logs = await buildLogs(failed.id);
    expect(logs).toContain('Dockerfile:5:5 DL3003 warning');
    expect(logs).toContain('ERROR:');
  });

  it('deploys with the default threshold: findings stored and printed by `pitlane deploy`; lenient image checks and structure tests pass', async () => {
    const deployed = await server.cli(['deploy', 'test/fixtures/checks/web']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr).toMatch(/lint: 4 findings in Dockerfile/);
    expect(deployed.stderr).toContain('Dockerfile:5:5 DL3003 warning: Use WORKDIR');
    expect(deployed.stderr).toContain('Dockerfile:6:1 PL1002 warning');
    expect(deployed.stderr).toContain('checks-web 1.0.0 is serving');
    expect(deployed.stdout).toContain('/pub/job/checks-web/1.0.0/api/v1/perform');
    const id = /deployment ([0-9a-f-]{36})/.exec(deployed.stderr)?.[1];
    expect(id).toBeDefined();

    // Without gates the report is computed after the version serves: it arrives shortly after.
    let done = (await server.api('GET', `/api/v1/deploy/${id}`)).body;
    expect(done.status, done.error).toBe('done');
    for (let i = 0; i < 100 && !done.image_report; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      done = (await server.api('GET', `/api/v1/deploy/${id}`)).body;
    }
    imageIds.add(done.image_id);
    expect(done.lint.map((f: any) => f.code).sort()).toEqual(['DL3003', 'DL3059', 'DL3059', 'PL1002']);

    const report = done.image_report;
    expect(report.efficiency).toBeGreaterThan(0.5);
    expect(report.efficiency).toBeLessThan(1);
    expect(report.wasted_bytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(report.reclaimable_bytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(report.image.id).toBe(done.image_id);
    expect(report.layers.length).toBeGreaterThanOrEqual(4);
    const removing = report.layers.find((l: any) => l.instruction === 'RUN rm /opt/cache/blob.bin');
    expect(removing).toMatchObject({ files_removed: 1, size_bytes: 0 });
    const writing = report.layers.find((l: any) => /dd if=\/dev\/zero/.test(l.instruction ?? ''));
    expect(writing.reclaimable_bytes).toBe(256 * 1024);
    expect(report.inefficient_files).toContainEqual(expect.objectContaining({ path: '/opt/cache/blob.bin', count: 2 }));
    expect(report.checks.pass).toBe(true);
    expect(report.checks.results.find((r: any) => r.rule === 'lowest-efficiency').status).toBe('pass');
    expect(report.checks.results.find((r: any) => r.rule === 'highest-user-wasted-percent').status).toBe('skip');

    expect(done.structure_tests).toMatchObject({ pass: true, passed: 2, failed: 0 });
    expect(done.structure_tests.results.map((r: any) => r.name)).toEqual(['Command Test: index page', 'File Existence Test: greeting copied']);
    const logs = await buildLogs(id!);
    expect(logs).toMatch(/lint: 4 findings/);
    expect(logs).toMatch(/image checks: PASS/);
    expect(logs).toMatch(/structure tests: 2 passed, 0 failed/);

    // The job itself serves: busybox httpd behind the gateway.
    const page = await server.api('GET', '/pub/job/checks-web/1.0.0/api/v1/index.html');
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('hello from pitlane checks');
  });

  it('rejects an invalid lint: section with a 400 naming lint.*', async () => {
    const bad = await server.api('POST', '/api/v1/deploy', {
      manifest: manifest('checks-lint', { version: '2.0.0', lint: { failure_threshold: 'sometimes', ignored: 'not a list of codes!', bogus: true } }),
      build_context: webContext,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('MANIFEST_INVALID');
    const paths: string[] = bad.body.error.details.map((d: any) => d.path);
    expect(paths).toContain('lint.failure_threshold');
    expect(paths).toContain('lint.bogus');
    expect(paths.every((p) => p.startsWith('lint.'))).toBe(true);
    expect(bad.body.error.details.find((d: any) => d.path === 'lint.failure_threshold').message).toMatch(/error, warning/);

    const notMapping = await server.api('POST', '/api/v1/deploy', { manifest: manifest('checks-lint', { version: '2.0.1', lint: 'strict' }), build_context: webContext });
    expect(notMapping.status).toBe(400);
    expect(JSON.stringify(notMapping.body.error.details)).toContain('lint');

    const badGate = await server.api('POST', '/api/v1/deploy', { manifest: manifest('checks-gate', { version: '2.0.0', image_checks: { 'lowest-efficiency': 2 } }), build_context: webContext });
    expect(badGate.status).toBe(400);
    expect(badGate.body.error.code).toBe('MANIFEST_INVALID');
    expect(JSON.stringify(badGate.body.error)).toContain('lowest-efficiency');

    const badTests = await server.api('POST', '/api/v1/deploy', { manifest: manifest('checks-st', { version: '2.0.0', structure_tests: { schemaVersion: '9.9.9' } }), build_context: webContext });
    expect(badTests.status).toBe(400);
    expect(badTests.body.error.code).toBe('MANIFEST_INVALID');

    // None of them was queued.
    const listed = await server.api('GET', '/api/v1/deploy?limit=100');
    expect(listed.body.deployments.filter((d: any) => d.job_version !== '1.0.0')).toHaveLength(0);
  });
});

describe('image checks', () => {
  it('fails a deployment whose image misses lowest-efficiency, stating the figures, and keeps the report', async () => {
    const failed = await deployWeb('checks-gate', { image_checks: { 'lowest-efficiency': 0.999999, 'highest-user-wasted-percent': 'disabled' } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('image checks failed');
    expect(failed.error).toMatch(/image efficiency is too low \(efficiency=0\.\d\d < threshold=0\.999999\)/);
    expect(failed.image_id).toMatch(/^sha256:/);
    const report = failed.image_report;
    expect(report.efficiency).toBeLessThan(0.999999);
    expect(failed.error).toContain(`efficiency=${report.efficiency.toFixed(2)}`);
    expect(report).toEqual(
      expect.objectContaining({ efficiency: expect.any(Number), wasted_bytes: expect.any(Number), reclaimable_bytes: expect.any(Number), layers: expect.any(Array) }),
    );
    expect(report.checks.pass).toBe(false);
    expect(report.checks.results.find((r: any) => r.rule === 'lowest-efficiency')).toMatchObject({ status: 'fail', threshold: 0.999999 });
    expect(report.checks.figures.wasted_bytes).toBe(report.wasted_bytes);
    expect(failed.structure_tests).toBeNull();
    expect(await replicasOf('checks-gate')).toHaveLength(0);
    expect(await buildLogs(failed.id)).toMatch(/image checks: FAIL/);
  });

  it('GET /api/v1/images/{ref}/report: the report, dive\'s export shape, 404 for an unknown image, 400 for a junk ref', async () => {
    const byTag = await server.api('GET', `/api/v1/images/${encodeURIComponent(WEB_TAG)}/report`);
    expect(byTag.status, JSON.stringify(byTag.body)).toBe(200);
    const report = byTag.body;
    expect(report.image.repo_tags).toContain(WEB_TAG);
    expect(report.wasted_bytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(report.reclaimable_bytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(report.efficiency).toBeLessThan(1);
    expect(report.layers[0]).toEqual(expect.objectContaining({ index: 0, size_bytes: expect.any(Number), instruction: expect.anything(), files_added: expect.any(Number) }));

    // The same image by id gives the same figures as the deployment stored.
    const deployment = (await server.api('GET', '/api/v1/deploy?job=checks-web')).body.deployments[0];
    const byId = await server.api('GET', `/api/v1/images/${encodeURIComponent(deployment.image_id)}/report`);
    expect(byId.status).toBe(200);
    expect(byId.body.efficiency).toBe(report.efficiency);
    expect(byId.body.wasted_bytes).toBe(deployment.image_report.wasted_bytes);

    const dive = await server.api('GET', `/api/v1/images/${encodeURIComponent(WEB_TAG)}/report?format=dive`);
    expect(dive.status).toBe(200);
    expect(Object.keys(dive.body.image).sort()).toEqual(['efficiencyScore', 'fileReference', 'inefficientBytes', 'sizeBytes']);
    expect(dive.body.image.efficiencyScore).toBe(report.efficiency);
    expect(dive.body.image.inefficientBytes).toBe(report.wasted_bytes);
    expect(dive.body.image.sizeBytes).toBe(report.size_bytes);
    expect(dive.body.image.fileReference).toContainEqual({ count: 2, sizeBytes: 256 * 1024, file: '/opt/cache/blob.bin' });
    expect(dive.body.layer).toHaveLength(report.layers.length);
    for (const layer of dive.body.layer) {
      expect(Object.keys(layer).sort()).toEqual(['command', 'digestId', 'fileList', 'id', 'index', 'sizeBytes']);
    }
    expect(dive.body.layer.map((l: any) => l.command)).toContain('rm /opt/cache/blob.bin');
    expect(dive.body.pitlane.reclaimable_bytes).toBe(report.reclaimable_bytes);

    const unknown = await server.api('GET', `/api/v1/images/${encodeURIComponent('pitlane-test/no-such-image:nope')}/report`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('IMAGE_NOT_FOUND');
    const junk = await server.api('GET', `/api/v1/images/${encodeURIComponent('$(rm -rf /) junk')}/report`);
    expect(junk.status).toBe(400);
    expect(junk.body.error.code).toBe('IMAGE_REFERENCE_INVALID');
    const badFormat = await server.api('GET', `/api/v1/images/${encodeURIComponent(WEB_TAG)}/report?format=xml`);
    expect(badFormat.status).toBe(400);
    expect((await server.api('GET', `/api/v1/images/${encodeURIComponent(WEB_TAG)}/report`, undefined, null)).status).toBe(401);
  });
});

describe('structure tests', () => {
  it('fails a deployment whose structure tests fail, naming the tests, and stores the results', async () => {
    const failed = await deployWeb('checks-st', { structure_tests: parseYaml(readFileSync(STRUCTURE_FAIL, 'utf8')) });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('structure tests failed');
    expect(failed.error).toContain('Command Test: index page says goodbye');
    expect(failed.error).toContain('File Existence Test: config file present');
    expect(failed.error).not.toContain('greeting copied');
    expect(failed.structure_tests).toMatchObject({ pass: false, passed: 1, failed: 2, total: 3 });
    const command = failed.structure_tests.results.find((r: any) => r.kind === 'command');
    expect(command.stdout).toContain('hello from pitlane checks');
    expect(command.errors.join(' ')).toContain('goodbye');
    expect(failed.image_report.efficiency).toBeLessThan(1); // the report is stored too
    expect(await replicasOf('checks-st')).toHaveLength(0);
  });

  it('`pitlane test-image IMAGE --config FILE` exits 0 when the tests pass and 1 when one fails', async () => {
    const passing = await server.cli(['test-image', WEB_TAG, '--config', STRUCTURE_PASS]);
    expect(passing.code, passing.stderr + passing.stdout).toBe(0);
    expect(passing.stdout).toContain('PASS Command Test: index page');
    expect(passing.stdout).toContain('PASS File Existence Test: cache removed');
    expect(passing.stdout).toMatch(/3 passed, 0 failed, 0 skipped/);

    const failing = await server.cli(['test-image', WEB_TAG, '--config', STRUCTURE_FAIL]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('FAIL Command Test: index page says goodbye');
    expect(failing.stdout).toContain('FAIL File Existence Test: config file present');
    expect(failing.stdout).toContain('PASS File Existence Test: greeting copied');
    expect(failing.stdout).toMatch(/1 passed, 2 failed/);

    const json = await server.cli(['test-image', WEB_TAG, '--config', STRUCTURE_FAIL, '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ Pass: 1, Fail: 2, Total: 3 });

    const missing = await server.cli(['test-image', WEB_TAG, '--config', join(work, 'no-such-tests.yaml')]);
    expect(missing.code).not.toBe(0);
  });
});

describe('course acceptance: task 1 and its --fix-ed task 2', () => {
  it('lints task 1 with the course\'s findings (non-zero at warning); --fix gives the task-2 shape with fewer findings', async () => {
    const { task1Dir, task2Dir, fix, task1Text, task2Text } = await course;
    const lint1 = await server.cli(['lint', '--format', 'json', '--failure-threshold', 'warning', join(task1Dir, 'Dockerfile')]);
    expect(lint1.code).toBe(1);
    const rows1: any[] = JSON.parse(lint1.stdout);
    const codes1 = new Set(rows1.map((r) => r.code));
    for (const code of ['DL3015', 'DL3009', 'DL3008', 'DL3059', 'PL1001', 'PL1002', 'PL1004', 'PL1009']) expect(codes1, code).toContain(code);
    expect(rows1.find((r) => r.code === 'PL1001')).toMatchObject({ line: 5, level: 'warning' });
    expect(rows1.filter((r) => r.code === 'DL3015').map((r) => r.line)).toEqual([10, 12]);

    // --diff shows the change without writing it.
    const diff = await server.cli(['lint', '--fix', '--diff', join(task1Dir, 'Dockerfile')]);
    expect(diff.stdout).toContain('-ENV DEBIAN_FRONTEND noninteractive');
    expect(diff.stdout).toContain('+ARG DEBIAN_FRONTEND=noninteractive');
    expect(readFileSync(join(task1Dir, 'Dockerfile'), 'utf8')).toBe(task1Text);

    // --fix: the course's task 2 (ARG for the frontend, one RUN, --no-install-recommends, lists removed in the same layer).
    expect(fix.stderr).toMatch(/applied .*PL1001.*DL3059/s);
    expect(task2Text).toContain('ARG DEBIAN_FRONTEND=noninteractive');
    expect(task2Text).not.toContain('ENV DEBIAN_FRONTEND');
    expect(task2Text.match(/^RUN /gm)).toHaveLength(1);
    expect(task2Text.match(/apt-get install --no-install-recommends/g)).toHaveLength(2);
    expect(task2Text).toMatch(/RUN apt-get update \\\n[\s\S]*&& rm -rf \/var\/lib\/apt\/lists\/\*\n/);
    // Everything else as it was: comments, the other instructions, their order.
    for (const kept of ['#install python 3', '# Clean up the package lists', 'ENV PYTHONUNBUFFERED 1', 'WORKDIR /server', 'COPY . /server', 'ENTRYPOINT ["python3"]', 'CMD ["app/main.py"]']) {
      expect(task2Text).toContain(kept);
    }
    expect(task2Text.slice(task2Text.indexOf('WORKDIR'))).toBe(task1Text.slice(task1Text.indexOf('WORKDIR')));

    const lint2 = await server.cli(['lint', '--format', 'json', '--failure-threshold', 'warning', join(task2Dir, 'Dockerfile')]);
    const rows2: any[] = JSON.parse(lint2.stdout);
    expect(rows2.length).toBeLessThan(rows1.length);
    const codes2 = new Set(rows2.map((r) => r.code));
    for (const gone of ['DL3015', 'DL3009', 'DL3059', 'PL1001', 'PL1002']) expect(codes2, gone).not.toContain(gone);
    // What --fix cannot do safely stays: pinning versions, choosing a user, writing a .dockerignore.
    expect([...codes2].sort()).toEqual(['DL3008', 'PL1004', 'PL1009']);
    // A second --fix has nothing left to do.
    const again = await server.cli(['lint', '--fix', '--diff', join(task2Dir, 'Dockerfile')]);
    expect(again.stdout.trim()).toBe('');
  });

  it('`pitlane inspect --json` shows wasted and reclaimable bytes for task 1 that task 2 does not', async () => {
    await course;
    const inspect1 = await server.cli(['inspect', '--json', TASK1_TAG]);
    const inspect2 = await server.cli(['inspect', '--json', TASK2_TAG]);
    expect(inspect1.code, inspect1.stderr).toBe(0);
    expect(inspect2.code, inspect2.stderr).toBe(0);
    const t1 = JSON.parse(inspect1.stdout);
    const t2 = JSON.parse(inspect2.stdout);
    // Task 1: the package lists of the "apt-get update" layer, deleted four layers later, and the
    // dpkg/debconf state rewritten by every install.
    expect(t1.image.inefficientBytes).toBeGreaterThan(5_000_000);
    expect(t1.pitlane.reclaimable_bytes).toBeGreaterThan(5_000_000);
    expect(t1.image.fileReference.some((f: any) => f.file.startsWith('/var/lib/apt/lists/') && f.sizeBytes > 1_000_000)).toBe(true);
    const updateLayer = t1.pitlane.layers.find((l: any) => l.instruction === 'RUN apt-get update');
    expect(updateLayer.reclaimable_bytes).toBeGreaterThan(5_000_000);
    const cleanLayer = t1.pitlane.layers.find((l: any) => l.instruction === 'RUN rm -rf /var/lib/apt/lists/*');
    expect(cleanLayer.files_removed).toBeGreaterThan(0);
    // Task 2: one layer; what is left is the base image's dpkg/debconf state the install rewrites.
    expect(t2.layer.length).toBeLessThan(t1.layer.length);
    expect(t2.image.fileReference.some((f: any) => f.file.startsWith('/var/lib/apt/lists/') && f.sizeBytes > 0)).toBe(false);
    expect(t2.image.inefficientBytes).toBeLessThan(t1.image.inefficientBytes / 4);
    expect(t2.pitlane.reclaimable_bytes).toBeLessThan(t1.pitlane.reclaimable_bytes / 10);
    expect(t2.pitlane.layers.filter((l: any) => l.index > 0).every((l: any) => l.reclaimable_bytes === 0)).toBe(true);
    expect(t2.image.sizeBytes).toBeLessThan(t1.image.sizeBytes);
    expect(t2.image.efficiencyScore).toBeGreaterThan(t1.image.efficiencyScore);

    // The same figures as a CI gate: task 1 fails lowest-efficiency 0.95, task 2 passes it.
    const gate1 = await server.cli(['inspect', TASK1_TAG, '--lowest-efficiency', '0.95', '--highest-user-wasted-percent', 'disabled']);
    expect(gate1.code).toBe(1);
    expect(gate1.stdout).toMatch(/FAIL +lowestEfficiency \(image efficiency is too low \(efficiency=0\.\d\d < threshold=0\.95\)\)/);
    const gate2 = await server.cli(['inspect', TASK2_TAG, '--lowest-efficiency', '0.95', '--highest-user-wasted-percent', 'disabled']);
    expect(gate2.code, gate2.stdout).toBe(0);
  });

  it('the fixed file builds an image that behaves the same', async () => {
    await course;
    const [app1, app2] = await Promise.all([dockerRun(TASK1_TAG), dockerRun(TASK2_TAG)]);
    expect(app1).toContain('Hello World');
    expect(app1).toContain('sum: 2');
    expect(app2).toBe(app1);
    const [sum1, sum2] = await Promise.all([dockerRun(TASK1_TAG, ['-c', 'print(1+1)']), dockerRun(TASK2_TAG, ['-c', 'print(1+1)'])]);
    expect(sum1.trim()).toBe('2');
    expect(sum2).toBe(sum1);
    const probe = ['-c', 'import sys, yaml; print(sys.version_info[:2], yaml.__version__, yaml.safe_load("[1, 2]"))'];
    const [v1, v2] = await Promise.all([dockerRun(TASK1_TAG, probe), dockerRun(TASK2_TAG, probe)]);
    expect(v2).toBe(v1);
    const [config1, config2] = await Promise.all([docker.getImage(TASK1_TAG).inspect(), docker.getImage(TASK2_TAG).inspect()]);
    for (const key of ['Entrypoint', 'Cmd', 'WorkingDir', 'ExposedPorts'] as const) expect(config2.Config[key], key).toEqual(config1.Config[key]);
    // The one intended difference: DEBIAN_FRONTEND no longer leaks into the containers.
    expect(config1.Config.Env).toContain('DEBIAN_FRONTEND=noninteractive');
    expect(config2.Config.Env.some((e: string) => e.startsWith('DEBIAN_FRONTEND='))).toBe(false);
    expect(config2.Config.Env).toContain('PYTHONUNBUFFERED=1');
  });
});

describe('pitlane lint formats and POST /api/v1/lint', () => {
  it('--format json gives hadolint\'s rows', async () => {
    const result = await server.cli(['lint', '--format', 'json', WEB_DOCKERFILE]);
    expect(result.code).toBe(1); // default threshold: info, as hadolint
    const rows: any[] = JSON.parse(result.stdout);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['code', 'column', 'file', 'level', 'line', 'message']);
    expect(rows).toContainEqual({ code: 'DL3003', column: 5, file: WEB_DOCKERFILE, level: 'warning', line: 5, message: 'Use WORKDIR to switch to a directory' });
    expect(rows.filter((r) => r.code === 'DL3059').map((r) => r.level)).toEqual(['info', 'info']);
  });

  it('--format sarif gives valid SARIF 2.1.0', async () => {
    const result = await server.cli(['lint', '--format', 'sarif', WEB_DOCKERFILE]);
    expect(result.code).toBe(1);
    const sarif = JSON.parse(result.stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif.*2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const [runLog] = sarif.runs;
    expect(typeof runLog.tool.driver.name).toBe('string');
    const ruleIds = new Set(runLog.tool.driver.rules.map((r: any) => r.id));
    expect(runLog.results).toHaveLength(4);
    for (const res of runLog.results) {
      expect(ruleIds).toContain(res.ruleId);
      expect(['none', 'note', 'warning', 'error']).toContain(res.level);
      expect(typeof res.message.text).toBe('string');
      const location = res.locations[0].physicalLocation;
      expect(location.artifactLocation.uri).toContain('Dockerfile');
      expect(location.region.startLine).toBeGreaterThanOrEqual(1);
      expect(location.region.startColumn).toBeGreaterThanOrEqual(1);
    }
    const dl3003 = runLog.results.find((r: any) => r.ruleId === 'DL3003');
    expect(dl3003.level).toBe('warning');
    expect(dl3003.locations[0].physicalLocation.region).toMatchObject({ startLine: 5, startColumn: 5 });
    expect(runLog.results.find((r: any) => r.ruleId === 'DL3059').level).toBe('note');
  });

  it('exit code follows --failure-threshold', async () => {
    const exitOf = async (...args: string[]): Promise<number> => (await server.cli(['lint', '--format', 'json', ...args])).code;
    expect(await exitOf('--failure-threshold', 'error', WEB_DOCKERFILE)).toBe(0);
    expect(await exitOf('--failure-threshold', 'warning', WEB_DOCKERFILE)).toBe(1);
    expect(await exitOf('--failure-threshold', 'info', WEB_DOCKERFILE)).toBe(1);
    expect(await exitOf('--failure-threshold', 'none', WEB_DOCKERFILE)).toBe(0);
    expect(await exitOf('--failure-threshold', 'warning', '--ignore', 'DL3003', '--ignore', 'PL1002', WEB_DOCKERFILE)).toBe(0);
    expect(await exitOf('--failure-threshold', 'error', LINT_ERROR_DOCKERFILE)).toBe(1);
    expect(await exitOf('--failure-threshold', 'error', WEB_DOCKERFILE, LINT_ERROR_DOCKERFILE)).toBe(1);
    expect(await exitOf('--failure-threshold', 'sometimes', WEB_DOCKERFILE)).toBe(2);
    expect(await exitOf('--format', 'xml', WEB_DOCKERFILE)).toBe(2);
  });

  it('POST /api/v1/lint returns the findings and whether they reach the threshold', async () => {
    const web = readFileSync(WEB_DOCKERFILE, 'utf8');
    const plain = await server.api('POST', '/api/v1/lint', { dockerfile: web });
    expect(plain.status).toBe(200);
    expect(plain.body.threshold).toBe('error');
    expect(plain.body.failed).toBe(false);
    expect(plain.body.findings.map((f: any) => f.code).sort()).toEqual(['DL3003', 'DL3059', 'DL3059', 'PL1002']);
    expect(plain.body.findings.find((f: any) => f.code === 'DL3003')).toMatchObject({ severity: 'warning', line: 5, column: 5 });

    const strict = await server.api('POST', '/api/v1/lint', { dockerfile: web, config: { 'failure-threshold': 'warning' } });
    expect(strict.body).toMatchObject({ threshold: 'warning', failed: true });
    const ignoring = await server.api('POST', '/api/v1/lint', { dockerfile: web, config: 'failure-threshold: warning\nignored: [DL3003, PL1002]\n' });
    expect(ignoring.body.failed).toBe(false);
    expect(ignoring.body.findings.map((f: any) => f.code)).toEqual(['DL3059', 'DL3059']);

    const error = await server.api('POST', '/api/v1/lint', { dockerfile: readFileSync(LINT_ERROR_DOCKERFILE, 'utf8') });
    expect(error.body.failed).toBe(true);
    expect(error.body.findings).toContainEqual(expect.objectContaining({ code: 'DL3000', severity: 'error', line: 2 }));

    const sarif = await server.api('POST', '/api/v1/lint', { dockerfile: web, format: 'sarif' });
    expect(JSON.parse(sarif.body.formatted).version).toBe('2.1.0');
    const rows = await server.api('POST', '/api/v1/lint', { dockerfile: web, format: 'json' });
    expect(JSON.parse(rows.body.formatted)).toHaveLength(4);

    const badConfig = await server.api('POST', '/api/v1/lint', { dockerfile: web, config: { 'failure-threshold': 'sometimes' } });
    expect(badConfig.status).toBe(400);
    expect(badConfig.body.error.code).toBe('LINT_CONFIG_INVALID');
    expect((await server.api('POST', '/api/v1/lint', { config: {} })).status).toBe(400);
    expect((await server.api('POST', '/api/v1/lint', { dockerfile: web }, null)).status).toBe(401);
  });
});
