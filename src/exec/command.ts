/**
 * `pitlane exec`: its flags, help text and behaviour, defined once. Two front ends use them:
 * `main.ts` (the lean entry bin/pitlane.js takes, flags parsed with node:util `parseArgs`) and
 * `src/cli/exec-command.ts` (the commander command, for `--help`, usage errors and `runCli`).
 *
 * Runs one container from IMAGE / COMMAND / VOLUMES / `*_ENV` (flags override), copies its stdout
 * and stderr to ours as they arrive, forwards SIGINT/SIGTERM, removes it and exits with its
 * status. Straight against the Docker engine; with `--server` the run is recorded on a Pitlane
 * server instead.
 *
 * Exit status: the child's; 125 when the container could not be created or started (or its image
 * pulled), 126/127 when its command could not be run (as `docker run`), 124 for a recorded run
 * that timed out, 2 for bad input (the message names the variable or flag).
 *
 * Keep this module's static imports light (no commander, undici, dockerode, nor picocolors, whose
 * CommonJS loading alone costs about 10 ms): it is on the start-up path of every `pitlane exec`.
 */
import { isPitlaneError } from '../errors.js';
import { isExecFailure } from './failure.js';
import { runContainer, WATCHDOG_AFTER_MS } from './run-container.js';
import { resolveExecSpec, type ExecSpec } from './spec.js';

/** Parsed flags of `pitlane exec` (commander's camel-case keys). */
export interface ExecFlags {
  image?: string;
  command?: string;
  volume?: string[];
  env?: string[];
  server?: boolean;
  init?: boolean;
  stopTimeout?: string;
}

/** One flag of `pitlane exec`. */
export interface ExecOption {
  /** Long name without dashes, as `parseArgs` takes it. */
  long: string;
  /** Key in {@link ExecFlags}. */
  key: keyof ExecFlags;
  short?: string;
  /** Placeholder of the value in help (`<image>`); absent for a boolean flag. */
  value?: string;
  /** Repeatable: the values are collected in order. */
  multiple?: boolean;
  default?: string;
  description: string;
}

export const EXEC_DESCRIPTION = 'Run one container from IMAGE/COMMAND/VOLUMES/*_ENV, pipe its output, forward signals, remove it, exit with its status.';

export const EXEC_OPTIONS: readonly ExecOption[] = [
  { long: 'image', key: 'image', value: '<image>', description: 'image to run (overrides IMAGE)' },
  { long: 'command', key: 'command', value: '<command>', description: 'command: a JSON array or a shell-style string (overrides COMMAND)' },
  { long: 'volume', key: 'volume', short: 'v', value: '<src:dst[:ro]>', multiple: true, description: 'mount a host path or named volume; repeatable (replaces VOLUMES)' },
  { long: 'env', key: 'env', short: 'e', value: '<name=value>', multiple: true, description: 'also set this variable in the container (or -e NAME to pass NAME from here); repeatable' },
  { long: 'init', key: 'init', description: 'run an init process as PID 1 in the container (docker run --init)' },
  { long: 'stop-timeout', key: 'stopTimeout', value: '<seconds>', default: '10', description: 'seconds between a forwarded SIGINT/SIGTERM and SIGKILL' },
  { long: 'server', key: 'server', description: 'record the run on the Pitlane server (PITLANE_URL, PITLANE_TOKEN) instead of using the local engine' },
];

export const EXEC_HELP = `
Environment (seed 003's conventions; the flags above override them):
  IMAGE     required: the image to run (pulled once when the engine does not have it)
  COMMAND   optional: the command, as a JSON array  ["sh", "-c", "echo hi"]
            or as a string split like a shell would, without running one:
            sh -c 'echo hi'   (quotes and backslashes work; no globbing, no $VAR
            expansion, no pipes or &&: use sh -c '...' for those)
  VOLUMES   optional: a JSON list of mounts  ["/host/dir:/data", "/etc/app:/conf:ro", "cache-volume:/cache"]
            (host paths absolute, container paths absolute, mode ro or rw)
  *_ENV     every variable whose name ends in _ENV is passed to the container under
            the same name (DB_NAME_ENV=analytics is DB_NAME_ENV=analytics inside);
            no other variable of this environment reaches the container

The container's stdout and stderr are copied to pitlane's as they arrive; SIGINT/SIGTERM
are forwarded to it (SIGKILL after --stop-timeout, or at a second signal); it is removed
(label pitlane.exec=true; created with AutoRemove, like docker run --rm, and, after its
first second, watched by a small process that removes it should pitlane itself be killed),
and pitlane exits with its exit status.

Exit status: the container's; 125 when it could not be created or started or its image
could not be pulled; 126/127 when its command could not be run; 2 for bad input.
With --server (PITLANE_URL, PITLANE_TOKEN) the run is recorded on the Pitlane server
and followed there; a run that timed out exits 124.

Docker engine: DOCKER_HOST (unix:// or tcp://, TLS with DOCKER_TLS_VERIFY and
DOCKER_CERT_PATH), else /var/run/docker.sock.

Example (a scheduler step):
  IMAGE=busybox:latest \\
  COMMAND='sh -c "echo connecting to $DB_HOST_ENV/$DB_NAME_ENV; ls /data"' \\
  VOLUMES='["/srv/exports:/data:ro"]' \\
  DB_NAME_ENV=analytics DB_HOST_ENV=db.remote.instance \\
  pitlane exec
`;

/** Where `pitlane exec` writes: the child's two streams, and Pitlane's own messages. */
export interface ExecIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Pitlane's notes and errors (the CLI's stderr). */
  err: (text: string) => void;
}

/**
 * Runs `pitlane exec` with parsed `flags` and resolves to its exit status; errors are printed to
 * `io.err` the way the CLI prints them (`error: ...`, then an API error's details).
 */
export async function executeExec(flags: ExecFlags, env: NodeJS.ProcessEnv, io: ExecIO): Promise<number> {
  let spec: ExecSpec;
  try {
    spec = resolveExecSpec(env, { image: flags.image, command: flags.command, volumes: flags.volume, env: flags.env });
  } catch (error) {
    if (!isPitlaneError(error)) throw error;
    printError(io, error);
    return 2;
  }
  const stopTimeout = flags.stopTimeout ?? '10';
  const stopTimeoutS = Number(stopTimeout);
  if (!/^\d+(\.\d+)?$/.test(stopTimeout) || !Number.isFinite(stopTimeoutS)) {
    printError(io, new Error(`--stop-timeout: "${stopTimeout}" is not a number of seconds`));
    return 2;
  }
  if (flags.server && flags.init) {
    printError(io, new Error('--init applies to the local engine only; it cannot be combined with --server'));
    return 2;
  }
  try {
    if (flags.server) {
      const [{ runOnServer }, { clientSettings, PitlaneClient }] = await Promise.all([import('./server-run.js'), import('../cli/client.js')]);
      return await runOnServer(new PitlaneClient(clientSettings(env)), spec, { stdout: io.stdout, note: io.err });
    }
    return await runContainer(spec, {
      stdout: io.stdout,
      stderr: io.stderr,
      note: io.err,
      init: flags.init,
      stopTimeoutMs: stopTimeoutS * 1000,
      env,
      watchdogAfterMs: WATCHDOG_AFTER_MS,
    });
  } catch (error) {
    if (isExecFailure(error)) {
      printError(io, error.cause !== undefined && error.exitCode === 2 ? error.cause : error);
      return error.exitCode;
    }
    printError(io, error);
    return 125;
  }
}

/** picocolors' rule for colours (NO_COLOR, --no-color, FORCE_COLOR, --color, a TTY stdout and TERM, CI). */
function colours(): boolean {
  const { env, argv } = process;
  if ('NO_COLOR' in env || argv.includes('--no-color')) return false;
  return 'FORCE_COLOR' in env || argv.includes('--color') || process.platform === 'win32' || (process.stdout.isTTY === true && env.TERM !== 'dumb') || 'CI' in env;
}

/** The CLI's error format (as src/cli/output.ts `printError` with picocolors, without loading the HTTP client it imports for ApiError). */
function printError(io: ExecIO, error: unknown): void {
  const label = colours() ? '\x1b[31merror\x1b[39m' : 'error';
  io.err(`${label}: ${error instanceof Error ? error.message : String(error)}\n`);
  const details = (error as { details?: unknown } | undefined)?.details;
  // An ApiError from the server (--server): its field details, one per line.
  if (error instanceof Error && !isPitlaneError(error) && Array.isArray(details)) {
    for (const detail of details as { path?: string; line?: number; message: string }[]) {
      const where = [detail.path, detail.line !== undefined ? `line ${detail.line}` : ''].filter(Boolean).join(' ');
      io.err(`  - ${where ? `${where}: ` : ''}${detail.message}\n`);
    }
  }
}
