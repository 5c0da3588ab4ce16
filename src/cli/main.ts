/**
 * The `pitlane` command line. Server commands (`serve`) run Pitlane; client commands talk to a
 * server found through PITLANE_URL / PITLANE_TOKEN or the config file.
 */
import { Command, CommanderError } from 'commander';
import { pitlaneVersion } from '../version.js';
import { clientSettings, PitlaneClient } from './client.js';
import { CliExit, printError, processOutput, type Output } from './output.js';

/** What a command module needs to register its commands. */
interface RegistrationContext {
  program: Command;
  output: Output;
  env: NodeJS.ProcessEnv;
  setExit: (wait: Promise<number>) => void;
  client: () => PitlaneClient;
}

/**
 * Every command module, the top-level commands it registers, and how to load it. Only the module
 * of the command being run is imported (the others cost start-up time, which `pitlane run`
 * spends before the server even has the run); `--help`, `--version` and unknown commands load all.
 * test/unit/cli/main.test.ts checks that each module registers exactly the commands listed here.
 */
export const COMMAND_MODULES: ReadonlyArray<{ commands: readonly string[]; register: (context: RegistrationContext) => Promise<void> }> = [
  { commands: ['serve'], register: async (c) => (await import('./serve-command.js')).registerServeCommand(c.program, c.output, c.env, c.setExit) },
  { commands: ['deploy'], register: async (c) => (await import('./deploy-command.js')).registerDeployCommand(c.program, c.output, c.client) },
  {
    commands: ['list', 'describe', 'call', 'logs', 'build-logs', 'delete'],
    register: async (c) => (await import('./job-commands.js')).registerJobCommands(c.program, c.output, c.client, () => process.stdin),
  },
  { commands: ['secret'], register: async (c) => (await import('./secret-commands.js')).registerSecretCommands(c.program, c.output, c.client, () => process.stdin) },
  { commands: ['run', 'runs'], register: async (c) => (await import('./run-commands.js')).registerRunCommands(c.program, c.output, c.client) },
  { commands: ['exec'], register: async (c) => (await import('./exec-command.js')).registerExecCommand(c.program, c.output, c.env, c.setExit) },
  { commands: ['lint'], register: async (c) => (await import('./lint-command.js')).registerLintCommand(c.program, c.output) },
  { commands: ['init'], register: async (c) => (await import('./init-command.js')).registerInitCommand(c.program, c.output) },
  { commands: ['wheels'], register: async (c) => (await import('./wheel-commands.js')).registerWheelCommands(c.program, c.output, c.client) },
  { commands: ['inspect', 'test-image'], register: async (c) => (await import('./image-commands.js')).registerImageCommands(c.program, c.output) },
  {
    commands: ['login', 'logout', 'whoami', 'token'],
    register: async (c) => (await import('./auth-commands.js')).registerAuthCommands(c.program, c.output, c.env, () => process.stdin),
  },
  {
    commands: ['user', 'service-account', 'grant', 'revoke', 'permissions', 'public-endpoints', 'audit'],
    register: async (c) => (await import('./identity-commands.js')).registerIdentityCommands(c.program, c.output, c.client, () => process.stdin),
  },
];

/**
 * Builds the command tree. `setExit` lets long-running commands (serve) hand back their exit code
 * later. With `commandName` (the first argument) only that command's module is loaded when it is
 * a known command; otherwise every module is.
 */
export async function buildProgram(output: Output, env: NodeJS.ProcessEnv, setExit: (wait: Promise<number>) => void, commandName?: string): Promise<Command> {
  const program = new Command();
  program
    .name('pitlane')
    .description('Pitlane: turn a Dockerfile or a small piece of code into a running, callable, observable container job.')
    .version(pitlaneVersion())
    .showHelpAfterError()
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .exitOverride()
    .addHelpText('after', '\nClient commands find the server through PITLANE_URL (default http://127.0.0.1:7300) and PITLANE_TOKEN.');
  const context: RegistrationContext = { program, output, env, setExit, client: () => new PitlaneClient(clientSettings(env)) };
  const only = COMMAND_MODULES.find((module) => commandName !== undefined && module.commands.includes(commandName));
  for (const module of only ? [only] : COMMAND_MODULES) await module.register(context);
  return program;
}

/**
 * Runs the CLI with `argv` (as in process.argv) and resolves to the exit code:
 * 0 success, 1 the operation failed, 2 bad usage.
 */
export async function runCli(argv: string[], output: Output = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let longRunning: Promise<number> | undefined;
  const program = await buildProgram(
    output,
    env,
    (wait) => {
      longRunning = wait;
    },
    argv[2],
  );
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
