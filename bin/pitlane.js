#!/usr/bin/env node
// Entry point of the `pitlane` command: runs the compiled CLI from dist/.
import { runCli } from '../dist/cli/main.js';

runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`pitlane: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 125;
  },
);
