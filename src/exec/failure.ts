/** Types shared by the direct (engine) and recorded (server) ways of running `pitlane exec`. */

/** The run could not happen; `exitCode` is what `pitlane exec` exits with (125, 126/127 like `docker run`, 2 for input the server refused). */
export class ExecFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'ExecFailure';
  }
}

/**
 * Whether `value` is an {@link ExecFailure}, also one made by another copy of this module: the
 * CommonJS bundle of the exec entry (scripts/build-exec-bundle.mjs) imports the `--server`
 * client (server-run.ts) as an ES module, whose failures come from the ES module copy.
 */
export function isExecFailure(value: unknown): value is ExecFailure {
  return value instanceof ExecFailure || (value instanceof Error && value.name === 'ExecFailure' && typeof (value as { exitCode?: unknown }).exitCode === 'number');
}

/** The signals `pitlane exec` forwards. */
export type ForwardedSignal = 'SIGINT' | 'SIGTERM';

/** Where signals come from (the process by default; injectable for tests). */
export interface SignalSource {
  on(signal: ForwardedSignal, listener: () => void): unknown;
  off(signal: ForwardedSignal, listener: () => void): unknown;
}
