/**
 * bench/gateway/profile-summary.ts: a text summary of a V8 .cpuprofile (from BENCH_PROFILE=1), to
 * see where the gateway's time goes without opening DevTools.
 *
 *   npx tsx bench/gateway/profile-summary.ts bench/gateway/profiles/CPU.*.cpuprofile [TOP]
 *
 * Prints: self time by area (GC, idle, node:http server side, undici, Pitlane's gateway code,
 * streams, ...), the TOP functions by self time, and the inclusive time of Pitlane's gateway
 * functions (handle, forward, the stream factory and helpers).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary.ts FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node (µs): each sample's delta goes to the sampled node.
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i += 1) {
  const id = profile.samples[i] as number;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

function area(n: ProfileNode): string {
  const { functionName, url } = n.callFrame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.includes('/undici/')) return 'undici';
  if (url.includes('/dist/gateway/')) return 'pitlane gateway code';
  if (url.includes('/dist/auth/')) return 'pitlane auth';
  if (url.includes('/dist/')) return 'pitlane other';
  if (url.includes('node_modules')) return 'other node_modules';
  if (/node:(internal\/)?(_http|http)/.test(url)) return 'node:http';
  if (/node:(internal\/)?(streams|stream)/.test(url)) return 'node:stream';
  if (/node:(internal\/)?(net|stream_base|tcp)/.test(url)) return 'node:net';
  if (url.startsWith('node:')) return 'node other';
  if (url === '') return `native: ${functionName || '(anonymous)'}`;
  return 'other';
}

const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id) as ProfileNode;
  let a = area(n);
  if (a.startsWith('native: ')) a = 'native builtins';
  areas.set(a, (areas.get(a) ?? 0) + us);
  const { functionName, url, lineNumber } = n.callFrame;
  const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}${url ? `:${lineNumber + 1}` : ''}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}

// Inclusive time of Pitlane's gateway functions (a sample counts once per function on its stack).
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur) as ProfileNode;
    if (!n.callFrame.url.includes('/dist/')) continue;
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${n.callFrame.url.replace(/^file:\/\/.*\/dist\//, 'dist/')}:${n.callFrame.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

const busy = total - (areas.get('idle') ?? 0);
const pct = (us: number, of = total): string => `${((100 * us) / of).toFixed(1).padStart(5)}%`;
const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const lines: string[] = [];
lines.push(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle`, '');
lines.push('self time by area (% of non-idle):');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) lines.push(`  ${ms(us)} ${a === 'idle' ? '      ' : pct(us, busy)}  ${a}`);
lines.push('', `top ${top} functions by self time (% of non-idle):`);
for (const [k, us] of [...fns].filter(([k]) => !k.startsWith('(idle)')).sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${ms(us)} ${pct(us, busy)}  ${k}`);
lines.push('', "inclusive time of Pitlane's own functions (% of non-idle):");
for (const [k, us] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, 15)) lines.push(`  ${ms(us)} ${pct(us, busy)}  ${k}`);
process.stdout.write(`${lines.join('\n')}\n`);
