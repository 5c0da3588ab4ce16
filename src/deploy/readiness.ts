/**
 * Readiness of a freshly started replica: it is ready when its server answers HTTP on its port
 * (any status code). It has failed when its container exits or restarts before that.
 */
import { request } from 'undici';
import type { InfrastructureTarget } from '../infra/index.js';

/** Outcome of {@link waitUntilReady}. */
export type ReadinessResult = { ready: true; host: string; port: number } | { ready: false; reason: string };

/**
 * True when an HTTP server answers at host:port within `timeoutMs`: any status for `GET /`
 * (`path` null), or a 2xx for `GET path` (wrapper job types' `/ready`).
 */
export async function answersHttp(host: string, port: number, timeoutMs: number, path: string | null = null): Promise<boolean> {
  try {
    const response = await request(`http://${host}:${port}${path ?? '/'}`, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    return path === null || (response.statusCode >= 200 && response.statusCode < 300);
  } catch {
    return false;
  }
}

/** The `error` a wrapper's `GET /live` reports with a 500 (failed start), or undefined. */
export async function liveError(host: string, port: number): Promise<string | undefined> {
  try {
    const response = await request(`http://${host}:${port}/live`, { headersTimeout: 1000, bodyTimeout: 1000, signal: AbortSignal.timeout(1000) });
    const text = await response.body.text();
    if (response.statusCode < 500) return undefined;
    const body = JSON.parse(text) as { error?: unknown };
    return typeof body.error === 'string' && body.error !== '' ? body.error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls a replica until it answers, its container stops, or `timeoutMs` passes.
 * @param logLines how many of the container's last output lines to quote in a failure reason.
 */
export async function waitUntilReady(
  target: InfrastructureTarget,
  containerId: string,
  port: number,
  timeoutMs: number,
  options: { pollMs?: number; logLines?: number; signal?: AbortSignal; readinessPath?: string | null } = {},
): Promise<ReadinessResult> {
  const pollMs = options.pollMs ?? 250;
  // Most replicas answer within a second of starting: poll every 50 ms for the first 2 s, so a
  // quick start (a wrapper job is ready ~0.1 s after its container starts) is not rounded up to
  // the next 250 ms poll of every redeploy.
  const fastPollMs = options.pollMs ?? 50;
  const fastUntil = Date.now() + 2000;
  const deadline = Date.now() + timeoutMs;
  const lastLogs = async (): Promise<string> => {
    const lines = await target.containerLogs(containerId, options.logLines ?? 20).catch(() => []);
    return lines.length > 0 ? `; last log lines:\n${lines.join('\n')}` : '; it printed nothing';
  };
  for (;;) {
    if (options.signal?.aborted) return { ready: false, reason: 'readiness check was cancelled' };
    const state = await target.inspectReplica(containerId, port);
    if (state.state === 'missing') return { ready: false, reason: `container ${containerId.slice(0, 12)} disappeared` };
    if (state.state === 'exited' || state.state === 'dead' || state.state === 'restarting' || state.restartCount > 0) {
      return {
        ready: false,
        reason: `the container exited with code ${state.exitCode ?? 'unknown'} before it answered on port ${port}${await lastLogs()}`,
      };
    }
    if (state.state === 'running' && state.host && state.port) {
      if (await answersHttp(state.host, state.port, 1000, options.readinessPath ?? null)) return { ready: true, host: state.host, port: state.port };
      if (options.readinessPath) {
        // Wrapper job types report a failed start (the user's class did not construct) on /live.
        const failure = await liveError(state.host, state.port);
        if (failure) return { ready: false, reason: `the job failed to start: ${failure}` };
      }
    }
    if (Date.now() >= deadline) {
      return {
        ready: false,
        reason: `the job did not answer ${options.readinessPath ? `GET ${options.readinessPath} with 2xx` : 'HTTP'} on port ${port} within ${Math.round(timeoutMs / 1000)} s (is it listening on 0.0.0.0:${port}?)${await lastLogs()}`,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, Date.now() < fastUntil ? fastPollMs : pollMs));
  }
}
