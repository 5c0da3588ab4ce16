/** AuthService and AuthDirectory against a real SQLite database (no mocks), with a settable clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/index.js';
import { argon2idHasher, AuthDirectory, AuthService, hashToken, IdentityRepository, type Principal } from '../../../src/auth/index.js';
import { openDatabase, type PitlaneDatabase } from '../../../src/store/index.js';

let dir: string;
let db: PitlaneDatabase;
let now: number;
let directory: AuthDirectory;
let service: AuthService;
const ADMIN_TOKEN = 'pitlane_first-start-admin-token-for-tests';

function authenticate(token: string): ReturnType<AuthDirectory['authenticate']> {
  return directory.authenticate({ token, viaCookie: false });
}

function principal(token: string): Principal {
  const result = authenticate(token);
  if (!result.ok) throw new Error(`not authenticated: ${result.reason}`);
  return result.principal;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pitlane-auth-'));
  db = await openDatabase(join(dir, 'pitlane.db'));
  now = Date.parse('2026-11-22T00:00:00Z');
  const repository = new IdentityRepository(db, () => now);
  directory = new AuthDirectory(repository, { now: () => now });
  service = new AuthService({ repository, directory, audit: new AuditLog(db), passwords: argon2idHasher, jobTokenKey: Buffer.alloc(32, 1), sessionTtlS: 3600, now: () => now });
  await directory.reload();
  await service.bootstrap(hashToken(ADMIN_TOKEN));
});

afterEach(async () => {
  await directory.stop();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuthService', () => {
  it('makes the first-start token an admin token, idempotently, and revokes it when the configured token changes', async () => {
    const admin = principal(ADMIN_TOKEN);
    expect(admin).toMatchObject({ kind: 'user', name: 'admin' });
    expect(directory.permissionsOf(admin.identityId).can('delete_job', { job: 'x' })).toBe(true);
    await service.bootstrap(hashToken(ADMIN_TOKEN));
    expect((await service.listTokens(await service.resolveIdentity('admin'))).filter((t) => !t.revoked_at)).toHaveLength(1);
    await service.bootstrap(hashToken('pitlane_another-admin-token-value'));
    expect(authenticate(ADMIN_TOKEN)).toEqual({ ok: false, reason: 'unknown' });
    expect(principal('pitlane_another-admin-token-value').name).toBe('admin');
  });

  it('stores argon2id password hashes, logs in, and expires sessions by the clock', async () => {
    const admin = principal(ADMIN_TOKEN);
    await service.createIdentity(admin, 'user', 'alice', 'a long enough password');
    const row = await db.selectFrom('identities').select('password_hash').where('name', '=', 'alice').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    await expect(service.login('alice', 'wrong password value')).rejects.toMatchObject({ status: 401 });
    const session = await service.login('alice', 'a long enough password');
    expect(principal(session.token).name).toBe('alice');
    const stored = await db.selectFrom('api_tokens').selectAll().where('id', '=', session.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashToken(session.token));
    now += 3600 * 1000;
    expect(authenticate(session.token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses short passwords and duplicate names with the field named', async () => {
    const admin = principal(ADMIN_TOKEN);
    await expect(service.createIdentity(admin, 'user', 'bob', 'short')).rejects.toMatchObject({ status: 400, details: [expect.objectContaining({ path: 'password' })] });
    await service.createIdentity(admin, 'service_account', 'ci', undefined);
    await expect(service.createIdentity(admin, 'service_account', 'ci', undefined)).rejects.toMatchObject({ status: 409 });
  });

  it('grants and revokes, applying at once, and records the deployer of a new job as its owner', async () => {
    const admin = principal(ADMIN_TOKEN);
    await service.createIdentity(admin, 'service_account', 'ci', undefined);
    const token = await service.createToken(admin, true, { identity: 'sa:ci', expiresInS: 600 });
    const ci = principal(token.token);
    const permissions = () => directory.permissionsOf(ci.identityId);
    expect(permissions().can('call_job', { job: 'adder', version: '1.0.0' })).toBe(false);
    await service.grant(admin, 'sa:ci', { scope: 'call_job', job: 'adder', version: '1.0.0' });
    expect(permissions().can('call_job', { job: 'adder', version: '1.0.0' })).toBe(true);
    expect(permissions().can('call_job', { job: 'adder', version: '2.0.0' })).toBe(false);
    expect(await service.revoke(admin, { identity: 'sa:ci', scope: 'call_job', job: 'adder', version: '1.0.0' })).toHaveLength(1);
    expect(permissions().can('call_job', { job: 'adder', version: '1.0.0' })).toBe(false);

    await service.onDeploy(ci, 'newjob', '0.1.0', ['/api/v1/open'], true);
    for (const scope of ['read_job', 'deploy_job', 'delete_job', 'call_job'] as const) expect(permissions().can(scope, { job: 'newjob', version: '5.0.0' })).toBe(true);
    expect(permissions().can('call_job', { job: 'otherjob' })).toBe(false);
    expect(directory.isPublicEndpoint('newjob', '0.1.0', '/api/v1/open')).toBe(false);
    await service.approvePublicEndpoint(admin, { jobName: 'newjob', jobVersion: '0.1.0', endpoint: '/api/v1/open/' }, true);
    expect(directory.isPublicEndpoint('newjob', '0.1.0', '/api/v1/open')).toBe(true);
    expect(directory.isPublicEndpoint('newjob', '0.1.0', '/api/v1/open/?x=1')).toBe(true);
    expect(directory.isPublicEndpoint('newjob', '0.1.1', '/api/v1/open')).toBe(false);
    expect(directory.isPublicEndpoint('newjob', '0.1.0', '/api/v1/open/more')).toBe(false);
    await expect(service.approvePublicEndpoint(admin, { jobName: 'newjob', jobVersion: '0.1.0', endpoint: '/api/v1/never' }, true)).rejects.toMatchObject({ status: 404 });

    const actions = (await new AuditLog(db).list()).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['service_account.create', 'token.create', 'permission.grant', 'permission.revoke', 'public_endpoint.approve']));
  });

  it('derives a stable job identity token, stores only its hash, and ends it when the job is removed', async () => {
    const first = await service.jobIdentityToken('adder', '1.0.0');
    expect(await service.jobIdentityToken('adder', '1.0.0')).toBe(first);
    expect(principal(first)).toMatchObject({ kind: 'job', name: 'adder@1.0.0' });
    const rows = await db.selectFrom('api_tokens').select('token_hash').execute();
    expect(rows.map((r) => r.token_hash)).toContain(hashToken(first));
    expect(JSON.stringify(rows)).not.toContain(first);
    await service.removeJobIdentity('adder', '1.0.0');
    expect(authenticate(first).ok).toBe(false);
    expect(await service.jobIdentityToken('adder', '1.0.0')).toBe(first);
    expect(authenticate(first).ok).toBe(true);
  });

  it('a second directory on the same database picks up changes through the epoch poll', async () => {
    const other = new AuthDirectory(new IdentityRepository(db, () => now), { pollMs: 50, now: () => now });
    await other.start();
    try {
      const admin = principal(ADMIN_TOKEN);
      const created = await service.createToken(admin, true, {});
      await expect.poll(() => other.authenticate({ token: created.token, viaCookie: false }).ok, { timeout: 1000, interval: 20 }).toBe(true);
      await service.revokeToken(admin, true, created.id);
      expect(authenticate(created.token).ok).toBe(false);
      await expect.poll(() => other.authenticate({ token: created.token, viaCookie: false }).ok, { timeout: 1000, interval: 20 }).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it('writes last-use times in batches', async () => {
    const admin = principal(ADMIN_TOKEN);
    const created = await service.createToken(admin, true, {});
    principal(created.token);
    await directory.flushLastUse();
    const row = await db.selectFrom('api_tokens').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.last_used_at).toBe(new Date(now).toISOString());
  });
});
