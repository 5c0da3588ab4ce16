#!/usr/bin/env node
// Entry point of the `pitlane` command: runs the compiled CLI from dist/ and exits with its code
// as soon as output is flushed (open keep-alive connections must not hold the process).
//
// Fast path: `pitlane exec` without --help/-h loads only dist/exec/main.js (flags parsed with
// node:util, the engine reached over node:http), not commander, dockerode and the other
// commands: on a short container, module loading would otherwise be most of the wall time.
const args = process.argv.slice(2);
const fastExec = args[0] === 'exec' && !args.includes('--help') && !args.includes('-h');

function exitWhenFlushed(code) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

const run = fastExec
  ? import('../dist/exec/main.js').then((exec) => exec.runExecCommand(process.argv))
  : import('../dist/cli/main.js').then((cli) => cli.runCli(process.argv));

run.then(exitWhenFlushed, (error) => {
  process.stderr.write(`pitlane: ${error && error.message ? error.message : String(error)}\n`);
  exitWhenFlushed(125);
});
