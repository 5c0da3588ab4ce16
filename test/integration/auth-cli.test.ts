/**
 * The identity CLI against a real Pitlane server (no job deploys, no Docker builds): an admin
 * creates a user, the user logs in (token stored 0600 in the config file), is refused until granted
 * read_job, makes and revokes tokens; a service account's first token works; the audit log shows
 * the grant; logout makes the stored token fail.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PitlaneProcess } from './helpers/pitlane.js';

const server = new PitlaneProcess();
const PASSWORD = 'alice-password-1';

/** Alice's environment: her own HOME and config directory, and no admin token. */
const home = mkdtempSync(join(tmpdir(), 'pitlane-auth-cli-home-'));
const aliceEnv = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), PITLANE_TOKEN: '' };
const configFile = join(home, 'config', 'pitlane', 'config.json');

const asAlice = (args: string[], input?: string) => server.cli(args, { env: aliceEnv, input });
const asAdmin = (args: string[], input?: string) => server.cli(args, { env: { HOME: home, XDG_CONFIG_HOME: join(home, 'admin-config') }, input });
const storedToken = (): string | undefined => JSON.parse(readFileSync(configFile, 'utf8')).servers?.[server.url]?.token;

beforeAll(async () => {
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

describe('pitlane identity commands', () => {
  let sessionToken = '';

  it('admin creates a user from a piped password; without a terminal or --password-stdin it refuses', async () => {
    const refused = await asAdmin(['user', 'add', 'alice'], `${PASSWORD}\n`);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--password-stdin');
    const created = await asAdmin(['user', 'add', 'alice', '--password-stdin'], `${PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('created user:alice');
    const listed = await asAdmin(['user', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ identity: 'user:alice', disabled: false, has_password: true }));
  });

  it('the user logs in; the token is stored in a 0600 file in a 0700 directory and works', async () => {
    const wrong = await asAlice(['login', '--username', 'alice', '--password-stdin'], 'not-the-password');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('wrong username or password');
    const login = await asAlice(['login', '--username', 'alice', '--password-stdin'], `${PASSWORD}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`logged in to ${server.url} as user:alice`);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'config', 'pitlane')).mode & 0o777).toBe(0o700);
    sessionToken = storedToken() ?? '';
    expect(sessionToken).toMatch(/^pitlane_[a-z2-7]{10}_/);
    expect(JSON.parse(readFileSync(configFile, 'utf8')).url).toBe(server.url);
    const me = await server.api('GET', '/api/v1/auth/me', undefined, sessionToken);
    expect(me.status).toBe(200);
    expect(me.body.identity).toBe('user:alice');
  });

  it('whoami shows the user and no permissions', async () => {
    const text = await asAlice(['whoami']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('user:alice');
    expect(text.stdout).toContain('no permissions');
    const json = JSON.parse((await asAlice(['whoami', '--json'])).stdout);
    expect(json).toMatchObject({ identity: 'user:alice', kind: 'user', name: 'alice', grants: [] });
  });

  it('listing jobs is refused (403) before a grant and allowed right after `pitlane grant alice read_job`', async () => {
    const before = await asAlice(['list']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('lacks scope read_job');
    expect((await server.api('GET', '/api/v1/jobs', undefined, sessionToken)).status).toBe(403);
    const granted = await asAdmin(['grant', 'alice', 'read_job']);
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toContain('granted read_job on everything to user:alice');
    const after = await asAlice(['list']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe('no jobs deployed\n');
    const permissions = JSON.parse((await asAdmin(['permissions', '--identity', 'alice', '--json'])).stdout);
    expect(permissions).toEqual([expect.objectContaining({ identity: 'user:alice', scope: 'read_job', job: null, version: null, endpoint: null })]);
  });

  it("prints the server's error with each detail's path and exits 1", async () => {
    const bad = await asAdmin(['grant', 'alice', 'read_job', '--job', 'Not_A_Job']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error: "Not_A_Job" is not a job name');
    expect(bad.stderr).toContain('  - job: must be a DNS-1123 label');
  });

  it('token create prints a working token once; list shows it; revoke stops it at once', async () => {
    const created = await asAlice(['token', 'create', '--description', 'laptop', '--expires', '1h']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^pitlane_[a-z2-7]{10}_[A-Za-z0-9_-]+\n$/);
    expect(created.stderr).toContain('cannot be shown again');
    const token = created.stdout.trim();
    const id = token.slice('pitlane_'.length, 'pitlane_'.length + 10);
    expect((await server.api('GET', '/api/v1/jobs', undefined, token)).status).toBe(200);

    const listed = JSON.parse((await asAlice(['token', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
    const entry = listed.find((t) => t.id === id);
    expect(entry).toMatchObject({ identity: 'user:alice', kind: 'api', description: 'laptop', revoked_at: null });
    const expiresInS = (Date.parse(String(entry?.expires_at)) - Date.now()) / 1000;
    expect(expiresInS).toBeGreaterThan(3000);
    expect(expiresInS).toBeLessThanOrEqual(3600);
    expect(JSON.stringify(listed)).not.toContain(token);
    const notAdmin = await asAlice(['token', 'list', '--all']);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain('only admins');

    const revoked = await asAlice(['token', 'revoke', id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked token ${id} of user:alice`);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(401);
    const table = await asAlice(['token', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+user:alice\\s+api\\s+revoked\\s+laptop`, 'm'));
  });

  it('service-account create prints a first token that works', async () => {
    const created = await asAdmin(['service-account', 'create', 'ci']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^pitlane_[a-z2-7]{10}_/);
    expect(created.stderr).toContain('cannot be shown again');
    const whoami = await server.cli(['whoami', '--json'], { env: { ...aliceEnv, PITLANE_TOKEN: token } });
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ identity: 'service_account:ci', kind: 'service_account' });
    const refused = await server.cli(['list'], { env: { ...aliceEnv, PITLANE_TOKEN: token } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('lacks scope read_job');
    const listed = JSON.parse((await asAdmin(['service-account', 'list', '--json'])).stdout);
    expect(listed).toEqual([expect.objectContaining({ identity: 'service_account:ci', disabled: false })]);
  });

  it('audit shows the grant, by admin, to alice', async () => {
    const json = await asAdmin(['audit', '--action', 'permission.grant', '--target', 'user:alice', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const entries = JSON.parse(json.stdout) as Array<{ actor: string; action: string; target: string; details: Record<string, unknown> }>;
    expect(entries).toEqual([expect.objectContaining({ actor: 'user:admin', action: 'permission.grant', target: 'user:alice', details: expect.objectContaining({ scope: 'read_job', job: null }) })]);
    const text = await asAdmin(['audit', '--actor', 'admin', '--limit', '50']);
    expect(text.stdout).toMatch(/user:admin\s+permission\.grant\s+user:alice\s+.*scope=read_job/);
    expect(text.stdout).toMatch(/user:admin\s+service_account\.create\s+service_account:ci/);
  });

  it('revoke takes the grant back at once', async () => {
    const revoked = await asAdmin(['revoke', 'alice', 'read_job']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('revoked read_job on everything from user:alice');
    expect((await asAlice(['list'])).code).toBe(1);
    const again = await asAdmin(['revoke', 'alice', 'read_job']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('  - scope: no grant with this identity, scope and target');
  });

  it('logout revokes the stored token and forgets it', async () => {
    const logout = await asAlice(['logout']);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toContain('revoked and removed');
    expect(storedToken()).toBeUndefined();
    expect(readFileSync(configFile, 'utf8')).not.toContain(sessionToken);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, sessionToken)).status).toBe(401);
    const whoami = await asAlice(['whoami']);
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toContain('a valid token is required');
  });
});
