/**
 * Runs one container straight against the Docker engine, the way `docker run --rm` does, for
 * `pitlane exec` (seed 003's proxy), through the small Engine API client of `engine.ts` (not
 * dockerode, whose loading alone would take longer than a short container's whole run):
 *
 * 1. create it with AutoRemove (pulling the image once when the engine does not have it): the
 *    engine removes it when it ends, also when `pitlane exec` is no longer there (SIGKILL);
 * 2. attach to its stdout and stderr, and register a `wait` with `condition=removed`, both
 *    BEFORE starting it and both at once (a wait registered after a fast container was already
 *    removed would get a 404 instead of its exit status; the engine answers the wait's headers
 *    once the wait is registered);
 * 3. start it, and copy its output to our stdout and stderr as the bytes arrive;
 * 4. forward SIGINT/SIGTERM to it (SIGKILL after a grace period, or at a second signal);
 * 5. the wait answers once the engine has removed it, with its exit status; return that status
 *    once the last output is copied. No `DELETE` on this path: the round trip is saved.
 *
 * A container that never started (interrupted before, attach failed) is removed with
 * `DELETE ?force=1`, as is one whose removal the wait could not confirm. A run that lasts longer
 * than `watchdogAfterMs` gets a watchdog process (watchdog.ts) that removes the container if
 * `pitlane exec` dies without doing it (AutoRemove alone would let a long container run on).
 *
 * Every Engine API call on the way is marked for PITLANE_EXEC_TRACE (trace.ts).
 * The engine is DOCKER_HOST, else /var/run/docker.sock (see `engine.ts`).
 */
import type { Duplex, PassThrough } from 'node:stream';
import { containerCreateOptions, engineMessage, signalExitCode, startFailureExitCode, type ContainerCreateBody } from './container-options.js';
import { Engine, engineAddress } from './engine.js';
import { FrameDecoder } from './frames.js';
import { ExecFailure, type ForwardedSignal, type SignalSource } from './failure.js';
import type { ExecSpec } from './spec.js';
import { mark } from './trace.js';
import type { Watchdog } from './watchdog.js';

export { ExecFailure, type ForwardedSignal, type SignalSource };

/** Options of {@link runContainer}. */
export interface RunContainerOptions {
  /** The child's stdout and stderr go here, byte for byte. */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Pitlane's own messages (pulling, forwarding a signal); default: none. */
  note?: (text: string) => void;
  /** Engine connection; default: one to the engine `env` names (DOCKER_HOST, else /var/run/docker.sock), closed at the end. */
  engine?: Engine;
  /** Where DOCKER_HOST and friends are read when no `engine` is given (and the watchdog's environment); default process.env. */
  env?: Record<string, string | undefined>;
  signals?: SignalSource;
  /** Time between the forwarded signal and SIGKILL, as `docker stop -t`; default 10 s. */
  stopTimeoutMs?: number;
  /** Docker's init as PID 1 (`docker run --init`), so that a plain program gets signals' default actions. */
  init?: boolean;
  /** Called with the container id once it exists. */
  onCreated?: (id: string) => void;
  /**
   * Start a watchdog (watchdog.ts) once the run has lasted this long since the container was
   * created; default: no watchdog. `pitlane exec` uses WATCHDOG_AFTER_MS.
   */
  watchdogAfterMs?: number;
  /** Starts the watchdog for a container id; default: spawnWatchdog (a detached Node process). */
  startWatchdog?: (containerId: string) => Promise<Watchdog>;
}

/** Body of `POST /containers/{id}/wait`. */
interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** How long a run lasts (from the container's creation) before `pitlane exec` starts its watchdog (watchdog.ts). */
export const WATCHDOG_AFTER_MS = 1_000;

/** How long clean-up waits for the engine to confirm the removal of a container it removes itself (a failed start). */
const REMOVAL_CONFIRM_MS = 5_000;

/**
 * Runs `spec` to completion and resolves to the container's exit status (128 + n when it was
 * interrupted before it started). The container is gone when it resolves or rejects.
 * @throws ExecFailure when the container could not be created or started, or the engine failed.
 */
export async function runContainer(spec: ExecSpec, options: RunContainerOptions): Promise<number> {
  let engine: Engine;
  try {
    engine = options.engine ?? (await Engine.connect(engineAddress(options.env ?? process.env)));
  } catch (error) {
    throw new ExecFailure(125, `cannot reach the Docker engine: ${engineMessage(error)}`, error);
  }
  try {
    return await runWith(engine, spec, options);
  } finally {
    if (!options.engine) engine.close();
  }
}

async function runWith(engine: Engine, spec: ExecSpec, options: RunContainerOptions): Promise<number> {
  const note = options.note ?? ((): void => {});
  const signals = options.signals ?? process;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;

  // Mutable run state, in an object so that the closures below and the main flow share it.
  const state: {
    path?: string;
    running: boolean;
    interrupted?: ForwardedSignal;
    killTimer?: NodeJS.Timeout;
    killed: boolean;
    attach?: Duplex;
    wait?: PassThrough;
    /** The wait answer (condition=removed) once registered. */
    exited?: Promise<WaitResult>;
    /** `start` was sent: from then on the engine removes the container itself (AutoRemove). */
    startSent: boolean;
    /** The wait answered: the engine has removed the container. */
    removed: boolean;
    watchdogTimer?: NodeJS.Timeout;
    watchdog?: Promise<Watchdog | undefined>;
  } = { running: false, killed: false, startSent: false, removed: false };

  const sendSignal = (signal: ForwardedSignal | 'SIGKILL'): void => {
    if (!state.path || !state.running || state.killed) return;
    if (signal === 'SIGKILL') {
      state.killed = true;
      clearTimeout(state.killTimer);
    } else if (state.killTimer === undefined) {
      state.killTimer = setTimeout(() => {
        note(`pitlane exec: the container did not stop within ${stopTimeoutMs / 1000} s of ${signal}; sending SIGKILL\n`);
        sendSignal('SIGKILL');
      }, stopTimeoutMs);
    }
    engine.json('POST', `${state.path}/kill?signal=${signal}`).catch(() => {
      // Already stopped: nothing to forward.
    });
  };
  const listeners = new Map<ForwardedSignal, () => void>();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const listener = (): void => {
      if (state.interrupted === undefined) {
        state.interrupted = signal;
        sendSignal(signal);
      } else {
        note(`pitlane exec: ${signal} again; sending SIGKILL\n`);
        sendSignal('SIGKILL');
      }
    };
    listeners.set(signal, listener);
    signals.on(signal, listener);
  }

  /**
   * Makes sure the container is gone: nothing to do once the wait answered; after a start was
   * sent (it failed, or the wait was lost) the engine removes it itself, so wait a little for its
   * answer; otherwise (never started) remove it: force, anonymous volumes too.
   */
  const ensureRemoved = async (): Promise<void> => {
    const path = state.path;
    if (!path || state.removed) return;
    if (state.startSent && state.exited) {
      const confirmed = await Promise.race([state.exited.then(() => true, () => false), delay(REMOVAL_CONFIRM_MS).then(() => false)]);
      if (confirmed) return;
    }
    await engine.json('DELETE', `${path}?force=1&v=1`).then(
      () => undefined,
      (error: unknown) => {
        const status = (error as { statusCode?: number }).statusCode;
        // 404: already gone; 409: removal already in progress.
        if (status !== 404 && status !== 409) note(`pitlane exec: could not remove container ${path.slice('/containers/'.length, '/containers/'.length + 12)}: ${engineMessage(error)}\n`);
      },
    );
  };

  try {
    mark('create sent');
    const id = await createContainer(engine, spec.image, containerCreateOptions(spec, { init: options.init }), note);
    mark('created');
    const path = `/containers/${encodeURIComponent(id)}`;
    state.path = path;
    options.onCreated?.(id);
    if (options.watchdogAfterMs !== undefined) {
      const startWatchdog = options.startWatchdog ?? ((containerId: string) => import('./watchdog.js').then((w) => w.spawnWatchdog(containerId, options.env ?? process.env)));
      state.watchdogTimer = setTimeout(() => {
        state.watchdog = startWatchdog(id).catch(() => undefined);
      }, options.watchdogAfterMs);
      state.watchdogTimer.unref();
    }
    if (state.interrupted) return signalExitCode(state.interrupted);

    // Attach and register the wait at the same time; start only once both are in place.
    const [attached, waiting] = await Promise.allSettled([
      engine.hijack(`${path}/attach?stream=1&stdout=1&stderr=1`).then((stream) => {
        mark('attached');
        return (state.attach = stream);
      }),
      engine.stream('POST', `${path}/wait?condition=removed`).then((response) => {
        mark('wait registered');
        return (state.wait = response);
      }),
    ]);
    if (attached.status === 'rejected') throw new ExecFailure(125, `cannot attach to the container: ${engineMessage(attached.reason)}`, attached.reason);
    if (waiting.status === 'rejected') throw new ExecFailure(125, `cannot wait for the container: ${engineMessage(waiting.reason)}`, waiting.reason);
    const outputDone = copyOutput(attached.value, options.stdout, options.stderr);
    const exited = waitResult(waiting.value);
    exited.catch(() => {});
    state.exited = exited;
    if (state.interrupted) return signalExitCode(state.interrupted);

    state.startSent = true;
    try {
      await engine.json('POST', `${path}/start`);
    } catch (error) {
      const message = engineMessage(error);
      throw new ExecFailure(startFailureExitCode(message), `cannot start the container: ${message}`, error);
    }
    state.running = true;
    mark('started');
    if (state.interrupted) sendSignal(state.interrupted);

    let result: WaitResult;
    try {
      result = await exited;
    } catch (error) {
      throw new ExecFailure(125, `lost the container while waiting for it to exit: ${engineMessage(error)}`, error);
    }
    state.running = false;
    state.removed = true;
    mark('wait answered (removed)');
    // The last output can arrive just after the wait answer.
    await Promise.race([outputDone, delay(5_000)]);
    mark('output done');
    if (result.Error?.Message) note(`pitlane exec: ${result.Error.Message}\n`);
    return result.StatusCode;
  } finally {
    state.running = false;
    clearTimeout(state.killTimer);
    clearTimeout(state.watchdogTimer);
    for (const [signal, listener] of listeners) signals.off(signal, listener);
    await ensureRemoved();
    state.wait?.destroy();
    state.attach?.destroy();
    // Only now: the watchdog also covers a pitlane exec killed during the clean-up above.
    (await state.watchdog)?.stop();
    mark('cleaned up');
  }
}

/** Creates the container and returns its id, pulling the image once if the engine does not have it. */
async function createContainer(engine: Engine, image: string, body: ContainerCreateBody, note: (text: string) => void): Promise<string> {
  const create = async (): Promise<string> => (await engine.json<{ Id: string }>('POST', '/containers/create', body)).Id;
  try {
    return await create();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw new ExecFailure(125, `cannot create the container: ${engineMessage(error)}`, error);
  }
  note(`Unable to find image '${image}' locally; pulling it\n`);
  try {
    await engine.pull(image);
  } catch (error) {
    throw new ExecFailure(125, `cannot pull image ${image}: ${engineMessage(error)}`, error);
  }
  try {
    return await create();
  } catch (error) {
    throw new ExecFailure(125, `cannot create the container: ${engineMessage(error)}`, error);
  }
}

/** Reads the wait answer's body (sent when the container has been removed). */
function waitResult(res: PassThrough): Promise<WaitResult> {
  return new Promise<WaitResult>((resolve, reject) => {
    if (res.errored) return reject(res.errored);
    if (res.destroyed) return reject(new Error('the engine closed the wait connection'));
    const chunks: Buffer[] = [];
    let settled = false;
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => {
      settled = true;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        const body = JSON.parse(text) as WaitResult;
        if (typeof body.StatusCode !== 'number') throw new Error(`no StatusCode in ${text}`);
        resolve(body);
      } catch (parseError) {
        reject(new Error(`unexpected wait answer from the engine: ${text || (parseError as Error).message}`));
      }
    });
    res.on('error', (streamError) => {
      settled = true;
      reject(streamError);
    });
    res.on('close', () => {
      if (!settled) reject(new Error('the engine closed the wait connection'));
    });
  });
}

/**
 * Copies the multiplexed attach stream to `stdout`/`stderr` as it arrives (payload bytes are
 * written as soon as they come, not per line or per frame), pausing the source while a sink is
 * full. A sink that fails (EPIPE: whoever read our output went away) is dropped from then on, and
 * its output discarded, so that the container is never blocked on it and still ends, is removed
 * and gives its status. Resolves when the source ends.
 */
function copyOutput(source: NodeJS.ReadableStream, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<void> {
  const decoder = new FrameDecoder();
  const waiting = new Set<NodeJS.WritableStream>();
  const broken = new Set<NodeJS.WritableStream>();
  let raw = false;
  const unblock = (sink: NodeJS.WritableStream): void => {
    if (waiting.delete(sink) && waiting.size === 0) source.resume();
  };
  const onError = new Map<NodeJS.WritableStream, () => void>();
  for (const sink of new Set([stdout, stderr])) {
    const listener = (): void => {
      broken.add(sink);
      unblock(sink);
    };
    onError.set(sink, listener);
    sink.on('error', listener);
  }
  const write = (sink: NodeJS.WritableStream, data: Buffer): void => {
    if (data.length === 0 || broken.has(sink)) return;
    if (!sink.write(data) && !waiting.has(sink)) {
      waiting.add(sink);
      source.pause();
      sink.once('drain', () => unblock(sink));
    }
  };
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      write(stdout, decoder.leftover());
      // Keep swallowing late errors of a broken sink (its pending writes fail after we are done).
      for (const [sink, listener] of onError) if (!broken.has(sink)) sink.off('error', listener);
      resolve();
    };
    source.on('data', (chunk: Buffer) => {
      if (raw) {
        write(stdout, chunk);
        return;
      }
      try {
        for (const frame of decoder.push(chunk)) write(frame.stream === 'stderr' ? stderr : stdout, frame.data);
      } catch {
        // A corrupt stream: better the bytes than nothing.
        raw = true;
        write(stdout, chunk);
      }
    });
    source.on('end', finish);
    source.on('close', finish);
    source.on('error', finish);
    // The attach stream comes paused (engine.ts hijack); one already torn down has nothing more.
    if ((source as { destroyed?: boolean }).destroyed) finish();
    else source.resume();
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
