/**
 * `pitlane exec`: seed 003's thin container proxy. Runs one container from IMAGE / COMMAND /
 * VOLUMES / `*_ENV` (flags override), copies its stdout and stderr to ours as they arrive,
 * forwards SIGINT/SIGTERM, removes it and exits with its status. Straight against the Docker
 * engine; with `--server` the run is recorded on a Pitlane server instead.
 *
 * Exit status: the child's; 125 when the container could not be created or started (or its image
 * pulled), 126/127 when its command could not be run (as `docker run`), 124 for a recorded run
 * that timed out, 2 for bad input (the message names the variable or flag).
 */
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import { isPitlaneError } from '../errors.js';
import { ExecFailure } from '../exec/failure.js';
import { resolveExecSpec, type ExecSpec } from '../exec/spec.js';
import { clientSettings, PitlaneClient } from './client.js';
import { CliExit, printError, processOutput, type Output } from './output.js';

/** Parsed flags of `pitlane exec`. */
interface ExecFlags {
  image?: string;
  command?: string;
  volume?: string[];
  env?: string[];
  server?: boolean;
  init?: boolean;
  stopTimeout?: string;
}

const HELP = `
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
afterwards (label pitlane.exec=true), and pitlane exits with its exit status.

Exit status: the container's; 125 when it could not be created or started or its image
could not be pulled; 126/127 when its command could not be run; 2 for bad input.
With --server (PITLANE_URL, PITLANE_TOKEN) the run is recorded on the Pitlane server
and followed there; a run that timed out exits 124.

Example (a scheduler step):
  IMAGE=busybox:latest \\
  COMMAND='sh -c "echo connecting to $DB_HOST_ENV/$DB_NAME_ENV; ls /data"' \\
  VOLUMES='["/srv/exports:/data:ro"]' \\
  DB_NAME_ENV=analytics DB_HOST_ENV=db.remote.instance \\
  pitlane exec
`;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A writable that hands decoded text to an Output function (when output is not the process's). */
function textSink(write: (text: string) => void): NodeJS.WritableStream {
  const decoder = new StringDecoder('utf8');
  return new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      const text = decoder.write(chunk);
      if (text) write(text);
      callback();
    },
    final(callback): void {
      const text = decoder.end();
      if (text) write(text);
      callback();
    },
  });
}

/** Registers `exec`; its exit status is handed back through `setExit`. */
export function registerExecCommand(program: Command, output: Output, env: NodeJS.ProcessEnv, setExit: (wait: Promise<number>) => void): void {
  program
    .command('exec')
    .description('Run one container from IMAGE/COMMAND/VOLUMES/*_ENV, pipe its output, forward signals, remove it, exit with its status.')
    .option('--image <image>', 'image to run (overrides IMAGE)')
    .option('--command <command>', 'command: a JSON array or a shell-style string (overrides COMMAND)')
    .option('-v, --volume <src:dst[:ro]>', 'mount a host path or named volume; repeatable (replaces VOLUMES)', collect)
    .option('-e, --env <name=value>', 'also set this variable in the container (or -e NAME to pass NAME from here); repeatable', collect)
    .option('--init', 'run an init process as PID 1 in the container (docker run --init)')
    .option('--stop-timeout <seconds>', 'seconds between a forwarded SIGINT/SIGTERM and SIGKILL', '10')
    .option('--server', 'record the run on the Pitlane server (PITLANE_URL, PITLANE_TOKEN) instead of using the local engine')
    .addHelpText('after', HELP)
    .action((flags: ExecFlags) => {
      let spec: ExecSpec;
      try {
        spec = resolveExecSpec(env, { image: flags.image, command: flags.command, volumes: flags.volume, env: flags.env });
      } catch (error) {
        if (isPitlaneError(error)) throw new CliExit(2, error.message);
        throw error;
      }
      const stopTimeoutS = Number(flags.stopTimeout);
      if (!/^\d+(\.\d+)?$/.test(flags.stopTimeout ?? '') || !Number.isFinite(stopTimeoutS)) {
        throw new CliExit(2, `--stop-timeout: "${flags.stopTimeout}" is not a number of seconds`);
      }
      if (flags.server && flags.init) throw new CliExit(2, '--init applies to the local engine only; it cannot be combined with --server');

      const direct = output === processOutput;
      const stdout = direct ? process.stdout : textSink(output.out);
      const stderr = direct ? process.stderr : textSink(output.err);
      const note = (text: string): void => output.err(text);
      const run = async (): Promise<number> => {
        try {
          if (flags.server) {
            const { runOnServer } = await import('../exec/server-run.js');
            return await runOnServer(new PitlaneClient(clientSettings(env)), spec, { stdout, note });
          }
          const { runContainer } = await import('../exec/run-container.js');
          return await runContainer(spec, { stdout, stderr, note, init: flags.init, stopTimeoutMs: stopTimeoutS * 1000 });
        } catch (error) {
          if (error instanceof ExecFailure) {
            printError(output, error.cause !== undefined && error.exitCode === 2 ? error.cause : error);
            throw new CliExit(error.exitCode);
          }
          printError(output, error);
          throw new CliExit(125);
        } finally {
          if (!direct) {
            stdout.end();
            stderr.end();
          }
        }
      };
      setExit(run());
    });
}
