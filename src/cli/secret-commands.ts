/**
 * `pitlane secret set | list | delete`: a job's secrets. Values are read from stdin (hidden when
 * typed at a terminal), sent once to the server, and never printed; the server never returns them.
 */
import { text as readText } from 'node:stream/consumers';
import type { Command } from 'commander';
import type { PitlaneClient } from './client.js';
import { stripTrailingNewline } from './auth-args.js';
import { CliExit, table, type Output } from './output.js';
import { promptLines, type TerminalInput } from './terminal-input.js';

/** The server's rule for secret keys (src/secrets/validation.ts), checked before a value is asked for. */
const SECRET_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A secret as the API lists it. */
interface SecretView {
  job: string;
  key: string;
  kind: 'runtime' | 'build';
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/** A terminal-like input: a readable stream that may be a TTY with raw mode. */
export type SecretInput = TerminalInput;

/**
 * Reads a secret value: typed at a terminal without echo (terminal-input.ts), or all of piped
 * stdin minus one trailing line break.
 * @throws CliExit 2 when the value is empty, 130 when typing is cancelled with Ctrl-C.
 */
export async function readSecretValue(input: SecretInput, output: Output, key: string): Promise<string> {
  const value =
    input.isTTY && typeof input.setRawMode === 'function'
      ? ((await promptLines(input, output, [{ text: `Value of ${key} (input hidden, Enter to finish): `, echo: false }]))[0] ?? '')
      : stripTrailingNewline(await readText(input));
  if (value === '') {
    throw new CliExit(
      2,
      input.isTTY
        ? 'the value is empty; nothing was stored'
        : `no value on stdin: pipe it in, e.g. \`printf %s "$VALUE" | pitlane secret set JOB ${key}\` (or run the command in a terminal to type it)`,
    );
  }
  return value;
}

function jobPath(job: string): string {
  return `/api/v1/jobs/${encodeURIComponent(job)}/secrets`;
}

function checkKey(key: string): void {
  if (!SECRET_KEY_RE.test(key)) throw new CliExit(2, `KEY must be an environment variable name (${SECRET_KEY_RE.source}); got ${JSON.stringify(key)}`);
}

/** Registers `secret` and its subcommands. */
export function registerSecretCommands(program: Command, output: Output, client: () => PitlaneClient, stdin: () => SecretInput): void {
  const secret = program
    .command('secret')
    .description("Manage a job's secrets: runtime secrets (container environment) and build secrets (BuildKit secret mounts).")
    .addHelpText(
      'after',
      `
Secrets belong to a job name: every version of the job gets them. Values are stored encrypted
(AES-256-GCM) and are never shown again, by the CLI or the API.

  runtime secrets  environment variables of the job's containers, added when a container is
                   created. A change reaches the containers created after it: redeploy
                   (pitlane deploy --force) to apply it to the running version.
  build secrets    (--build) files for the image build, only in steps that mount them:
                     RUN --mount=type=secret,id=KEY cat /run/secrets/KEY
                   when the manifest lists the key in build_secrets: [KEY]. They never end up in
                   an image layer, the image history or the build log.

Examples:
  printf %s "$DB_PASSWORD" | pitlane secret set my-job DB_PASSWORD
  pitlane secret set my-job NPM_TOKEN --build        # type it; the input is hidden
  pitlane secret list my-job
  pitlane secret delete my-job DB_PASSWORD`,
    );

  secret
    .command('set')
    .description('Set a secret; the value is read from stdin (typed without echo at a terminal). One trailing newline is dropped.')
    .argument('<job>', 'job name (secrets apply to every version)')
    .argument('<key>', 'environment variable name, e.g. DB_PASSWORD')
    .option('--build', 'a build secret (BuildKit secret mount) instead of a runtime secret', false)
    .option('--json', 'print JSON', false)
    .action(async (job: string, key: string, options: { build: boolean; json: boolean }) => {
      checkKey(key);
      const value = await readSecretValue(stdin(), output, key);
      const kind = options.build ? 'build' : 'runtime';
      const answer = await client().json<{ created: boolean; secret: SecretView }>('PUT', `${jobPath(job)}/${encodeURIComponent(key)}`, { value, kind });
      if (options.json) {
        output.out(`${JSON.stringify(answer, null, 2)}\n`);
        return;
      }
      const applies =
        kind === 'runtime'
          ? 'containers created from now on get it; redeploy (pitlane deploy --force) to apply it to running ones'
          : `builds of ${job} that list it in build_secrets get it as /run/secrets/${key}`;
      output.out(`${answer.created ? 'created' : 'updated'} ${kind} secret ${key} of ${job}: ${applies}\n`);
    });

  secret
    .command('list')
    .description("List a job's secrets: keys, kinds, times and who set them (never values).")
    .argument('<job>', 'job name')
    .option('--json', 'print JSON', false)
    .action(async (job: string, options: { json: boolean }) => {
      const { secrets } = await client().json<{ secrets: SecretView[] }>('GET', jobPath(job));
      if (options.json) {
        output.out(`${JSON.stringify(secrets, null, 2)}\n`);
        return;
      }
      if (secrets.length === 0) {
        output.out(`job ${job} has no secrets\n`);
        return;
      }
      output.out(table(['KEY', 'KIND', 'UPDATED', 'UPDATED BY'], secrets.map((s) => [s.key, s.kind, s.updated_at, s.updated_by])));
    });

  secret
    .command('delete')
    .description('Delete a secret (both kinds unless --build or --runtime). Running containers keep their environment until recreated.')
    .argument('<job>', 'job name')
    .argument('<key>', 'secret key')
    .option('--build', 'only the build secret', false)
    .option('--runtime', 'only the runtime secret', false)
    .option('--json', 'print JSON', false)
    .action(async (job: string, key: string, options: { build: boolean; runtime: boolean; json: boolean }) => {
      checkKey(key);
      if (options.build && options.runtime) throw new CliExit(2, 'give at most one of --build and --runtime');
      const kind = options.build ? '?kind=build' : options.runtime ? '?kind=runtime' : '';
      const answer = await client().json<{ deleted: { job: string; key: string; kinds: string[] } }>('DELETE', `${jobPath(job)}/${encodeURIComponent(key)}${kind}`);
      output.out(options.json ? `${JSON.stringify(answer)}\n` : `deleted ${answer.deleted.kinds.join(' and ')} secret ${key} of ${job}\n`);
    });
}
