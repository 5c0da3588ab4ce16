/**
 * bench/deploy: how fast does Pitlane deploy a python3 and a node job from code (its generated
 * multi-stage Dockerfile), cold, after a one-line code change and with no change, against a plain
 * `docker build` of a naive single-stage Dockerfile of the same job on the same engine; and how big
 * are the two images (issue 5's benchmark).
 *
 * Targets (per job type, medians): code-only redeploy <= 3 s and faster than the naive build of
 * the same change; generated image at least 30% smaller than the naive one.
 *
 * Usage: npx tsx bench/deploy/run.ts [--rounds N] [--jobs python3,node] [--no-build] [--keep-tmp]
 *
 * See bench/deploy/README.md for what is measured and what "cold" means. In short, per job type
 * and round (rounds are independent; each has its own job name and nonce):
 *   cold      Pitlane: `pitlane deploy DIR --json` of a job name never deployed before.
 *             naive:   `docker build -t TAG DIR` of a tag that never existed.
 *             The nonce of the round is in the dependency manifest (python3: a comment line in
 *             requirements.txt; node: package.json's description) and in the entry file, so every
 *             layer made from the job's files misses the build cache. Layers that depend only on
 *             the base image and on fixed instructions (the python3 runtime user, the wrapper copy)
 *             may come from the engine's cache. The engine's build cache is not pruned (it is
 *             shared with other users of the engine).
 *   change    a comment line appended to the entry file, then `pitlane deploy DIR --force --json`
 *             / `docker build` again.
 *   nochange  `pitlane deploy DIR --force --json` / `docker build` again, nothing changed.
 *   Within a round the two sides alternate per scenario, and which goes first rotates per round.
 *
 * Pitlane's time is the wall time of the CLI (spawn to exit: upload, generation, lint, build,
 * container start, readiness, switch-over), against the naive side's `docker build` alone (no
 * container started), so the comparison leans against Pitlane. After each deploy the benchmark
 * waits, untimed, until the server has stored the image report it computes in the background
 * (it reads the whole image), so that work does not slow down the next timed step. The deployment record and its
 * build-log timestamps split Pitlane's time into submit, prepare, build and start+ready.
 *
 * Everything runs against a private Pitlane server (random admin token, temporary data dir, free
 * loopback port) stopped by PID with SIGTERM at the end, also on failure or Ctrl-C; the deployed
 * jobs are deleted (`pitlane delete`), the naive tags and the image layers this run created are
 * removed (only untagged ones, by ID). Writes bench/deploy/last-result.json (git-ignored).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const CLI = join(root, 'bin', 'pitlane.js');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const USAGE = 'usage: npx tsx bench/deploy/run.ts [--rounds N] [--changes N] [--jobs python3,node] [--no-build] [--keep-tmp]';
const rounds = Number(flag('--rounds') ?? 3);
const changesPerRound = Number(flag('--changes') ?? 2);
const jobTypes = (flag('--jobs') ?? 'python3,node').split(',').filter(Boolean);
const keepTmp = args.includes('--keep-tmp');
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(changesPerRound) || changesPerRound < 1 || jobTypes.some((j) => j !== 'python3' && j !== 'node') || jobTypes.length === 0) {
  console.error(USAGE);
  process.exit(2);
}

/** Bound on one deploy or one build (a cold node build runs `npm ci` against the registry). */
const STEP_TIMEOUT_MS = 15 * 60_000;
const TARGETS = { codeChangeMaxMs: 3000, sizeMaxRatio: 0.7 } as const;
const SCENARIOS = ['cold', 'change', 'nochange'] as const;
type Scenario = (typeof SCENARIOS)[number];
type Side = 'pitlane' | 'naive';

const runId = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'pitlane-bench-deploy-'));
const log = (msg: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const loadavg = (): [number, number, number] => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number) as [number, number, number];

// ------------------------------------------------------------------------------------------------
// Job types
// ------------------------------------------------------------------------------------------------

interface JobSpec {
  type: 'python3' | 'node';
  short: string;
  example: string;
  entry: string;
  comment: string;
  /** Pitlane's build base (node: also where the node binary comes from). */
  baseImage: string;
  /** The base of Pitlane's runtime stage (what the generated image is FROM). */
  runtimeBaseImage: string;
  /** The naive Dockerfile's FROM: the full image (see naive/*.Dockerfile). */
  naiveBaseImage: string;
  wrapperDir: string;
  naiveDockerfile: string;
  /** Puts the round's nonce into the dependency manifest of a job copy (both sides). */
  nonce(dir: string, nonce: string): void;
  /** Pitlane-only manifest changes. */
  manifest(doc: Record<string, unknown>): void;
  /** Extra files of the naive context. */
  naiveExtras(dir: string): void;
}

const WHEEL_NAME = 'pitlane_bench_tiny-1.0.0-py3-none-any.whl';
const wheelDir = join(work, 'wheel');

const JOBS: Record<'python3' | 'node', JobSpec> = {
  python3: {
    type: 'python3',
    short: 'py',
    example: 'examples/adder',
    entry: 'adder.py',
    comment: '#',
    baseImage: 'python:3.11-slim',
    runtimeBaseImage: 'python:3.11-slim',
    naiveBaseImage: 'python:3.11',
    wrapperDir: 'wrappers/python3',
    naiveDockerfile: 'bench/deploy/naive/python3.Dockerfile',
    nonce(dir, nonce) {
      writeFileSync(join(dir, 'requirements.txt'), `# bench/deploy nonce ${nonce}: a fresh dependency layer for this round\npitlane-bench-tiny==1.0.0\n`);
    },
    manifest(doc) {
      (doc.jobtype_extra as Record<string, unknown>).requirements_path = 'requirements.txt';
    },
    naiveExtras(dir) {
      mkdirSync(join(dir, 'wheels'));
      copyFileSync(join(wheelDir, WHEEL_NAME), join(dir, 'wheels', WHEEL_NAME));
    },
  },
  node: {
    type: 'node',
    short: 'node',
    example: 'examples/adder-node',
    entry: 'adder.ts',
    comment: '//',
    baseImage: 'node:24-slim',
    runtimeBaseImage: 'debian:bookworm-slim',
    naiveBaseImage: 'node:24',
    wrapperDir: 'wrappers/node',
    naiveDockerfile: 'bench/deploy/naive/node.Dockerfile',
    nonce(dir, nonce) {
      const file = join(dir, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      pkg.description = `${String(pkg.description ?? '')} (bench/deploy nonce ${nonce})`;
      writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
    },
    manifest() {},
    naiveExtras() {},
  },
};

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}
const median = (values: number[]): number => quantile(values, 0.5);
const round1 = (n: number): number => Math.round(n * 10) / 10;
const secs = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Runs a command to its exit, bounded by STEP_TIMEOUT_MS; rejects on a non-zero status (with its output). */
function timed(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; spawnedAt: number; stdout: string; output: string }> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const t0 = performance.now();
    // Own process group: a Ctrl-C at the terminal reaches only the benchmark, which finishes the
    // step under way and then cleans up (see main).
    const child = spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      output += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const timer = setTimeout(() => child.pid !== undefined && child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${command} ${argv.join(' ')} exited ${code ?? signal}:\n${output.slice(-6000)}`));
      else resolve({ ms, spawnedAt, stdout, output });
    });
  });
}

function docker(argv: string[]): string {
  return execFileSync('docker', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
function dockerQuiet(argv: string[]): { ok: boolean; out: string } {
  const r = spawnSync('docker', argv, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}
function imageSize(ref: string): number {
  return Number(docker(['image', 'inspect', '--format', '{{.Size}}', ref]));
}
function imageId(ref: string): string {
  return docker(['image', 'inspect', '--format', '{{.Id}}', ref]);
}

/**
 * Image IDs a legacy-builder log shows as made by this build: the ` ---> ID` of every step that
 * did not come from the cache, FROM steps excluded (they show the base image).
 */
function createdLayers(lines: string[]): string[] {
  const out: string[] = [];
  let fromStep = false;
  let cached = false;
  for (const line of lines) {
    if (/^Step \d+\/\d+ : /.test(line)) {
      fromStep = /^Step \d+\/\d+ : FROM /i.test(line);
      cached = false;
    } else if (line === ' ---> Using cache') cached = true;
    else {
      const m = /^ ---> ([0-9a-f]{12})$/.exec(line);
      if (m && !fromStep && !cached) out.push(m[1] as string);
    }
  }
  return out;
}

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

// ------------------------------------------------------------------------------------------------
// The private Pitlane server
// ------------------------------------------------------------------------------------------------

class Server {
  readonly token = randomBytes(24).toString('base64url').slice(0, 32);
  readonly dataDir = join(work, 'data');
  readonly logFile = join(work, 'server.log');
  port = 0;
  child: ChildProcess | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get clientEnv(): NodeJS.ProcessEnv {
    return { ...process.env, PITLANE_URL: this.url, PITLANE_TOKEN: this.token, NO_COLOR: '1' };
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const env = {
      ...process.env,
      PITLANE_ADMIN_TOKEN: this.token,
      PITLANE_DATA_DIR: this.dataDir,
      PITLANE_PORT: String(this.port),
      PITLANE_HOST: '127.0.0.1',
      PITLANE_LOG_LEVEL: 'warn',
      NO_COLOR: '1',
    };
    // Own process group, so a Ctrl-C at the terminal does not stop it before the jobs are deleted.
    const child = spawn(process.execPath, [CLI, 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const keep = (d: Buffer): void => appendFileSync(this.logFile, d);
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode} before it was ready:\n${this.tail()}`);
      const status = await fetch(`${this.url}/ready`).then((r) => r.status, () => 0);
      if (status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server was not ready within 60 s:\n${this.tail()}`);
  }

  tail(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
  }

  alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** SIGTERM by PID; SIGKILL if it has not exited after 30 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && this.alive()) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => this.alive() && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Synchronous last resort (process exit): SIGTERM by PID. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.alive()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Measurements
// ------------------------------------------------------------------------------------------------

interface PitlaneSample {
  scenario: Scenario;
  wall_ms: number;
  /** created_at -> finished_at of the deployment record. */
  server_ms: number;
  /** spawn -> created_at (CLI start-up, packing and upload of the context). */
  submit_ms: number;
  /** created_at -> the `building` log line (context unpacked, Dockerfile generated, lint). */
  prepare_ms: number | null;
  /** `building` line -> `image sha256:` line (the docker build). */
  build_ms: number | null;
  /** `image` line -> finished_at (image checks, container start, readiness, switch-over). */
  start_ready_ms: number | null;
  /** finished_at -> exit (the CLI noticing the end). */
  tail_ms: number;
  /** Untimed wait after the deploy until the server's background image report was stored (see {@link settleImageReport}). */
  report_wait_ms: number;
  deployment_id: string;
  image_id: string;
  steps_cached: number;
  steps_run: number;
  /** The build cache this scenario relies on was gone (see {@link cacheLost}): not a clean sample. */
  cache_lost: boolean;
  /** Every build step: instruction, from the cache or not, and its approximate duration (build-log batch times, +-0.2 s). */
  steps: StepTime[];
}

interface StepTime {
  step: string;
  cached: boolean;
  approx_ms: number | null;
}

interface NaiveSample {
  scenario: Scenario;
  wall_ms: number;
  image_id: string;
  steps_cached: number;
  steps_run: number;
  cache_lost: boolean;
  steps: Array<{ step: string; cached: boolean }>;
}

interface Deployment {
  id: string;
  status: string;
  error: unknown;
  image_id: string | null;
  created_at: string;
  finished_at: string | null;
  image_report?: unknown;
}

/** Longest untimed wait for a deployment's background image report. */
const REPORT_WAIT_MS = 120_000;

/**
 * Waits (untimed) until the server has stored the deployment's image report. Without image gates
 * the server computes it after the version serves, in the background, and it reads the whole
 * image: left running, it would slow down whichever step is timed next (often the naive build).
 * Returns how long it waited.
 */
async function settleImageReport(server: Server, id: string): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < REPORT_WAIT_MS) {
    const d = await server.api<Deployment>(`/api/v1/deploy/${id}`);
    if (d.image_report !== null && d.image_report !== undefined) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`warning: deployment ${id} has no image report after ${REPORT_WAIT_MS / 1000} s; going on`);
  return Date.now() - t0;
}

/** Everything this run created, for the clean-up. */
const created = {
  jobs: [] as string[],
  naiveTags: [] as string[],
  layers: new Set<string>(),
  finalImages: new Set<string>(),
  containers: [] as string[],
};

function stepCounts(lines: string[]): { cached: number; run: number } {
  const steps = lines.filter((l) => /^Step \d+\/\d+ : /.test(l) && !/^Step \d+\/\d+ : FROM /i.test(l)).length;
  const cached = lines.filter((l) => l === ' ---> Using cache').length;
  return { cached, run: steps - cached };
}

/** Build steps (FROM excluded) of a legacy-builder log, each with whether it came from the cache. */
function buildSteps(lines: string[]): Array<{ step: string; cached: boolean }> {
  const out: Array<{ step: string; cached: boolean }> = [];
  for (const line of lines) {
    const m = /^Step \d+\/\d+ : (.*)$/.exec(line);
    if (m) out.push({ step: (m[1] as string).replace(/\s+/g, ' ').slice(0, 100), cached: false });
    else if (line === ' ---> Using cache' && out.length > 0) (out[out.length - 1] as { cached: boolean }).cached = true;
  }
  return out.filter((s) => !/^FROM /i.test(s.step));
}

/** Pitlane's own labels, added by the engine API after the Dockerfile (one legacy-builder step each, after the code; older servers also added the deployment id, never cached). */
const PITLANE_API_LABEL = /^LABEL pitlane\.(deployment|job|managed|version)=[^ ]*$/;

/**
 * True when a build did not get the cache its scenario relies on, which on a shared engine happens
 * when another user prunes images (the legacy builder keeps non-final stages as untagged images,
 * which `docker image prune` deletes) or builds the same first steps with --no-cache:
 * - change: a dependency install (`npm ci`, `npm install`, `pip install`, `python -m venv`) ran
 *   again although only the entry file changed (Pitlane's side; the naive Dockerfile re-runs its
 *   install on every change by design);
 * - nochange: any step ran besides Pitlane's own per-deployment labels.
 */
function cacheLost(scenario: Scenario, side: Side, steps: Array<{ step: string; cached: boolean }>): boolean {
  const ran = steps.filter((s) => !s.cached);
  if (scenario === 'nochange') return ran.some((s) => !(side === 'pitlane' && PITLANE_API_LABEL.test(s.step)));
  if (scenario === 'change' && side === 'pitlane') return ran.some((s) => /^RUN .*(npm ci|npm install|pip |python -m venv)/.test(s.step));
  return false;
}

/**
 * Steps of a Pitlane build log with approximate durations: the time between a step's line and the
 * next step's (or the `image` line's). The server stores log lines in batches flushed within 200 ms,
 * so each figure is good to about 0.2 s.
 */
function stepTimes(lines: Array<{ time: string; line: string }>): StepTime[] {
  const out: StepTime[] = [];
  let current: { step: string; at: number; cached: boolean } | null = null;
  const close = (at: number | null): void => {
    if (current && !/^FROM /i.test(current.step)) out.push({ step: current.step, cached: current.cached, approx_ms: at === null ? null : at - current.at });
  };
  for (const l of lines) {
    const m = /^Step \d+\/\d+ : (.*)$/.exec(l.line);
    if (m) {
      close(Date.parse(l.time));
      current = { step: (m[1] as string).replace(/\s+/g, ' ').slice(0, 100), at: Date.parse(l.time), cached: false };
    } else if (l.line === ' ---> Using cache' && current) current.cached = true;
    else if (/^image sha256:/.test(l.line)) {
      close(Date.parse(l.time));
      current = null;
    }
  }
  close(null);
  return out;
}

async function pitlaneDeploy(server: Server, dir: string, scenario: Scenario): Promise<PitlaneSample> {
  const argv = [CLI, 'deploy', dir, ...(scenario === 'cold' ? [] : ['--force']), '--json'];
  const r = await timed(process.execPath, argv, server.clientEnv);
  const exitedAt = r.spawnedAt + r.ms;
  let d: Deployment;
  try {
    d = JSON.parse(r.stdout) as Deployment;
  } catch {
    throw new Error(`pitlane deploy --json printed no JSON:\n${r.output.slice(-3000)}`);
  }
  if (d.status !== 'done' || !d.finished_at || !d.image_id) throw new Error(`deployment ${d.id} ended ${d.status}: ${JSON.stringify(d.error)}`);
  const reportWaitMs = await settleImageReport(server, d.id);
  const logs = await server.api<{ lines: Array<{ time: string; line: string }> }>(`/api/v1/deploy/${d.id}/logs`);
  const lines = logs.lines.map((l) => l.line);
  const at = (re: RegExp): number | null => {
    const hit = logs.lines.find((l) => re.test(l.line));
    return hit ? Date.parse(hit.time) : null;
  };
  const createdAt = Date.parse(d.created_at);
  const finishedAt = Date.parse(d.finished_at);
  const building = at(/^building /);
  const image = at(/^image sha256:/);
  for (const id of createdLayers(lines)) created.layers.add(id);
  created.finalImages.add(d.image_id);
  const counts = stepCounts(lines);
  return {
    scenario,
    wall_ms: round1(r.ms),
    server_ms: finishedAt - createdAt,
    submit_ms: round1(createdAt - r.spawnedAt),
    prepare_ms: building === null ? null : building - createdAt,
    build_ms: building === null || image === null ? null : image - building,
    start_ready_ms: image === null ? null : finishedAt - image,
    tail_ms: round1(exitedAt - finishedAt),
    report_wait_ms: reportWaitMs,
    deployment_id: d.id,
    image_id: d.image_id,
    steps_cached: counts.cached,
    steps_run: counts.run,
    cache_lost: cacheLost(scenario, 'pitlane', buildSteps(lines)),
    steps: stepTimes(logs.lines),
  };
}

async function naiveBuild(dir: string, tag: string, scenario: Scenario): Promise<NaiveSample> {
  // The legacy builder, as Pitlane's builds through the engine API (DOCKER_BUILDKIT=0 also keeps a
  // buildx plugin, if one appears, out of the comparison).
  const r = await timed('docker', ['build', '-t', tag, dir], { ...process.env, DOCKER_BUILDKIT: '0' });
  const lines = r.stdout.split('\n').map((l) => l.replace(/\r$/, ''));
  for (const id of createdLayers(lines)) created.layers.add(id);
  const id = imageId(tag);
  created.finalImages.add(id);
  const counts = stepCounts(lines);
  const steps = buildSteps(lines);
  return { scenario, wall_ms: round1(r.ms), image_id: id, steps_cached: counts.cached, steps_run: counts.run, cache_lost: cacheLost(scenario, 'naive', steps), steps };
}

/** POST /api/v1/perform {"numbers":[40,2]} must answer 42. */
function checkAnswer(body: string, where: string): void {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error(`${where}: not JSON: ${body.slice(0, 300)}`);
  }
  if (value !== 42) throw new Error(`${where}: expected 42, got ${body.slice(0, 300)}`);
}

async function smokePitlane(server: Server, name: string): Promise<void> {
  const r = await timed(process.execPath, [CLI, 'call', name, '1.0.0', '--data', '{"numbers":[40,2]}'], server.clientEnv);
  checkAnswer(r.stdout.trim(), `pitlane call ${name}`);
}

async function smokeNaive(tag: string): Promise<void> {
  const id = docker(['run', '-d', '-p', '127.0.0.1::7000', tag]);
  created.containers.push(id);
  try {
    const port = docker(['port', id, '7000/tcp']).split('\n')[0]?.split(':').pop();
    const deadline = Date.now() + 30_000;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/perform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"numbers":[40,2]}' });
        last = await res.text();
        if (res.status === 200) return checkAnswer(last, `naive image ${tag}`);
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`naive image ${tag} did not answer within 30 s: ${last}\n${dockerQuiet(['logs', '--tail', '20', id]).out}`);
  } finally {
    dockerQuiet(['rm', '-f', id]);
  }
}

// ------------------------------------------------------------------------------------------------
// Job copies
// ------------------------------------------------------------------------------------------------

function prepareCopies(spec: JobSpec, round: number): { name: string; tag: string; pitDir: string; naiveDir: string } {
  const name = `bench-${spec.short}-${runId}-r${round}`;
  const tag = `pitlane-bench/naive-${spec.short}:${runId}-r${round}`;
  const nonce = `${runId}-r${round}`;
  const base = join(work, `${spec.type}-r${round}`);
  const pitDir = join(base, 'pitlane');
  const naiveDir = join(base, 'naive');
  for (const dir of [pitDir, naiveDir]) {
    cpSync(join(root, spec.example), dir, { recursive: true });
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    spec.nonce(dir, nonce);
    appendFileSync(join(dir, spec.entry), `${spec.comment} bench/deploy nonce ${nonce}\n`);
  }
  const manifestFile = join(pitDir, 'job.yaml');
  const doc = parseYaml(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  doc.name = name;
  spec.manifest(doc);
  writeFileSync(manifestFile, stringifyYaml(doc));
  // The naive context: the job, Pitlane's wrapper in wrapper/, the Dockerfile.
  cpSync(join(root, spec.wrapperDir), join(naiveDir, 'wrapper'), { recursive: true, filter: (src) => !/__pycache__|README\.md$/.test(src) });
  copyFileSync(join(root, spec.naiveDockerfile), join(naiveDir, 'Dockerfile'));
  spec.naiveExtras(naiveDir);
  return { name, tag, pitDir, naiveDir };
}

// ------------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------------


interface RoundResult {
  round: number;
  job: string;
  naive_tag: string;
  first: Side;
  loadavg_after: number[];
  pitlane: PitlaneSample[];
  naive: NaiveSample[];
}

interface JobResult {
  type: string;
  base_image: string;
  base_image_size: number;
  runtime_base_image: string;
  runtime_base_image_size: number;
  naive_base_image: string;
  naive_base_image_size: number;
  rounds: RoundResult[];
  /** Final image sizes; *_over_base: above the image's own base (Pitlane: its runtime stage's base; naive: its FROM). */
  sizes: { pitlane: number; naive: number; pitlane_over_base: number; naive_over_base: number } | null;
}

/**
 * Image deletions on the engine during the measurements (`docker events`), to tell when another
 * user of the shared engine pruned images under the benchmark.
 */
class EngineWatch {
  child: ChildProcess | undefined;
  events: Array<{ time: number; action: string; id: string }> = [];

  start(): void {
    const child = spawn('docker', ['events', '--filter', 'type=image', '--format', '{{json .}}'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    this.child = child;
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const e = JSON.parse(line) as { Action?: string; status?: string; id?: string; Actor?: { ID?: string }; time?: number };
          const action = e.Action ?? e.status ?? '';
          if (action === 'delete' || action === 'prune') this.events.push({ time: e.time ?? 0, action, id: (e.Actor?.ID ?? e.id ?? '').replace(/^sha256:/, '') });
        } catch {
          // Not an event line.
        }
      }
    });
  }

  /** Deletions of images this run did not build, and prune events. */
  foreign(): { deletes: number; prunes: number } {
    const ours = new Set([...created.layers, ...[...created.finalImages].map((id) => id.replace(/^sha256:/, '').slice(0, 12))]);
    return {
      deletes: this.events.filter((e) => e.action === 'delete' && !ours.has(e.id.slice(0, 12))).length,
      prunes: this.events.filter((e) => e.action === 'prune').length,
    };
  }

  stop(): void {
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

let cleanedUp = false;
let stopping: NodeJS.Signals | false = false;
async function cleanup(server: Server | undefined, watch: EngineWatch): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  watch.stop();
  if (server?.alive()) {
    for (const name of created.jobs) {
      try {
        await timed(process.execPath, [CLI, 'delete', name, '1.0.0'], server.clientEnv);
      } catch (e) {
        log(`warning: pitlane delete ${name} 1.0.0 failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }
  await server?.stop();
  // Fallbacks: containers and tags of this run's job names (unique to the run) that survived.
  for (const name of created.jobs) {
    const left = dockerQuiet(['ps', '-aq', '--filter', `label=pitlane.job=${name}`]).out.split('\n').filter(Boolean);
    if (left.length > 0) dockerQuiet(['rm', '-f', ...left]);
    dockerQuiet(['rmi', `pitlane-job/${name}:1.0.0`]);
  }
  for (const id of created.containers) dockerQuiet(['rm', '-f', id]);
  for (const tag of created.naiveTags) dockerQuiet(['rmi', tag]);
  // Layers this run built (its nonces make them its own): untagged ones only, newest first, no -f.
  const ids = [...created.finalImages, ...[...created.layers].reverse()];
  let removed = 0;
  for (const id of ids) {
    const tags = dockerQuiet(['image', 'inspect', '--format', '{{len .RepoTags}}', id]);
    if (!tags.ok || tags.out !== '0') continue;
    if (dockerQuiet(['rmi', id]).ok) removed++;
  }
  if (removed > 0) log(`removed ${removed} untagged images/layers this run built`);
  if (keepTmp) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

/** The commit and the uncommitted changes under src/ and wrappers/ when the run started (dist/ is built from the working tree). */
const gitAtStart = {
  commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || null,
  uncommitted: (spawnSync('git', ['status', '--porcelain', '--', 'src', 'wrappers'], { cwd: root, encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean),
};

async function main(): Promise<void> {
  const load0 = loadavg();
  log(`run ${runId}: ${jobTypes.join(', ')}, ${rounds} round(s) of cold + ${changesPerRound} change(s) + no change; load average ${load0.join(' ')} on ${cpus().length} CPUs`);

  if (!args.includes('--no-build')) {
    log('building dist/ (npx tsc -p tsconfig.build.json)');
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) log('tsc reported errors (dist is still emitted); continuing');
  }
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run npx tsc -p tsconfig.build.json');
  if (!dockerQuiet(['info']).ok) throw new Error('the Docker engine does not answer (scripts/setup/ensure-docker.sh)');
  for (const t of jobTypes) {
    const spec = JOBS[t as 'python3' | 'node'];
    for (const base of [spec.baseImage, spec.runtimeBaseImage]) {
      if (!dockerQuiet(['image', 'inspect', base]).ok) throw new Error(`base image ${base} is missing (scripts/setup/base-images.sh, scripts/setup/node-base-image.sh)`);
    }
    if (!dockerQuiet(['image', 'inspect', spec.naiveBaseImage]).ok) throw new Error(`the naive Dockerfile's base image ${spec.naiveBaseImage} is missing (scripts/setup/full-base-images.sh)`);
  }

  const server = new Server();
  const watch = new EngineWatch();
  // First signal: finish the step under way (each is bounded), then clean up and exit. Second: clean up now.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping) {
      stopping = signal;
      log(`${signal}: finishing the step under way, then cleaning up (send it again to clean up now)`);
      return;
    }
    log(`${signal}: cleaning up now`);
    void cleanup(server, watch).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('exit', () => {
    server.killNow();
    watch.stop();
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: JobResult[] = [];
  let engine = { deletes: 0, prunes: 0 };
  try {
    // The tiny wheel: made with the base image's own Python (no network), then put in the private
    // server's wheelhouse directory before it starts (it indexes the wheels it finds there).
    if (jobTypes.includes('python3')) {
      mkdirSync(wheelDir, { recursive: true });
      mkdirSync(join(server.dataDir, 'wheelhouse'), { recursive: true });
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      docker(['run', '--rm', '--network', 'none', '--user', `${uid}:${gid}`, '-v', `${here}/make-wheel.py:/make-wheel.py:ro`, '-v', `${wheelDir}:/out`, JOBS.python3.baseImage, 'python', '/make-wheel.py', '/out']);
      copyFileSync(join(wheelDir, WHEEL_NAME), join(server.dataDir, 'wheelhouse', WHEEL_NAME));
    }
    await server.start();
    log(`Pitlane ready on ${server.url} (pid ${server.child?.pid}, data ${server.dataDir})`);
    watch.start();

    const plan: Scenario[] = ['cold', ...Array.from({ length: changesPerRound }, () => 'change' as const), 'nochange'];
    for (const type of jobTypes) {
      const spec = JOBS[type as 'python3' | 'node'];
      const result: JobResult = {
        type,
        base_image: spec.baseImage,
        base_image_size: imageSize(spec.baseImage),
        runtime_base_image: spec.runtimeBaseImage,
        runtime_base_image_size: imageSize(spec.runtimeBaseImage),
        naive_base_image: spec.naiveBaseImage,
        naive_base_image_size: imageSize(spec.naiveBaseImage),
        rounds: [],
        sizes: null,
      };
      results.push(result);
      for (let round = 1; round <= rounds; round++) {
        const copies = prepareCopies(spec, round);
        created.jobs.push(copies.name);
        created.naiveTags.push(copies.tag);
        const first: Side = round % 2 === 1 ? 'pitlane' : 'naive';
        const entry: RoundResult = { round, job: copies.name, naive_tag: copies.tag, first, loadavg_after: [], pitlane: [], naive: [] };
        result.rounds.push(entry);
        let change = 0;
        for (const scenario of plan) {
          if (scenario === 'change') {
            change++;
            for (const dir of [copies.pitDir, copies.naiveDir]) appendFileSync(join(dir, spec.entry), `${spec.comment} bench/deploy one-line change ${change}\n`);
          }
          const label = `${type} r${round} ${(scenario === 'change' ? `change${change}` : scenario).padEnd(8)}`;
          for (const side of first === 'pitlane' ? (['pitlane', 'naive'] as const) : (['naive', 'pitlane'] as const)) {
            if (stopping) throw new Error(`interrupted by ${stopping}`);
            if (!server.alive()) throw new Error(`the Pitlane server is gone:\n${server.tail()}`);
            if (side === 'pitlane') {
              const s = await pitlaneDeploy(server, copies.pitDir, scenario);
              entry.pitlane.push(s);
              log(`${label} pitlane ${secs(s.wall_ms)} (server ${secs(s.server_ms)}: build ${secs(s.build_ms ?? NaN)}, start+ready ${secs(s.start_ready_ms ?? NaN)}; ${s.steps_run} steps run, ${s.steps_cached} cached)${s.cache_lost ? '  CACHE LOST' : ''}`);
            } else {
              const s = await naiveBuild(copies.naiveDir, copies.tag, scenario);
              entry.naive.push(s);
              log(`${label} naive   ${secs(s.wall_ms)} (${s.steps_run} steps run, ${s.steps_cached} cached)${s.cache_lost ? '  CACHE LOST' : ''}`);
            }
          }
        }
        entry.loadavg_after = loadavg();
        if (round === rounds) {
          // Both images serve the same contract: the adder answers 42 (not timed).
          await smokePitlane(server, copies.name);
          await smokeNaive(copies.tag);
          const pit = entry.pitlane.at(-1)?.image_id as string;
          const naive = entry.naive.at(-1)?.image_id as string;
          const sizes = { pitlane: imageSize(pit), naive: imageSize(naive) };
          result.sizes = { ...sizes, pitlane_over_base: sizes.pitlane - result.runtime_base_image_size, naive_over_base: sizes.naive - result.naive_base_image_size };
          log(`${type}: both images answer {"numbers":[40,2]} with 42; sizes pitlane ${mb(sizes.pitlane)}, naive ${mb(sizes.naive)}`);
        }
      }
    }
    engine = watch.foreign();
  } finally {
    await cleanup(server, watch);
  }
  report(results, load0, engine);
}

// ------------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------------

function report(results: JobResult[], load0: number[], engine: { deletes: number; prunes: number }): void {
  const load1 = loadavg();
  const out: Record<string, unknown> = {
    date: new Date().toISOString(),
    run_id: runId,
    rounds,
    changes_per_round: changesPerRound,
    git_commit: gitAtStart.commit,
    uncommitted_src_at_start: gitAtStart.uncommitted,
    node: process.version,
    docker_server: dockerQuiet(['version', '--format', '{{.Server.Version}}']).out,
    builder: 'legacy (both sides)',
    cpus: cpus().length,
    loadavg_start: load0,
    loadavg_end: load1,
    engine_activity: { image_deletes_by_others: engine.deletes, prune_events: engine.prunes },
    definitions: {
      cold: "first deploy of a never-deployed job name / first build of a new tag; a per-round nonce in the dependency manifest and the entry file makes every layer built from the job's files a cache miss; layers depending only on the base image and fixed instructions may be cached; the build cache is not pruned",
      change: 'one comment line appended to the entry file, then deploy --force / docker build',
      nochange: 'deploy --force / docker build again with nothing changed',
      pitlane_time: 'wall time of `pitlane deploy DIR [--force] --json` (upload, build, container start, readiness, switch-over)',
      naive_time: 'wall time of `docker build -t TAG DIR` alone (no container started)',
      clean_sample: 'a change whose dependency installs came from the cache / a no-change build whose steps all came from the cache (Pitlane: but its per-deployment labels); medians and checks use clean samples when there are any',
    },
    targets: { code_change_max_ms: TARGETS.codeChangeMaxMs, code_change_faster_than_naive: true, size_max_ratio: TARGETS.sizeMaxRatio },
    jobs: {} as Record<string, unknown>,
  };
  const summary: string[] = [];
  let failures = 0;
  const lines: string[] = [];
  const p = (s = ''): number => lines.push(s);
  p();
  p(`bench/deploy  run ${runId}  ${rounds} round(s) x (cold, ${changesPerRound} change(s), no change)  ${out.cpus} CPUs  load average ${load0.join(' ')} at start, ${load1.join(' ')} at end`);
  p(`commit ${gitAtStart.commit}${gitAtStart.uncommitted.length > 0 ? ` plus uncommitted changes to ${gitAtStart.uncommitted.length} file(s) under src/ or wrappers/` : ''}; legacy builder on both sides (Docker ${out.docker_server as string})`);
  p(`engine activity by others during the run: ${engine.deletes} image deletions, ${engine.prunes} prune events`);
  p('Medians of clean samples (n = clean/all). pitlane = `pitlane deploy` wall time = submit + prepare + build + start/ready + tail;');
  p('naive = `docker build` of the naive Dockerfile alone. "all" = median over every sample, when it differs.');
  for (const r of results) {
    const samples = (sc: Scenario) => r.rounds.flatMap((x) => x.pitlane.filter((s) => s.scenario === sc));
    const naiveSamples = (sc: Scenario) => r.rounds.flatMap((x) => x.naive.filter((s) => s.scenario === sc));
    const clean = <T extends { cache_lost: boolean }>(all: T[]): T[] => (all.some((s) => !s.cache_lost) ? all.filter((s) => !s.cache_lost) : all);
    const med = <T>(all: T[], key: keyof T): number => median(all.map((s) => s[key] as unknown as number | null).filter((v): v is number => v !== null));
    p();
    p(`${r.type} (${JOBS[r.type as 'python3' | 'node'].example}); 1-min load average after each round: ${r.rounds.map((x) => x.loadavg_after[0]).join(', ')}`);
    p(`  bases: pitlane builds on ${r.base_image} ${mb(r.base_image_size)}, runs on ${r.runtime_base_image} ${mb(r.runtime_base_image_size)}; naive FROM ${r.naive_base_image} ${mb(r.naive_base_image_size)}`);
    p('  scenario    n     pitlane  (submit prepare   build start/ready  tail)   naive build  n      pitlane/naive  build/naive');
    const scen: Record<string, unknown> = {};
    for (const sc of SCENARIOS) {
      const all = samples(sc);
      const ok = clean(all);
      const nAll = naiveSamples(sc);
      const nOk = clean(nAll);
      const a = med(ok, 'wall_ms');
      const b = med(nOk, 'wall_ms');
      const build = med(ok, 'build_ms');
      const allA = med(all, 'wall_ms');
      const allB = med(nAll, 'wall_ms');
      scen[sc] = {
        pitlane_samples: all.length,
        pitlane_clean_samples: all.filter((s) => !s.cache_lost).length,
        pitlane_wall_ms: round1(a),
        pitlane_wall_ms_all_samples: round1(allA),
        pitlane_submit_ms: round1(med(ok, 'submit_ms')),
        pitlane_prepare_ms: round1(med(ok, 'prepare_ms')),
        pitlane_build_ms: round1(build),
        pitlane_start_ready_ms: round1(med(ok, 'start_ready_ms')),
        pitlane_tail_ms: round1(med(ok, 'tail_ms')),
        pitlane_server_ms: round1(med(ok, 'server_ms')),
        pitlane_wall_samples_ms: all.map((s) => s.wall_ms),
        naive_samples: nAll.length,
        naive_clean_samples: nAll.filter((s) => !s.cache_lost).length,
        naive_build_ms: round1(b),
        naive_build_ms_all_samples: round1(allB),
        naive_build_samples_ms: nAll.map((s) => s.wall_ms),
        ratio: Math.round((a / b) * 1000) / 1000,
        build_only_ratio: Math.round((build / b) * 1000) / 1000,
      };
      const n1 = `${all.filter((s) => !s.cache_lost).length}/${all.length}`;
      const n2 = `${nAll.filter((s) => !s.cache_lost).length}/${nAll.length}`;
      p(`  ${sc.padEnd(9)} ${n1.padStart(4)} ${secs(a).padStart(9)}  (${secs(med(ok, 'submit_ms')).padStart(6)} ${secs(med(ok, 'prepare_ms')).padStart(7)} ${secs(build).padStart(7)} ${secs(med(ok, 'start_ready_ms')).padStart(7)} ${secs(med(ok, 'tail_ms')).padStart(7)})  ${secs(b).padStart(9)}  ${n2.padStart(4)}      ${(a / b).toFixed(2).padStart(6)}x      ${(build / b).toFixed(2).padStart(6)}x`);
      if (Math.abs(allA - a) > 1 || Math.abs(allB - b) > 1) p(`  ${''.padEnd(9)}  all ${secs(allA).padStart(9)}  ${''.padEnd(47)}  ${secs(allB).padStart(9)}`);
    }
    // Where the code-only redeploy's build time goes (steps not from the cache, median per step).
    const perStep = new Map<string, number[]>();
    for (const s of clean(samples('change'))) {
      for (const st of s.steps.filter((st) => !st.cached && st.approx_ms !== null)) {
        const key = st.step.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>').replace(/bench-[a-z]+-[0-9a-f]{6}-r\d+/g, '<job>');
        perStep.set(key, [...(perStep.get(key) ?? []), st.approx_ms as number]);
      }
    }
    const stepMedians = [...perStep].map(([step, v]) => ({ step, approx_ms: median(v) }));
    const metadata = stepMedians.filter((x) => /^(USER|EXPOSE|STOPSIGNAL|LABEL|CMD|ENV|WORKDIR|ARG)\b/i.test(x.step));
    const busy = stepMedians.filter((x) => !metadata.includes(x)).sort((a, b) => b.approx_ms - a.approx_ms);
    const metaMs = metadata.reduce((a, x) => a + x.approx_ms, 0);
    p(`  code-only redeploy, build steps that ran (approx., +-0.2 s each): ${busy.map((x) => `${x.step.slice(0, 44)} ${secs(x.approx_ms)}`).join('; ')};` +
      ` ${metadata.length} metadata-only steps (${[...new Set(metadata.map((x) => x.step.split(' ')[0]))].join('/')}) ${secs(metaMs)} together`);
    scen.change_build_steps = { work: busy, metadata, metadata_total_ms: metaMs };

    const checks: Record<string, { value: number; target: number; pass: boolean }> = {};
    const change = med(clean(samples('change')), 'wall_ms');
    const naiveChange = med(clean(naiveSamples('change')), 'wall_ms');
    checks.code_change_le_3s = { value: round1(change), target: TARGETS.codeChangeMaxMs, pass: change <= TARGETS.codeChangeMaxMs };
    checks.code_change_faster_than_naive = { value: Math.round((change / naiveChange) * 1000) / 1000, target: 1, pass: change < naiveChange };
    if (r.sizes) {
      const ratio = r.sizes.pitlane / r.sizes.naive;
      checks.image_30pct_smaller = { value: Math.round(ratio * 1000) / 1000, target: TARGETS.sizeMaxRatio, pass: ratio <= TARGETS.sizeMaxRatio };
      p(`  image size: pitlane ${mb(r.sizes.pitlane)}, naive ${mb(r.sizes.naive)} (ratio ${ratio.toFixed(3)}, ${((1 - ratio) * 100).toFixed(1)}% smaller);` +
        ` above its own base image: pitlane ${mb(r.sizes.pitlane_over_base)} (over ${r.runtime_base_image}), naive ${mb(r.sizes.naive_over_base)} (over ${r.naive_base_image})`);
    }
    const verdict = (c: { pass: boolean }): string => (c.pass ? 'PASS' : 'FAIL');
    p(`  ${verdict(checks.code_change_le_3s)}  code-only redeploy ${secs(change)} <= ${secs(TARGETS.codeChangeMaxMs)}`);
    p(`  ${verdict(checks.code_change_faster_than_naive)}  code-only redeploy ${secs(change)} < naive build after the same change ${secs(naiveChange)} (ratio ${(change / naiveChange).toFixed(2)})`);
    if (checks.image_30pct_smaller) p(`  ${verdict(checks.image_30pct_smaller)}  generated image / naive image ${checks.image_30pct_smaller.value} <= ${TARGETS.sizeMaxRatio}`);
    for (const [k, c] of Object.entries(checks)) {
      if (!c.pass) failures++;
      summary.push(`${r.type}.${k}=${verdict(c)}`);
    }
    (out.jobs as Record<string, unknown>)[r.type] = {
      base_image: r.base_image,
      base_image_size: r.base_image_size,
      runtime_base_image: r.runtime_base_image,
      runtime_base_image_size: r.runtime_base_image_size,
      naive_base_image: r.naive_base_image,
      naive_base_image_size: r.naive_base_image_size,
      sizes: r.sizes,
      scenarios: scen,
      checks,
      rounds: r.rounds,
    };
  }
  p();
  p("cold: first deploy of a new job name / first build of a new tag, with a per-round nonce in the dependency manifest and entry file,");
  p("      so every layer made from the job's files is rebuilt; base images are local; the shared build cache is not pruned.");
  p(`${failures === 0 ? 'all targets met' : `${failures} target(s) missed`}: ${summary.join(' ')}`);
  console.log(lines.join('\n'));
  out.summary = summary;
  writeFileSync(join(here, 'last-result.json'), `${JSON.stringify(out, null, 2)}\n`);
  log('wrote bench/deploy/last-result.json');
}

main().catch((e: unknown) => {
  console.error(`bench/deploy ${stopping ? 'stopped' : 'failed'}: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = stopping === 'SIGINT' ? 130 : stopping === 'SIGTERM' ? 143 : 1;
});
