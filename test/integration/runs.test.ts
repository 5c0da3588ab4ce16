/**
 * One-shot runs against the real engine: seed 002's upload-and-poll API, `pitlane run`, exit codes,
 * logs, results, cancel, timeout, the 100-run queue, a SIGKILL restart, safety settings, bad input.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, eventually, PitlaneProcess, sleep } from './helpers/pitlane.js';

const allowedHostDir = mkdtempSync(join(tmpdir(), 'pitlane-allowed-'));
const server = new PitlaneProcess({
  PITLANE_RUN_CONCURRENCY: '4',
  PITLANE_RUN_STOP_GRACE_S: '1',
  PITLANE_RUN_HOST_PATHS: allowedHostDir,
  PITLANE_MAX_DOCKERFILE_BYTES: '65536',
});
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];

async function waitForRun(id: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await server.api('GET', `/api/v1/runs/${id}`);
    if (TERMINAL.includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`run ${id} is still ${body.status}`);
    await sleep(200);
  }
}

async function submit(body: unknown): Promise<{ status: number; body: any }> {
  return server.api('POST', '/api/v1/runs', body);
}

function tarGz(entries: { name: string; type?: 'file' | 'symlink' | 'directory' | 'character-device' | 'link'; content?: string; linkname?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    pack.entry({ name: entry.name, type: entry.type ?? 'file', linkname: entry.linkname, size: entry.content ? Buffer.byteLength(entry.content) : 0 }, entry.content ?? '');
  }
  pack.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve(gzipSync(Buffer.concat(chunks))));
    pack.on('error', reject);
  });
}

async function runContainers(): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: ['pitlane.run'] } });
  return containers.map((c) => c.Id);
}

beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.stop();
});

describe("seed 002's API", () => {
  it('runs an uploaded Dockerfile with curl --form file=..., reports status and the performance it wrote', async () => {
    // Seed 002's curl example, with its base image replaced by the local one (no registry here).
    const dockerfile = [
      'FROM debian:bookworm-slim',
      'ARG version',
      'ENV VERSION=${version}',
      `CMD echo '{"perf":0.99}' > "/data/perf-\${VERSION}.json"`,
    ].join('\n');
    const out = execFileSync('curl', [
      '-sS', '--request', 'POST', '--url', `${server.url}/run`,
      '--header', `Authorization: Bearer ${server.token}`,
      '--form', `file=${dockerfile}`,
      '--form', 'build_args={"version":"2"}',
    ], { encoding: 'utf8' });
    const { id, status } = JSON.parse(out);
    expect(status).toBe('queued');
    let answer: any;
    for (let i = 0; i < 300; i += 1) {
      answer = JSON.parse(execFileSync('curl', ['-sS', '--request', 'GET', '--url', `${server.url}/status?id=${id}`, '--header', `Authorization: Bearer ${server.token}`], { encoding: 'utf8' }));
      if (TERMINAL.includes(answer.status)) break;
      await sleep(200);
    }
    expect(answer.status, answer.error).toBe('succeeded');
    expect(answer.exit_code).toBe(0);
    expect(answer.image_id).toMatch(/^sha256:/);
    expect(answer.duration_ms).toBeGreaterThanOrEqual(0);
    expect(new Date(answer.finished_at).getTime()).toBeGreaterThanOrEqual(new Date(answer.started_at).getTime());
    expect(answer.lint.map((f: any) => f.code)).toContain('DL3025');
    const perf = answer.results.find((r: any) => r.path === 'perf-2.json');
    expect(perf.data).toEqual({ perf: 0.99 });
    expect(perf.sha256).toMatch(/^[0-9a-f]{64}$/);
    const download = await server.api('GET', `/api/v1/runs/${id}/results/perf-2.json`);
    expect(download.body).toEqual({ perf: 0.99 });
    expect((await server.api('GET', `/api/v1/runs/${id}/results/..%2F..%2Fpitlane.db`)).status).toBeGreaterThanOrEqual(400);
    expect((await server.api('GET', `/api/v1/runs/${id}/results/missing.json`)).status).toBe(404);
  });
});

describe('pitlane run', () => {
  it('streams stdout and stderr, keeps results, and exits with the container exit code', async () => {
    const result = await server.cli(['run', '--image', 'busybox:latest', '-e', 'WHO=world', '--', 'sh', '-c', 'echo "hello $WHO"; echo oops >&2; echo \'{"n":7}\' > /data/out.json; mkdir -p /data/sub; echo x > /data/sub/x.txt; exit 3']);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('hello world');
    expect(result.stdout).not.toContain('oops');
    expect(result.stderr).toContain('oops');
    const { body } = await server.api('GET', '/api/v1/runs?limit=1');
    const run = body.runs[0];
    expect(run.status).toBe('failed');
    expect(run.exit_code).toBe(3);
    expect(run.results.map((r: any) => r.path)).toEqual(['out.json', 'sub/x.txt']);
    expect(run.results[0].data).toEqual({ n: 7 });
    const logs = await server.api('GET', `/api/v1/runs/${run.id}/logs`);
    const streams = logs.body.lines.filter((l: any) => l.stream !== 'system').map((l: any) => `${l.stream}:${l.line}`);
    // Docker reads stdout and stderr on separate pipes, so lines of different streams may swap.
    expect(streams.sort()).toEqual(['stderr:oops', 'stdout:hello world']);
    expect(logs.body.lines[0].time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const downloaded = await server.cli(['runs', 'results', run.id, 'sub/x.txt']);
    expect(downloaded.stdout).toBe('x\n');
    const shown = await server.cli(['runs', 'show', run.id, '--json']);
    expect(JSON.parse(shown.stdout).exit_code).toBe(3);
  });

  it('builds a Dockerfile with a context and build args; --detach prints the id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-run-ctx-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:latest\nARG GREETING\nCOPY message.txt /message.txt\nENV GREETING=${GREETING}\nCMD ["sh", "-c", "cat /message.txt; echo $GREETING"]\n');
    writeFileSync(join(dir, 'message.txt'), 'from the context\n');
    const detached = await server.cli(['run', '--context', dir, '--build-arg', 'GREETING=hi', '--detach']);
    expect(detached.code, detached.stderr).toBe(0);
    const id = detached.stdout.trim();
    const run = await waitForRun(id);
    expect(run.status, run.error).toBe('succeeded');
    const logs = await server.cli(['runs', 'logs', id]);
    expect(logs.stdout).toContain('from the context\nhi\n');
  });

  it('runs a Dockerfile given with -f', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-run-file-'));
    writeFileSync(join(dir, 'Run.Dockerfile'), 'FROM busybox:latest\nCMD ["sh", "-c", "echo built from -f; exit 5"]\n');
    const result = await server.cli(['run', '-f', join(dir, 'Run.Dockerfile'), '--quiet']);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('built from -f\n');
  });

  it('records pitlane exec --server as a run (seed 003 variables, exit status passed through)', async () => {
    const result = await server.cli(['exec', '--server'], {
      env: { IMAGE: 'busybox:latest', COMMAND: 'sh -c "echo db=$DB_NAME_ENV; exit 4"', DB_NAME_ENV: 'analytics', OTHER: 'not passed' },
    });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toContain('db=analytics');
    const { body } = await server.api('GET', '/api/v1/runs?limit=1');
    expect(body.runs[0].image).toBe('busybox:latest');
    expect(body.runs[0].exit_code).toBe(4);
  });

  it('ends timed_out after the timeout (exit 124) and cancelled on DELETE', async () => {
    const timed = await server.cli(['run', '--image', 'busybox:latest', '--timeout', '2s', '--quiet', '--', 'sleep', '60']);
    expect(timed.code).toBe(124);
    const submitted = await submit({ image: 'busybox:latest', command: ['sleep', '60'] });
    expect(submitted.status).toBe(201);
    expect(await eventually(async () => (await server.api('GET', `/api/v1/runs/${submitted.body.id}`)).body.status === 'running', 20_000)).toBe(true);
    const cancelled = await server.cli(['runs', 'cancel', submitted.body.id]);
    expect(cancelled.code).toBe(0);
    const run = await waitForRun(submitted.body.id, 30_000);
    expect(run.status).toBe('cancelled');
  });

  it('applies the safety settings and limits, and mounts named volumes and allowed host paths', async () => {
    writeFileSync(join(allowedHostDir, 'input.txt'), 'from the host\n');
    const submitted = await submit({
      image: 'busybox:latest',
      command: 'cat /in/input.txt; echo written > /vol/file; sleep 3',
      volumes: [`${allowedHostDir}:/in:ro`, 'pitlane-test-volume:/vol'],
      resources: { memory_max: '64Mi', cpu_max: '0.5' },
      network: 'none',
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const container = await eventually(async () => {
      const found = await docker.listContainers({ filters: { label: [`pitlane.run=${submitted.body.id}`] } });
      return found[0];
    }, 20_000);
    const inspect = await docker.getContainer(container!.Id).inspect();
    expect(inspect.HostConfig.Privileged).toBe(false);
    expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(inspect.HostConfig.CapDrop).toEqual(['ALL']);
    expect(inspect.HostConfig.CapAdd).not.toContain('NET_RAW');
    expect(inspect.HostConfig.CapAdd).not.toContain('MKNOD');
    expect(inspect.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(5e8);
    expect(inspect.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(inspect.HostConfig.NetworkMode).toBe('none');
    expect(inspect.HostConfig.PidMode || '').toBe('');
    expect(inspect.HostConfig.IpcMode).not.toBe('host');
    expect(JSON.stringify(inspect.Mounts)).not.toContain('docker.sock');
    const run = await waitForRun(submitted.body.id);
    expect(run.status, run.error).toBe('succeeded');
    const logs = await server.api('GET', `/api/v1/runs/${run.id}/logs`);
    expect(logs.body.lines.map((l: any) => l.line)).toContain('from the host');
    await docker.getVolume('pitlane-test-volume').remove().catch(() => undefined);
  });
});

describe('the queue', () => {
  it('runs 100 submitted runs to completion, each once, with its results', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const submitted = await submit({ image: 'busybox:latest', command: ['sh', '-c', `echo run-${i}; echo '{"i":${i}}' > /data/i.json`] });
      expect(submitted.status).toBe(201);
      ids.push(submitted.body.id);
    }
    const runs = [];
    for (const id of ids) runs.push(await waitForRun(id, 300_000));
    expect(runs.filter((r) => r.status === 'succeeded')).toHaveLength(100);
    runs.forEach((run, i) => expect(run.results[0].data).toEqual({ i }));
    for (const [i, id] of ids.entries()) {
      const logs = await server.api('GET', `/api/v1/runs/${id}/logs`);
      expect(logs.body.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.line)).toEqual([`run-${i}`]);
    }
    const started = runs.map((r) => Date.parse(r.started_at));
    expect(started.slice(0, 50).every((s, i) => i === 0 || s >= started[i - 1]! - 2000)).toBe(true);
    const listed = await server.api('GET', '/api/v1/runs?status=succeeded&limit=10&offset=5');
    expect(listed.body.runs).toHaveLength(10);
    expect(listed.body.total).toBeGreaterThanOrEqual(100);
    await eventually(async () => (await runContainers()).length === 0, 20_000);
  });

  it('settles every run after Pitlane is SIGKILLed while runs are queued and running', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const submitted = await submit({ image: 'busybox:latest', command: ['sh', '-c', `echo start-${i}; sleep 3; echo end-${i}`] });
      ids.push(submitted.body.id);
    }
    await eventually(async () => (await server.api('GET', '/api/v1/runs?status=running')).body.runs.length > 0, 20_000);
    await server.kill();
    await sleep(500);
    await server.start();
    for (const [i, id] of ids.entries()) {
      const run = await waitForRun(id, 120_000);
      expect(run.status, run.error).toBe('succeeded');
      const lines = (await server.api('GET', `/api/v1/runs/${id}/logs`)).body.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.line);
      expect(lines).toEqual([`start-${i}`, `end-${i}`]);
    }
    expect(await eventually(async () => (await runContainers()).length === 0, 30_000)).toBe(true);
  });
});

describe('bad input', () => {
  const dockerfileForm = async (content: string | Buffer): Promise<{ status: number; body: any }> => {
    const form = new FormData();
    form.set('file', new Blob([content]), 'Dockerfile');
    const response = await fetch(`${server.url}/api/v1/runs`, { method: 'POST', body: form, headers: { authorization: `Bearer ${server.token}` } });
    return { status: response.status, body: await response.json() };
  };

  it('rejects bad Dockerfiles with a 400 naming the line', async () => {
    const binary = await dockerfileForm(Buffer.from([0, 1, 2, 255, 254, 0, 10]));
    expect(binary.status).toBe(400);
    const broken = await dockerfileForm('FROM busybox:latest\nRUN <<EOF\necho never closed\n');
    expect(broken.status).toBe(400);
    expect(broken.body.error.details[0].line).toBeGreaterThanOrEqual(2);
    const noFrom = await dockerfileForm('RUN echo hi\n');
    expect(noFrom.status).toBe(400);
    const empty = await dockerfileForm('');
    expect(empty.status).toBe(400);
    const huge = await dockerfileForm(`FROM busybox:latest\n${'# padding\n'.repeat(10_000)}`);
    expect(huge.status).toBe(413);
  });

  it('rejects hostile contexts without writing outside the run workspace', async () => {
    const before = readdirSync(join(server.dataDir, 'runs')).length;
    for (const entries of [
      [{ name: 'Dockerfile', content: 'FROM busybox:latest\n' }, { name: '/etc/evil', content: 'x' }],
      [{ name: 'Dockerfile', content: 'FROM busybox:latest\n' }, { name: '../../evil', content: 'x' }],
      [{ name: 'Dockerfile', content: 'FROM busybox:latest\n' }, { name: 'link', type: 'symlink' as const, linkname: '/etc/passwd' }],
      [{ name: 'Dockerfile', content: 'FROM busybox:latest\n' }, { name: 'dev', type: 'character-device' as const }],
    ]) {
      const answer = await submit({ build_context: (await tarGz(entries)).toString('base64') });
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    }
    expect(existsSync(join(server.dataDir, 'evil'))).toBe(false);
    expect(readdirSync(join(server.dataDir, 'runs')).length).toBe(before);
  });

  it('rejects invalid fields (400), forbidden host paths (403), unknown ids (404)', async () => {
    expect((await submit({ image: 'busybox:latest', volumes: ['nocolon'] })).body.error.details[0].path).toBe('volumes.0');
    expect((await submit({ image: 'busybox:latest', env: { 'BAD-NAME': 'x' } })).body.error.details[0].path).toBe('env.BAD-NAME');
    expect((await submit({ image: 'busybox:latest', timeout_s: -1 })).status).toBe(400);
    expect((await submit({ image: 'busybox:latest', network: 'host' })).status).toBe(400);
    expect((await submit({ image: 'busybox:latest', privileged: true })).status).toBe(400);
    expect((await submit({})).status).toBe(400);
    const forbidden = await submit({ image: 'busybox:latest', volumes: ['/etc:/host-etc'] });
    expect(forbidden.status).toBe(403);
    expect((await submit({ image: 'busybox:latest', volumes: ['/var/run/docker.sock:/var/run/docker.sock'] })).status).toBe(403);
    expect((await server.api('GET', '/api/v1/runs/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await server.api('DELETE', '/api/v1/runs/nope')).status).toBe(404);
    expect((await server.api('GET', '/status?id=nope')).status).toBe(404);
  });

  it('ends a run of a missing image failed with the engine message', async () => {
    const submitted = await submit({ image: 'pitlane-no-such-image:1.0' });
    expect(submitted.status).toBe(201);
    const run = await waitForRun(submitted.body.id);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('pitlane-no-such-image');
    mkdirSync(join(server.dataDir, 'probe'), { recursive: true });
  });
});
