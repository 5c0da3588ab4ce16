/**
 * Lint throughput benchmark (issue 4: target >= 1,000 Dockerfiles per second on one core).
 *
 * Run: `npx tsx bench/lint/run.ts [--count N] [--seconds S] [--fix] [--no-fast-path]`
 *
 * Generates the corpus (bench/lint/corpus.ts), warms up, then lints the whole corpus in passes in
 * this single JavaScript thread for at least S seconds (default 5) and prints Dockerfiles per
 * CPU-second of this process (median and best pass, so other load on the machine skews it less;
 * wall-clock throughput is printed too), the ratio to the 1,000/s target, and corpus statistics.
 * `--no-fast-path` sends every RUN body through mvdan-sh (see `parseShell`'s `fastPath`). Pin the process to one core with
 * `taskset -c 0 npx tsx bench/lint/run.ts` to keep V8's background GC threads off other cores.
 */
import { fixDockerfile, lintDockerfile } from '../../src/dockerfile/index.js';
import { cpus, loadavg } from 'node:os';
import { generateCorpus } from './corpus.js';

const TARGET = 1000;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const corpus = generateCorpus(arg('count', 260));
const seconds = arg('seconds', 5);
const fastPath = !process.argv.includes('--no-fast-path');
const lines = corpus.reduce((n, c) => n + c.text.split('\n').length, 0);
const multiStage = corpus.filter((c) => (c.text.match(/^FROM /gim) ?? []).length > 1).length;
const withHeredoc = corpus.filter((c) => /<<-?['"]?[A-Z]+/.test(c.text)).length;
const longChains = corpus.filter((c) => c.text.split('\n').some((l, i, all) => /^RUN /.test(l) && all.slice(i, i + 10).every((x) => x.trimEnd().endsWith('\\')))).length;

// Warm-up: JIT, mvdan-sh initialisation.
let findings = 0;
const byCode = new Map<string, number>();
for (const c of corpus) {
  for (const f of lintDockerfile(c.text, { hasDockerignore: false }).findings) {
    findings++;
    byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1);
  }
}
for (let k = 0; k < 2; k++) for (const c of corpus) lintDockerfile(c.text);

// Timed trials: one pass over the corpus each. CPU time of this process (all its threads) is what
// one core spends, and does not count time the process waited for the CPU; the median trial is the
// headline, the best trial shows the figure on a quiet machine.
const opts = { hasDockerignore: false, ...(fastPath ? {} : { shellFastPath: false }) };
const trials: number[] = [];
let files = 0;
let cpuTotal = 0;
const t0 = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < seconds || trials.length < 5) {
  const c0 = process.cpuUsage();
  for (const c of corpus) lintDockerfile(c.text, opts);
  const cpu = process.cpuUsage(c0);
  const sec = (cpu.user + cpu.system) / 1e6;
  trials.push(corpus.length / sec);
  cpuTotal += sec;
  files += corpus.length;
  elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
}
trials.sort((a, b) => a - b);
const median = trials[trials.length >> 1]!;
const best = trials[trials.length - 1]!;
const perWallSecond = files / elapsed;

console.log(`corpus: ${corpus.length} Dockerfiles, ${lines} lines (avg ${(lines / corpus.length).toFixed(1)}), ${multiStage} multi-stage, ${withHeredoc} with heredocs, ${longChains} with RUN chains of 10+ lines`);
console.log(`findings on one pass: ${findings} (${byCode.size} distinct codes)`);
console.log(`lint${fastPath ? '' : ' (mvdan-sh for every RUN, --no-fast-path)'}: ${files} Dockerfiles in ${trials.length} passes, ${cpuTotal.toFixed(2)} s of CPU, ${elapsed.toFixed(2)} s wall (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
console.log(`throughput on one core: median ${median.toFixed(0)} Dockerfiles/s (${(1000 / median).toFixed(3)} ms each), best pass ${best.toFixed(0)}/s; wall clock ${perWallSecond.toFixed(0)}/s`);
console.log(`target ${TARGET}/s: median ratio ${(median / TARGET).toFixed(2)}x, best ${(best / TARGET).toFixed(2)}x ${median >= TARGET ? '(met)' : best >= TARGET ? '(met on the best pass only)' : '(NOT met)'}`);

if (process.argv.includes('--fix')) {
  const f0 = process.hrtime.bigint();
  let fixed = 0;
  for (const c of corpus) if (fixDockerfile(c.text).applied.length > 0) fixed++;
  const fe = Number(process.hrtime.bigint() - f0) / 1e9;
  console.log(`fix: ${corpus.length} Dockerfiles in ${fe.toFixed(2)} s (${(corpus.length / fe).toFixed(0)}/s), ${fixed} changed`);
}
