/**
 * `pitlane exec --server`: the same run, recorded on a Pitlane server instead of run on the local
 * engine. Submits `POST /api/v1/runs` `{image, command, env, volumes}`, copies
 * `GET /api/v1/runs/{id}/logs?follow=true` (text) to stdout, polls `GET /api/v1/runs/{id}` until
 * the run is terminal, and resolves to the exit status: the run's `exit_code`, 124 for
 * `timed_out`, 125 for a run that failed without one (Pitlane or the engine failed). SIGINT/SIGTERM
 * cancel the run (`DELETE /api/v1/runs/{id}`); a second one stops following at once.
 */
import { ApiError, type PitlaneClient } from '../cli/client.js';
import { ExecFailure, type ForwardedSignal, type SignalSource } from './failure.js';
import { signalExitCode } from './container-options.js';
import type { ExecSpec } from './spec.js';

/** Run statuses after which nothing changes. */
export const TERMINAL_RUN_STATUSES = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** The fields of `GET /api/v1/runs/{id}` used here. */
export interface RunStatus {
  id: string;
  status: string;
  exit_code?: number | null;
  error?: string | null;
}

/** Options of {@link runOnServer}. */
export interface ServerRunOptions {
  stdout: NodeJS.WritableStream;
  note?: (text: string) => void;
  signals?: SignalSource;
  /** Status polling interval; default 1 s. */
  pollIntervalMs?: number;
}

/** The `POST /api/v1/runs` body for `spec`. */
export function runRequestBody(spec: ExecSpec): Record<string, unknown> {
  return {
    image: spec.image,
    ...(spec.command ? { command: spec.command } : {}),
    env: spec.env,
    volumes: spec.volumes.map((volume) => volume.spec),
  };
}

/** The exit status `pitlane exec --server` ends with for a terminal run. */
export function runExitCode(run: RunStatus): number {
  if (run.status === 'timed_out') return 124;
  if (typeof run.exit_code === 'number') return run.exit_code;
  if (run.status === 'succeeded') return 0;
  if (run.status === 'cancelled') return signalExitCode('SIGTERM');
  return 125;
}

/**
 * Submits and follows the run.
 * @throws ExecFailure (2 when the server refused the input, 125 otherwise) when it cannot be submitted or followed.
 */
export async function runOnServer(client: PitlaneClient, spec: ExecSpec, options: ServerRunOptions): Promise<number> {
  const note = options.note ?? ((): void => {});
  const signals = options.signals ?? process;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;

  let created: { id: string; status: string };
  try {
    created = await client.json<{ id: string; status: string }>('POST', '/api/v1/runs', runRequestBody(spec));
  } catch (error) {
    const code = error instanceof ApiError && [400, 413, 422].includes(error.status) ? 2 : 125;
    throw new ExecFailure(code, `the server did not accept the run: ${(error as Error).message}`, error);
  }
  const id = created.id;
  const runPath = `/api/v1/runs/${encodeURIComponent(id)}`;
  note(`pitlane exec: run ${id} (${client.settings.url}${runPath})\n`);

  let stopFollowing: (() => void) | undefined;
  const abandoned = new Promise<ForwardedSignal>((resolve) => {
    const listeners = new Map<ForwardedSignal, () => void>();
    let cancelling = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const listener = (): void => {
        if (!cancelling) {
          cancelling = true;
          note(`pitlane exec: ${signal}: cancelling run ${id}\n`);
          client.json('DELETE', runPath).catch((error: unknown) => note(`pitlane exec: could not cancel run ${id}: ${(error as Error).message}\n`));
        } else {
          note(`pitlane exec: ${signal} again: no longer following run ${id} (it is being cancelled)\n`);
          resolve(signal);
        }
      };
      listeners.set(signal, listener);
      signals.on(signal, listener);
    }
    stopFollowing = (): void => {
      for (const [signal, listener] of listeners) signals.off(signal, listener);
    };
  });

  const logs = followLogs(client, `${runPath}/logs?follow=true`, options.stdout, note);
  try {
    const outcome = await Promise.race([pollUntilTerminal(client, runPath, pollIntervalMs), abandoned]);
    if (typeof outcome === 'string') return signalExitCode(outcome);
    // The log stream ends with the run; give it a moment to deliver the tail.
    await Promise.race([logs.done, delay(5_000)]);
    if (outcome.status === 'failed' && typeof outcome.exit_code !== 'number' && outcome.error) note(`pitlane exec: run ${id} failed: ${outcome.error}\n`);
    if (outcome.status === 'timed_out') note(`pitlane exec: run ${id} timed out\n`);
    return runExitCode(outcome);
  } finally {
    stopFollowing?.();
    logs.stop();
  }
}

/** Polls the run until its status is terminal. */
async function pollUntilTerminal(client: PitlaneClient, runPath: string, intervalMs: number): Promise<RunStatus> {
  let failures = 0;
  for (;;) {
    try {
      const run = await client.json<RunStatus>('GET', runPath);
      failures = 0;
      if (TERMINAL_RUN_STATUSES.has(run.status)) return run;
    } catch (error) {
      // A restarting server is survivable; a run that is gone is not.
      if (error instanceof ApiError && error.status === 404) throw new ExecFailure(125, `the run disappeared from the server: ${error.message}`, error);
      failures += 1;
      if (failures >= 30) throw new ExecFailure(125, `cannot follow the run: ${(error as Error).message}`, error);
    }
    await delay(intervalMs);
  }
}

/** Copies the followed log text to `stdout` until it ends or `stop` is called; failures are only noted. */
function followLogs(client: PitlaneClient, path: string, stdout: NodeJS.WritableStream, note: (text: string) => void): { done: Promise<void>; stop: () => void } {
  let body: { destroy: () => void } | undefined;
  let stopped = false;
  const done = (async (): Promise<void> => {
    try {
      const response = await client.raw('GET', path, { headers: { accept: 'text/plain' } });
      body = response.body;
      if (stopped) {
        response.body.destroy();
        return;
      }
      if (response.statusCode !== 200) {
        const text = await response.body.text();
        note(`pitlane exec: cannot follow the logs (HTTP ${response.statusCode}): ${text.slice(0, 500)}\n`);
        return;
      }
      for await (const chunk of response.body) stdout.write(chunk as Buffer);
    } catch (error) {
      if (!stopped) note(`pitlane exec: log stream interrupted: ${(error as Error).message}\n`);
    }
  })();
  return {
    done,
    stop: () => {
      stopped = true;
      body?.destroy();
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
