#!/usr/bin/env node
// Entry point of the `pitlane` command: runs the compiled CLI from dist/ and exits with its code
// as soon as output is flushed (open keep-alive connections must not hold the process).
//
// A CommonJS file (bin/package.json), unlike the rest of the package: on Node 20 an ES module
// entry initialises the ES module loader, about 10 ms of CPU that `pitlane exec` cannot spare.
//
// Fast path: `pitlane exec` without --help/-h loads only the lean exec entry (flags parsed with
// node:util, the engine reached over a plain socket), not commander, dockerode and the other
// commands: on a short container, module loading would otherwise be most of the wall time. It
// comes from dist/exec/main.bundle.cjs (scripts/build-exec-bundle.mjs, run by `npm run build`)
// when that bundle is as fresh as the dist/ files it was made from, else from dist/exec/main.js.
'use strict';

// Node 22+ keeps compiled code of the modules it loads on disk between runs; not in Node 20.
try {
  require('node:module').enableCompileCache?.();
} catch {
  // Not writable (no temporary directory): compile as usual.
}

const args = process.argv.slice(2);
const fastExec = args[0] === 'exec' && !args.includes('--help') && !args.includes('-h');

function exitWhenFlushed(code) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/** The lean exec entry: the CommonJS bundle when it is fresh, else the ES module. */
function loadExec() {
  let bundle;
  try {
    bundle = require('../dist/exec/main.bundle.cjs');
  } catch {
    // Not built (a plain `tsc` build): the ES modules.
  }
  // Which one ran, for PITLANE_EXEC_TRACE (src/exec/trace.ts).
  const fresh = Boolean(bundle && bundle.isFresh());
  globalThis[Symbol.for('pitlane.exec.entry')] = fresh ? 'bundle' : 'es-modules';
  return fresh ? Promise.resolve(bundle.load()) : import('../dist/exec/main.js');
}

const run = fastExec
  ? loadExec().then((exec) => exec.runExecCommand(process.argv))
  : import('../dist/cli/main.js').then((cli) => cli.runCli(process.argv));

run.then(exitWhenFlushed, (error) => {
  process.stderr.write(`pitlane: ${error && error.message ? error.message : String(error)}\n`);
  exitWhenFlushed(125);
});
