/**
 * The auth and identity commands against an in-process fake server: what they send, what they
 * print, where they store the token, and their exit codes (0 ok, 1 failed, 2 bad usage).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerAuthCommands } from '../../../src/cli/auth-commands.js';
import { clientSettings, PitlaneClient } from '../../../src/cli/client.js';
import { auditDetailsText, registerIdentityCommands } from '../../../src/cli/identity-commands.js';
import { CliExit, printError, type Output } from '../../../src/cli/output.js';
import type { TerminalInput } from '../../../src/cli/terminal-input.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: any;
}

type Handler = (request: Seen) => { status: number; body: unknown };

let server: Server;
let url = '';
let seen: Seen[] = [];
let handler: Handler = () => ({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route' } } });

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const entry: Seen = { method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization, body: text ? JSON.parse(text) : undefined };
      seen.push(entry);
      const answer = handler(entry);
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

let configHome = '';
beforeEach(() => {
  seen = [];
  configHome = mkdtempSync(join(tmpdir(), 'pitlane-cli-auth-'));
});

/** Runs `pitlane ARGS` with the auth and identity commands, like runCli does. */
async function run(args: string[], options: { stdin?: TerminalInput; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const output: Output = { out: (text) => (stdout += text), err: (text) => (stderr += text) };
  const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: configHome, PITLANE_URL: url, NO_COLOR: '1', ...options.env };
  const stdin = (): TerminalInput => options.stdin ?? (Readable.from([]) as TerminalInput);
  const program = new Command().name('pitlane').exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  registerAuthCommands(program, output, env, stdin);
  registerIdentityCommands(program, output, () => new PitlaneClient(clientSettings(env)), stdin);
  let code = 0;
  try {
    await program.parseAsync(['node', 'pitlane', ...args]);
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
    else if (error instanceof CliExit) {
      if (error.message) printError(output, new Error(error.message));
      code = error.code;
    } else {
      printError(output, error);
      code = 1;
    }
  }
  return { code, stdout, stderr };
}

const configPath = (): string => join(configHome, 'pitlane', 'config.json');
const session = { id: 'abcd234xyz', prefix: 'pitlane_abcd234xyz', identity: 'user:alice', kind: 'session', token: 'pitlane_abcd234xyz_SECRET', expires_at: '2030-01-01T00:00:00.000Z' };

describe('login', () => {
  it('logs in with a piped password and stores the token (0600) for this server', async () => {
    handler = () => ({ status: 200, body: session });
    const result = await run(['login', '--username', 'alice', '--password-stdin'], { stdin: Readable.from(['hunter2-hunter2\n']) as TerminalInput });
    expect(result.code, result.stderr).toBe(0);
    expect(seen).toEqual([{ method: 'POST', url: '/api/v1/auth/login', authorization: undefined, body: { username: 'alice', password: 'hunter2-hunter2' } }]);
    expect(result.stdout).toContain('as user:alice');
    expect(result.stdout).not.toContain('SECRET');
    expect(statSync(configPath()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(configPath(), 'utf8'))).toEqual({ url, token: session.token, servers: { [url]: { token: session.token } } });
  });

  it('refuses to read a password without a terminal or --password-stdin, before any request', async () => {
    const result = await run(['login', '--username', 'alice']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--password-stdin');
    expect(seen).toEqual([]);
    expect(existsSync(configPath())).toBe(false);
  });

  it('prompts for the username and a hidden password at a terminal', async () => {
    handler = () => ({ status: 200, body: session });
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: vi.fn() });
    const pending = run(['login'], { stdin: tty });
    tty.write('alice\rhunter2-hunter2\r');
    const result = await pending;
    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]?.body).toEqual({ username: 'alice', password: 'hunter2-hunter2' });
    expect(result.stderr).toContain('Username: alice');
    expect(result.stderr).not.toContain('hunter2');
  });

  it('checks a --token with /auth/me before storing it, and stores nothing when refused', async () => {
    handler = () => ({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'a valid token is required', details: [] } } });
    const refused = await run(['login', '--token', 'pitlane_bad']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused the token');
    expect(existsSync(configPath())).toBe(false);
    handler = () => ({ status: 200, body: { identity: 'service_account:ci', kind: 'service_account', name: 'ci', token_id: 'qqqq234xyz', grants: [] } });
    const accepted = await run(['login', '--token', 'pitlane_qqqq234xyz_ok', '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/api/v1/auth/me', authorization: 'Bearer pitlane_qqqq234xyz_ok' });
    expect(JSON.parse(accepted.stdout)).toMatchObject({ url, identity: 'service_account:ci', token_id: 'qqqq234xyz' });
    expect(JSON.parse(readFileSync(configPath(), 'utf8')).servers[url].token).toBe('pitlane_qqqq234xyz_ok');
  });

  it('refuses a non-http URL and conflicting options with exit code 2', async () => {
    expect((await run(['login', '--url', 'ftp://x', '--token', 't'])).code).toBe(2);
    expect((await run(['login', '--token', 't', '--username', 'alice'])).code).toBe(2);
    expect(seen).toEqual([]);
  });
});

describe('logout', () => {
  it('revokes the stored token (not PITLANE_TOKEN) and forgets it', async () => {
    handler = () => ({ status: 200, body: session });
    await run(['login', '--username', 'alice', '--password-stdin'], { stdin: Readable.from(['hunter2-hunter2']) as TerminalInput });
    handler = () => ({ status: 200, body: { logged_out: true } });
    const result = await run(['logout'], { env: { PITLANE_TOKEN: 'pitlane_envtoken' } });
    expect(result.code, result.stderr).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/auth/logout', authorization: `Bearer ${session.token}` });
    expect(result.stderr).toContain('PITLANE_TOKEN is still set');
    expect(JSON.parse(readFileSync(configPath(), 'utf8'))).toEqual({ url, servers: {} });
    const again = await run(['logout']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('not logged in');
    expect(seen).toHaveLength(2);
  });
});

describe('token', () => {
  it('create sends the lifetime in seconds and prints only the token on stdout', async () => {
    handler = () => ({ status: 201, body: { ...session, kind: 'api', token: 'pitlane_zzzz234xyz_NEW', id: 'zzzz234xyz' } });
    const result = await run(['token', 'create', '--expires', '12h', '--description', 'laptop', '--identity', 'sa:ci'], { env: { PITLANE_TOKEN: 'admin' } });
    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/auth/tokens', authorization: 'Bearer admin', body: { description: 'laptop', expires_in_s: 43_200, identity: 'sa:ci' } });
    expect(result.stdout).toBe('pitlane_zzzz234xyz_NEW\n');
    expect(result.stderr).toContain('cannot be shown again');
  });

  it('create refuses a bad --expires without calling the server', async () => {
    const result = await run(['token', 'create', '--expires', '30 days']);
    expect(result.code).toBe(2);
    expect(seen).toEqual([]);
  });

  it('list --all asks for identity=* and refuses --all with --identity', async () => {
    handler = () => ({ status: 200, body: { tokens: [] } });
    expect((await run(['token', 'list', '--all'])).stdout).toBe('no tokens\n');
    expect(seen[0]?.url).toBe('/api/v1/auth/tokens?identity=*');
    expect((await run(['token', 'list', '--all', '--identity', 'alice'])).code).toBe(2);
  });

  it('revoke accepts the prefix', async () => {
    handler = () => ({ status: 200, body: { revoked: { ...session, revoked_at: '2025-01-01T00:00:00Z' } } });
    const result = await run(['token', 'revoke', 'pitlane_abcd234xyz']);
    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/api/v1/auth/tokens/abcd234xyz' });
  });
});

describe('grant and revoke', () => {
  it('splits --job NAME@VERSION into job and version', async () => {
    handler = () => ({ status: 201, body: { grant: { id: 'g1', identity: 'service_account:ci', scope: 'call_job', job: 'adder', version: '1.0.0', endpoint: '/api/v1/perform' }, created: true } });
    const result = await run(['grant', 'sa:ci', 'call_job', '--job', 'adder@1.0.0', '--endpoint', '/api/v1/perform']);
    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/permissions', body: { identity: 'sa:ci', scope: 'call_job', job: 'adder', version: '1.0.0', endpoint: '/api/v1/perform' } });
    expect(result.stdout).toBe('granted call_job on endpoint /api/v1/perform of job adder@1.0.0 to service_account:ci (grant g1)\n');
  });

  it('refuses an unknown scope and --endpoint without --job, before any request', async () => {
    const badScope = await run(['grant', 'alice', 'read_jobs']);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('read_job');
    expect((await run(['revoke', 'alice', 'call_job', '--endpoint', '/x'])).code).toBe(2);
    expect(seen).toEqual([]);
  });

  it("prints the server's error message and each detail's path, and exits 1", async () => {
    handler = () => ({ status: 404, body: { error: { code: 'GRANT_NOT_FOUND', message: 'no grant matches', details: [{ path: 'scope', message: 'no grant with this identity, scope and target' }] } } });
    const result = await run(['revoke', 'alice', 'read_job', '--job', 'adder']);
    expect(result.code).toBe(1);
    expect(seen[0]?.body).toEqual({ identity: 'alice', scope: 'read_job', job: 'adder' });
    expect(result.stderr).toBe('error: no grant matches\n  - scope: no grant with this identity, scope and target\n');
  });
});

describe('audit and public endpoints', () => {
  it('audit writes the actor canonically and passes the filters', async () => {
    handler = () => ({ status: 200, body: { entries: [{ id: 7, time: 't', actor: 'user:admin', action: 'permission.grant', target: 'user:alice', details: { scope: 'read_job' }, requestId: null, ip: null }] } });
    const result = await run(['audit', '--actor', 'sa:ci', '--action', 'permission.grant', '--limit', '5']);
    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]?.url).toBe('/api/v1/audit?actor=service_account%3Aci&action=permission.grant&limit=5');
    expect(result.stdout).toMatch(/^7\s+t\s+user:admin\s+permission\.grant\s+user:alice\s+scope=read_job$/m);
    expect((await run(['audit', '--limit', '0'])).code).toBe(2);
  });

  it('audit details read as key=value pairs without nulls', () => {
    expect(auditDetailsText({ identity: 'user:alice', scope: 'read_job', job: null, count: 2, tags: ['a'] })).toBe('identity=user:alice scope=read_job count=2 tags=["a"]');
    expect(auditDetailsText({})).toBe('');
  });

  it('approve needs JOB@VERSION and sends job, version and endpoint', async () => {
    expect((await run(['public-endpoints', 'approve', 'adder', '/api/v1/perform'])).code).toBe(2);
    handler = () => ({ status: 200, body: { approved: {} } });
    const result = await run(['public-endpoints', 'approve', 'adder@1.0.0', '/api/v1/perform']);
    expect(result.code, result.stderr).toBe(0);
    expect(seen).toEqual([expect.objectContaining({ url: '/api/v1/public-endpoints/approve', body: { job: 'adder', version: '1.0.0', endpoint: '/api/v1/perform' } })]);
  });
});

describe('user', () => {
  it('add asks twice at a terminal and sends the password once confirmed', async () => {
    handler = () => ({ status: 201, body: { identity: 'user:bob', kind: 'user', name: 'bob', disabled: false, has_password: true, created_at: 't', created_by: 'user:admin' } });
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: vi.fn() });
    const pending = run(['user', 'add', 'bob'], { stdin: tty });
    tty.write('long-password\rlong-password\r');
    const result = await pending;
    expect(result.code, result.stderr).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/users', body: { username: 'bob', password: 'long-password' } });
    expect(result.stdout).toContain('created user:bob');
  });
});
