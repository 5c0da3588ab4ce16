/**
 * The client side of `pitlane exec --server` against a stand-in of the runs API on loopback
 * (the real server API is tested with the server).
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { PitlaneClient } from '../../../src/cli/client.js';
import { ExecFailure, type ForwardedSignal } from '../../../src/exec/failure.js';
import { runExitCode, runOnServer, runRequestBody } from '../../../src/exec/server-run.js';
import { parseExecEnvironment } from '../../../src/exec/spec.js';

interface FakeRun {
  status: string;
  exit_code: number | null;
  error?: string;
  logs: string[];
}

/** A stand-in runs API: every run prints its log lines, then reaches `final`. */
class FakeRunsApi {
  server: Server | undefined;
  requests: { method: string; url: string; auth?: string; body?: unknown }[] = [];
  runs = new Map<string, FakeRun>();

  constructor(
    private readonly final: Partial<FakeRun>,
    private readonly endAfterMs = 150,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body: text ? JSON.parse(text) : undefined });
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const match = /^\/api\/v1\/runs(?:\/([^/?]+))?(\/logs)?/.exec(req.url ?? '');
    if (!match) return json(404, { error: { code: 'NOT_FOUND', message: 'no route', details: [] } });
    const [, id, logs] = match;
    if (req.method === 'POST' && !id) {
      const body = JSON.parse(text) as { image?: string };
      if (body.image === 'refused') return json(400, { error: { code: 'RUN_INVALID', message: 'volume not allowed', details: [{ path: 'volumes[0]', message: 'not under an allowed directory' }] } });
      const runId = `run-${this.runs.size + 1}`;
      const run: FakeRun = { status: 'running', exit_code: null, logs: ['line one\n', 'line two\n'] };
      this.runs.set(runId, run);
      setTimeout(() => Object.assign(run, { status: 'succeeded', exit_code: 0 }, this.final), this.endAfterMs);
      return json(201, { id: runId, status: 'queued' });
    }
    const run = id ? this.runs.get(id) : undefined;
    if (!run) return json(404, { error: { code: 'RUN_NOT_FOUND', message: 'no such run', details: [] } });
    if (req.method === 'DELETE') {
      Object.assign(run, { status: 'cancelled', exit_code: 143 });
      return json(202, { id, status: 'cancelling' });
    }
    if (logs) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (const line of run.logs) res.write(line);
      const timer = setInterval(() => {
        if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(run.status)) {
          clearInterval(timer);
          res.end('last line\n');
        }
      }, 20);
      return;
    }
    return json(200, { id, ...run });
  }
}

class FakeSignals extends EventEmitter {
  send(signal: ForwardedSignal): void {
    this.emit(signal);
  }
}

let api: FakeRunsApi | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

async function start(final: Partial<FakeRun>, endAfterMs?: number): Promise<PitlaneClient> {
  api = new FakeRunsApi(final, endAfterMs);
  const url = await api.start();
  return new PitlaneClient({ url, token: 'tok-123' });
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const spec = parseExecEnvironment({ IMAGE: 'busybox:latest', COMMAND: 'sh -c "exit 3"', VOLUMES: '["/srv/x:/data:ro"]', DB_NAME_ENV: 'analytics', OTHER: 'x' });

describe('runOnServer', () => {
  it('submits {image, command, env, volumes} with the token, streams the logs and exits with exit_code', async () => {
    const client = await start({ status: 'failed', exit_code: 3 });
    const out = capture();
    const notes: string[] = [];
    const code = await runOnServer(client, spec, { stdout: out.stream, note: (t) => notes.push(t), pollIntervalMs: 30, signals: new FakeSignals() });
    expect(code).toBe(3);
    expect(out.text()).toBe('line one\nline two\nlast line\n');
    const post = api?.requests.find((r) => r.method === 'POST');
    expect(post).toEqual({
      method: 'POST',
      url: '/api/v1/runs',
      auth: 'Bearer tok-123',
      body: { image: 'busybox:latest', command: ['sh', '-c', 'exit 3'], env: { DB_NAME_ENV: 'analytics' }, volumes: ['/srv/x:/data:ro'] },
    });
    expect(api?.requests.some((r) => r.url === '/api/v1/runs/run-1/logs?follow=true')).toBe(true);
    expect(notes.join('')).toContain('run run-1');
  });

  it('exits 124 for a run that timed out', async () => {
    const client = await start({ status: 'timed_out', exit_code: 137 });
    expect(await runOnServer(client, spec, { stdout: capture().stream, pollIntervalMs: 30, signals: new FakeSignals() })).toBe(124);
  });

  it('cancels the run on SIGTERM and exits with its status', async () => {
    const client = await start({}, 60_000);
    const signals = new FakeSignals();
    const running = runOnServer(client, spec, { stdout: capture().stream, pollIntervalMs: 30, signals });
    await new Promise((r) => setTimeout(r, 200));
    signals.send('SIGTERM');
    expect(await running).toBe(143);
    expect(api?.requests.some((r) => r.method === 'DELETE' && r.url === '/api/v1/runs/run-1')).toBe(true);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('fails with exit status 2 when the server refuses the input, 125 when it cannot be reached', async () => {
    const client = await start({});
    const refused = await runOnServer(client, { ...spec, image: 'refused' }, { stdout: capture().stream, signals: new FakeSignals() }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ExecFailure);
    expect((refused as ExecFailure).exitCode).toBe(2);
    const unreachable = await runOnServer(new PitlaneClient({ url: 'http://127.0.0.1:1', token: undefined }), spec, { stdout: capture().stream, signals: new FakeSignals() }).catch(
      (e: unknown) => e,
    );
    expect((unreachable as ExecFailure).exitCode).toBe(125);
  });
});

describe('runExitCode and runRequestBody', () => {
  it('maps terminal runs to exit statuses', () => {
    expect(runExitCode({ id: 'a', status: 'succeeded', exit_code: 0 })).toBe(0);
    expect(runExitCode({ id: 'a', status: 'failed', exit_code: 3 })).toBe(3);
    expect(runExitCode({ id: 'a', status: 'failed', exit_code: null, error: 'No such image' })).toBe(125);
    expect(runExitCode({ id: 'a', status: 'timed_out', exit_code: 137 })).toBe(124);
    expect(runExitCode({ id: 'a', status: 'cancelled' })).toBe(143);
  });

  it('omits command when the image decides', () => {
    expect(runRequestBody(parseExecEnvironment({ IMAGE: 'busybox' }))).toEqual({ image: 'busybox', env: {}, volumes: [] });
  });
});
