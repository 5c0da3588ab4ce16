/**
 * `pitlane login | logout | whoami | token create|list|revoke`: who the CLI is at a server.
 *
 * `login` stores the token it gets (or is given) in the config file (config-file.ts: mode 0600,
 * one token per server URL); later commands send it unless `PITLANE_TOKEN` is set, which always
 * wins. `logout` revokes the stored token at the server and forgets it.
 */
import { text as readText } from 'node:stream/consumers';
import type { Command } from 'commander';
import { describeGrantTarget, parseDuration, stripTrailingNewline, tokenIdOf, tokenState, type GrantTarget } from './auth-args.js';
import { ApiError, clientSettings, configFilePath, PitlaneClient } from './client.js';
import { normaliseServerUrl, readConfigFile, storedToken, withoutServerToken, withServerToken, writeConfigFile } from './config-file.js';
import { CliExit, table, type Output } from './output.js';
import { promptLines, readPassword, type TerminalInput } from './terminal-input.js';

/** Default server URL when neither `--url`, `PITLANE_URL` nor the config file names one. */
const DEFAULT_URL = 'http://127.0.0.1:7300';

/** A token's metadata as the API lists it (never the token). */
export interface TokenView {
  id: string;
  prefix: string;
  identity: string;
  kind: 'api' | 'session' | 'job' | 'bootstrap';
  description: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** A grant as the API shows it. */
export interface GrantView extends GrantTarget {
  id: string;
  identity: string;
  scope: string;
}

/** `GET /api/v1/auth/me`. */
interface MeView {
  identity: string;
  kind: string;
  name: string;
  token_id: string;
  grants: GrantView[];
}

/** Prints `value` as indented JSON on stdout. */
export function printJson(output: Output, value: unknown): void {
  output.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Adds an `Examples:` block to a command's `--help`. */
export function withExamples(command: Command, examples: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  ${line}`).join('\n')}`);
}

/** Grants as a table: scope and target. */
export function grantsTable(grants: GrantView[], withIdentity: boolean): string {
  const headers = withIdentity ? ['ID', 'IDENTITY', 'SCOPE', 'ON'] : ['ID', 'SCOPE', 'ON'];
  return table(
    headers,
    grants.map((g) => (withIdentity ? [g.id, g.identity, g.scope, describeGrantTarget(g)] : [g.id, g.scope, describeGrantTarget(g)])),
  );
}

/**
 * The server URL a login/logout is about: `--url`, else `PITLANE_URL`, else the config file's
 * default, else http://127.0.0.1:7300; normalised (config-file.ts).
 * @throws CliExit 2 when it is not an http(s) URL.
 */
function serverUrl(option: string | undefined, env: NodeJS.ProcessEnv, fileUrl: unknown): string {
  const url = normaliseServerUrl(option || env.PITLANE_URL || (typeof fileUrl === 'string' && fileUrl ? fileUrl : DEFAULT_URL));
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new CliExit(2, `the server URL must be an http:// or https:// URL; got ${JSON.stringify(url)}`);
  return url;
}

/** Warnings when the environment will override what `login` stored. */
function environmentNotes(env: NodeJS.ProcessEnv, url: string, output: Output): void {
  if (env.PITLANE_TOKEN) output.err('note: PITLANE_TOKEN is set: commands send it, not the stored token, until you unset it\n');
  if (env.PITLANE_URL && normaliseServerUrl(env.PITLANE_URL) !== url) output.err(`note: PITLANE_URL is set to ${env.PITLANE_URL}: commands go there, not to ${url}\n`);
}

/** `expires 2025-01-01T00:00:00.000Z` or `never expires`. */
function expiryText(expiresAt: string | null): string {
  return expiresAt ? `expires ${expiresAt}` : 'never expires';
}

/** Registers `login`, `logout`, `whoami` and `token`. `stdin` is read for passwords and tokens. */
export function registerAuthCommands(program: Command, output: Output, env: NodeJS.ProcessEnv, stdin: () => TerminalInput): void {
  const client = (): PitlaneClient => new PitlaneClient(clientSettings(env));

  withExamples(
    program
      .command('login')
      .description(
        'Log in to a Pitlane server and store the token in the config file ($XDG_CONFIG_HOME/pitlane/config.json, mode 0600). ' +
          'With --username the password is typed (hidden) at a terminal or piped with --password-stdin; with --token an existing API token is checked and stored. ' +
          'Without either, a terminal asks for both. PITLANE_TOKEN, when set, still takes precedence over the stored token.',
      )
      .option('--url <url>', 'server URL (default: PITLANE_URL, else the config file, else http://127.0.0.1:7300)')
      .option('-u, --username <name>', 'log in as this user')
      .option('--password-stdin', 'read the password from stdin (one trailing newline is dropped)', false)
      .option('--token <token>', 'store this API token instead of logging in (checked first); "-" reads it from stdin')
      .option('--json', 'print JSON (never the token)', false),
    [
      'pitlane login --url https://pitlane.example.com --username alice',
      'printf %s "$PASSWORD" | pitlane login --username alice --password-stdin',
      'printf %s "$CI_TOKEN" | pitlane login --token -',
    ],
  ).action(async (options: { url?: string; username?: string; passwordStdin: boolean; token?: string; json: boolean }) => {
    const path = configFilePath(env);
    const config = readConfigFile(path);
    const url = serverUrl(options.url, env, config.url);
    if (options.token !== undefined && (options.username !== undefined || options.passwordStdin)) {
      throw new CliExit(2, 'give either --token or --username/--password-stdin, not both');
    }
    let token: string;
    let who: { identity: string; tokenId: string; expiresAt: string | null | undefined };
    if (options.token !== undefined) {
      token = options.token === '-' ? stripTrailingNewline(await readText(stdin())).trim() : options.token.trim();
      if (token === '') throw new CliExit(2, 'the token is empty');
      try {
        const me = await new PitlaneClient({ url, token }).json<MeView>('GET', '/api/v1/auth/me');
        who = { identity: me.identity, tokenId: me.token_id, expiresAt: undefined };
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) throw new ApiError(401, error.code, `${url} refused the token: ${error.message}`, error.details);
        throw error;
      }
    } else {
      const input = stdin();
      let username = options.username;
      let password: string;
      if (username === undefined) {
        if (options.passwordStdin) throw new CliExit(2, '--password-stdin needs --username');
        if (!input.isTTY || typeof input.setRawMode !== 'function') {
          throw new CliExit(2, 'stdin is not a terminal: give --username NAME with --password-stdin, or --token TOKEN');
        }
        [username = '', password = ''] = await promptLines(input, output, [
          { text: 'Username: ', echo: true },
          { text: 'Password (input hidden): ', echo: false },
        ]);
        if (username === '' || password === '') throw new CliExit(2, 'the username and the password must not be empty');
      } else {
        password = await readPassword(input, output, { fromStdin: options.passwordStdin, confirm: false });
      }
      const session = await new PitlaneClient({ url, token: undefined }).json<TokenView & { token: string }>('POST', '/api/v1/auth/login', { username, password });
      token = session.token;
      who = { identity: session.identity, tokenId: session.id, expiresAt: session.expires_at };
    }
    // Read again just before writing: another pitlane process may have changed the file meanwhile.
    writeConfigFile(path, withServerToken(readConfigFile(path), url, token));
    if (options.json) {
      printJson(output, { url, identity: who.identity, token_id: who.tokenId, expires_at: who.expiresAt ?? null, config_file: path });
    } else {
      const expiry = who.expiresAt === undefined ? '' : `, ${expiryText(who.expiresAt)}`;
      output.out(`logged in to ${url} as ${who.identity} (token ${who.tokenId}${expiry})\ntoken stored in ${path}\n`);
    }
    environmentNotes(env, url, output);
  });

  withExamples(
    program
      .command('logout')
      .description(
        'Revoke the token stored for the server (POST /api/v1/auth/logout) and remove it from the config file. ' +
          'A token given through PITLANE_TOKEN is neither used nor revoked: revoke it with `pitlane token revoke ID`.',
      )
      .option('--url <url>', 'server URL (default: PITLANE_URL, else the config file, else http://127.0.0.1:7300)')
      .option('--json', 'print JSON', false),
    ['pitlane logout', 'pitlane logout --url https://pitlane.example.com'],
  ).action(async (options: { url?: string; json: boolean }) => {
    const path = configFilePath(env);
    const config = readConfigFile(path);
    const url = serverUrl(options.url, env, config.url);
    const token = storedToken(config, url);
    if (token === undefined) {
      if (options.json) printJson(output, { url, logged_out: false, reason: 'no stored token' });
      else output.err(`not logged in to ${url}: no token stored in ${path}\n`);
      if (env.PITLANE_TOKEN) output.err('note: PITLANE_TOKEN is set; logout does not revoke it (use `pitlane token revoke ID`)\n');
      return;
    }
    let revoked = true;
    try {
      await new PitlaneClient({ url, token }).json<unknown>('POST', '/api/v1/auth/logout', {});
    } catch (error) {
      // 401: the token already stopped working (revoked, expired, user disabled); forget it anyway.
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      revoked = false;
    }
    writeConfigFile(path, withoutServerToken(readConfigFile(path), url));
    const id = tokenIdOf(token);
    if (options.json) printJson(output, { url, logged_out: true, token_id: id, revoked_now: revoked, config_file: path });
    else output.out(`logged out of ${url}: token ${id} ${revoked ? 'revoked' : 'was no longer valid'} and removed from ${path}\n`);
    if (env.PITLANE_TOKEN) output.err('note: PITLANE_TOKEN is still set; commands keep sending it\n');
  });

  withExamples(
    program
      .command('whoami')
      .description('Show the identity of the token in use (PITLANE_TOKEN or the stored one), its token id and its permission grants.')
      .option('--json', 'print JSON', false),
    ['pitlane whoami', 'pitlane whoami --json'],
  ).action(async (options: { json: boolean }) => {
    const c = client();
    const me = await c.json<MeView>('GET', '/api/v1/auth/me');
    if (options.json) {
      printJson(output, { url: c.settings.url, ...me });
      return;
    }
    output.out(`${me.identity} at ${c.settings.url} (token ${me.token_id})\n`);
    output.out(me.grants.length === 0 ? 'no permissions\n' : grantsTable(me.grants, false));
  });

  const token = program
    .command('token')
    .description('Create, list and revoke API tokens. A token is shown once, when created; Pitlane keeps only its SHA-256.')
    .addHelpText(
      'after',
      `
Tokens look like pitlane_<ID>_<secret>; listings show the ID. Send one as
"Authorization: Bearer <token>" or through PITLANE_TOKEN. An identity may hold several tokens
(rotate by creating the new one, switching, then revoking the old one).

Examples:
  pitlane token create --description "CI deploys" --expires 30d
  pitlane token list --all
  pitlane token revoke abcd234xyz`,
    );

  withExamples(
    token
      .command('create')
      .description(
        'Create an API token for yourself (admins: for --identity) and print it once on stdout; it cannot be shown again. ' +
          'It has the permissions of its identity.',
      )
      .option('-d, --description <text>', 'what the token is for', '')
      .option('--expires <duration>', 'lifetime: 30d, 12h, 90m, 3600s, 2w (at least 60s); default: no expiry (or the server maximum)')
      .option('--identity <ref>', 'admins: the user or service account to create it for (alice, user:alice, sa:ci)')
      .option('--json', 'print JSON (including the token)', false),
    ['pitlane token create --description laptop --expires 30d', 'TOKEN=$(pitlane token create --identity sa:ci --expires 90d)'],
  ).action(async (options: { description: string; expires?: string; identity?: string; json: boolean }) => {
    const body: Record<string, unknown> = { description: options.description };
    if (options.expires !== undefined) body.expires_in_s = parseDuration(options.expires);
    if (options.identity !== undefined) body.identity = options.identity;
    const created = await client().json<TokenView & { token: string }>('POST', '/api/v1/auth/tokens', body);
    if (options.json) {
      printJson(output, created);
      return;
    }
    output.out(`${created.token}\n`);
    output.err(
      `created token ${created.id} for ${created.identity}, ${expiryText(created.expires_at)}.\n` +
        'Store it now: it cannot be shown again (revoke it with `pitlane token revoke ' +
        `${created.id}\`).\n`,
    );
  });

  withExamples(
    token
      .command('list')
      .description("List token metadata (never the tokens): yours; an identity's (--identity, admins); everyone's (--all, admins).")
      .option('--identity <ref>', 'whose tokens (alice, user:alice, sa:ci)')
      .option('--all', "everyone's tokens (admins)", false)
      .option('--json', 'print JSON', false),
    ['pitlane token list', 'pitlane token list --identity sa:ci', 'pitlane token list --all --json'],
  ).action(async (options: { identity?: string; all: boolean; json: boolean }) => {
    if (options.all && options.identity !== undefined) throw new CliExit(2, 'give at most one of --identity and --all');
    const query = options.all ? '?identity=*' : options.identity !== undefined ? `?identity=${encodeURIComponent(options.identity)}` : '';
    const { tokens } = await client().json<{ tokens: TokenView[] }>('GET', `/api/v1/auth/tokens${query}`);
    if (options.json) {
      printJson(output, tokens);
      return;
    }
    if (tokens.length === 0) {
      output.out('no tokens\n');
      return;
    }
    const now = Date.now();
    output.out(
      table(
        ['ID', 'IDENTITY', 'KIND', 'STATE', 'DESCRIPTION', 'CREATED', 'EXPIRES', 'LAST USED'],
        tokens.map((t) => [t.id, t.identity, t.kind, tokenState(t, now), t.description, t.created_at, t.expires_at ?? 'never', t.last_used_at ?? 'never']),
      ),
    );
  });

  withExamples(
    token
      .command('revoke')
      .description('Revoke a token (yours; admins: any). It stops working at once. Accepts the ID, pitlane_<ID> or the whole token.')
      .argument('<id>', 'token ID as `pitlane token list` shows it')
      .option('--json', 'print JSON', false),
    ['pitlane token revoke abcd234xyz'],
  ).action(async (input: string, options: { json: boolean }) => {
    const id = tokenIdOf(input);
    const c = client();
    const { revoked } = await c.json<{ revoked: TokenView }>('DELETE', `/api/v1/auth/tokens/${encodeURIComponent(id)}`);
    // Revoking the stored token of this server: forget it too (it cannot work any more).
    const path = configFilePath(env);
    let forgotten = false;
    try {
      const config = readConfigFile(path);
      const stored = storedToken(config, c.settings.url);
      if (stored !== undefined && tokenIdOf(stored) === id) {
            writeConfigFile(path, withoutServerToken(config, c.settings.url));
        forgotten = true;
      }
    } catch {
      forgotten = false;
    }
    if (options.json) printJson(output, { revoked, removed_from_config: forgotten });
    else output.out(`revoked token ${revoked.id} of ${revoked.identity}${forgotten ? ` (it was the stored token: removed from ${path})` : ''}\n`);
  });
}
