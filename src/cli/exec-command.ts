/**
 * `pitlane exec` as a commander command: a thin wrapper over `src/exec/command.ts`, which defines
 * its flags, help text and behaviour once. This is the path for `pitlane exec --help`, usage
 * errors and `runCli`; a plain `pitlane exec` from bin/pitlane.js takes the lean entry
 * `src/exec/main.ts` instead (same flags, same behaviour, parsed with node:util).
 */
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Option, type Command } from 'commander';
import { EXEC_DESCRIPTION, EXEC_HELP, EXEC_OPTIONS, executeExec, type ExecFlags } from '../exec/command.js';
import { processOutput, type Output } from './output.js';

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
  const command = program.command('exec').description(EXEC_DESCRIPTION);
  for (const spec of EXEC_OPTIONS) {
    const option = new Option(`${spec.short ? `-${spec.short}, ` : ''}--${spec.long}${spec.value ? ` ${spec.value}` : ''}`, spec.description);
    if (spec.multiple) option.argParser(collect);
    if (spec.default !== undefined) option.default(spec.default);
    command.addOption(option);
  }
  command.addHelpText('after', EXEC_HELP).action((flags: ExecFlags) => {
    const direct = output === processOutput;
    const stdout = direct ? process.stdout : textSink(output.out);
    const stderr = direct ? process.stderr : textSink(output.err);
    setExit(
      executeExec(flags, env, { stdout, stderr, err: output.err }).finally(() => {
        if (!direct) {
          stdout.end();
          stderr.end();
        }
      }),
    );
  });
}
