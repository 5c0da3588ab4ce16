/**
 * The `pitlane` command line. Server commands (`serve`) run Pitlane; client commands talk to a
 * server found through PITLANE_URL / PITLANE_TOKEN or the config file.
 */
import { Command, CommanderError } from 'commander';
import { pitlaneVersion } from '../version.js';
import { registerAuthCommands } from './auth-commands.js';
import { clientSettings, PitlaneClient } from './client.js';
import { registerIdentityCommands } from './identity-commands.js';
import { registerDeployCommand } from './deploy-command.js';
import { registerExecCommand } from './exec-command.js';
import { registerJobCommands } from './job-commands.js';
import { registerLintCommand } from './lint-command.js';
import { registerInitCommand } from './init-command.js';
import { registerWheelCommands } from './wheel-commands.js';
import { registerImageCommands } from './image-commands.js';
import { CliExit, printError, processOutput, type Output } from './output.js';
import { registerRunCommands } from './run-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerSecretCommands } from './secret-commands.js';

/** Builds the command tree. `setExit` lets long-running commands (serve) hand back their exit code later. */
export function buildProgram(output: Output, env: NodeJS.ProcessEnv, setExit: (wait: Promise<number>) => void): Command {
  const program = new Command();
  program
    .name('pitlane')
    .description('Pitlane: turn a Dockerfile or a small piece of code into a running, callable, observable container job.')
    .version(pitlaneVersion())
    .showHelpAfterError()
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .exitOverride()
    .addHelpText('after', '\nClient commands find the server through PITLANE_URL (default http://127.0.0.1:7300) and PITLANE_TOKEN.');
  const client = (): PitlaneClient => new PitlaneClient(clientSettings(env));
  registerServeCommand(program, output, env, setExit);
  registerDeployCommand(program, output, client);
  registerJobCommands(program, output, client, () => process.stdin);
  registerSecretCommands(program, output, client, () => process.stdin);
  registerRunCommands(program, output, client);
  registerExecCommand(program, output, env, setExit);
  registerLintCommand(program, output);
  registerInitCommand(program, output);
  registerWheelCommands(program, output, client);
  registerImageCommands(program, output);
  registerAuthCommands(program, output, env, () => process.stdin);
  registerIdentityCommands(program, output, client, () => process.stdin);
  return program;
}

/**
 * Runs the CLI with `argv` (as in process.argv) and resolves to the exit code:
 * 0 success, 1 the operation failed, 2 bad usage.
 */
export async function runCli(argv: string[], output: Output = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let longRunning: Promise<number> | undefined;
  const program = buildProgram(output, env, (wait) => {
    longRunning = wait;
  });
  try {
    await program.parseAsync(argv);
    return longRunning ? await longRunning : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliExit) {
      if (error.message) printError(output, new Error(error.message));
      return error.code;
    }
    printError(output, error);
    return 1;
  }
}
