/**
 * Timing marks of `pitlane exec`, for profiling its start-up and its Engine API round trips
 * (bench/runs `--trace`). Off unless PITLANE_EXEC_TRACE is set, and then costs one property read
 * per mark. When on, the marks are printed to stderr at process exit, one per line:
 * `pitlane-exec-trace <ms since the process started> <CPU ms used by then> <label>`, preceded by
 * Node's own start-up milestones (`performance.nodeTiming`: V8 started, environment ready,
 * bootstrap complete; their CPU column is `-`) and by the entry bin/pitlane.js loaded
 * (`entry: bundle` or `entry: es-modules`).
 */
const enabled = (process.env.PITLANE_EXEC_TRACE ?? '') !== '';
const marks: [number, number | undefined, string][] = [];

/** Records `label` at the current time (when tracing is on). */
export function mark(label: string): void {
  if (!enabled) return;
  if (marks.length === 0) process.once('exit', print);
  marks.push([performance.now(), cpuMs(), label]);
}

/** CPU time (user + system) this process has used so far, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function print(): void {
  const timing = performance.nodeTiming;
  const lines = [
    [timing.v8Start, undefined, 'node: v8 started'],
    [timing.environment, undefined, 'node: environment ready'],
    [timing.bootstrapComplete, undefined, 'node: bootstrap complete'],
    // Set by bin/pitlane.js: the CommonJS bundle or the ES modules.
    [0, undefined, `entry: ${String((globalThis as Record<symbol, unknown>)[Symbol.for('pitlane.exec.entry')] ?? 'unknown')}`],
    ...marks,
    [performance.now(), cpuMs(), 'process exit'],
  ].map(([at, cpu, label]) => `pitlane-exec-trace ${(at as number).toFixed(1)} ${cpu === undefined ? '-' : (cpu as number).toFixed(1)} ${label}\n`);
  // Synchronous for files and pipes on Linux, as an exit handler needs (no node:fs import: ESM
  // imports of builtins evaluate all their lazy exports, fs's streams included).
  process.stderr.write(lines.join(''));
}
