/**
 * Identities, tokens and permissions against a real server and engine: every API route refuses
 * anonymous callers (401) and callers without its scope (403) except the public ones, found by
 * walking the OpenAPI document; login sessions and cookies; grants on a job, a version and an
 * endpoint at the gateway; deployer rights; public endpoints after approval; job identities;
 * changes seen by a second process sharing the database within 1 s; the audit log; rate limits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContextGzip } from '../../src/build/index.js';
import { containersOfJob, docker, PitlaneProcess, REPO_ROOT, removeJobContainers } from './helpers/pitlane.js';

const JOBS = ['auth-probe'];
const server = new PitlaneProcess({ PITLANE_LOGIN_RATE_LIMIT: '12' });
const PASSWORD = 'correct horse battery staple';

/** Routes that must answer without a token. Anything else becoming public fails the walk. */
const EXPECTED_PUBLIC = new Set([
  'POST /api/v1/auth/login',
  'GET /live',
  'GET /ready',
  'GET /health',
  'GET /wheels/simple/',
  'GET /wheels/simple/{project}/',
  'GET /wheels/find-links/',
  'GET /wheels/files/{filename}',
]);

async function createUser(name: string): Promise<void> {
  const created = await server.api('POST', '/api/v1/users', { username: name, password: PASSWORD });
  expect(created.status).toBe(201);
}

async function tokenOf(name: string): Promise<string> {
  const login = await server.api('POST', '/api/v1/auth/login', { username: name, password: PASSWORD }, null);
  expect(login.status).toBe(200);
  return login.body.token as string;
}

async function grant(identity: string, scope: string, target: { job?: string; version?: string; endpoint?: string } = {}): Promise<void> {
  const answer = await server.api('POST', '/api/v1/permissions', { identity, scope, ...target });
  expect([200, 201]).toContain(answer.status);
}

const raw = server.raw.bind(server);

beforeAll(async () => {
  await removeJobContainers(JOBS);
  await server.start();
  for (const name of ['nobody', 'bob', 'carol', 'dave']) await createUser(name);
});

afterAll(async () => {
  await server.stop();
  await removeJobContainers(JOBS);
});

describe('every API route is closed unless declared public (walking the OpenAPI document)', () => {
  it('answers 401 without a token and 403 without the scope', async () => {
    const document = (await raw('GET', '/api/v1/openapi.json')).body;
    expect(document.openapi).toBe('3.1.0');
    const nobody = await tokenOf('nobody');
    const publicRoutes = new Set<string>();
    let checked = 0;
    for (const [path, operations] of Object.entries<Record<string, any>>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const key = `${method.toUpperCase()} ${path}`;
        const concrete = path.replace(/\{[^}]+\}/g, 'nosuch').replace(/\*$/, 'nosuch');
        const body = ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase()) ? '{}' : undefined;
        const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
        if (Array.isArray(operation.security) && operation.security.length === 0) {
          publicRoutes.add(key);
          continue;
        }
        const anonymous = await raw(method.toUpperCase(), concrete, headers, body);
        expect(anonymous.status, `${key} anonymously`).toBe(401);
        expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
        const scopes: string[] = operation.security?.[0]?.bearer ?? [];
        if (scopes.length > 0) {
          const unscoped = await raw(method.toUpperCase(), concrete, { ...headers, authorization: `Bearer ${nobody}` }, body);
          expect(unscoped.status, `${key} without ${scopes[0]}`).toBe(403);
          expect(unscoped.body.error.code).toBe('FORBIDDEN');
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect([...publicRoutes].sort()).toEqual([...EXPECTED_PUBLIC].sort());
  });
});

describe('sessions and tokens', () => {
  it('logs in with a password, sets an HttpOnly SameSite=Lax cookie that works, and logs out', async () => {
    const wrong = await server.api('POST', '/api/v1/auth/login', { username: 'bob', password: 'not the password' }, null);
    expect(wrong.status).toBe(401);
    const unknown = await server.api('POST', '/api/v1/auth/login', { username: 'nosuchuser', password: PASSWORD }, null);
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);

    const login = await server.api('POST', '/api/v1/auth/login', { username: 'bob', password: PASSWORD }, null);
    expect(login.status).toBe(200);
    expect(login.body.token).toMatch(/^pitlane_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^pitlane_session=pitlane_/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const sessionCookie = cookie.split(';')[0]!;
    const me = await raw('GET', '/api/v1/auth/me', { cookie: sessionCookie });
    expect(me.status).toBe(200);
    expect(me.body.identity).toBe('user:bob');

    const out = await raw('POST', '/api/v1/auth/logout', { cookie: sessionCookie });
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    expect((await raw('GET', '/api/v1/auth/me', { cookie: sessionCookie })).status).toBe(401);
  });

  it('creates API tokens shown once, stored hashed, revocable at once; only admins make tokens for others', async () => {
    const session = await tokenOf('carol');
    const created = await server.api('POST', '/api/v1/auth/tokens', { description: 'ci' }, session);
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(token.startsWith(`${created.body.prefix}_`)).toBe(true);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, token)).body.identity).toBe('user:carol');
    const listed = await server.api('GET', '/api/v1/auth/tokens', undefined, session);
    expect(listed.body.tokens.map((t: any) => t.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect(readFileSync(join(server.dataDir, 'pitlane.db')).includes(Buffer.from(token))).toBe(false);

    const forOthers = await server.api('POST', '/api/v1/auth/tokens', { identity: 'bob' }, session);
    expect(forOthers.status).toBe(403);
    // Existing and unknown identities get the same answer: nothing to learn by probing.
    expect((await server.api('POST', '/api/v1/auth/tokens', { identity: 'nosuchuser' }, session)).status).toBe(403);
    expect((await server.api('GET', '/api/v1/auth/tokens?identity=bob', undefined, session)).status).toBe(403);
    expect((await server.api('GET', '/api/v1/auth/tokens?identity=nosuchuser', undefined, session)).status).toBe(403);
    // Anonymous gateway callers cannot tell deployed job names from others either.
    expect((await server.api('POST', '/pub/job/no-such-job/latest/api/v1/perform', {}, null)).status).toBe(401);
    expect((await server.api('POST', '/pub/job/no-such-job/latest/api/v1/perform', {}, session)).status).toBe(404);
    const revoked = await server.api('DELETE', `/api/v1/auth/tokens/${created.body.id}`, undefined, session);
    expect(revoked.status).toBe(200);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(401);
  });

  it('stops every token of a disabled user at once', async () => {
    const session = await tokenOf('dave');
    expect((await server.api('GET', '/api/v1/auth/me', undefined, session)).status).toBe(200);
    expect((await server.api('POST', '/api/v1/users/dave/disable')).status).toBe(200);
    const refused = await server.api('GET', '/api/v1/auth/me', undefined, session);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/disabled/);
    expect((await server.api('POST', '/api/v1/auth/login', { username: 'dave', password: PASSWORD }, null)).status).toBe(401);
    expect((await server.api('POST', '/api/v1/users/dave/enable')).status).toBe(200);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, session)).status).toBe(200);
  });
});

describe('permissions on jobs, versions and endpoints', () => {
  it('gives the deployer of a new job full rights, checks call_job per endpoint, opens approved public endpoints, and gives each version its own identity', async () => {
    const context = (await buffer(packContextGzip(join(REPO_ROOT, 'test/fixtures/probe-job')))).toString('base64');
    const manifest = { name: 'auth-probe', version: '1.0.0', owner_email: 'a@example.com', jobtype: 'docker-proxy', public_endpoints: ['/api/v1/public'] };
    const bob = await tokenOf('bob');
    const carol = await tokenOf('carol');
    expect((await server.api('POST', '/api/v1/deploy', { manifest, build_context: context }, bob)).status).toBe(403);
    await grant('bob', 'deploy_job');
    const queued = await server.api('POST', '/api/v1/deploy', { manifest, build_context: context }, bob);
    expect(queued.status).toBe(202);
    expect((await server.waitForDeployment(queued.body.id)).status).toBe('done');

    // The deployer reads, calls and may delete the job; carol may not even see it.
    expect((await server.api('GET', '/api/v1/jobs/auth-probe/1.0.0', undefined, bob)).status).toBe(200);
    expect((await server.api('POST', '/pub/job/auth-probe/latest/api/v1/perform', { n: 1 }, bob)).status).toBe(200);
    await grant('carol', 'read_job', { job: 'other-job' });
    expect((await server.api('GET', '/api/v1/jobs', undefined, carol)).body.jobs).toEqual([]);
    expect((await server.api('GET', '/api/v1/jobs/auth-probe/1.0.0', undefined, carol)).status).toBe(403);

    // Gateway: 401 anonymous, 403 without call_job, an endpoint grant opens that endpoint only.
    expect((await server.api('POST', '/pub/job/auth-probe/1.0.0/api/v1/perform', {}, null)).status).toBe(401);
    expect((await server.api('POST', '/pub/job/auth-probe/1.0.0/api/v1/perform', {}, carol)).status).toBe(403);
    await grant('carol', 'call_job', { job: 'auth-probe', version: '1.0.0', endpoint: '/api/v1/perform' });
    const called = await server.api('POST', '/pub/job/auth-probe/latest/api/v1/perform', { n: 2 }, carol);
    expect(called.status).toBe(200);
    expect(called.body.authorization).toBeNull();
    expect(called.body.caller).toBe('user:carol');
    expect((await server.api('POST', '/pub/job/auth-probe/1.0.0/api/v1/other', {}, carol)).status).toBe(403);
    // Job /live, /ready and /health are always public.
    expect((await server.api('GET', '/pub/job/auth-probe/1.0.0/health', undefined, null)).status).toBe(200);

    // Public endpoints open only after an admin approves them.
    expect((await server.api('GET', '/pub/job/auth-probe/1.0.0/api/v1/public', undefined, null)).status).toBe(401);
    const requests = await server.api('GET', '/api/v1/public-endpoints?job=auth-probe');
    expect(requests.body.public_endpoints).toEqual([expect.objectContaining({ job: 'auth-probe', version: '1.0.0', endpoint: '/api/v1/public', approved_at: null })]);
    expect((await server.api('POST', '/api/v1/public-endpoints/approve', { job: 'auth-probe', version: '1.0.0', endpoint: '/api/v1/public' }, bob)).status).toBe(403);
    expect((await server.api('POST', '/api/v1/public-endpoints/approve', { job: 'auth-probe', version: '1.0.0', endpoint: '/api/v1/public' })).status).toBe(200);
    expect((await server.api('GET', '/pub/job/auth-probe/1.0.0/api/v1/public', undefined, null)).status).toBe(200);
    expect((await server.api('GET', '/pub/job/auth-probe/1.0.0/api/v1/perform', undefined, null)).status).toBe(401);
    expect((await server.api('POST', '/api/v1/public-endpoints/withdraw', { job: 'auth-probe', version: '1.0.0', endpoint: '/api/v1/public' })).status).toBe(200);
    expect((await server.api('GET', '/pub/job/auth-probe/1.0.0/api/v1/public', undefined, null)).status).toBe(401);

    // The job's own identity: AUTH_TOKEN in its environment, never stored, no rights until granted.
    const [container] = await containersOfJob('auth-probe');
    const env: string[] = (await docker.getContainer(container!.Id).inspect()).Config.Env;
    const jobToken = env.find((e) => e.startsWith('AUTH_TOKEN='))!.slice('AUTH_TOKEN='.length);
    expect(jobToken).toMatch(/^pitlane_[a-z2-7]{10}_/);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, jobToken)).body.identity).toBe('job:auth-probe@1.0.0');
    expect(readFileSync(join(server.dataDir, 'pitlane.db')).includes(Buffer.from(jobToken))).toBe(false);
    expect((await server.api('POST', '/pub/job/auth-probe/1.0.0/api/v1/perform', {}, jobToken)).status).toBe(403);
    await grant('job:auth-probe@1.0.0', 'call_job', { job: 'auth-probe' });
    expect((await server.api('POST', '/pub/job/auth-probe/1.0.0/api/v1/perform', {}, jobToken)).status).toBe(200);

    // Deletion needs delete_job; it ends the job identity.
    expect((await server.api('DELETE', '/api/v1/jobs/auth-probe/1.0.0', undefined, carol)).status).toBe(403);
    expect((await server.api('DELETE', '/api/v1/jobs/auth-probe/1.0.0', undefined, bob)).status).toBe(200);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, jobToken)).status).toBe(401);

    const audit = (await server.api('GET', '/api/v1/audit?limit=1000')).body.entries as Array<{ action: string; actor: string; target: string }>;
    const actions = new Set(audit.map((entry) => entry.action));
    for (const action of ['user.create', 'auth.login', 'auth.login_failed', 'token.create', 'token.revoke', 'permission.grant', 'deploy.create', 'public_endpoint.approve', 'job.delete', 'user.disable']) {
      expect(actions, action).toContain(action);
    }
    expect(audit.find((entry) => entry.action === 'deploy.create')).toMatchObject({ actor: 'user:bob', target: 'job:auth-probe@1.0.0' });
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });
});

describe('several Pitlane processes sharing one database', () => {
  it('sees token revocations and new grants made by the other process within 1 s', async () => {
    // The other process is "behind a TLS proxy": its public URL is https://, so cookies are Secure.
    const other = new PitlaneProcess({ PITLANE_DATA_DIR: server.dataDir, PITLANE_ADMIN_TOKEN: server.token, PITLANE_PUB_URL: 'https://pitlane.example.com/pub' });
    await other.start();
    try {
      /** Polls `other` until `check` holds, failing when that takes 1 s or more. */
      const within1s = async (check: () => Promise<boolean>): Promise<void> => {
        const since = Date.now();
        while (!(await check())) {
          expect(Date.now() - since).toBeLessThan(1000);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const viaProxy = await other.api('POST', '/api/v1/auth/login', { username: 'bob', password: PASSWORD }, null);
      expect(String(viaProxy.headers['set-cookie'])).toMatch(/; Secure/);
      const session = await tokenOf('nobody');
      await within1s(async () => (await other.api('GET', '/api/v1/jobs', undefined, session)).status !== 401);
      expect((await other.api('GET', '/api/v1/jobs', undefined, session)).status).toBe(403);
      await grant('nobody', 'read_job');
      await within1s(async () => (await other.api('GET', '/api/v1/jobs', undefined, session)).status === 200);
      const { body } = await server.api('GET', '/api/v1/auth/me', undefined, session);
      await server.api('DELETE', `/api/v1/auth/tokens/${body.token_id}`, undefined, session);
      await within1s(async () => (await other.api('GET', '/api/v1/auth/me', undefined, session)).status === 401);
    } finally {
      await other.stop();
    }
  });
});

describe('rate limits', () => {
  it('answers 429 once a client passes the login limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await server.api('POST', '/api/v1/auth/login', { username: 'bob', password: 'wrong password!' }, null)).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });
});
