/**
 * Identity administration from the command line (the `admin` scope, except where noted):
 * `pitlane user add|list|disable|enable|password`, `pitlane service-account create|list|disable|enable`,
 * `pitlane grant|revoke IDENTITY SCOPE [--job NAME[@VERSION]] [--endpoint PATH]`,
 * `pitlane permissions`, `pitlane public-endpoints list|approve|withdraw` and `pitlane audit`.
 * Identities are written `alice` / `user:alice`, `sa:ci` / `service_account:ci`, `job:adder@1.0.0`.
 */
import { Argument, type Command } from 'commander';
import { SCOPES } from '../auth/policy.js';
import { canonicalIdentity, describeGrantTarget, splitJobSpec } from './auth-args.js';
import { grantsTable, printJson, withExamples, type GrantView, type TokenView } from './auth-commands.js';
import type { PitlaneClient } from './client.js';
import { CliExit, table, type Output } from './output.js';
import { readPassword, type TerminalInput } from './terminal-input.js';

/** A user or service account as the API shows it. */
interface IdentityView {
  identity: string;
  kind: 'user' | 'service_account';
  name: string;
  disabled: boolean;
  has_password: boolean;
  created_at: string;
  created_by: string;
}

/** A public endpoint request as the API lists it. */
interface PublicEndpointView {
  job: string;
  version: string;
  endpoint: string;
  requested_at: string;
  approved_at: string | null;
  approved_by: string | null;
}

/** One audit log entry as the API lists it. */
interface AuditEntryView {
  id: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  requestId: string | null;
  ip: string | null;
}

/** Longest DETAILS cell of the `audit` table, in characters (`--json` has everything). */
const AUDIT_DETAILS_WIDTH = 80;

/**
 * Parses a positive integer option (`--limit 20`) within `[min, max]`.
 * @throws CliExit 2 naming `option`.
 */
function integerOption(text: string, option: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new CliExit(2, `${option} must be an integer from ${min} to ${max}; got ${JSON.stringify(text)}`);
  return value;
}

/**
 * An audit entry's details in one line: `key=value` pairs (strings bare, other values as JSON),
 * null values left out. `{"scope":"read_job","job":null}` → `scope=read_job`.
 */
export function auditDetailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

/** The grant body `{identity, scope, job?, version?, endpoint?}` from the command's arguments. */
function grantBody(identity: string, scope: string, options: { job?: string; endpoint?: string }): Record<string, string> {
  const body: Record<string, string> = { identity, scope };
  if (options.job !== undefined) {
    const { job, version } = splitJobSpec(options.job);
    body.job = job;
    if (version !== undefined) body.version = version;
  }
  if (options.endpoint !== undefined) {
    if (options.job === undefined) throw new CliExit(2, '--endpoint needs --job NAME[@VERSION]');
    body.endpoint = options.endpoint;
  }
  return body;
}

/** Registers `user` and `service-account` (same shape; users have passwords, service accounts a first token). */
function registerIdentityKinds(program: Command, output: Output, client: () => PitlaneClient, stdin: () => TerminalInput): void {
  const user = program
    .command('user')
    .description('Manage users (people who log in with a username and password). Admins only, except `user password` for your own password.')
    .addHelpText(
      'after',
      `
A new user has no permissions: grant some with \`pitlane grant NAME SCOPE\`.

Examples:
  pitlane user add alice                      # asks for the password twice (hidden)
  printf %s "$PASSWORD" | pitlane user add alice --password-stdin
  pitlane user list
  pitlane user disable alice`,
    );

  withExamples(
    user
      .command('add')
      .description('Create a user with a password (10 to 1024 characters): typed twice without echo at a terminal, or piped with --password-stdin.')
      .argument('<name>', 'username: 1-63 of a-z, 0-9, ".", "_", "-"')
      .option('--password-stdin', 'read the password from stdin (one trailing newline is dropped)', false)
      .option('--json', 'print JSON', false),
    ['pitlane user add alice', 'printf %s "$PASSWORD" | pitlane user add alice --password-stdin'],
  ).action(async (name: string, options: { passwordStdin: boolean; json: boolean }) => {
    const password = await readPassword(stdin(), output, { fromStdin: options.passwordStdin, confirm: true });
    const created = await client().json<IdentityView>('POST', '/api/v1/users', { username: name, password });
    if (options.json) printJson(output, created);
    else output.out(`created ${created.identity}; it has no permissions yet (e.g. \`pitlane grant ${created.name} read_job\`)\n`);
  });

  withExamples(
    user
      .command('password')
      .description("Set a user's password (your own, or anyone's as admin); typed twice without echo, or piped with --password-stdin. The user's login sessions are revoked.")
      .argument('<name>', 'username')
      .option('--password-stdin', 'read the new password from stdin (one trailing newline is dropped)', false)
      .option('--json', 'print JSON', false),
    ['pitlane user password alice', 'printf %s "$NEW_PASSWORD" | pitlane user password alice --password-stdin'],
  ).action(async (name: string, options: { passwordStdin: boolean; json: boolean }) => {
    const password = await readPassword(stdin(), output, { fromStdin: options.passwordStdin, confirm: true, label: 'New password' });
    const answer = await client().json<{ updated: string }>('PUT', `/api/v1/users/${encodeURIComponent(name)}/password`, { password });
    if (options.json) printJson(output, answer);
    else output.out(`password of ${answer.updated} changed; its login sessions were revoked\n`);
  });

  const serviceAccount = program
    .command('service-account')
    .description('Manage service accounts: outside systems (CI, other services) that call Pitlane with API tokens. Admins only.')
    .addHelpText(
      'after',
      `
A new service account has no permissions: grant some with \`pitlane grant sa:NAME SCOPE\`.

Examples:
  pitlane service-account create ci
  pitlane grant sa:ci call_job --job adder
  pitlane token create --identity sa:ci --expires 90d     # another token (rotation)
  pitlane service-account disable ci`,
    );

  withExamples(
    serviceAccount
      .command('create')
      .description('Create a service account and its first API token, printed once on stdout: it cannot be shown again.')
      .argument('<name>', 'name: 1-63 of a-z, 0-9, ".", "_", "-"')
      .option('-d, --description <text>', "description of the first token (default: 'first token')")
      .option('--json', 'print JSON (including the token)', false),
    ['pitlane service-account create ci', 'TOKEN=$(pitlane service-account create ci)'],
  ).action(async (name: string, options: { description?: string; json: boolean }) => {
    const body: Record<string, string> = { name };
    if (options.description !== undefined) body.token_description = options.description;
    const created = await client().json<IdentityView & { token: TokenView & { token: string } }>('POST', '/api/v1/service-accounts', body);
    if (options.json) {
      printJson(output, created);
      return;
    }
    output.out(`${created.token.token}\n`);
    output.err(
      `created ${created.identity} with token ${created.token.id}; it has no permissions yet (e.g. \`pitlane grant sa:${created.name} call_job --job NAME\`).\n` +
        'Store the token now: it cannot be shown again.\n',
    );
  });

  for (const [command, kind, base, key] of [
    [user, 'user', '/api/v1/users', 'users'],
    [serviceAccount, 'service account', '/api/v1/service-accounts', 'service_accounts'],
  ] as const) {
    const example = kind === 'user' ? 'alice' : 'ci';
    withExamples(
      command
        .command('list')
        .description(`List every ${kind}.`)
        .option('--json', 'print JSON', false),
      [`pitlane ${command.name()} list`],
    ).action(async (options: { json: boolean }) => {
      const answer = await client().json<Record<string, IdentityView[]>>('GET', base);
      const identities = answer[key] ?? [];
      if (options.json) {
        printJson(output, identities);
        return;
      }
      if (identities.length === 0) {
        output.out(`no ${kind}s\n`);
        return;
      }
      const headers = kind === 'user' ? ['NAME', 'STATE', 'PASSWORD', 'CREATED', 'CREATED BY'] : ['NAME', 'STATE', 'CREATED', 'CREATED BY'];
      output.out(
        table(
          headers,
          identities.map((i) => {
            const state = i.disabled ? 'disabled' : 'active';
            return kind === 'user' ? [i.name, state, i.has_password ? 'set' : 'none', i.created_at, i.created_by] : [i.name, state, i.created_at, i.created_by];
          }),
        ),
      );
    });

    for (const action of ['disable', 'enable'] as const) {
      withExamples(
        command
          .command(action)
          .description(
            action === 'disable'
              ? `Disable a ${kind}: its tokens and sessions stop working at once (they are kept, not revoked).`
              : `Enable a disabled ${kind}: its unrevoked, unexpired tokens work again.`,
          )
          .argument('<name>', `${kind} name`)
          .option('--json', 'print JSON', false),
        [`pitlane ${command.name()} ${action} ${example}`],
      ).action(async (name: string, options: { json: boolean }) => {
        const answer = await client().json<IdentityView>('POST', `${base}/${encodeURIComponent(name)}/${action}`, {});
        if (options.json) printJson(output, answer);
        else output.out(`${action}d ${answer.identity}\n`);
      });
    }
  }
}

/** Registers `grant`, `revoke` and `permissions`. */
function registerGrantCommands(program: Command, output: Output, client: () => PitlaneClient): void {
  const scopeArgument = (): Argument => new Argument('<scope>', 'what the grant allows').choices(SCOPES);
  const targetHelp = `
Scopes: read_job (see jobs, logs), deploy_job, delete_job, call_job (call through the gateway),
run (one-shot runs), admin (everything, including these commands). Without --job a grant covers
every job, including jobs deployed later; --job NAME narrows it to one job, --job NAME@VERSION to
one version, and --endpoint PATH (with --job) to one endpoint of the job. It takes effect at once.`;

  withExamples(
    program
      .command('grant')
      .description('Give IDENTITY a scope on everything, a job, a version or an endpoint (admins).')
      .argument('<identity>', 'alice, user:alice, sa:ci, service_account:ci or job:NAME@VERSION')
      .addArgument(scopeArgument())
      .option('--job <name[@version]>', 'limit the grant to this job, or to one exact version of it')
      .option('--endpoint <path>', 'limit the grant to this endpoint of the job, e.g. /api/v1/perform (needs --job)')
      .option('--json', 'print JSON', false)
      .addHelpText('after', targetHelp),
    ['pitlane grant alice read_job', 'pitlane grant sa:ci call_job --job adder@1.0.0 --endpoint /api/v1/perform', 'pitlane grant job:frontend@2.1.0 call_job --job adder'],
  ).action(async (identity: string, scope: string, options: { job?: string; endpoint?: string; json: boolean }) => {
    const answer = await client().json<{ grant: GrantView; created: boolean }>('POST', '/api/v1/permissions', grantBody(identity, scope, options));
    if (options.json) printJson(output, answer);
    else {
      const what = `${answer.grant.scope} on ${describeGrantTarget(answer.grant)}`;
      output.out(answer.created ? `granted ${what} to ${answer.grant.identity} (grant ${answer.grant.id})\n` : `${answer.grant.identity} already had ${what} (grant ${answer.grant.id})\n`);
    }
  });

  withExamples(
    program
      .command('revoke')
      .description('Take back the grant that exactly matches IDENTITY, SCOPE and target (admins); fails when none matches. It takes effect at once.')
      .argument('<identity>', 'alice, user:alice, sa:ci, service_account:ci or job:NAME@VERSION')
      .addArgument(scopeArgument())
      .option('--job <name[@version]>', 'the job (and version) the grant was limited to')
      .option('--endpoint <path>', 'the endpoint the grant was limited to (needs --job)')
      .option('--json', 'print JSON', false)
      .addHelpText('after', '\nThe target must be written as it was granted: `pitlane permissions --identity alice` lists them.'),
    ['pitlane revoke alice read_job', 'pitlane revoke sa:ci call_job --job adder@1.0.0 --endpoint /api/v1/perform'],
  ).action(async (identity: string, scope: string, options: { job?: string; endpoint?: string; json: boolean }) => {
    const answer = await client().json<{ revoked: GrantView[] }>('POST', '/api/v1/permissions/revoke', grantBody(identity, scope, options));
    if (options.json) printJson(output, answer);
    else for (const grant of answer.revoked) output.out(`revoked ${grant.scope} on ${describeGrantTarget(grant)} from ${grant.identity} (grant ${grant.id})\n`);
  });

  withExamples(
    program
      .command('permissions')
      .description('List permission grants: everyone\'s, or one identity\'s (admins; `pitlane whoami` shows your own).')
      .option('--identity <ref>', 'only this identity (alice, sa:ci, job:NAME@VERSION)')
      .option('--json', 'print JSON', false),
    ['pitlane permissions', 'pitlane permissions --identity sa:ci --json'],
  ).action(async (options: { identity?: string; json: boolean }) => {
    const query = options.identity !== undefined ? `?identity=${encodeURIComponent(options.identity)}` : '';
    const { permissions } = await client().json<{ permissions: GrantView[] }>('GET', `/api/v1/permissions${query}`);
    if (options.json) printJson(output, permissions);
    else output.out(permissions.length === 0 ? 'no grants\n' : grantsTable(permissions, true));
  });
}

/** Registers `public-endpoints` and `audit`. */
function registerPublicEndpointAndAuditCommands(program: Command, output: Output, client: () => PitlaneClient): void {
  const publicEndpoints = program
    .command('public-endpoints')
    .description("Endpoints that job manifests declare public (public_endpoints): they answer without a token only once an admin approves them.")
    .addHelpText(
      'after',
      `
Examples:
  pitlane public-endpoints list --job adder
  pitlane public-endpoints approve adder@1.0.0 /api/v1/perform
  pitlane public-endpoints withdraw adder@1.0.0 /api/v1/perform`,
    );

  withExamples(
    publicEndpoints
      .command('list')
      .description('List requested public endpoints with their approval (of the jobs you may read).')
      .option('--job <name>', 'only this job')
      .option('--json', 'print JSON', false),
    ['pitlane public-endpoints list', 'pitlane public-endpoints list --job adder --json'],
  ).action(async (options: { job?: string; json: boolean }) => {
    const query = options.job !== undefined ? `?job=${encodeURIComponent(options.job)}` : '';
    const answer = await client().json<{ public_endpoints: PublicEndpointView[] }>('GET', `/api/v1/public-endpoints${query}`);
    const entries = answer.public_endpoints;
    if (options.json) {
      printJson(output, entries);
      return;
    }
    if (entries.length === 0) {
      output.out('no public endpoints requested\n');
      return;
    }
    output.out(
      table(
        ['JOB', 'VERSION', 'ENDPOINT', 'STATE', 'REQUESTED', 'APPROVED BY'],
        entries.map((e) => [e.job, e.version, e.endpoint, e.approved_at ? `approved ${e.approved_at}` : 'awaiting approval', e.requested_at, e.approved_by ?? '']),
      ),
    );
  });

  for (const action of ['approve', 'withdraw'] as const) {
    withExamples(
      publicEndpoints
        .command(action)
        .description(
          action === 'approve'
            ? 'Approve a public endpoint the manifest of JOB@VERSION requested: it answers without a token at once (admins).'
            : 'Withdraw the approval of a public endpoint: it needs a token again at once (admins).',
        )
        .argument('<job>', 'NAME@VERSION (an exact version)')
        .argument('<path>', 'the endpoint path as the manifest declares it, e.g. /api/v1/perform')
        .option('--json', 'print JSON', false),
      [`pitlane public-endpoints ${action} adder@1.0.0 /api/v1/perform`],
    ).action(async (spec: string, path: string, options: { json: boolean }) => {
      const { job, version } = splitJobSpec(spec, { requireVersion: true, what: 'JOB' });
      const answer = await client().json<Record<string, unknown>>('POST', `/api/v1/public-endpoints/${action}`, { job, version, endpoint: path });
      if (options.json) printJson(output, answer);
      else output.out(action === 'approve' ? `approved ${path} of ${job}@${version}: it answers without a token now\n` : `withdrew ${path} of ${job}@${version}: it needs a token again\n`);
    });
  }

  withExamples(
    program
      .command('audit')
      .description('Show the audit log, newest first: deploys, deletes, grants, token, user, service account, public endpoint and secret changes, logins (admins).')
      .option('--actor <ref>', 'only actions by this identity (alice, sa:ci, job:NAME@VERSION, system)')
      .option('--action <name>', 'only this action, e.g. permission.grant, token.create, deploy.create')
      .option('--target <prefix>', 'only targets starting with this, e.g. user:alice or job:adder')
      .option('--limit <n>', 'at most this many entries (1-1000)', '100')
      .option('--before <id>', 'only entries older than this entry id (paging)')
      .option('--json', 'print JSON', false),
    ['pitlane audit --limit 20', 'pitlane audit --action permission.grant --target user:alice', 'pitlane audit --actor sa:ci --json'],
  ).action(async (options: { actor?: string; action?: string; target?: string; limit: string; before?: string; json: boolean }) => {
    const params = new URLSearchParams();
    if (options.actor !== undefined) params.set('actor', canonicalIdentity(options.actor));
    if (options.action !== undefined) params.set('action', options.action);
    if (options.target !== undefined) params.set('target', options.target);
    params.set('limit', String(integerOption(options.limit, '--limit', 1, 1000)));
    if (options.before !== undefined) params.set('before', String(integerOption(options.before, '--before', 1, Number.MAX_SAFE_INTEGER)));
    const { entries } = await client().json<{ entries: AuditEntryView[] }>('GET', `/api/v1/audit?${params.toString()}`);
    if (options.json) {
      printJson(output, entries);
      return;
    }
    if (entries.length === 0) {
      output.out('no audit entries\n');
      return;
    }
    output.out(
      table(
        ['ID', 'TIME', 'ACTOR', 'ACTION', 'TARGET', 'DETAILS'],
        entries.map((e) => {
          const details = auditDetailsText(e.details);
          return [String(e.id), e.time, e.actor, e.action, e.target, details.length > AUDIT_DETAILS_WIDTH ? `${details.slice(0, AUDIT_DETAILS_WIDTH - 1)}…` : details];
        }),
      ),
    );
  });
}

/**
 * Registers the identity administration commands: `user`, `service-account`, `grant`, `revoke`,
 * `permissions`, `public-endpoints` and `audit`. `stdin` is read for passwords.
 */
export function registerIdentityCommands(program: Command, output: Output, client: () => PitlaneClient, stdin: () => TerminalInput): void {
  registerIdentityKinds(program, output, client, stdin);
  registerGrantCommands(program, output, client);
  registerPublicEndpointAndAuditCommands(program, output, client);
}
