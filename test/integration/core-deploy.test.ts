/**
 * The core slice against the real Docker engine: deploy from an upload, from git and from an
 * image; call through the gateway; versions and `latest`; failures; force; delete; auth.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContextGzip } from '../../src/build/index.js';
import { containersOfJob, docker, eventually, PitlaneProcess, REPO_ROOT, removeJobContainers, sleep } from './helpers/pitlane.js';

const PROBE_DIR = join(REPO_ROOT, 'test/fixtures/probe-job');
const JOBS = ['word-count-node', 'sum-numbers', 'sum-from-git', 'sum-from-image', 'probe', 'probe-never', 'probe-exit', 'probe-broken', 'probe-crash', 'probe-replicas', 'probe-slow'];

let probeContext: string;
const server = new PitlaneProcess({ PITLANE_READY_TIMEOUT_S: '8' });

function probeManifest(name: string, version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, version, owner_email: 'test@example.com', jobtype: 'docker-proxy', ...extra };
}

async function deployProbe(name: string, version: string, extra: Record<string, unknown> = {}, force = false): Promise<any> {
  const queued = await server.api('POST', '/api/v1/deploy', { manifest: probeManifest(name, version, extra), build_context: probeContext, force });
  expect(queued.status, JSON.stringify(queued.body)).toBe(202);
  return server.waitForDeployment(queued.body.id);
}

async function call(name: string, version: string, body: unknown = { x: 1 }, path = '/api/v1/perform'): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return server.api('POST', `/pub/job/${name}/${version}${path}`, body);
}

beforeAll(async () => {
  await removeJobContainers(JOBS);
  probeContext = (await buffer(packContextGzip(PROBE_DIR))).toString('base64');
  await server.start();
});

afterAll(async () => {
  await server.stop();
  await removeJobContainers(JOBS);
});

describe('access', () => {
  it('refuses the API and the gateway without a token, and keeps /live /ready /health open', async () => {
    for (const path of ['/live', '/ready', '/health']) expect((await server.api('GET', path, undefined, null)).status).toBe(200);
    const api = await server.api('GET', '/api/v1/jobs', undefined, null);
    expect(api.status).toBe(401);
    expect(api.body.error.code).toBe('UNAUTHENTICATED');
    expect((await server.api('GET', '/api/v1/jobs', undefined, 'wrong-token-123456')).status).toBe(401);
    expect((await server.api('POST', '/api/v1/deploy', { manifest: {} }, null)).status).toBe(401);
    expect((await server.api('POST', '/pub/job/anything/latest/api/v1/perform', {}, null)).status).toBe(401);
  });

  it('accepts the token in X-Racetrack-Auth too', async () => {
    const { request } = await import('undici');
    const response = await request(`${server.url}/api/v1/jobs`, { headers: { 'x-racetrack-auth': server.token } });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
  });
});

describe('deploy and call', () => {
  it('deploys seed 000 sum-numbers from a directory upload with the CLI and calls it', async () => {
    const deployed = await server.cli(['deploy', 'examples/sum-numbers']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr).toContain('`lang` is deprecated');
    expect(deployed.stdout).toContain('/pub/job/sum-numbers/0.0.1/api/v1/perform');
    const called = await server.cli(['call', 'sum-numbers', '--data', '{"numbers":[40,2]}']);
    expect(called.code, called.stderr).toBe(0);
    expect(called.stdout.trim()).toBe('42');
    const legacy = await server.api('POST', '/pub/fatman/sum-numbers/0.0.1/api/v1/perform', { numbers: [1, 2, 3] });
    expect(legacy.status).toBe(200);
    expect(legacy.body).toBe(6);
    const fromStdin = await server.cli(['call', 'sum-numbers', '0.0.1'], { input: '{"numbers":[1,1]}' });
    expect(fromStdin.stdout.trim()).toBe('2');
  });

  it('deploys the second example, in JavaScript, and calls it', async () => {
    const deployed = await server.cli(['deploy', 'examples/word-count-node']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const called = await server.cli(['call', 'word-count-node', '1.x', '--data', '{"text":"hello big world"}']);
    expect(JSON.parse(called.stdout)).toEqual({ words: 3, characters: 15 });
    const container = (await containersOfJob('word-count-node'))[0];
    const inspect = await docker.getContainer(container!.Id).inspect();
    expect(inspect.HostConfig.Memory).toBe(256 * 1024 * 1024);
  });

  it('deploys from a git repository (file:// URL, branch, directory)', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'pitlane-git-'));
    const work = join(repo, 'work');
    cpSync(join(REPO_ROOT, 'examples/sum-numbers'), join(work, 'jobs/sum'), { recursive: true });
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: work, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'job');
    execFileSync('git', ['clone', '-q', '--bare', work, join(repo, 'bare.git')]);
    const manifest = {
      name: 'sum-from-git',
      owner_email: 'test@example.com',
      lang: 'docker-proxy',
      git: { remote: `file://${join(repo, 'bare.git')}`, branch: 'main', directory: 'jobs/sum' },
      docker: { dockerfile_path: 'Dockerfile' },
    };
    const queued = await server.api('POST', '/api/v1/deploy', { manifest });
    expect(queued.status).toBe(202);
    expect(queued.body.warnings.join(' ')).toContain('lang');
    const done = await server.waitForDeployment(queued.body.id);
    expect(done.status, done.error).toBe('done');
    expect(done.job.image_id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const logs = await server.api('GET', `/api/v1/deploy/${queued.body.id}/logs`);
    expect(logs.body.lines.map((l: any) => l.line).join('\n')).toContain('cloned commit');
    expect((await call('sum-from-git', 'latest', { numbers: [40, 2] })).body).toBe(42);

    const wrongBranch = await server.api('POST', '/api/v1/deploy', { manifest: { ...manifest, version: '0.0.2', git: { ...manifest.git, branch: 'nope' } } });
    const failed = await server.waitForDeployment(wrongBranch.body.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('git clone');
  });

  it('deploys a pre-built image without building', async () => {
    const queued = await server.api('POST', '/api/v1/deploy', {
      manifest: { name: 'sum-from-image', owner_email: 'a@example.com', jobtype: 'docker-proxy', image: 'pitlane-job/sum-numbers:0.0.1' },
    });
    expect(queued.status).toBe(202);
    const done = await server.waitForDeployment(queued.body.id);
    expect(done.status, done.error).toBe('done');
    expect((await call('sum-from-image', '0.0.1', { numbers: [2, 2] })).body).toBe(4);
  });

  it('labels images and containers, applies limits and injects the environment', async () => {
    const done = await deployProbe('probe', '1.0.0', { resources: { memory_max: '128Mi', cpu_max: '0.5' }, runtime_env: { GREETING: 'hi' } });
    expect(done.status, done.error).toBe('done');
    const [info] = await containersOfJob('probe');
    expect(info).toBeDefined();
    const inspect = await docker.getContainer(info!.Id).inspect();
    expect(inspect.Config.Labels['pitlane.version']).toBe('1.0.0');
    expect(inspect.Config.Labels['pitlane.deployment']).toBe(done.id);
    expect(inspect.HostConfig.Memory).toBe(128 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(5e8);
    expect(inspect.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(inspect.HostConfig.Privileged).toBe(false);
    const env = inspect.Config.Env.join('\n');
    for (const name of ['JOB_NAME=probe', 'JOB_VERSION=1.0.0', 'JOB_DEPLOYMENT_TIMESTAMP=', 'PUB_URL=', 'GREETING=hi', 'REQUEST_TRACING_HEADER=']) expect(env).toContain(name);
    const image = await docker.getImage(done.job.image_tag).inspect();
    expect(image.Config.Labels?.['pitlane.job']).toBe('probe');
  });
});

describe('gateway', () => {
  it('maps /api/v1/{path} to /{path}, keeps the query string, and adds and echoes X-Request-Id', async () => {
    const answer = await server.api('POST', '/pub/job/probe/1.0.0/api/v1/perform?a=1&b=two', { hello: 'world' });
    expect(answer.status).toBe(200);
    expect(answer.body.path).toBe('/perform?a=1&b=two');
    expect(answer.body.input).toEqual({ hello: 'world' });
    expect(answer.body.request_id).toMatch(/.+/);
    expect(answer.headers['x-request-id']).toBe(answer.body.request_id);
    expect(answer.body.authorization).toBeNull();
    expect(answer.body.caller).toBe('user:admin');
    const { request } = await import('undici');
    const traced = await request(`${server.url}/pub/job/probe/1.0.0/api/v1/anything`, { headers: { authorization: `Bearer ${server.token}`, 'x-request-id': 'trace-123' } });
    const tracedBody = (await traced.body.json()) as any;
    expect(tracedBody.request_id).toBe('trace-123');
    expect(tracedBody.method).toBe('GET');
    expect(traced.headers['x-request-id']).toBe('trace-123');
  });

  it('streams large request and response bodies through the gateway', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const answer = await server.api('POST', '/pub/job/probe/1.0.0/api/v1/perform', { big });
    expect(answer.status).toBe(200);
    expect(answer.body.input.big.length).toBe(big.length);
    const logs = await server.cli(['logs', 'probe', '1.0.0', '--json']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(logs.stdout))).toBe(true);
  });

  it('resolves latest to the highest stable version and 1.x to the highest 1.*', async () => {
    expect((await deployProbe('probe', '1.2.0')).status).toBe('done');
    expect((await deployProbe('probe', '2.0.0-beta.1')).status).toBe('done');
    expect((await call('probe', 'latest')).body.version).toBe('1.2.0');
    expect((await call('probe', '1.x')).body.version).toBe('1.2.0');
    expect((await call('probe', '1.0.0')).body.version).toBe('1.0.0');
    expect((await call('probe', '2.0.0-beta.1')).body.version).toBe('2.0.0-beta.1');
    const missing = await call('probe', '3.x');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('VERSION_NOT_FOUND');
    const unknownJob = await call('no-such-job', 'latest');
    expect(unknownJob.status).toBe(404);
    expect(unknownJob.body.error.code).toBe('JOB_NOT_FOUND');
    const described = await server.cli(['describe', 'probe@1.x', '--json']);
    expect(JSON.parse(described.stdout).version).toBe('1.2.0');
  });

  it('answers 504 after the job timeout', async () => {
    expect((await deployProbe('probe-slow', '1.0.0', { timeout_s: 1 })).status).toBe('done');
    const slow = await server.api('GET', '/pub/job/probe-slow/1.0.0/api/v1/sleep?ms=3000');
    expect(slow.status).toBe(504);
    expect(slow.body.error.code).toBe('JOB_TIMEOUT');
    const quick = await server.api('GET', '/pub/job/probe-slow/1.0.0/api/v1/sleep?ms=10');
    expect(quick.status).toBe(200);
  });

  it('spreads calls across replicas', async () => {
    expect((await deployProbe('probe-replicas', '1.0.0', { replicas: 2 })).status).toBe('done');
    expect(await containersOfJob('probe-replicas')).toHaveLength(2);
    const hosts = new Set<string>();
    for (let i = 0; i < 6; i += 1) hosts.add((await call('probe-replicas', 'latest')).body.hostname);
    expect(hosts.size).toBe(2);
  });
});

describe('redeploy, failures and delete', () => {
  it('refuses to redeploy an existing version without force (409) and replaces it with force', async () => {
    const again = await server.api('POST', '/api/v1/deploy', { manifest: probeManifest('probe', '1.0.0'), build_context: probeContext });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('VERSION_EXISTS');
    const before = (await containersOfJob('probe')).filter((c) => c.Labels['pitlane.version'] === '1.0.0').map((c) => c.Id);
    const forced = await deployProbe('probe', '1.0.0', { runtime_env: { WAVE: '2' } }, true);
    expect(forced.status, forced.error).toBe('done');
    const after = await eventually(async () => {
      const ids = (await containersOfJob('probe')).filter((c) => c.Labels['pitlane.version'] === '1.0.0').map((c) => c.Id);
      return ids.length === 1 && !before.includes(ids[0]!) ? ids : undefined;
    }, 20_000);
    expect(after).toBeDefined();
    expect((await call('probe', '1.0.0')).status).toBe(200);
  });

  it('fails a Dockerfile that does not build, with the build error, and keeps the serving version', async () => {
    const broken = Buffer.from('FROM debian:bookworm-slim\nRUN echo about to fail && exit 7\n');
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-broken-'));
    writeFileSync(join(dir, 'Dockerfile'), broken);
    const context = (await buffer(packContextGzip(dir))).toString('base64');
    const queued = await server.api('POST', '/api/v1/deploy', { manifest: probeManifest('probe', '1.0.0'), build_context: context, force: true });
    const failed = await server.waitForDeployment(queued.body.id);
    expect(failed.status).toBe('failed');
    expect(failed.phase).toBe('failed');
    expect(failed.error).toMatch(/build failed.*(exit|returned a non-zero code: 7)/);
    const logs = await server.cli(['build-logs', queued.body.id]);
    expect(logs.stdout).toContain('about to fail');
    expect((await call('probe', '1.0.0')).status).toBe(200);
  });

  it('fails a container that never listens, with its last log lines', async () => {
    const failed = await deployProbe('probe-never', '1.0.0', { runtime_env: { MODE: 'never-listen' } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('did not answer');
    expect(failed.error).toContain('not listening on purpose');
    await eventually(async () => (await containersOfJob('probe-never')).length === 0, 10_000);
    expect(await containersOfJob('probe-never')).toHaveLength(0);
    expect((await call('probe-never', 'latest')).status).toBe(404);
  });

  it('fails a container that exits at start, with its exit code and output', async () => {
    const failed = await deployProbe('probe-exit', '1.0.0', { runtime_env: { MODE: 'exit' } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('exited with code 3');
    expect(failed.error).toContain('exiting on purpose');
    expect(await containersOfJob('probe-exit')).toHaveLength(0);
  });

  it('answers 502/503 while a crashed container restarts, then serves again', async () => {
    expect((await deployProbe('probe-crash', '1.0.0')).status).toBe('done');
    expect((await call('probe-crash', 'latest')).status).toBe(200);
    await call('probe-crash', 'latest', {}, '/api/v1/crash');
    await sleep(100);
    const during = await call('probe-crash', 'latest');
    expect([200, 502, 503]).toContain(during.status);
    const statuses = new Set<number>([during.status]);
    const back = await eventually(async () => {
      const answer = await call('probe-crash', 'latest');
      statuses.add(answer.status);
      return answer.status === 200;
    }, 30_000, 200);
    expect(back).toBe(true);
    const inspect = await docker.getContainer((await containersOfJob('probe-crash'))[0]!.Id).inspect();
    expect(inspect.RestartCount).toBeGreaterThanOrEqual(1);
  });

  it('deletes a version: containers and image tag gone, gateway answers 404', async () => {
    const described = await server.api('GET', '/api/v1/jobs/probe/1.2.0');
    const tag = described.body.image_tag as string;
    const deleted = await server.cli(['delete', 'probe', '1.2.0']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await containersOfJob('probe')).filter((c) => c.Labels['pitlane.version'] === '1.2.0')).toHaveLength(0);
    await expect(docker.getImage(tag).inspect()).rejects.toThrow();
    expect((await call('probe', '1.2.0')).status).toBe(404);
    expect((await call('probe', 'latest')).body.version).toBe('1.0.0');
    expect((await server.api('DELETE', '/api/v1/jobs/probe/9.9.9')).status).toBe(404);
  });

  it('rejects an invalid manifest with a 400 naming the field', async () => {
    const bad = await server.api('POST', '/api/v1/deploy', { manifest: { name: 'Bad_Name', owner_email: 'nope', jobtype: 'docker-proxy', image: 'x:1' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('MANIFEST_INVALID');
    const paths = bad.body.error.details.map((d: any) => d.path);
    expect(paths).toContain('name');
    expect(paths).toContain('owner_email');
    const yaml = await server.api('POST', '/api/v1/deploy', { manifest: 'name: ok\nowner_emial: a@b.c\njobtype: docker-proxy\n' });
    expect(yaml.status).toBe(400);
    const typo = yaml.body.error.details.find((d: any) => d.path === 'owner_emial');
    expect(typo.message).toContain('did you mean "owner_email"');
    expect(typo.line).toBe(2);
    const noSource = await server.api('POST', '/api/v1/deploy', { manifest: probeManifest('probe', '5.0.0') });
    expect(noSource.status).toBe(400);
    const junk = await server.api('POST', '/api/v1/deploy', { manifest: probeManifest('probe', '5.0.0'), build_context: Buffer.from('not a tar').toString('base64') });
    expect(junk.status).toBe(400);
    expect(junk.body.error.code).toBe('ARCHIVE_INVALID');
    const notJson = await server.api('POST', '/api/v1/deploy', '{"manifest":');
    expect(notJson.status).toBe(400);
  });
});
