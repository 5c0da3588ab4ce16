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

/** The signals `pitlane exec` forwards. */
export type ForwardedSignal = 'SIGINT' | 'SIGTERM';

/** Where signals come from (the process by default; injectable for tests). */
export interface SignalSource {
  on(signal: ForwardedSignal, listener: () => void): unknown;
  off(signal: ForwardedSignal, listener: () => void): unknown;
}
