/**
 * The watchdog that removes a `pitlane exec` container when `pitlane exec` itself dies without
 * cleaning up (SIGKILL, the OOM killer, a crash). AutoRemove (container-options.ts) already has
 * the engine remove a container once it ends; the watchdog covers the container that would
 * otherwise run on, unattended, after its `pitlane exec` is gone.
 *
 * - `pitlane exec` starts it ({@link spawnWatchdog}: `node dist/exec/watchdog-main.js ID`) only
 *   once a run has lasted WATCHDOG_AFTER_MS (run-container.ts, one second), so that a short container never pays for a
 *   second Node process. It is detached (its own session: a kill of pitlane's process group or a
 *   terminal hang-up does not reach it), and `pitlane exec` holds the only write end of its stdin.
 * - The watchdog ({@link guardContainer}) does nothing until its stdin reaches end of file, which
 *   happens when `pitlane exec`'s process ends, in whatever way. A `pitlane exec` that finishes
 *   normally kills its watchdog first (by PID, {@link Watchdog.stop}); so a watchdog that sees
 *   end of file has lost its parent, and force-removes the container
 *   (`DELETE /containers/{id}?force=1&v=1`: SIGKILL, then removal with its anonymous volumes).
 */
import type { Engine } from './engine.js';

/** A running watchdog, seen from `pitlane exec`. */
export interface Watchdog {
  /** Its process id (the detached `node watchdog-main.js` process). */
  readonly pid: number | undefined;
  /** Ends it without it touching the container (`pitlane exec` is cleaning up itself). */
  stop(): void;
}

/**
 * Starts the watchdog process for container `containerId`, with `env` as its environment (it
 * reads DOCKER_HOST and friends from it, as `pitlane exec` did).
 * @param entry the watchdog script; default dist/exec/watchdog-main.js next to this module.
 */
export async function spawnWatchdog(containerId: string, env: NodeJS.ProcessEnv, entry?: string): Promise<Watchdog> {
  const [{ spawn }, { fileURLToPath }] = await Promise.all([import('node:child_process'), import('node:url')]);
  const script = entry ?? fileURLToPath(new URL('./watchdog-main.js', import.meta.url));
  const child = spawn(process.execPath, [script, containerId], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
  child.on('error', () => {
    // Could not start (no memory, no process slot): the run goes on unguarded, as before.
  });
  child.stdin?.on('error', () => {});
  // Neither the process nor the pipe may keep `pitlane exec` running.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    pid: child.pid,
    stop(): void {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * The watchdog's work: waits for end of file on `parent` (the pipe from `pitlane exec`), then
 * force-removes container `containerId` through the engine `connect` opens.
 * @returns 0 when the container is gone (removed now, or already), 1 when the engine refused.
 */
export async function guardContainer(containerId: string, parent: NodeJS.ReadableStream, connect: () => Promise<Engine>): Promise<number> {
  await new Promise<void>((resolve) => {
    parent.on('end', resolve);
    parent.on('close', resolve);
    parent.on('error', () => resolve());
    parent.resume();
  });
  const engine = await connect();
  try {
    await engine.json('DELETE', `/containers/${encodeURIComponent(containerId)}?force=1&v=1`);
    return 0;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    // 404: already gone (AutoRemove); 409: its removal is already in progress.
    return status === 404 || status === 409 ? 0 : 1;
  } finally {
    engine.close();
  }
}
