/**
 * Timing marks of `pitlane exec`, for profiling its start-up and its Engine API round trips
 * (bench/runs `--trace`). Off unless PITLANE_EXEC_TRACE is set, and then costs one property read
 * per mark. When on, the marks are printed to stderr at process exit, one per line:
 * `pitlane-exec-trace <ms since the process started> <label>`, preceded by Node's own start-up
 * milestones (`performance.nodeTiming`: V8 started, environment ready, bootstrap complete).
 */
import { writeSync } from 'node:fs';

const enabled = (process.env.PITLANE_EXEC_TRACE ?? '') !== '';
const marks: [number, string][] = [];

/** Records `label` at the current time (when tracing is on). */
export function mark(label: string): void {
  if (!enabled) return;
  if (marks.length === 0) process.once('exit', print);
  marks.push([performance.now(), label]);
}

/** Whether PITLANE_EXEC_TRACE is set. */
export function tracing(): boolean {
  return enabled;
}

function print(): void {
  const timing = performance.nodeTiming;
  const lines = [
    [timing.v8Start, 'node: v8 started'],
    [timing.environment, 'node: environment ready'],
    [timing.bootstrapComplete, 'node: bootstrap complete'],
    ...marks,
    [performance.now(), 'process exit'],
  ].map(([at, label]) => `pitlane-exec-trace ${(at as number).toFixed(1)} ${label}\n`);
  writeSync(2, lines.join(''));
}
