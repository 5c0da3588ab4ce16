/** The Engine API requests `pitlane exec` makes, built from an {@link ExecSpec} (pure). */
import type { ExecSpec } from './spec.js';

/** The `POST /containers/create` body fields `pitlane exec` sets (Engine API 1.41, ContainerConfig + HostConfig). */
export interface ContainerCreateBody {
  Image: string;
  Cmd?: string[];
  Env: string[];
  Labels: Record<string, string>;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  OpenStdin: boolean;
  Tty: boolean;
  HostConfig: { Binds: string[]; Init?: boolean; AutoRemove?: boolean };
}

/** Label on every container `pitlane exec` creates (to find leftovers: `docker ps -a --filter label=pitlane.exec=true`). */
export const EXEC_LABEL = 'pitlane.exec';

/** Options of the child container beyond the spec. */
export interface ContainerExtras {
  /** Run Docker's init (tini) as PID 1, like `docker run --init`. */
  init?: boolean;
}

/**
 * `POST /containers/create` body: image, command, `*_ENV` environment, binds, the exec label;
 * output attached, no TTY (so stdout and stderr stay apart), no stdin; and AutoRemove, as
 * `docker run --rm` sets it: the engine removes the container (anonymous volumes too) as soon as
 * it ends, or fails to start, whether or not `pitlane exec` is still there to do it (SIGKILL).
 * The exit status still comes back: the `wait?condition=removed` answer carries it.
 */
export function containerCreateOptions(spec: ExecSpec, extras: ContainerExtras = {}): ContainerCreateBody {
  return {
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    Labels: { [EXEC_LABEL]: 'true' },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: false,
    Tty: false,
    HostConfig: {
      Binds: spec.volumes.map((volume) => volume.spec),
      AutoRemove: true,
      ...(extras.init ? { Init: true } : {}),
    },
  };
}

/** The engine's own message from an EngineError (engine.ts) or a dockerode error (its JSON `message`), else the error's text. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: unknown } | undefined)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') return (json as { message: string }).message.trim();
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString('utf8').trim();
  // docker-modem's text: "(HTTP code 500) server error - <the engine's message> ".
  const text = error instanceof Error ? error.message.trim() : String(error);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/**
 * The exit status for a container that was created but could not start, as `docker run` has it:
 * 127 when the command was not found, 126 when it could not be executed, 125 otherwise.
 */
export function startFailureExitCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 125;
}

/** The conventional exit status of a process ended by `signal` (128 + its number). */
export function signalExitCode(signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL'): number {
  return 128 + { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 }[signal];
}
