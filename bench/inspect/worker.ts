/**
 * Child process of `bench/inspect/run.ts`: streams `docker save IMAGE` from the engine
 * (dockerode `image.get()`) into `analyzeImageArchive` and prints one JSON line with the time,
 * the peak RSS (`process.resourceUsage().maxRSS`, KiB) and the report's headline figures.
 *
 * Usage: node --import tsx bench/inspect/worker.ts IMAGE [--verify]
 */
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { analyzeImageArchive } from '../../src/image/index.js';

const ref = process.argv[2];
if (!ref) {
  console.error('usage: worker.ts IMAGE [--verify]');
  process.exit(2);
}
const verify = process.argv.includes('--verify');
const docker = new Docker();
const idleRssKB = process.resourceUsage().maxRSS;
const t0 = performance.now();
const stream = (await docker.getImage(ref).get()) as unknown as Readable;
const report = await analyzeImageArchive(stream, { verifyDigests: verify });
const ms = performance.now() - t0;
const usage = process.resourceUsage();
console.log(
  JSON.stringify({
    ms,
    maxRssKB: usage.maxRSS,
    idleRssKB,
    userCpuMs: usage.userCPUTime / 1000,
    systemCpuMs: usage.systemCPUTime / 1000,
    layers: report.layers.length,
    entries: report.layers.reduce((n, l) => n + l.entries, 0),
    size_bytes: report.size_bytes,
    efficiency: report.efficiency,
    wasted_bytes: report.wasted_bytes,
    wasted_user_percent: report.wasted_user_percent,
    reclaimable_bytes: report.reclaimable_bytes,
  }),
);
