/**
 * Runs one container straight against the Docker engine, the way `docker run --rm` does, for
 * `pitlane exec` (seed 003's proxy):
 *
 * 1. create it (pulling the image once when the engine does not have it);
 * 2. attach to its stdout and stderr, and register a `wait` with `condition=next-exit`, both
 *    BEFORE starting it (a default `wait` sent before `start` answers at once with 0, and a wait
 *    registered after a fast container already exited would never answer);
 * 3. start it, and copy its output to our stdout and stderr as the bytes arrive;
 * 4. forward SIGINT/SIGTERM to it (SIGKILL after a grace period, or at a second signal);
 * 5. remove it (anonymous volumes too), whatever happened, and return its exit status.
 *
 * The engine connection is dockerode's default: DOCKER_HOST, else /var/run/docker.sock.
 */
import type { IncomingMessage } from 'node:http';
import Docker from 'dockerode';
import { containerCreateOptions, engineMessage, signalExitCode, startFailureExitCode } from './container-options.js';
import { FrameDecoder } from './frames.js';
import { ExecFailure, type ForwardedSignal, type SignalSource } from './failure.js';
import type { ExecSpec } from './spec.js';

export { ExecFailure, type ForwardedSignal, type SignalSource };

/** Options of {@link runContainer}. */
export interface RunContainerOptions {
  /** The child's stdout and stderr go here, byte for byte. */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Pitlane's own messages (pulling, forwarding a signal); default: none. */
  note?: (text: string) => void;
  /** Engine client; default `new Docker()` (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  signals?: SignalSource;
  /** Time between the forwarded signal and SIGKILL, as `docker stop -t`; default 10 s. */
  stopTimeoutMs?: number;
  /** Docker's init as PID 1 (`docker run --init`), so that a plain program gets signals' default actions. */
  init?: boolean;
  /** Called with the container id once it exists. */
  onCreated?: (id: string) => void;
}

/** Body of `POST /containers/{id}/wait`. */
interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** The slice of docker-modem used here (dockerode types it as `any`). */
interface Modem {
  dial(options: Record<string, unknown>, callback: (error: unknown, response: unknown) => void): void;
  followProgress(stream: NodeJS.ReadableStream, onFinished: (error: unknown, output: unknown[]) => void, onProgress?: (event: unknown) => void): void;
}

/**
 * Runs `spec` to completion and resolves to the container's exit status (128 + n when it was
 * interrupted before it started).
 * @throws ExecFailure when the container could not be created or started, or the engine failed.
 */
export async function runContainer(spec: ExecSpec, options: RunContainerOptions): Promise<number> {
  const docker = options.docker ?? new Docker();
  const modem = docker.modem as unknown as Modem;
  const note = options.note ?? ((): void => {});
  const signals = options.signals ?? process;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const createOptions = containerCreateOptions(spec, { init: options.init });

  // Mutable run state, in an object so that the closures below and the main flow share it.
  const state: {
    container?: Docker.Container;
    running: boolean;
    interrupted?: ForwardedSignal;
    killTimer?: NodeJS.Timeout;
    killed: boolean;
  } = { running: false, killed: false };

  const sendSignal = (signal: ForwardedSignal | 'SIGKILL'): void => {
    const container = state.container;
    if (!container || !state.running || state.killed) return;
    if (signal === 'SIGKILL') {
      state.killed = true;
      clearTimeout(state.killTimer);
    } else if (state.killTimer === undefined) {
      state.killTimer = setTimeout(() => {
        note(`pitlane exec: the container did not stop within ${stopTimeoutMs / 1000} s of ${signal}; sending SIGKILL\n`);
        sendSignal('SIGKILL');
      }, stopTimeoutMs);
    }
    container.kill({ signal }).catch(() => {
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

  let attachStream: NodeJS.ReadableStream | undefined;
  let waitResponse: IncomingMessage | undefined;
  try {
    state.container = await createContainer(docker, modem, spec.image, createOptions, note);
    options.onCreated?.(state.container.id);
    if (state.interrupted) return signalExitCode(state.interrupted);

    try {
      attachStream = await state.container.attach({ stream: true, stdout: true, stderr: true });
    } catch (error) {
      throw new ExecFailure(125, `cannot attach to the container: ${engineMessage(error)}`, error);
    }
    const outputDone = copyOutput(attachStream, options.stdout, options.stderr);

    let exited: Promise<WaitResult>;
    try {
      const wait = await registerWait(modem, state.container.id);
      waitResponse = wait.response;
      exited = wait.result;
    } catch (error) {
      throw new ExecFailure(125, `cannot wait for the container: ${engineMessage(error)}`, error);
    }
    exited.catch(() => {});
    if (state.interrupted) return signalExitCode(state.interrupted);

    try {
      await state.container.start();
    } catch (error) {
      const message = engineMessage(error);
      throw new ExecFailure(startFailureExitCode(message), `cannot start the container: ${message}`, error);
    }
    state.running = true;
    if (state.interrupted) sendSignal(state.interrupted);

    let result: WaitResult;
    try {
      result = await exited;
    } catch (error) {
      throw new ExecFailure(125, `lost the container while waiting for it to exit: ${engineMessage(error)}`, error);
    }
    state.running = false;
    // The last output can arrive just after the wait answer: let the attach stream finish.
    await Promise.race([outputDone, delay(5_000)]);
    if (result.Error?.Message) note(`pitlane exec: ${result.Error.Message}\n`);
    return result.StatusCode;
  } finally {
    state.running = false;
    clearTimeout(state.killTimer);
    for (const [signal, listener] of listeners) signals.off(signal, listener);
    waitResponse?.destroy();
    (attachStream as { destroy?: () => void } | undefined)?.destroy?.();
    if (state.container) {
      await state.container.remove({ force: true, v: true }).catch((error: unknown) => {
        const status = (error as { statusCode?: number }).statusCode;
        // 404: already gone; 409: removal already in progress.
        if (status !== 404 && status !== 409) note(`pitlane exec: could not remove container ${state.container?.id.slice(0, 12)}: ${engineMessage(error)}\n`);
      });
    }
  }
}

/** Creates the container, pulling the image once if the engine does not have it. */
async function createContainer(
  docker: Docker,
  modem: Modem,
  image: string,
  createOptions: Docker.ContainerCreateOptions,
  note: (text: string) => void,
): Promise<Docker.Container> {
  try {
    return await docker.createContainer(createOptions);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw new ExecFailure(125, `cannot create the container: ${engineMessage(error)}`, error);
  }
  note(`Unable to find image '${image}' locally; pulling it\n`);
  try {
    await pullImage(docker, modem, image);
  } catch (error) {
    throw new ExecFailure(125, `cannot pull image ${image}: ${engineMessage(error)}`, error);
  }
  try {
    return await docker.createContainer(createOptions);
  } catch (error) {
    throw new ExecFailure(125, `cannot create the container: ${engineMessage(error)}`, error);
  }
}

/** Pulls `image`; rejects with the engine's message (also when it arrives inside the progress stream). */
async function pullImage(docker: Docker, modem: Modem, image: string): Promise<void> {
  const stream = (await docker.pull(image)) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    let failure: string | undefined;
    modem.followProgress(
      stream,
      (error) => (error ? reject(error) : failure ? reject(new Error(failure)) : resolve()),
      (event) => {
        const message = (event as { error?: unknown; errorDetail?: { message?: unknown } }).errorDetail?.message ?? (event as { error?: unknown }).error;
        if (typeof message === 'string') failure = message;
      },
    );
  });
}

/**
 * Sends `POST /containers/{id}/wait?condition=next-exit` and resolves once the engine has answered
 * the headers, which it does only after registering the wait: from then on, starting the container
 * cannot race past it. `result` resolves with the body when the container exits.
 */
function registerWait(modem: Modem, id: string): Promise<{ response: IncomingMessage; result: Promise<WaitResult> }> {
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: `/containers/${id}/wait?`,
        method: 'POST',
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
        options: { _query: { condition: 'next-exit' }, _body: {} },
      },
      (error, response) => {
        if (error) {
          reject(error);
          return;
        }
        const res = response as IncomingMessage;
        const result = new Promise<WaitResult>((resolveResult, rejectResult) => {
          const chunks: Buffer[] = [];
          let settled = false;
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            settled = true;
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              const body = JSON.parse(text) as WaitResult;
              if (typeof body.StatusCode !== 'number') throw new Error(`no StatusCode in ${text}`);
              resolveResult(body);
            } catch (parseError) {
              rejectResult(new Error(`unexpected wait answer from the engine: ${text || (parseError as Error).message}`));
            }
          });
          res.on('error', (streamError) => {
            settled = true;
            rejectResult(streamError);
          });
          res.on('close', () => {
            if (!settled) rejectResult(new Error('the engine closed the wait connection'));
          });
        });
        resolve({ response: res, result });
      },
    );
  });
}

/**
 * Copies the multiplexed attach stream to `stdout`/`stderr` as it arrives (payload bytes are
 * written as soon as they come, not per line or per frame), pausing the source while a sink is
 * full. Resolves when the source ends.
 */
function copyOutput(source: NodeJS.ReadableStream, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<void> {
  const decoder = new FrameDecoder();
  let blocked = 0;
  let raw = false;
  const write = (sink: NodeJS.WritableStream, data: Buffer): void => {
    if (data.length === 0) return;
    if (!sink.write(data)) {
      blocked += 1;
      source.pause();
      sink.once('drain', () => {
        blocked -= 1;
        if (blocked === 0) source.resume();
      });
    }
  };
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      write(stdout, decoder.leftover());
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
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
