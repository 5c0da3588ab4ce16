/**
 * `pitlane exec` (seed 003's thin container proxy) against the real Docker engine, through the
 * built CLI (`node bin/pitlane.js exec`) as a scheduler would run it: environment conventions,
 * a bind volume, live output on the right streams, exit status pass-through, signal forwarding
 * and clean-up, also when `pitlane exec` itself is SIGKILLed. Uses the local `busybox:latest` image (scripts/setup/base-images.sh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WATCHDOG_AFTER_MS } from '../../src/exec/run-container.js';
import { CLI, docker, eventually, REPO_ROOT, sleep } from './helpers/pitlane.js';

const IMAGE = 'busybox:latest';
/** Set in every run of this file, to find this file's containers among other `pitlane exec` ones. */
const MARK = `exec-test-${randomUUID()}`;
/** PITLANE_TEST_CLI lets the file run against another entry point; by default the real one. */
const ENTRY = process.env.PITLANE_TEST_CLI || CLI;

interface Chunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
  text: string;
  at: number;
}

interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  chunks: Chunk[];
  startedAt: number;
  endedAt: number;
}

/** Starts `pitlane exec` with exactly `vars` (plus PATH/HOME/DOCKER_HOST) as its environment. */
function startExec(vars: Record<string, string>, args: string[] = []): { child: ChildProcess; done: Promise<ExecResult> } {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', MARK_ENV: MARK, ...vars };
  if (process.env.DOCKER_HOST) env.DOCKER_HOST = process.env.DOCKER_HOST;
  const startedAt = Date.now();
  const child = spawn(process.execPath, [ENTRY, 'exec', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Chunk[] = [];
  child.stdout?.on('data', (data: Buffer) => chunks.push({ stream: 'stdout', data, text: data.toString('utf8'), at: Date.now() }));
  child.stderr?.on('data', (data: Buffer) => chunks.push({ stream: 'stderr', data, text: data.toString('utf8'), at: Date.now() }));
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const text = (stream: Chunk['stream']): string =>
        chunks
          .filter((c) => c.stream === stream)
          .map((c) => c.text)
          .join('');
      resolve({ code, signal, stdout: text('stdout'), stderr: text('stderr'), chunks, startedAt, endedAt: Date.now() });
    });
  });
  return { child, done };
}

async function exec(vars: Record<string, string>, args: string[] = []): Promise<ExecResult> {
  return startExec(vars, args).done;
}

/** A result's output, for assertion messages. */
function shown(result: ExecResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** Ids of this file's `pitlane exec` containers that still exist. */
async function leftoverContainers(): Promise<string[]> {
  const listed = await docker.listContainers({ all: true, filters: { label: ['pitlane.exec=true'] } });
  const ours: string[] = [];
  for (const info of listed) {
    const details = await docker
      .getContainer(info.Id)
      .inspect()
      .catch(() => undefined);
    if (details?.Config.Env?.includes(`MARK_ENV=${MARK}`)) ours.push(info.Id);
  }
  return ours;
}

async function removeContainers(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pitlane-exec-'));
  tempDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await docker.getImage(IMAGE).inspect(); // made by scripts/setup/base-images.sh
});

afterAll(async () => {
  await removeContainers(await leftoverContainers());
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('pitlane exec: seed 003 conventions', () => {
  it('passes every *_ENV variable under the same name and nothing else', async () => {
    const result = await exec({
      IMAGE,
      COMMAND: 'env',
      DB_NAME_ENV: 'analytics',
      DB_USER_ENV: 'user',
      DB_PWD_ENV: 's3cr3t',
      DB_HOST_ENV: 'db.remote.instance',
      DB_PORT_ENV: '5432',
      NOT_PASSED: 'should-stay-outside',
      DB_NAME: 'no-suffix',
    });
    expect(result.code, shown(result)).toBe(0);
    const lines = result.stdout.split('\n');
    for (const line of ['DB_NAME_ENV=analytics', 'DB_USER_ENV=user', 'DB_PWD_ENV=s3cr3t', 'DB_HOST_ENV=db.remote.instance', 'DB_PORT_ENV=5432']) {
      expect(lines).toContain(line);
    }
    expect(result.stdout).not.toContain('should-stay-outside');
    expect(lines.some((line) => line.startsWith('DB_NAME='))).toBe(false);
    expect(lines.some((line) => line.startsWith('NOT_PASSED='))).toBe(false);
    expect(result.stderr).toBe('');
  });

  it('runs COMMAND given as a JSON array or as a shell-style string, and the image default without it', async () => {
    const json = await exec({ IMAGE, COMMAND: '["sh", "-c", "echo \\"db=$DB_NAME_ENV\\" \\"$0\\"", "a b"]', DB_NAME_ENV: 'analytics' });
    expect(json.code, shown(json)).toBe(0);
    expect(json.stdout).toBe('db=analytics a b\n');
    const string = await exec({ IMAGE, COMMAND: `echo 'two  spaces' "\\$HOME" *` });
    expect(string.code, shown(string)).toBe(0);
    expect(string.stdout).toBe('two  spaces $HOME *\n');
    const none = await exec({ IMAGE }); // busybox's CMD is sh, which ends at once without stdin
    expect(none.code, shown(none)).toBe(0);
  });

  it('mounts VOLUMES: a host directory the child writes, a read-only one it cannot', async () => {
    const out = tempDir();
    const input = tempDir();
    writeFileSync(join(input, 'in.txt'), 'from the host\n');
    const result = await exec({
      IMAGE,
      VOLUMES: JSON.stringify([`${out}:/out`, `${input}:/in:ro`]),
      COMMAND: `sh -c 'cat /in/in.txt > /out/result.txt && echo "$DB_NAME_ENV" >> /out/result.txt && if touch /in/nope 2>/dev/null; then echo writable; else echo read-only; fi'`,
      DB_NAME_ENV: 'analytics',
    });
    expect(result.code, shown(result)).toBe(0);
    expect(result.stdout).toBe('read-only\n');
    expect(readFileSync(join(out, 'result.txt'), 'utf8')).toBe('from the host\nanalytics\n');
  });

  it('takes flags over the variables', async () => {
    const out = tempDir();
    const result = await exec({ IMAGE: 'no-such-image-from-env', COMMAND: 'false', VOLUMES: '["/nonexistent-never-used:/x"]' }, [
      '--image',
      IMAGE,
      '--command',
      'sh -c "echo $FROM_FLAG > /o/flag.txt"',
      '-v',
      `${out}:/o`,
      '-e',
      'FROM_FLAG=flagged',
    ]);
    expect(result.code, shown(result)).toBe(0);
    expect(readFileSync(join(out, 'flag.txt'), 'utf8')).toBe('flagged\n');
  });
});

describe('pitlane exec: entry and timing trace', () => {
  it('loads the CommonJS bundle when it is fresh (npm run build), else the ES modules, and traces its Engine API calls', async () => {
    const bundlePath = join(REPO_ROOT, 'dist/exec/main.bundle.cjs');
    const fresh = existsSync(bundlePath) && (createRequire(import.meta.url)(bundlePath) as { isFresh(): boolean }).isFresh();
    const result = await exec({ IMAGE, COMMAND: 'true', PITLANE_EXEC_TRACE: '1' });
    expect(result.code, shown(result)).toBe(0);
    const labels = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('pitlane-exec-trace '))
      .map((line) => line.split(' ').slice(3).join(' '));
    expect(labels).toContain(`entry: ${fresh ? 'bundle' : 'es-modules'}`);
    const order = ['exec modules loaded', 'create sent', 'created', 'started', 'wait answered (removed)', 'output done', 'cleaned up', 'process exit'];
    expect(labels.filter((label) => order.includes(label))).toEqual(order);
  });
});

describe('pitlane exec: output and exit status', () => {
  it('pipes stdout and stderr to the right streams as they arrive', async () => {
    const result = await exec({ IMAGE, COMMAND: `sh -c 'echo out-1; echo err-1 >&2; sleep 2; echo out-2; echo err-2 >&2'` });
    expect(result.code, shown(result)).toBe(0);
    expect(result.stdout).toBe('out-1\nout-2\n');
    expect(result.stderr).toBe('err-1\nerr-2\n');
    const firstOut = result.chunks.find((c) => c.stream === 'stdout' && c.text.includes('out-1'));
    const firstErr = result.chunks.find((c) => c.stream === 'stderr' && c.text.includes('err-1'));
    expect(firstOut && result.endedAt - firstOut.at, 'out-1 arrived before the child slept').toBeGreaterThanOrEqual(1_000);
    expect(firstErr && result.endedAt - firstErr.at, 'err-1 arrived before the child slept').toBeGreaterThanOrEqual(1_000);
    // out-2 came later than out-1: not everything at the end.
    const lastOut = result.chunks.find((c) => c.stream === 'stdout' && c.text.includes('out-2'));
    expect((lastOut?.at ?? 0) - (firstOut?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
  });

  it('passes output without a trailing newline and binary bytes through unchanged', async () => {
    const result = await exec({ IMAGE, COMMAND: `sh -c 'printf "no newline"; printf "\\377\\000\\001" >&2'` });
    expect(result.code, shown(result)).toBe(0);
    expect(result.stdout).toBe('no newline');
    const bytes = Buffer.concat(result.chunks.filter((c) => c.stream === 'stderr').map((c) => c.data));
    expect([...bytes]).toEqual([0xff, 0x00, 0x01]);
  });

  it("exits with the child's status", async () => {
    const three = await exec({ IMAGE, COMMAND: `sh -c 'echo failing; exit 3'` });
    expect(three.code, shown(three)).toBe(3);
    expect(three.stdout).toBe('failing\n');
    const zero = await exec({ IMAGE, COMMAND: 'true' });
    expect(zero.code, shown(zero)).toBe(0);
  });

  it('never misses the exit of containers that end at once (several in parallel)', async () => {
    const results = await Promise.all([0, 1, 2, 3].map((n) => exec({ IMAGE, COMMAND: `sh -c 'exit ${n + 40}'` })));
    expect(results.map((r) => r.code)).toEqual([40, 41, 42, 43]);
  });

  it('exits 127 when the command does not exist in the image, like docker run', async () => {
    const result = await exec({ IMAGE, COMMAND: 'no-such-program --flag' });
    expect(result.code, shown(result)).toBe(127);
    expect(result.stderr).toContain('no-such-program');
  });
});

describe('pitlane exec: signals and clean-up', () => {
  /** Starts a run, waits for `ready` on its stdout and returns it with its container id. */
  async function startReady(vars: Record<string, string>, args: string[] = []): Promise<{ child: ChildProcess; done: Promise<ExecResult>; containerId: string }> {
    const run = startExec(vars, args);
    let stdout = '';
    run.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    const ready = await eventually(async () => stdout.includes('ready'), 60_000, 100);
    expect(ready, `the child never printed ready: ${stdout}`).toBe(true);
    const ids = await leftoverContainers();
    expect(ids).toHaveLength(1);
    return { ...run, containerId: ids[0] as string };
  }

  it('forwards SIGTERM to the child, exits with its status and removes the container', async () => {
    const run = await startReady({ IMAGE, COMMAND: `sh -c 'trap "echo got-term; exit 143" TERM; echo ready; sleep 60 & wait'` });
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code, shown(result)).toBe(143);
    expect(result.stdout).toBe('ready\ngot-term\n');
    expect(result.endedAt - sentAt).toBeLessThan(8_000);
    await expect(docker.getContainer(run.containerId).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('kills a child that ignores the signal after --stop-timeout (sleep as PID 1), and removes it', async () => {
    const run = await startReady({ IMAGE, COMMAND: `sh -c 'echo ready; exec sleep 60'` }, ['--stop-timeout', '1']);
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code, shown(result)).toBe(137);
    expect(result.stderr).toContain('SIGKILL');
    await expect(docker.getContainer(run.containerId).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('forwards SIGINT; with --init a plain program gets its default action', async () => {
    const run = await startReady({ IMAGE, COMMAND: `sh -c 'echo ready; exec sleep 60'` }, ['--init']);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, shown(result)).toBe(130);
    await expect(docker.getContainer(run.containerId).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  /** Whether container `id` is gone (inspect answers 404). */
  const gone = (id: string): Promise<boolean> =>
    docker
      .getContainer(id)
      .inspect()
      .then(
        () => false,
        (error: { statusCode?: number }) => error.statusCode === 404,
      );

  it('leaves no container behind when pitlane exec itself is SIGKILLed mid-run: its watchdog removes the running one', async () => {
    const run = await startReady({ IMAGE, COMMAND: `sh -c 'echo ready; exec sleep 30'` });
    const details = await docker.getContainer(run.containerId).inspect();
    expect(details.HostConfig.AutoRemove, 'created with AutoRemove, like docker run --rm').toBe(true);
    await sleep(WATCHDOG_AFTER_MS + 1_000); // the watchdog is started once the run has lasted WATCHDOG_AFTER_MS
    expect(await gone(run.containerId)).toBe(false);
    const killedAt = Date.now();
    run.child.kill('SIGKILL');
    const result = await run.done;
    expect(result.signal).toBe('SIGKILL');
    expect(await eventually(() => gone(run.containerId), 5_000, 100), 'container removed within 5 s of the SIGKILL').toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
  });

  it('leaves no container behind when pitlane exec is SIGKILLed at once: the engine removes it when it ends (AutoRemove)', async () => {
    const run = await startReady({ IMAGE, COMMAND: `sh -c 'echo ready; sleep 2'` });
    run.child.kill('SIGKILL');
    await run.done;
    expect(await eventually(() => gone(run.containerId), 10_000, 100), 'container removed once its command ended').toBe(true);
  });

  it('exits 125 with the engine message for an image that does not exist and cannot be pulled', async () => {
    const result = await exec({ IMAGE: '127.0.0.1:1/pitlane-test/no-such-image:latest', COMMAND: 'true' });
    expect(result.code, shown(result)).toBe(125);
    expect(result.stderr).toContain("Unable to find image '127.0.0.1:1/pitlane-test/no-such-image:latest' locally");
    expect(result.stderr).toMatch(/error: cannot pull image 127\.0\.0\.1:1\/pitlane-test\/no-such-image:latest: .*127\.0\.0\.1:1/);
    expect(result.stdout).toBe('');
  });

  it('exits 2 for bad input, naming the variable', async () => {
    const noImage = await exec({ COMMAND: 'true' });
    expect(noImage.code, shown(noImage)).toBe(2);
    expect(noImage.stderr).toContain('IMAGE: the image to run is required');
    const badVolume = await exec({ IMAGE, VOLUMES: '["/tmp:/ok", "/tmp:relative"]' });
    expect(badVolume.code, shown(badVolume)).toBe(2);
    expect(badVolume.stderr).toContain('VOLUMES[1]: container path "relative"');
    const badCommand = await exec({ IMAGE, COMMAND: `sh -c 'echo` });
    expect(badCommand.code, shown(badCommand)).toBe(2);
    expect(badCommand.stderr).toContain('COMMAND: unterminated single quote at position 7');
  });

  it('leaves no container behind (label pitlane.exec=true)', async () => {
    expect(await leftoverContainers()).toEqual([]);
  });
});
