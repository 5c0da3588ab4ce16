/**
 * The lean entry of `pitlane exec`: bin/pitlane.js loads this module (from its CommonJS bundle,
 * dist/exec/main.bundle.cjs made by scripts/build-exec-bundle.mjs, when that is fresh) instead of the whole CLI
 * (commander, undici, dockerode and every other command) when the first argument is `exec` and no
 * `--help` is asked for, because on a short container start-up time is most of the wall time.
 * The flags are those of `command.ts` (the same table the commander command is built from),
 * parsed with node:util `parseArgs`; anything it refuses (an unknown flag, a stray argument) is
 * handed to the commander CLI, so usage errors read exactly as `pitlane exec`'s always have.
 */
import { parseArgs } from 'node:util';
import { EXEC_OPTIONS, executeExec, type ExecFlags } from './command.js';
import { mark } from './trace.js';

mark('exec modules loaded');

/** `parseArgs` options built from {@link EXEC_OPTIONS}. */
function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string }> {
  const options: ReturnType<typeof parseArgsOptions> = {};
  for (const option of EXEC_OPTIONS) {
    options[option.long] = {
      type: option.value ? 'string' : 'boolean',
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
      ...(option.default !== undefined ? { default: option.default } : {}),
    };
  }
  return options;
}

/**
 * Parses the arguments after `exec`.
 * @throws TypeError (node's ERR_PARSE_ARGS_*) for an unknown flag, a missing value or a positional argument.
 */
export function parseExecFlags(args: string[]): ExecFlags {
  const { values } = parseArgs({ args, options: parseArgsOptions(), strict: true, allowPositionals: false });
  const flags: Record<string, unknown> = {};
  for (const option of EXEC_OPTIONS) {
    const value = (values as Record<string, unknown>)[option.long];
    if (value !== undefined) flags[option.key] = value;
  }
  return flags as ExecFlags;
}

/** Runs `pitlane exec` from `argv` (as process.argv: node, script, `exec`, flags...) and resolves to its exit status. */
export async function runExecCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let flags: ExecFlags;
  try {
    flags = parseExecFlags(argv.slice(3));
  } catch {
    const { runCli } = await import('../cli/main.js');
    return runCli(argv, undefined, env);
  }
  // A reader of our output that goes away (EPIPE) must not kill pitlane between create and
  // remove: the container would be left behind. Output is then dropped; the run goes on.
  const ignore = (): void => {};
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
  return executeExec(flags, env, { stdout: process.stdout, stderr: process.stderr, err: (text) => process.stderr.write(text) });
}
