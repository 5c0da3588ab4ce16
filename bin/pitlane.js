#!/usr/bin/env node
// Entry point of the `pitlane` command: runs the compiled CLI from dist/ and exits with its code
// as soon as output is flushed (open keep-alive connections must not hold the process).
import { runCli } from '../dist/cli/main.js';

function exitWhenFlushed(code) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

runCli(process.argv).then(exitWhenFlushed, (error) => {
  process.stderr.write(`pitlane: ${error && error.message ? error.message : String(error)}\n`);
  exitWhenFlushed(125);
});
