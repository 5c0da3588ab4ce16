/**
 * bench/inspect: time to report on an image of at least 500 MB against
 * `docker save IMAGE > /dev/null` in the same run (target <= 1.5x), and the analyser's peak RSS
 * (target <= 200 MB).
 *
 * Usage: npx tsx bench/inspect/run.ts [--rounds N] [--image REF] [--rebuild] [--verify] [--tsx]
 *
 * - Builds (or reuses) `pitlane-bench/inspect:500m-v1`: the busybox test base plus layers of
 *   `dd if=/dev/urandom` files, some overwritten, some deleted, one chmod-ed, and 20,000 small
 *   files (about 540 MB of layer data). `--image` benchmarks any local image instead.
 * - Each round runs `docker save IMAGE > /dev/null` and a child process (`worker.ts`) that streams
 *   `image.get()` into `analyzeImageArchive`, alternating which goes first; one warm-up save first.
 * - The worker runs as plain JavaScript, as the `pitlane` CLI does from `dist/`: `src/errors.ts`,
 *   `src/image/*.ts` and `worker.ts` are transpiled with TypeScript's `transpileModule` into
 *   `bench/inspect/.build/` (git-ignored). `--tsx` runs the TypeScript through tsx instead (its
 *   loader adds about 20 MB of RSS and 0.5 s of start-up).
 * - Reports medians: the analysis time inside the child (stream open to report) and the child's
 *   wall time (Node start-up included), both against the `docker save` wall time, plus the
 *   child's peak RSS from `process.resourceUsage().maxRSS`.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { buildImage, dockerClient, ensureBusyboxBase, imageExists, removeImages } from '../../test/integration/image/docker-helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(flag('--rounds') ?? 3);
const verify = args.includes('--verify');
const useTsx = args.includes('--tsx');
const root = join(here, '..', '..');

/** Transpiles the worker and its imports (src/errors.ts, src/image/*.ts) to JavaScript in bench/inspect/.build. */
function buildWorker(): string {
  const out = join(here, '.build');
  const files = ['src/errors.ts', ...readdirSync(join(root, 'src/image')).filter((f) => f.endsWith('.ts')).map((f) => `src/image/${f}`), 'bench/inspect/worker.ts'];
  for (const f of files) {
    const { outputText } = ts.transpileModule(readFileSync(join(root, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: f,
    });
    const dest = join(out, f.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  return join(out, 'bench/inspect/worker.js');
}
const DEFAULT_IMAGE = 'pitlane-bench/inspect:500m-v1';
const image = flag('--image') ?? DEFAULT_IMAGE;

const DOCKERFILE = (base: string) => `FROM ${base}
RUN dd if=/dev/urandom of=/blob1 bs=1M count=160
RUN dd if=/dev/urandom of=/blob2 bs=1M count=120
RUN dd if=/dev/urandom of=/blob1 bs=1M count=100
RUN rm /blob2 && dd if=/dev/urandom of=/blob3 bs=1M count=80
RUN mkdir -p /many && i=0; while [ $i -lt 20000 ]; do echo "file number $i" > /many/f$i; i=$((i+1)); done
RUN rm -rf /many/f1* && chmod 600 /blob3
`;

function run(cmd: string, argv: string[], stdoutToDevNull: boolean): Promise<{ ms: number; stdout: string; code: number }> {
  return new Promise((resolve, reject) => {
    const devnull = stdoutToDevNull ? openSync('/dev/null', 'w') : null;
    const t0 = performance.now();
    const child = spawn(cmd, argv, { stdio: ['ignore', devnull ?? 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (devnull !== null) closeSync(devnull);
      resolve({ ms: performance.now() - t0, stdout, code: code ?? -1 });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const docker = dockerClient();
  if (image === DEFAULT_IMAGE) {
    if (args.includes('--rebuild')) await removeImages(docker, [DEFAULT_IMAGE]);
    if (!(await imageExists(docker, DEFAULT_IMAGE))) {
      const base = await ensureBusyboxBase(docker);
      console.log(`building ${DEFAULT_IMAGE} (about 540 MB of layers)...`);
      const t0 = performance.now();
      await buildImage(docker, DEFAULT_IMAGE, DOCKERFILE(base));
      console.log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } else {
      console.log(`reusing ${DEFAULT_IMAGE}`);
    }
  } else if (!(await imageExists(docker, image))) {
    throw new Error(`image ${image} not found`);
  }

  const workerArgs = useTsx ? ['--import', 'tsx', join(here, 'worker.ts')] : [buildWorker()];
  const analyse = async (): Promise<Record<string, number> & { wallMs: number }> => {
    const r = await run(process.execPath, [...workerArgs, image, ...(verify ? ['--verify'] : [])], false);
    if (r.code !== 0) throw new Error(`worker failed with code ${r.code}`);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    return Object.assign(result, { wallMs: r.ms });
  };
  const save = async () => {
    const r = await run('docker', ['save', image], true);
    if (r.code !== 0) throw new Error(`docker save failed with code ${r.code}`);
    return r.ms;
  };

  console.log('warm-up: docker save > /dev/null');
  await save();
  const saves: number[] = [];
  const analyses: Array<Awaited<ReturnType<typeof analyse>>> = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      saves.push(await save());
      analyses.push(await analyse());
    } else {
      analyses.push(await analyse());
      saves.push(await save());
    }
    const a = analyses[analyses.length - 1]!;
    console.log(
      `round ${i + 1}: docker save ${saves[saves.length - 1]!.toFixed(0)} ms; analyse ${a['ms']!.toFixed(0)} ms (child wall ${a.wallMs.toFixed(0)} ms), peak RSS ${(a['maxRssKB']! / 1024).toFixed(1)} MiB`,
    );
  }
  const a0 = analyses[0]!;
  const saveMs = median(saves);
  const analyseMs = median(analyses.map((a) => a['ms']!));
  const wallMs = median(analyses.map((a) => a.wallMs));
  const rssMiB = Math.max(...analyses.map((a) => a['maxRssKB']!)) / 1024;
  const idleMiB = Math.max(...analyses.map((a) => a['idleRssKB']!)) / 1024;
  console.log('');
  console.log(`image ${image}: ${a0['layers']} layers, ${a0['entries']} entries, ${(a0['size_bytes']! / 1e6).toFixed(1)} MB of layer data`);
  console.log(
    `  efficiency ${(a0['efficiency']! * 100).toFixed(2)} %, wasted ${(a0['wasted_bytes']! / 1e6).toFixed(1)} MB, user wasted ${(a0['wasted_user_percent']! * 100).toFixed(2)} %, reclaimable ${(a0['reclaimable_bytes']! / 1e6).toFixed(1)} MB`,
  );
  console.log(`docker save > /dev/null (median of ${rounds}): ${saveMs.toFixed(0)} ms`);
  console.log(`analyzeImageArchive(image.get()) (median):  ${analyseMs.toFixed(0)} ms  -> ratio ${(analyseMs / saveMs).toFixed(2)}x (target <= 1.5x)`);
  console.log(`  child process wall time incl. Node${useTsx ? '+tsx' : ''} start-up: ${wallMs.toFixed(0)} ms -> ratio ${(wallMs / saveMs).toFixed(2)}x`);
  console.log(`  per-round ratios: ${analyses.map((a, i) => (a['ms']! / saves[i]!).toFixed(2)).join(', ')}`);
  console.log(`peak RSS of the analysing process: ${rssMiB.toFixed(1)} MiB = ${((rssMiB * 1048576) / 1e6).toFixed(0)} MB (target <= 200 MB; ${idleMiB.toFixed(1)} MiB with Node and dockerode loaded, before the analysis started)`);
  console.log(`throughput: ${(a0['size_bytes']! / 1e6 / (analyseMs / 1000)).toFixed(0)} MB/s of layer data${verify ? ' (with sha256 verification of every layer)' : ''}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
