/**
 * bench/runs: wall time of `pitlane exec` and of a recorded `pitlane run --image` for a trivial
 * container, against `docker run --rm` of the same image, in one process (issue 3's benchmark).
 * Targets: exec <= 1.15x docker, run <= 1.3x docker (medians).
 *
 * Usage: npx tsx bench/runs/run.ts [--rounds N] [--image REF] [--warmup N] [--build] [--no-run] [--unset-extra-ca-certs] [--trace]
 *
 * - Each round runs the three commands one after the other, rotating which goes first, so that
 *   drift in the machine's load falls on all three alike:
 *     docker run --rm IMAGE true
 *     IMAGE=IMAGE COMMAND=true node bin/pitlane.js exec
 *     node bin/pitlane.js run --image IMAGE --quiet -- true      (PITLANE_URL/PITLANE_TOKEN: the private server)
 *   Wall time is from spawn to the child's exit; a non-zero exit status fails the bench.
 * - The recorded run goes to a private Pitlane server this script starts (`node bin/pitlane.js
 *   serve` with a random PITLANE_ADMIN_TOKEN, a temporary PITLANE_DATA_DIR and a free
 *   PITLANE_PORT), waiting for `GET /ready` 200; it is stopped with SIGTERM by its PID at the end,
 *   also on failure or Ctrl-C, and its data directory removed.
 * - For each recorded run, the run record's timestamps split the wall time into: spawn -> created_at
 *   (CLI start-up and submission), created_at -> started_at (queue, container create and start on
 *   the server), started_at -> finished_at (the container as the server saw it), finished_at ->
 *   exit (the CLI noticing the end: log follow, status poll, exit).
 * - Prints median and p90 of each, the ratios with PASS/FAIL, and writes bench/runs/last-result.json
 *   (git-ignored). Runs the built CLI (dist/): `--build` runs `npm run build`'s two steps first
 *   (`tsc -p tsconfig.build.json`, then scripts/build-exec-bundle.mjs). `pitlane exec` loads
 *   dist/exec/main.bundle.cjs when it is fresh, else the ES modules (slower start-up): the bench
 *   says which (`exec_entry`) and warns about a missing or stale bundle.
 * - `--trace` runs `pitlane exec` with PITLANE_EXEC_TRACE=1 (src/exec/trace.ts) and prints the
 *   medians of its phases: Node's bootstrap, module loading, each Engine API round trip, exit.
 * - `--no-run` leaves the server and `pitlane run` out (exec against docker only).
 * - Node start-up is the floor of both pitlane commands, and NODE_EXTRA_CA_CERTS raises it: Node 20
 *   parses that bundle at start-up (about 70 ms for a full system bundle on a small machine), before
 *   any of Pitlane's code runs and whether or not TLS is used. The bench measures `node -e 1` with
 *   and without it and prints both; `--unset-extra-ca-certs` runs the pitlane commands without it
 *   (neither talks TLS: the engine is a Unix socket, the private server plain HTTP on loopback).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const CLI = join(root, 'bin', 'pitlane.js');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(flag('--rounds') ?? 20);
const warmup = Number(flag('--warmup') ?? 2);
const image = flag('--image') ?? 'busybox:latest';
const withRun = !args.includes('--no-run');
const unsetExtraCaCerts = args.includes('--unset-extra-ca-certs');
const trace = args.includes('--trace');
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(warmup) || warmup < 0) {
  console.error('usage: npx tsx bench/runs/run.ts [--rounds N] [--image REF] [--warmup N] [--build] [--no-run] [--unset-extra-ca-certs] [--trace]');
  process.exit(2);
}

const TARGETS = { exec: 1.15, run: 1.3 } as const;

type Kind = 'docker' | 'exec' | 'run';

interface Sample {
  ms: number;
  /** Epoch ms (sub-ms precision) of the spawn and of the exit. */
  spawnedAt: number;
  exitedAt: number;
  /** stdout and stderr, interleaved. */
  output: string;
}

interface Breakdown {
  submit: number;
  queueAndStart: number;
  container: number;
  finishToExit: number;
}

const nowEpoch = (): number => performance.timeOrigin + performance.now();

/** Runs a command to its exit; rejects on a non-zero status (with its output). */
function timed(command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const spawnedAt = nowEpoch();
    const child = spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const exitedAt = nowEpoch();
      if (code !== 0) reject(new Error(`${command} ${argv.join(' ')} exited ${code ?? signal}:\n${output}`));
      else resolve({ ms: exitedAt - spawnedAt, spawnedAt, exitedAt, output });
    });
  });
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}
const median = (values: number[]): number => quantile(values, 0.5);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** The private Pitlane server. */
class Server {
  readonly token = randomBytes(24).toString('base64url').slice(0, 32);
  readonly dataDir = mkdtempSync(join(tmpdir(), 'pitlane-bench-runs-'));
  port = 0;
  child: ChildProcess | undefined;
  log = '';

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const env = { ...process.env, PITLANE_ADMIN_TOKEN: this.token, PITLANE_DATA_DIR: this.dataDir, PITLANE_PORT: String(this.port), NO_COLOR: '1' };
    const child = spawn(process.execPath, [CLI, 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer): void => {
      this.log = (this.log + d.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode} before it was ready:\n${this.log}`);
      const status = await fetch(`${this.url}/ready`).then((r) => r.status, () => 0);
      if (status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server was not ready within 60 s:\n${this.log}`);
  }

  async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** SIGTERM by PID; SIGKILL if it has not exited after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Synchronous last resort (process exit): SIGTERM by PID. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
}

/** Builds dist/ (`--build`), else warns when dist/ looks older than src/exec or src/cli; returns the exec entry bin/pitlane.js will load. */
function checkBuild(): 'bundle' | 'es-modules' {
  if (args.includes('--build')) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    execFileSync(process.execPath, [join(root, 'scripts/build-exec-bundle.mjs')], { cwd: root, stdio: 'inherit' });
  }
  if (!existsSync(join(root, 'dist/exec/main.js')) || !existsSync(join(root, 'dist/cli/main.js'))) {
    throw new Error('dist/ is not built: run npm run build (or pass --build)');
  }
  const newest = (dir: string, ext: string): number =>
    Math.max(0, ...readdirSync(join(root, dir)).filter((f) => f.endsWith(ext)).map((f) => statSync(join(root, dir, f)).mtimeMs));
  for (const dir of ['exec', 'cli']) {
    if (newest(`src/${dir}`, '.ts') > newest(`dist/${dir}`, '.js')) console.warn(`warning: src/${dir} is newer than dist/${dir}; pass --build to rebuild`);
  }
  const bundlePath = join(root, 'dist/exec/main.bundle.cjs');
  const fresh = existsSync(bundlePath) && (createRequire(import.meta.url)(bundlePath) as { isFresh(): boolean }).isFresh();
  if (!fresh) console.warn('warning: dist/exec/main.bundle.cjs is missing or older than dist/: pitlane exec loads the ES modules (slower start-up); run npm run build or pass --build');
  return fresh ? 'bundle' : 'es-modules';
}

/** Milliseconds since the process started at each PITLANE_EXEC_TRACE mark, by label. */
function traceMarks(output: string): Map<string, number> {
  const marks = new Map<string, number>();
  for (const line of output.split('\n')) {
    const match = /^pitlane-exec-trace (\S+) \S+ (.+)$/.exec(line);
    if (match && !(match[2] as string).startsWith('entry:')) marks.set(match[2] as string, Number(match[1]));
  }
  return marks;
}

/** The phases of a traced `pitlane exec`, as [label, from mark (or 0: process start), to mark]. */
const TRACE_PHASES: [string, string | 0, string][] = [
  ['node bootstrap', 0, 'node: bootstrap complete'],
  ['entry + module loading', 'node: bootstrap complete', 'exec modules loaded'],
  ['flags, spec, connect', 'exec modules loaded', 'create sent'],
  ['POST create', 'create sent', 'created'],
  ['attach + wait registered', 'created', 'wait registered'],
  ['POST start', 'wait registered', 'started'],
  ['run, exit, AutoRemove -> wait answer', 'started', 'wait answered (removed)'],
  ['output drained, clean-up', 'wait answered (removed)', 'cleaned up'],
  ['to exit', 'cleaned up', 'process exit'],
];

interface RunRecord {
  id: string;
  status: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

async function main(): Promise<void> {
  const execEntry = checkBuild();
  console.log(`pitlane exec entry: ${execEntry}`);
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
  } catch {
    console.log(`pulling ${image}`);
    execFileSync('docker', ['pull', image], { stdio: 'inherit' });
  }

  const server = withRun ? new Server() : undefined;
  const onExit = (): void => server?.killNow();
  const onSignal = (signal: NodeJS.Signals): void => {
    onExit();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const baseEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  const nodeEnv: NodeJS.ProcessEnv = { ...baseEnv };
  if (unsetExtraCaCerts) delete nodeEnv.NODE_EXTRA_CA_CERTS;
  const commands: Record<Kind, () => Promise<Sample>> = {
    docker: () => timed('docker', ['run', '--rm', image, 'true'], baseEnv),
    exec: () => timed(process.execPath, [CLI, 'exec'], { ...nodeEnv, IMAGE: image, COMMAND: 'true', ...(trace ? { PITLANE_EXEC_TRACE: '1' } : {}) }),
    run: () => timed(process.execPath, [CLI, 'run', '--image', image, '--quiet', '--', 'true'], { ...nodeEnv, PITLANE_URL: server?.url, PITLANE_TOKEN: server?.token }),
  };
  const kinds: Kind[] = withRun ? ['docker', 'exec', 'run'] : ['docker', 'exec'];
  const samples: Record<Kind, number[]> = { docker: [], exec: [], run: [] };
  const breakdowns: Breakdown[] = [];
  const execTraces: Map<string, number>[] = [];

  // The floor of the pitlane commands: a bare Node start-up, with and without NODE_EXTRA_CA_CERTS.
  const nodeStartup: Record<string, number> = {};
  const bare = { ...baseEnv };
  delete bare.NODE_EXTRA_CA_CERTS;
  const variants: [string, NodeJS.ProcessEnv][] = [['node -e 1', bare]];
  if (process.env.NODE_EXTRA_CA_CERTS) variants.push([`node -e 1 with NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}`, baseEnv]);
  for (const [label, env] of variants) {
    const times: number[] = [];
    for (let i = 0; i < 11; i += 1) times.push((await timed(process.execPath, ['-e', '1'], env)).ms);
    nodeStartup[label] = Math.round(median(times));
    console.log(`${label}: median ${nodeStartup[label]} ms`);
  }
  if (process.env.NODE_EXTRA_CA_CERTS) console.log(`pitlane commands run ${unsetExtraCaCerts ? 'WITHOUT' : 'with'} NODE_EXTRA_CA_CERTS${unsetExtraCaCerts ? ' (--unset-extra-ca-certs)' : ' (see --unset-extra-ca-certs)'}`);

  try {
    if (server) {
      await server.start();
      console.log(`server ready at ${server.url} (pid ${server.child?.pid})`);
    }
    console.log(`${warmup} warm-up round(s), then ${rounds} rounds of ${kinds.join(', ')} (${image}, alternating order)`);
    for (let round = -warmup; round < rounds; round += 1) {
      const offset = ((round % kinds.length) + kinds.length) % kinds.length;
      const order = [...kinds.slice(offset), ...kinds.slice(0, offset)];
      const line: string[] = [];
      for (const kind of order) {
        const sample = await commands[kind]();
        line.push(`${kind} ${sample.ms.toFixed(0)}`);
        if (round < 0) continue;
        samples[kind].push(sample.ms);
        if (kind === 'exec' && trace) execTraces.push(traceMarks(sample.output));
        if (kind === 'run' && server) {
          const { runs } = await server.api<{ runs: RunRecord[] }>('/api/v1/runs?limit=1');
          const run = runs[0];
          if (run?.started_at && run.finished_at) {
            const created = Date.parse(run.created_at);
            const started = Date.parse(run.started_at);
            const finished = Date.parse(run.finished_at);
            breakdowns.push({
              submit: created - sample.spawnedAt,
              queueAndStart: started - created,
              container: finished - started,
              finishToExit: sample.exitedAt - finished,
            });
          }
        }
      }
      console.log(`${round < 0 ? 'warm-up' : `round ${String(round + 1).padStart(2)}`}: ${line.join('  ')}`);
    }
  } finally {
    await server?.stop();
    process.off('exit', onExit);
  }

  const stats = (values: number[]): { median_ms: number; p90_ms: number; n: number } => ({
    median_ms: Math.round(median(values) * 10) / 10,
    p90_ms: Math.round(quantile(values, 0.9) * 10) / 10,
    n: values.length,
  });
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    image,
    rounds,
    node: process.version,
    node_startup_median_ms: nodeStartup,
    exec_entry: execEntry,
    pitlane_env_extra_ca_certs: unsetExtraCaCerts ? null : (process.env.NODE_EXTRA_CA_CERTS ?? null),
    docker: stats(samples.docker),
    exec: stats(samples.exec),
    ...(withRun ? { run: stats(samples.run) } : {}),
  };
  console.log('');
  console.log('command                                   median ms   p90 ms');
  const label: Record<Kind, string> = {
    docker: `docker run --rm ${image} true`,
    exec: 'pitlane exec',
    run: 'pitlane run --image (recorded)',
  };
  for (const kind of kinds) {
    const s = stats(samples[kind]);
    console.log(`${label[kind].padEnd(40)} ${s.median_ms.toFixed(0).padStart(9)} ${s.p90_ms.toFixed(0).padStart(8)}`);
  }
  const ratios: Record<string, { ratio: number; target: number; pass: boolean }> = {};
  for (const kind of ['exec', 'run'] as const) {
    if (!kinds.includes(kind)) continue;
    const ratio = median(samples[kind]) / median(samples.docker);
    ratios[kind] = { ratio: Math.round(ratio * 1000) / 1000, target: TARGETS[kind], pass: ratio <= TARGETS[kind] };
    console.log(`${kind}/docker = ${ratio.toFixed(3)} (target <= ${TARGETS[kind]}): ${ratio <= TARGETS[kind] ? 'PASS' : 'FAIL'}`);
  }
  result.ratios = ratios;
  if (breakdowns.length > 0) {
    const part = (key: keyof Breakdown): number => Math.round(median(breakdowns.map((b) => b[key])));
    const breakdown = {
      spawn_to_created_ms: part('submit'),
      created_to_started_ms: part('queueAndStart'),
      started_to_finished_ms: part('container'),
      finished_to_exit_ms: part('finishToExit'),
    };
    result.run_breakdown_median = breakdown;
    console.log('');
    console.log('pitlane run, medians from the run records (created_at, started_at, finished_at):');
    console.log(`  spawn -> created     ${String(breakdown.spawn_to_created_ms).padStart(5)} ms  CLI start-up and POST /api/v1/runs`);
    console.log(`  created -> started   ${String(breakdown.created_to_started_ms).padStart(5)} ms  queue, container create and start on the server`);
    console.log(`  started -> finished  ${String(breakdown.started_to_finished_ms).padStart(5)} ms  the container, as the server saw it`);
    console.log(`  finished -> exit     ${String(breakdown.finished_to_exit_ms).padStart(5)} ms  the CLI noticing the end (log follow, status) and exiting`);
  }
  if (execTraces.length > 0) {
    const phases: Record<string, number> = {};
    console.log('');
    console.log('pitlane exec, medians of its PITLANE_EXEC_TRACE phases:');
    for (const [label, from, to] of TRACE_PHASES) {
      const values = execTraces.filter((m) => (from === 0 || m.has(from)) && m.has(to)).map((m) => (m.get(to) as number) - (from === 0 ? 0 : (m.get(from) as number)));
      if (values.length === 0) continue;
      phases[label] = Math.round(median(values) * 10) / 10;
      console.log(`  ${label.padEnd(38)} ${median(values).toFixed(1).padStart(7)} ms`);
    }
    const insideValues = execTraces.filter((m) => m.has('process exit')).map((m) => m.get('process exit') as number);
    console.log(`  ${'process start -> exit event'.padEnd(38)} ${median(insideValues).toFixed(1).padStart(7)} ms (the rest of the wall time: exec of node, teardown)`);
    result.exec_trace_median_ms = phases;
  }
  result.samples_ms = Object.fromEntries(kinds.map((kind) => [kind, samples[kind].map((ms) => Math.round(ms))]));
  writeFileSync(join(here, 'last-result.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwritten to bench/runs/last-result.json`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
