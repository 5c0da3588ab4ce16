/**
 * Safe automatic fixes (`pitlane lint --fix`). Each fix is a text edit at offsets found by the
 * parser, so everything else in the file (comments, indentation, line endings) stays as written.
 *
 * Fixes, each applied only where the linter reports the finding (so pragmas and `ignored` are
 * respected) and only when the rewrite cannot change what the build does:
 * - PL1001: `ENV DEBIAN_FRONTEND=...` → `ARG DEBIAN_FRONTEND=...` (re-declared in stages built FROM it);
 * - DL3059 / PL1002: consecutive RUNs merged with `&&` (not across pragmas, heredocs, exec form,
 *   different `--mount` flags, or a first RUN that changes shell state: `cd`, `export`, `set`...);
 * - DL3014 / DL3015: `-y` and `--no-install-recommends` added after `apt-get install`;
 * - DL3042: `--no-cache-dir` added after `pip install`;
 * - DL3009: `&& rm -rf /var/lib/apt/lists/*` appended, unless a later RUN of the stage (or of a
 *   stage built FROM it) installs with apt without updating first;
 * - DL3003: `RUN cd dir && rest` → `WORKDIR dir` + `RUN rest` (+ `WORKDIR <previous>` when later
 *   instructions or the image config would see the change).
 */
import { lintDockerfile } from './lint.js';
import { buildModel, type DockerfileModel, type Instr } from './model.js';
import { mergeable as ctxMergeable, runSites, type RunSite } from './rules/context.js';
import { containsRun, isPipInstall } from './rules/commands.js';
import type { ShellCommand } from './shell.js';
import type { Finding, LintOptions } from './types.js';

/** Result of {@link fixDockerfile}. */
export interface FixResult {
  /** The rewritten Dockerfile (equal to the input when nothing was fixed). */
  text: string;
  /** One line per applied fix: `<CODE> line <n>: <what was done>` (lines of the text the pass ran on). */
  applied: string[];
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

interface PassResult {
  edits: Edit[];
  notes: string[];
}

interface PassCtx {
  text: string;
  model: DockerfileModel;
  findings: Finding[];
  sites: RunSite[];
  eol: string;
  options: LintOptions;
}

function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.end > limit) continue; // overlapping edit: keep the one already applied
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

function instrOf(model: DockerfileModel, f: Finding): Instr | undefined {
  return model.instrs.find((i) => f.line >= i.line && f.line <= i.endLine);
}

function findingsFor(ctx: PassCtx, codes: string[]): Array<{ f: Finding; instr: Instr }> {
  const out: Array<{ f: Finding; instr: Instr }> = [];
  for (const f of ctx.findings) {
    if (!codes.includes(f.code) || !f.fixable) continue;
    const instr = instrOf(ctx.model, f);
    if (instr) out.push({ f, instr });
  }
  return out;
}

function siteOf(ctx: PassCtx, instr: Instr): RunSite | undefined {
  return ctx.sites.find((s) => s.run === instr && !s.inOnbuild && !s.info.exec && s.info.shell !== null);
}

/** File offset just after script index range end (exclusive end). */
function endOffset(site: RunSite, scriptEnd: number): number {
  return site.info.map[scriptEnd - 1]! + 1;
}

function keywordCase(ctx: PassCtx, instr: Instr, kw: string): string {
  const raw = ctx.text.slice(instr.start, instr.start + instr.keyword.length);
  return raw === raw.toLowerCase() ? kw.toLowerCase() : kw;
}

function quoteValue(v: string): string {
  if (/^[A-Za-z0-9_./:@%+,=-]*$/.test(v)) return v;
  return `"${v.replace(/["\\$`]/g, '\\$&')}"`;
}

/** Stages built (directly or transitively) FROM stage `s`. */
function descendants(model: DockerfileModel, s: number): number[] {
  const out: number[] = [];
  for (const st of model.stages) {
    let p = st.parent;
    while (p !== undefined) {
      if (p === s) {
        out.push(st.index);
        break;
      }
      p = model.stages[p]?.parent;
    }
  }
  return out;
}

// ------------------------------------------------------------------ passes

function envToArg(ctx: PassCtx): PassResult {
  const edits: Edit[] = [];
  const notes: string[] = [];
  for (const { instr } of findingsFor(ctx, ['PL1001'])) {
    if (instr.keyword !== 'ENV' || instr.trigger) continue;
    const df = instr.props.find((p) => p.name === 'DEBIAN_FRONTEND');
    if (!df) continue;
    const arg = `${keywordCase(ctx, instr, 'ARG')} DEBIAN_FRONTEND=${quoteValue(df.value ?? '')}`;
    const others = instr.props.filter((p) => p !== df);
    let replacement = arg;
    if (others.length > 0) {
      replacement += ctx.eol + `${keywordCase(ctx, instr, 'ENV')} ${others.map((p) => (p.value === null ? p.name : `${p.name}=${quoteValue(p.value)}`)).join(' ')}`;
    }
    edits.push({ start: instr.start, end: instr.end, text: replacement });
    notes.push(`PL1001 line ${instr.line}: ENV DEBIAN_FRONTEND replaced by ${arg}`);
    for (const d of descendants(ctx.model, instr.stage)) {
      const st = ctx.model.stages[d]!;
      if (st.instrs.some((i) => (i.keyword === 'ARG' || i.keyword === 'ENV') && i.props.some((p) => p.name === 'DEBIAN_FRONTEND'))) continue;
      edits.push({ start: st.from.end, end: st.from.end, text: ctx.eol + arg });
      notes.push(`PL1001 line ${st.from.line}: ${arg} re-declared in stage built FROM the fixed stage`);
    }
  }
  return { edits, notes };
}

function mergeRuns(ctx: PassCtx): PassResult {
  const { model, text } = ctx;
  const pairs = new Set<number>(); // index of the first RUN of a pair (i, i+1)
  for (const { f, instr } of findingsFor(ctx, ['DL3059', 'PL1002'])) {
    const i = instr.index;
    const prev = model.instrs[i - 1];
    const next = model.instrs[i + 1];
    // PL1002 on an update-only RUN points at the first of the pair; the others at the second.
    if (f.code === 'PL1002' && next?.keyword === 'RUN' && f.message.includes('runs in its own layer')) pairs.add(i);
    else if (prev?.keyword === 'RUN') pairs.add(i - 1);
  }
  const ok = (i: number): boolean => {
    const a = model.instrs[i];
    const b = model.instrs[i + 1];
    if (!a || !b || a.keyword !== 'RUN' || b.keyword !== 'RUN' || a.stage !== b.stage) return false;
    const sa = siteOf(ctx, a);
    const sb = siteOf(ctx, b);
    if (!sa || !sb) return false;
    if (model.pragmas.some((p) => p.line > a.endLine && p.line < b.line)) return false;
    // mergeable() is the same test the rules use for `fixable`.
    return ctxMergeable(sa, sb);
  };
  const edits: Edit[] = [];
  const notes: string[] = [];
  const sortedPairs = [...pairs].filter(ok).sort((x, y) => x - y);
  let k = 0;
  const esc = model.escape;
  while (k < sortedPairs.length) {
    const first = sortedPairs[k]!;
    let last = first + 1;
    k++;
    while (k < sortedPairs.length && sortedPairs[k] === last) {
      last++;
      k++;
    }
    const r1 = model.instrs[first]!;
    let out = text.slice(r1.start, r1.end).replace(/[ \t]+$/, '');
    for (let i = first + 1; i <= last; i++) {
      const prev = model.instrs[i - 1]!;
      const ri = model.instrs[i]!;
      const between = text
        .slice(prev.end, ri.start)
        .split(/\r?\n/)
        .filter((l) => /^\s*#/.test(l));
      out += ` ${esc}${ctx.eol}`;
      for (const c of between) out += c + ctx.eol;
      out += `    && ${text.slice(ri.argsStart, ri.end).replace(/[ \t]+$/, '')}`;
    }
    const rn = model.instrs[last]!;
    edits.push({ start: r1.start, end: rn.end, text: out });
    notes.push(`DL3059 line ${r1.line}: merged ${last - first + 1} consecutive RUN instructions (lines ${r1.line}-${rn.endLine}) into one`);
  }
  return { edits, notes };
}

function aptGetInstalls(site: RunSite): ShellCommand[] {
  const seen = new Set<number>();
  return site.commands.filter((c) => {
    if (c.name !== 'apt-get' || !c.argv.includes('install') || seen.has(c.start)) return false;
    seen.add(c.start);
    return true;
  });
}

function insertAfterWord(site: RunSite, c: ShellCommand, word: string, add: string): Edit | undefined {
  const w = c.words.find((x, i) => i > 0 && x.text === word && x.literal);
  if (!w) return undefined;
  const at = endOffset(site, w.end);
  return { start: at, end: at, text: add };
}

function aptFlags(ctx: PassCtx): PassResult {
  const edits: Edit[] = [];
  const notes: string[] = [];
  const want = new Map<Instr, Set<string>>();
  for (const { f, instr } of findingsFor(ctx, ['DL3014', 'DL3015'])) {
    let s = want.get(instr);
    if (!s) want.set(instr, (s = new Set()));
    s.add(f.code);
  }
  for (const [instr, codes] of want) {
    const site = siteOf(ctx, instr);
    if (!site) continue;
    for (const c of aptGetInstalls(site)) {
      const flags = c.argv.slice(1);
      let add = '';
      const added: string[] = [];
      if (codes.has('DL3014') && !flags.some((a) => a === '-y' || a === '--yes' || a === '--assume-yes' || a === '-q' || a === '-qq' || /^-[a-z]*y[a-z]*$/.test(a))) {
        add += ' -y';
        added.push('DL3014');
      }
      if (codes.has('DL3015') && !flags.includes('--no-install-recommends') && !flags.includes('APT::Install-Recommends=false')) {
        add += ' --no-install-recommends';
        added.push('DL3015');
      }
      if (!add) continue;
      const e = insertAfterWord(site, c, 'install', add);
      if (!e) continue;
      edits.push(e);
      notes.push(`${added.join('/')} line ${instr.line}: added${add} to apt-get install`);
    }
  }
  return { edits, notes };
}

function pipNoCache(ctx: PassCtx): PassResult {
  const edits: Edit[] = [];
  const notes: string[] = [];
  for (const { instr } of findingsFor(ctx, ['DL3042'])) {
    const site = siteOf(ctx, instr);
    if (!site) continue;
    const seen = new Set<number>();
    for (const c of site.commands) {
      if (!isPipInstall(c) || c.argv.includes('--no-cache-dir') || seen.has(c.start)) continue;
      if (c.name.includes('pipx') || c.name.includes('pipenv') || containsRun(c.argv, ['-m', 'pipx']) || containsRun(c.argv, ['-m', 'pipenv'])) continue;
      seen.add(c.start);
      const e = insertAfterWord(site, c, 'install', ' --no-cache-dir');
      if (!e) continue;
      edits.push(e);
      notes.push(`DL3042 line ${instr.line}: added --no-cache-dir to ${c.name} install`);
    }
  }
  return { edits, notes };
}

function installsWithApt(c: ShellCommand): boolean {
  return (c.name === 'apt-get' || c.name === 'apt') && c.argv.some((a) => a === 'install' || a === 'build-dep' || a === 'source');
}

function aptCleanup(ctx: PassCtx): PassResult {
  const edits: Edit[] = [];
  const notes: string[] = [];
  for (const { instr } of findingsFor(ctx, ['DL3009'])) {
    const site = siteOf(ctx, instr);
    const shell = site?.info.shell;
    if (!site || !shell || shell.hasComments || shell.hasHeredoc || instr.heredocs.length > 0) continue;
    if (shell.andChain === undefined && shell.stateful) continue;
    const updates = site.commands.filter((c) => c.name === 'apt-get' && c.argv.includes('update'));
    const lastUpdate = updates[updates.length - 1];
    if (!lastUpdate || !site.commands.some((c) => c.index > lastUpdate.index && installsWithApt(c))) continue;
    // A later RUN in this stage or a stage built FROM it that installs without updating needs the lists.
    const stages = new Set([instr.stage, ...descendants(ctx.model, instr.stage)]);
    const later = ctx.sites.filter((s) => s.run.index > instr.index && stages.has(s.stage));
    const needsLists = later.some((s) => {
      const firstInstall = s.commands.find(installsWithApt);
      if (!firstInstall) return false;
      return !s.commands.some((c) => c.index < firstInstall.index && (c.name === 'apt-get' || c.name === 'apt') && c.argv.includes('update'));
    });
    if (needsLists) continue;
    const trimmed = site.info.script.replace(/\s+$/, '');
    if (trimmed.endsWith(ctx.model.escape) || trimmed.endsWith('&') || trimmed.endsWith('|') || trimmed.endsWith(';')) continue;
    const at = endOffset(site, trimmed.length);
    edits.push({ start: at, end: at, text: ` ${ctx.model.escape}${ctx.eol}    && rm -rf /var/lib/apt/lists/*` });
    notes.push(`DL3009 line ${instr.line}: appended && rm -rf /var/lib/apt/lists/*`);
  }
  return { edits, notes };
}

/** Absolute working directory at the start of instruction `at` of stage `s`, when known. */
function workdirAt(model: DockerfileModel, s: number, at: number): string | undefined {
  const st = model.stages[s];
  if (!st) return undefined;
  let cur = st.parent !== undefined ? workdirAt(model, st.parent, Infinity) : undefined;
  for (const i of st.instrs) {
    if (i.index >= at) break;
    if (i.keyword !== 'WORKDIR') continue;
    const p = i.args.join(' ').replace(/^["']|["']$/g, '');
    if (p.includes('$')) cur = undefined;
    else if (p.startsWith('/')) cur = p;
    else cur = cur === undefined ? undefined : joinPath(cur, p);
  }
  return cur;
}

function joinPath(base: string, rel: string): string {
  const parts = `${base}/${rel}`.split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}

function cdToWorkdir(ctx: PassCtx): PassResult {
  const edits: Edit[] = [];
  const notes: string[] = [];
  const { model, text } = ctx;
  for (const { instr } of findingsFor(ctx, ['DL3003'])) {
    const site = siteOf(ctx, instr);
    const shell = site?.info.shell;
    if (!site || !shell || !shell.andChain || shell.andChain.length < 2 || instr.heredocs.length > 0 || shell.hasHeredoc) continue;
    const cds = site.commands.filter((c) => c.name === 'cd');
    if (cds.length !== 1) continue;
    const cd = cds[0]!;
    const first = shell.andChain[0]!;
    if (cd.start !== first.start || cd.end !== first.end || cd.argv.length !== 2 || cd.wrapper) continue;
    const w = cd.words[1]!;
    const dir = w.text;
    if (!w.literal || dir === '-' || dir === '' || /\s/.test(dir) || dir.startsWith('~')) continue;
    const prev = workdirAt(model, instr.stage, instr.index);
    const target = dir.startsWith('/') ? joinPath('/', dir) : prev !== undefined ? joinPath(prev, dir) : undefined;
    if (target === undefined) continue;
    // Does anything after this RUN see the working directory?
    const st = model.stages[instr.stage]!;
    let needRestore = false;
    let decided = false;
    for (const i of st.instrs) {
      if (i.index <= instr.index) continue;
      if (i.keyword === 'WORKDIR') {
        const p = i.args.join(' ');
        if (p.startsWith('/') || p.startsWith('$') || p.startsWith('"/')) {
          decided = true;
          break;
        }
        needRestore = true;
        decided = true;
        break;
      }
      if (['RUN', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'ONBUILD', 'COPY', 'ADD'].includes(i.keyword)) {
        const dest = i.keyword === 'COPY' || i.keyword === 'ADD' ? (i.json ?? i.args).at(-1) ?? '' : '';
        if ((i.keyword !== 'COPY' && i.keyword !== 'ADD') || !/^["']?\//.test(dest)) {
          needRestore = true;
          decided = true;
          break;
        }
      }
    }
    if (!decided) {
      const isFinal = instr.stage === model.stages.length - 1;
      const used = model.stages.some((s) => s.parent === instr.stage) || model.instrs.some((i) => i.flags.some((f) => f.name === 'from'));
      needRestore = isFinal || used;
    }
    if (needRestore && prev === undefined) continue;
    const restStart = site.info.map[shell.andChain[1]!.start]!;
    const head = text.slice(instr.start, instr.argsStart);
    let replacement = `${keywordCase(ctx, instr, 'WORKDIR')} ${target}${ctx.eol}${head}${text.slice(restStart, instr.end)}`;
    if (needRestore) replacement += `${ctx.eol}${keywordCase(ctx, instr, 'WORKDIR')} ${prev}`;
    edits.push({ start: instr.start, end: instr.end, text: replacement });
    notes.push(`DL3003 line ${instr.line}: \`cd ${dir} &&\` replaced by WORKDIR ${target}${needRestore ? ` (restored to ${prev} afterwards)` : ''}`);
  }
  return { edits, notes };
}

const PASSES: Array<(ctx: PassCtx) => PassResult> = [envToArg, mergeRuns, aptFlags, pipNoCache, aptCleanup, cdToWorkdir];

/**
 * Rewrites what can be fixed safely and leaves the rest of the file as it was.
 *
 * Passes run in order (ENV→ARG, merge RUNs, apt flags, pip flag, apt list clean-up, cd→WORKDIR),
 * each on a fresh parse, repeated until nothing changes, so the result is a fixed point:
 * `fixDockerfile(fixDockerfile(t).text).applied` is empty.
 *
 * @param text the Dockerfile.
 * @param options lint options; findings ignored by them (or by pragmas) are not fixed.
 * @returns the new text and a description of each applied fix. Files with `PL0001` problems
 *          (unparseable, unknown instructions, shell syntax errors) are returned unchanged.
 */
export function fixDockerfile(text: string, options: LintOptions = {}): FixResult {
  const applied: string[] = [];
  let cur = typeof text === 'string' ? text : '';
  const eol = cur.includes('\r\n') ? '\r\n' : '\n';
  for (let round = 0; round < 6; round++) {
    let changed = false;
    for (const pass of PASSES) {
      const result = lintDockerfile(cur, options);
      if (result.findings.some((f) => f.code === 'PL0001')) return { text: cur, applied };
      const model = buildModel(cur);
      const ctx: PassCtx = { text: cur, model, findings: result.findings, sites: runSites(model), eol, options };
      const r = pass(ctx);
      if (r.edits.length === 0) continue;
      const next = applyEdits(cur, r.edits);
      if (next === cur) continue;
      cur = next;
      applied.push(...r.notes);
      changed = true;
    }
    if (!changed) break;
  }
  return { text: cur, applied };
}
