/**
 * In-process notifications that a run got new log lines or changed status, so log followers in
 * this process wake at once instead of polling. Followers still poll slowly as a fallback, since
 * another Pitlane process sharing the database may be executing the run.
 */
import { EventEmitter } from 'node:events';

export class RunEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Tells followers of `runId` that something changed. */
  notify(runId: string): void {
    this.emitter.emit(runId);
  }

  /** Resolves at the next notification for `runId`, or after `timeoutMs`. */
  next(runId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off(runId, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.once(runId, done);
    });
  }
}
