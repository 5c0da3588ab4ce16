/**
 * Test harness: runs real Pitlane server processes (the built CLI, `node bin/pitlane.js serve`)
 * with a private data directory and port, and runs CLI commands against them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { request } from 'undici';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(REPO_ROOT, 'bin/pitlane.js');
export const docker = new Docker();

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}

/** Result of a CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Pitlane server process under test. */
export class PitlaneProcess {
  readonly token = `test-admin-token-${Math.random().toString(36).slice(2)}`;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'pitlane-test-'));
  port = 0;
  child: ChildProcess | undefined;
  log = '';

  constructor(private readonly extraEnv: Record<string, string> = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for CLI commands talking to this server. */
  clientEnv(): NodeJS.ProcessEnv {
    return { ...process.env, PITLANE_URL: this.url, PITLANE_TOKEN: this.token, NO_COLOR: '1' };
  }

  /** Starts the server and waits until /ready answers 200. */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        ...process.env,
        PITLANE_ADMIN_TOKEN: this.token,
        PITLANE_DATA_DIR: this.dataDir,
        PITLANE_PORT: String(this.port),
        PITLANE_LOG_LEVEL: 'warn',
        PITLANE_LEASE_MS: '4000',
        PITLANE_RECONCILE_INTERVAL_MS: '1000',
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`pitlane serve exited with ${child.exitCode}:\n${this.log}`);
      try {
        const response = await request(`${this.url}/ready`);
        await response.body.dump();
        if (response.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`pitlane serve did not become ready:\n${this.log}`);
  }

  /** Kills the server with SIGKILL (no clean-up at all) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the server with SIGTERM. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null && child.signalCode === null) await this.kill();
  }

  /** Runs `pitlane ARGS...` against this server. */
  cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
    return new Promise((resolveResult) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...this.clientEnv(), ...options.env },
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.end(options.input ?? '');
      child.on('close', (code) => resolveResult({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** A JSON API call with the admin token (or `token: null` for none). */
  async api(method: string, path: string, body?: unknown, token: string | null = this.token): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
    return this.raw(
      method,
      path,
      {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    );
  }

  /** One request with exactly these headers and body; the answer's JSON parsed when it is JSON. */
  async raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
    const response = await request(`${this.url}${path}`, { method: method as 'GET', headers, body });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.statusCode, body: parsed, headers: response.headers };
  }

  /** Polls a deployment until it is done or failed. */
  async waitForDeployment(id: string, timeoutMs = 240_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { body } = await this.api('GET', `/api/v1/deploy/${id}`);
      if (body.status === 'done' || body.status === 'failed') return body;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`deployment ${id} did not end within ${timeoutMs} ms`);
  }

}

/** Removes every container whose label pitlane.job is one of `names` (test clean-up). */
export async function removeJobContainers(names: string[]): Promise<void> {
  const all = await docker.listContainers({ all: true, filters: { label: ['pitlane.managed=true'] } });
  for (const c of all) {
    if (names.includes(c.Labels['pitlane.job'] ?? '')) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
}

/** Containers (running or not) whose label pitlane.job is `name`. */
export async function containersOfJob(name: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`pitlane.job=${name}`] } });
}

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await check();
  while (!last && Date.now() < deadline) {
    await sleep(intervalMs);
    last = await check();
  }
  return last;
}
