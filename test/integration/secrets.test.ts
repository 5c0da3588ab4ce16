/**
 * Secrets against a real server and Docker engine: set with the CLI (value on stdin), never
 * returned by the API, encrypted in the database, injected as environment into the job's
 * containers (seen by the job itself), re-read when a container is recreated, build secrets
 * mounted only with BuildKit and found in no layer of `docker save`, never in the build log, the
 * deployment record or the server log; scopes, audit, bad input, and start-up key errors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContextGzip } from '../../src/build/index.js';
import { containersOfJob, docker, eventually, PitlaneProcess, removeJobContainers } from './helpers/pitlane.js';

const JOB = 'secret-probe';
const RUNTIME_VALUE = `rt-${randomBytes(12).toString('hex')}`;
const ROTATED_VALUE = `rt2-${randomBytes(12).toString('hex')}`;
const BUILD_VALUE = `bd-${randomBytes(12).toString('hex')}`;
const ALL_VALUES = [RUNTIME_VALUE, ROTATED_VALUE, BUILD_VALUE];
const PASSWORD = 'correct horse battery staple';
const NONCE = randomBytes(6).toString('hex');

// Trace level: whatever Pitlane or fastify log, the values must not be in it.
const server = new PitlaneProcess({ PITLANE_LOG_LEVEL: 'trace', PITLANE_READY_TIMEOUT_S: '30' });
let context: string;
let deploymentId: string;
let imageId: string;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A docker-proxy job on busybox: its build reads a build secret; its CGI reports a hash of DB_PASSWORD. */
function writeJob(dir: string): void {
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      'FROM busybox:latest',
      // Readable during the build: its hash goes into the image, and the careless `cat` puts the value in the build output.
      // The run's nonce keeps the step out of the build cache (a cached step would neither read nor print the new value).
      `RUN --mount=type=secret,id=BUILD_TOKEN echo "build ${NONCE}" && mkdir -p /www/cgi-bin && sha256sum /run/secrets/BUILD_TOKEN | cut -d" " -f1 > /www/build-secret.sha256 && cat /run/secrets/BUILD_TOKEN`,
      'COPY env.cgi /www/cgi-bin/env',
      'EXPOSE 7004',
      'CMD ["httpd", "-f", "-p", "7004", "-h", "/www"]',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'env.cgi'),
    [
      '#!/bin/sh',
      "printf 'Content-Type: application/json\\r\\n\\r\\n'",
      'printf \'{"sha":"%s","len":%s,"build_sha":"%s","has_secret_file":%s}\' "$(printf %s "$DB_PASSWORD" | sha256sum | cut -d" " -f1)" "${#DB_PASSWORD}" "$(cat /www/build-secret.sha256)" "$([ -e /run/secrets/BUILD_TOKEN ] && echo true || echo false)"',
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'env.cgi'), 0o755);
}

/** Every file below `dir`, recursively. */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesBelow(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Which of `values` occur in `bytes` (also base64-encoded). */
function leaks(bytes: Buffer, values: string[]): string[] {
  return values.filter((v) => bytes.includes(Buffer.from(v)) || bytes.includes(Buffer.from(Buffer.from(v).toString('base64'))));
}

/** Every entry of a tar archive (nested gzip layers decompressed), as name → bytes. */
async function tarEntries(archive: Buffer): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        entries.set(header.name, Buffer.concat(chunks));
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(archive);
  await done;
  for (const [name, data] of entries) if (data[0] === 0x1f && data[1] === 0x8b) entries.set(name, gunzipSync(data));
  return entries;
}

async function callEnv(): Promise<{ status: number; body: any }> {
  return server.api('GET', `/pub/job/${JOB}/1.0.0/api/v1/cgi-bin/env`);
}

beforeAll(async () => {
  await removeJobContainers([JOB]);
  const dir = mkdtempSync(join(tmpdir(), 'pitlane-secret-job-'));
  writeJob(dir);
  context = (await buffer(packContextGzip(dir))).toString('base64');
  await server.start();
});

afterAll(async () => {
  await server.stop();
  await removeJobContainers([JOB]);
  for (const tag of ['pitlane-job/secret-probe:1.0.0']) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
});

describe('secrets', () => {
  it('creates the key file with mode 0600 at first start', () => {
    expect(statSync(join(server.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('sets secrets with the CLI from stdin and never prints or returns them', async () => {
    const runtime = await server.cli(['secret', 'set', JOB, 'DB_PASSWORD'], { input: `${RUNTIME_VALUE}\n` });
    expect(runtime.code, runtime.stderr).toBe(0);
    expect(runtime.stdout).toContain('created runtime secret DB_PASSWORD of secret-probe');
    const build = await server.cli(['secret', 'set', JOB, 'BUILD_TOKEN', '--build', '--json'], { input: BUILD_VALUE });
    expect(build.code, build.stderr).toBe(0);
    expect(JSON.parse(build.stdout)).toMatchObject({ created: true, secret: { job: JOB, key: 'BUILD_TOKEN', kind: 'build', updated_by: 'user:admin' } });

    const empty = await server.cli(['secret', 'set', JOB, 'EMPTY'], { input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no value on stdin');

    const listed = await server.api('GET', `/api/v1/jobs/${JOB}/secrets`);
    expect(listed.status).toBe(200);
    expect(listed.body.secrets.map((s: any) => `${s.kind}:${s.key}`)).toEqual(['runtime:DB_PASSWORD', 'build:BUILD_TOKEN']);
    expect(Object.keys(listed.body.secrets[0]).sort()).toEqual(['created_at', 'job', 'key', 'kind', 'updated_at', 'updated_by']);
    const cliList = await server.cli(['secret', 'list', JOB]);
    expect(cliList.stdout).toMatch(/DB_PASSWORD\s+runtime/);
    for (const text of [JSON.stringify(listed.body), cliList.stdout, runtime.stdout, runtime.stderr, build.stdout, build.stderr]) {
      expect(leaks(Buffer.from(text), ALL_VALUES)).toEqual([]);
    }
  });

  it('answers bad input with 4xx naming the field, and never echoes the value', async () => {
    const cases: [string, string, unknown, number, string | undefined][] = [
      ['PUT', `/api/v1/jobs/${JOB}/secrets/1BAD`, { value: RUNTIME_VALUE }, 400, 'key'],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/JOB_NAME`, { value: RUNTIME_VALUE }, 400, 'key'],
      ['PUT', `/api/v1/jobs/Not_A_Job/secrets/OK`, { value: RUNTIME_VALUE }, 400, 'name'],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/OK`, { value: '' }, 400, 'value'],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/OK`, { value: 'x'.repeat(64 * 1024 + 1) }, 400, 'value'],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/OK`, { value: RUNTIME_VALUE, kind: 'other' }, 400, 'body.kind'],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/OK`, { value: RUNTIME_VALUE, extra: 1 }, 400, 'body.extra'],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/OK`, {}, 400, 'body.value'],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/OK`, `{"value": ${RUNTIME_VALUE}}`, 400, undefined],
      ['PUT', `/api/v1/jobs/${JOB}/secrets/OK`, `{"value":"${'y'.repeat(500 * 1024)}"}`, 413, undefined],
      ['DELETE', `/api/v1/jobs/${JOB}/secrets/NOPE`, undefined, 404, 'key'],
      ['DELETE', `/api/v1/jobs/${JOB}/secrets/DB_PASSWORD?kind=nope`, undefined, 400, 'querystring.kind'],
    ];
    for (const [method, path, body, status, field] of cases) {
      const answer = await server.api(method, path, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(status);
      if (field) expect(answer.body.error.details.map((d: any) => d.path)).toContain(field);
      expect(leaks(Buffer.from(JSON.stringify(answer.body)), ALL_VALUES)).toEqual([]);
    }
    expect((await server.api('GET', `/api/v1/jobs/${JOB}/secrets`, undefined, null)).status).toBe(401);
    expect((await server.api('PUT', `/api/v1/jobs/${JOB}/secrets/X`, { value: 'v' }, null)).status).toBe(401);
  });

  it('needs deploy_job on the job', async () => {
    for (const name of ['sec-outsider', 'sec-deployer']) {
      expect((await server.api('POST', '/api/v1/users', { username: name, password: PASSWORD })).status).toBe(201);
    }
    expect([200, 201]).toContain((await server.api('POST', '/api/v1/permissions', { identity: 'sec-outsider', scope: 'deploy_job', job: 'another-job' })).status);
    expect([200, 201]).toContain((await server.api('POST', '/api/v1/permissions', { identity: 'sec-deployer', scope: 'deploy_job', job: JOB })).status);
    const login = async (name: string): Promise<string> => (await server.api('POST', '/api/v1/auth/login', { username: name, password: PASSWORD }, null)).body.token;
    const outsider = await login('sec-outsider');
    const deployer = await login('sec-deployer');
    expect((await server.api('GET', `/api/v1/jobs/${JOB}/secrets`, undefined, outsider)).status).toBe(403);
    expect((await server.api('PUT', `/api/v1/jobs/${JOB}/secrets/X`, { value: 'v' }, outsider)).status).toBe(403);
    expect((await server.api('DELETE', `/api/v1/jobs/${JOB}/secrets/DB_PASSWORD`, undefined, outsider)).status).toBe(403);
    const set = await server.api('PUT', `/api/v1/jobs/${JOB}/secrets/FROM_DEPLOYER`, { value: 'deployer-value' }, deployer);
    expect(set.status).toBe(200);
    expect(set.body.secret.updated_by).toBe('user:sec-deployer');
    expect((await server.api('DELETE', `/api/v1/jobs/${JOB}/secrets/FROM_DEPLOYER`, undefined, deployer)).status).toBe(200);
  });

  it('deploys with a build secret mounted by BuildKit and the runtime secret in the job environment', async () => {
    const queued = await server.api('POST', '/api/v1/deploy', {
      manifest: { name: JOB, version: '1.0.0', owner_email: 'test@example.com', jobtype: 'docker-proxy', build_secrets: ['BUILD_TOKEN'] },
      build_context: context,
    });
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    deploymentId = queued.body.id;
    const deployment = await server.waitForDeployment(deploymentId);
    expect(deployment.status, JSON.stringify(deployment)).toBe('done');
    imageId = deployment.image_id;

    const answer = await callEnv();
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    // The job sees the runtime secret, and its build read the build secret (its hash is in the image).
    expect(answer.body).toEqual({ sha: sha256(RUNTIME_VALUE), len: RUNTIME_VALUE.length, build_sha: sha256(BUILD_VALUE), has_secret_file: false });
  });

  it('keeps the values out of the build log, the deployment and job records, and the image config', async () => {
    const logs = await server.api('GET', `/api/v1/deploy/${deploymentId}/logs`);
    const text = logs.body.lines.map((l: any) => l.line).join('\n');
    expect(text).toContain('BuildKit secret mounts');
    // The Dockerfile's `cat` printed the value during the build; it was redacted before storage.
    expect(text).toMatch(/#\d+ [\d.]+ \*\*\*/);
    expect(leaks(Buffer.from(text), ALL_VALUES)).toEqual([]);
    const records = JSON.stringify([(await server.api('GET', `/api/v1/deploy/${deploymentId}`)).body, (await server.api('GET', `/api/v1/jobs/${JOB}/1.0.0`)).body]);
    expect(leaks(Buffer.from(records), ALL_VALUES)).toEqual([]);
    const image = await docker.getImage(imageId).inspect();
    expect((image.Config.Env ?? []).join('\n')).not.toContain('DB_PASSWORD');
    expect(leaks(Buffer.from(JSON.stringify(image)), ALL_VALUES)).toEqual([]);
    const history = await docker.getImage(imageId).history();
    expect(leaks(Buffer.from(JSON.stringify(history)), ALL_VALUES)).toEqual([]);
  });

  it('finds the build secret in no layer of the saved image (nor its config, history or manifest)', async () => {
    const archive = await buffer((await docker.getImage(imageId).get()) as NodeJS.ReadableStream);
    const entries = await tarEntries(archive);
    const layers = [...entries.keys()].filter((name) => name.endsWith('layer.tar') || name.startsWith('blobs/'));
    expect(layers.length).toBeGreaterThan(1);
    // The image does hold what the build derived from the secret, so the scan looks at real content.
    expect([...entries.values()].some((data) => data.includes(Buffer.from(sha256(BUILD_VALUE))))).toBe(true);
    const found = [...entries].flatMap(([name, data]) => leaks(data, ALL_VALUES).map((value) => `${name}: ${value}`));
    expect(found).toEqual([]);
    // Each layer is itself a tar: read every file of every layer too.
    for (const name of layers) {
      for (const [file, data] of await tarEntries(entries.get(name)!)) {
        expect(leaks(data, ALL_VALUES), `${name} ${file}`).toEqual([]);
        expect(file).not.toContain('run/secrets/BUILD_TOKEN');
      }
    }
  });

  it('gives a changed runtime secret to containers created after the change (not to running ones)', async () => {
    const set = await server.api('PUT', `/api/v1/jobs/${JOB}/secrets/DB_PASSWORD`, { value: ROTATED_VALUE });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ created: false, secret: { key: 'DB_PASSWORD', kind: 'runtime' } });
    expect(JSON.stringify(set.body)).not.toContain(ROTATED_VALUE);
    expect((await callEnv()).body.sha).toBe(sha256(RUNTIME_VALUE));
    // The container vanishes; reconciliation recreates it from the stored spec plus the current secrets.
    const [container] = await containersOfJob(JOB);
    await docker.getContainer(container!.Id).remove({ force: true });
    const recreated = await eventually(async () => {
      const answer = await callEnv().catch(() => undefined);
      return answer?.status === 200 && answer.body.sha === sha256(ROTATED_VALUE) ? answer : undefined;
    }, 30_000);
    expect(recreated?.body.len).toBe(ROTATED_VALUE.length);
  });

  it('fails a deployment naming a build secret that is not set, before building', async () => {
    const queued = await server.api('POST', '/api/v1/deploy', {
      manifest: { name: JOB, version: '1.0.1', owner_email: 'test@example.com', jobtype: 'docker-proxy', build_secrets: ['BUILD_TOKEN', 'NOT_SET'] },
      build_context: context,
    });
    const deployment = await server.waitForDeployment(queued.body.id);
    expect(deployment.status).toBe('failed');
    expect(deployment.error).toContain('no build secret NOT_SET');
    expect(deployment.error).toContain('build_secrets.1');
  });

  it('deletes secrets and audits every change without values', async () => {
    const deleted = await server.cli(['secret', 'delete', JOB, 'DB_PASSWORD']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain('deleted runtime secret DB_PASSWORD of secret-probe');
    const again = await server.cli(['secret', 'delete', JOB, 'DB_PASSWORD']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has no secret DB_PASSWORD');
    const list = await server.cli(['secret', 'list', JOB, '--json']);
    expect(JSON.parse(list.stdout).map((s: any) => s.key)).toEqual(['BUILD_TOKEN']);

    const audit = await server.api('GET', `/api/v1/audit?target=${encodeURIComponent(`secret:${JOB}/`)}&limit=100`);
    expect(audit.status).toBe(200);
    const entries = audit.body.entries.map((e: any) => `${e.actor} ${e.action} ${e.target}`);
    expect(entries).toContain('user:admin secret.set secret:secret-probe/DB_PASSWORD');
    expect(entries).toContain('user:admin secret.set secret:secret-probe/BUILD_TOKEN');
    expect(entries).toContain('user:sec-deployer secret.set secret:secret-probe/FROM_DEPLOYER');
    expect(entries).toContain('user:admin secret.delete secret:secret-probe/DB_PASSWORD');
    expect(leaks(Buffer.from(JSON.stringify(audit.body)), ALL_VALUES)).toEqual([]);
  });

  it('leaves no value in any file of the data directory (database, WAL, contexts) nor in the server log', async () => {
    await server.stop();
    const found = filesBelow(server.dataDir).flatMap((file) => leaks(readFileSync(file), ALL_VALUES).map((value) => `${file}: ${value}`));
    expect(found).toEqual([]);
    expect(server.log.length).toBeGreaterThan(1000);
    expect(leaks(Buffer.from(server.log), ALL_VALUES)).toEqual([]);
    await server.start();
    expect((await server.api('GET', `/api/v1/jobs/${JOB}/secrets`)).body.secrets.map((s: any) => s.key)).toEqual(['BUILD_TOKEN']);
  });

  it('refuses to start with a malformed key, or with another key than the stored secrets were encrypted with', async () => {
    const malformed = new PitlaneProcess({ PITLANE_SECRET_KEY: 'not-a-key' });
    await expect(malformed.start()).rejects.toThrow(/PITLANE_SECRET_KEY must be 32 bytes written as 64 hex digits or as base64/);
    await server.stop();
    const otherKey = new PitlaneProcess({ PITLANE_DATA_DIR: server.dataDir, PITLANE_SECRET_KEY: randomBytes(32).toString('hex') });
    const failure = await otherKey.start().then(() => undefined, (error: Error) => error.message);
    await otherKey.stop();
    expect(failure).toContain('is not the key the 1 stored secret(s) were encrypted with');
    expect(failure).not.toContain(readFileSync(join(server.dataDir, 'secret.key'), 'utf8').trim());
  });
});
