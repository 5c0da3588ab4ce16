/**
 * Reads a Dockerfile into a plain model: instructions with positions, flags, arguments, exec-form
 * arrays, here-documents, stages, pragmas, and for every `RUN` the analysed shell script.
 *
 * Parsing is done by dockerfile-ast (instruction boundaries, escape directive, flags, heredocs,
 * ENV/ARG/LABEL properties); RUN bodies go through {@link parseShell}. Problems that make the file
 * unreadable or unbuildable are collected in `errors` (reported as `PL0001`); building the model
 * never throws.
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parseShell, type ShellCommand, type ShellScript } from './shell.js';
import { joinContinuations, lineOf, lineStarts, parseImageRef, type ImageRef } from './text.js';

/** A `--name=value` flag of an instruction; `options` holds `key=value` pairs of `--mount=...`. */
export interface Flag {
  name: string;
  value: string | null;
  options: Record<string, string>;
}

/** A `RUN --mount=...` flag, decoded. */
export interface Mount {
  type: string;
  target?: string;
  source?: string;
  from?: string;
}

/** The script of a RUN instruction. */
export interface RunInfo {
  /** Shell-form script (continuations joined) or, for exec form, the array joined by spaces. */
  script: string;
  /** Map from `script` index to file offset (empty for exec form). */
  map: number[];
  /** Exec form (`RUN ["..."]`): no shell parse positions, fixes skip it. */
  exec: boolean;
  /** The analysis; null when the stage's shell is not POSIX-like (PowerShell, cmd). */
  shell: ShellScript | null;
  /** `--mount` flags. */
  mounts: Mount[];
}

/** One instruction. Lines and columns are 1-based, offsets 0-based into the file text. */
export interface Instr {
  /** Position in the file's instruction list (ONBUILD triggers share their parent's index). */
  index: number;
  /** Upper-cased keyword, e.g. `RUN`. */
  keyword: string;
  line: number;
  column: number;
  endLine: number;
  start: number;
  end: number;
  /** Offset where the arguments (after flags) start; `end` when there are none. */
  argsStart: number;
  flags: Flag[];
  /** Whitespace-separated argument words as written (quotes kept), flags excluded. */
  args: string[];
  /** Argument text after flags, continuation lines joined, first logical line only. */
  argsText: string;
  /** The exec-form array when the arguments are a valid JSON array of strings. */
  json: string[] | null;
  /** Names of here-documents opened by the instruction. */
  heredocs: string[];
  /** Index into {@link DockerfileModel.stages}; -1 before the first FROM. */
  stage: number;
  /** ENV / ARG / LABEL key-value pairs (value null for `ARG NAME`). */
  props: Array<{ name: string; value: string | null }>;
  /** RUN analysis (also for ONBUILD RUN triggers). */
  run?: RunInfo;
  /** The instruction run by `ONBUILD`. */
  trigger?: Instr;
  /** True for an ONBUILD trigger. */
  inOnbuild: boolean;
}

/** A build stage, from its FROM to the next. */
export interface Stage {
  index: number;
  from: Instr;
  /** Image reference as written (variables unresolved). */
  rawImage: string;
  /** Image reference with ARG defaults substituted. */
  image: ImageRef | undefined;
  /** `AS name`, lower-cased. */
  alias?: string;
  platform?: string;
  /** Index of the earlier stage this one is built `FROM`, when the image is a stage name. */
  parent?: number;
  instrs: Instr[];
}

/** A `# hadolint ...` or `# pitlane ...` comment. */
export interface Pragma {
  /** 1-based line. */
  line: number;
  tool: 'hadolint' | 'pitlane';
  kind: 'ignore' | 'global' | 'stage' | 'shell';
  /** Codes for the ignore kinds. */
  codes: string[];
  /** Shell name for `shell=`. */
  shell?: string;
}

/** A problem that makes the file unreadable or unbuildable (`PL0001`). */
export interface ParseProblem {
  line: number;
  column: number;
  endLine?: number;
  message: string;
  /** Instruction index, when the problem belongs to one. */
  instr?: number;
}

/** The parsed Dockerfile. */
export interface DockerfileModel {
  text: string;
  lineStarts: number[];
  escape: string;
  instrs: Instr[];
  stages: Stage[];
  /** ARG instructions before the first FROM: name → default value (null when none). */
  globalArgs: Map<string, string | null>;
  pragmas: Pragma[];
  /** Comment lines outside instructions: 1-based line and text after `#`. */
  comments: Array<{ line: number; text: string }>;
  errors: ParseProblem[];
  /** False when nothing could be parsed (binary or empty input). */
  parsed: boolean;
}

const KNOWN = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);
const EXEC_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME']);
/** Instructions that take `--flag` options before their arguments. */
const FLAGGED = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK']);

function dequote(v: string): string {
  return v.length >= 2 && ((v[0] === '"' && v.endsWith('"')) || (v[0] === "'" && v.endsWith("'"))) ? v.slice(1, -1) : v;
}
const NON_POSIX_SHELLS = ['pwsh', 'powershell', 'cmd'];

/** True when the text is not a text file (NUL bytes or mostly control characters). */
export function looksBinary(text: string): boolean {
  if (text.includes('\u0000')) return true;
  const n = Math.min(text.length, 8192);
  if (n === 0) return false;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 0xfffd || c === 0x7f) bad++;
  }
  return bad / n > 0.05;
}

/** Whether an argument text is meant as JSON exec form (not a shell `[ test ]`). */
function looksLikeJson(t: string): boolean {
  if (!t.startsWith('[')) return false;
  if (t.length > 1 && !/\s/.test(t[1]!)) return true;
  return /^\[\s*(["'])[^]*?\1\s*,/.test(t) || /^\[\s*\]$/.test(t);
}

/** Parses a pragma comment text (after `#`). */
export function parsePragma(body: string, line: number): Pragma | undefined {
  const m = /^\s*(hadolint|pitlane)\s+(.*)$/i.exec(body);
  if (!m) return undefined;
  const tool = m[1]!.toLowerCase() as 'hadolint' | 'pitlane';
  const rest = m[2]!.split('#')[0]!.trim();
  const shell = /^shell\s*=\s*(\S+)/i.exec(rest);
  if (shell) return { line, tool, kind: 'shell', codes: [], shell: shell[1]! };
  const ign = /^(?:(global|stage)\s+)?ignore\s*=\s*(.+)$/i.exec(rest);
  if (!ign) return undefined;
  const codes = ign[2]!
    .split(/[\s,]+/)
    .map((c) => c.trim().toUpperCase())
    .filter((c) => /^[A-Z]{2}\d{4}$/.test(c));
  const kind = ign[1] ? (ign[1].toLowerCase() as 'global' | 'stage') : 'ignore';
  return { line, tool, kind, codes };
}

function decodeMount(value: string): Mount {
  const m: Mount = { type: 'bind' };
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (k === 'type') m.type = v;
    else if (k === 'target' || k === 'dst' || k === 'destination') m.target = v;
    else if (k === 'source' || k === 'src') m.source = v;
    else if (k === 'from') m.from = v;
  }
  return m;
}

/** Builds the shell analysis of an exec-form RUN. */
function execScript(arr: string[]): ShellScript {
  if (arr.length >= 3 && /(^|\/)(sh|bash|ash|dash|zsh)$/.test(arr[0]!) && arr[1] === '-c') {
    const s = parseShell(arr[2]!);
    // Positions are meaningless for exec form; keep them but callers check `exec`.
    return s;
  }
  if (arr.length === 0) return { commands: [], hasPipe: false, assignments: [], stateful: false, hasHeredoc: false, hasComments: false };
  const words = arr.map((text) => ({ text, literal: true, start: 0, end: 0 }));
  const first = arr[0]!;
  const cmd: ShellCommand = {
    name: first.slice(first.lastIndexOf('/') + 1),
    argv: arr.slice(),
    words,
    assigns: [],
    start: 0,
    end: 0,
    index: 0,
  };
  return { commands: [cmd], hasPipe: false, assignments: [], stateful: false, hasHeredoc: false, hasComments: false };
}

interface BuildCtx {
  text: string;
  starts: number[];
  escape: string;
  errors: ParseProblem[];
  fastPath: boolean;
}

function offsetOf(starts: number[], pos: { line: number; character: number }): number {
  return (starts[pos.line] ?? 0) + pos.character;
}

function buildInstr(ast: Instruction, index: number, stage: number, ctx: BuildCtx, shellPosix: boolean, inOnbuild: boolean): Instr {
  const range = ast.getRange();
  const start = offsetOf(ctx.starts, range.start);
  const end = offsetOf(ctx.starts, range.end);
  const keyword = ast.getKeyword().toUpperCase();
  // Words of the first logical line after the keyword: flags (`--name=value`, only before the
  // first argument) then arguments. Computed from the text because dockerfile-ast recomputes its
  // argument list on every accessor call, which dominated the linter's run time.
  const kwEnd = offsetOf(ctx.starts, ast.getInstructionRange().end);
  const line1 = joinContinuations(ctx.text, kwEnd, end, ctx.escape, false);
  const flags: Flag[] = [];
  const args: string[] = [];
  let argsStart = end;
  let argsIndex = -1; // index of the first argument in line1.text
  const canFlag = FLAGGED.has(keyword);
  const re = /[^ \t\r\n]+/g;
  for (let m = re.exec(line1.text); m; m = re.exec(line1.text)) {
    const w = m[0];
    if (canFlag && args.length === 0 && w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      const name = (eq < 0 ? w.slice(2) : w.slice(2, eq)).toLowerCase();
      const value = eq < 0 ? null : dequote(w.slice(eq + 1));
      const options: Record<string, string> = {};
      if (value !== null && value.includes('=')) {
        for (const part of value.split(',')) {
          const e = part.indexOf('=');
          options[(e < 0 ? part : part.slice(0, e)).toLowerCase()] = e < 0 ? '' : part.slice(e + 1);
        }
      }
      flags.push({ name, value, options });
      continue;
    }
    if (args.length === 0) {
      argsStart = line1.map[m.index]!;
      argsIndex = m.index;
    }
    args.push(w);
  }
  if (args.length === 0 && end > kwEnd) {
    // Arguments only after a heredoc line or none at all: fall back to dockerfile-ast.
    const argObjs = ast.getArguments();
    for (const a of argObjs) args.push(a.getValue());
    if (argObjs.length > 0) argsStart = offsetOf(ctx.starts, argObjs[0]!.getRange().start);
  }
  const anyAst = ast as unknown as {
    getHeredocs?: () => Array<{ getName(): string; getDelimiterRange(): unknown }>;
    getProperties?: () => Array<{ getName(): string; getValue(): string | null }>;
    getProperty?: () => { getName(): string; getValue(): string | null } | null;
  };
  const heredocs: string[] = [];
  let unterminated: string | undefined;
  if (typeof anyAst.getHeredocs === 'function' && (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') && ctx.text.slice(argsStart, end).includes('<<')) {
    for (const h of anyAst.getHeredocs()) {
      heredocs.push(h.getName());
      if (h.getDelimiterRange() === null && unterminated === undefined) unterminated = h.getName();
    }
  }
  const line = range.start.line + 1;
  const endLine = range.end.line + 1;
  const joined = argsIndex >= 0 ? { text: line1.text.slice(argsIndex), map: line1.map.slice(argsIndex) } : joinContinuations(ctx.text, argsStart, end, ctx.escape, false);
  const argsText = joined.text.trim();
  let json: string[] | null = null;
  if (EXEC_FORM.has(keyword) && argsText.startsWith('[') && heredocs.length === 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(argsText);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) json = parsed as string[];
    else if (looksLikeJson(argsText)) {
      ctx.errors.push({
        line,
        column: range.start.character + 1,
        endLine,
        instr: index,
        message: `${keyword} arguments look like exec (JSON) form but are not a valid JSON array of double-quoted strings; ${keyword === 'SHELL' ? 'the build fails' : 'Docker will run them as a shell command'}`,
      });
    }
  }
  const props: Array<{ name: string; value: string | null }> = [];
  if (keyword === 'ARG' && typeof anyAst.getProperty === 'function') {
    const p = anyAst.getProperty();
    if (p) props.push({ name: p.getName(), value: p.getValue() });
  } else if ((keyword === 'ENV' || keyword === 'LABEL') && typeof anyAst.getProperties === 'function') {
    for (const p of anyAst.getProperties()) props.push({ name: p.getName(), value: p.getValue() });
  }
  const instr: Instr = {
    index,
    keyword,
    line,
    column: range.start.character + 1,
    endLine,
    start,
    end,
    argsStart,
    flags,
    args,
    argsText,
    json,
    heredocs,
    stage,
    props,
    inOnbuild,
  };

  if (!KNOWN.has(keyword)) {
    ctx.errors.push({ line, column: instr.column, endLine, instr: index, message: `Unknown instruction: ${ast.getInstruction()}` });
    return instr;
  }
  if (args.length === 0) {
    ctx.errors.push({ line, column: instr.column, endLine, instr: index, message: `${keyword} requires at least one argument` });
    return instr;
  }
  if (unterminated !== undefined) {
    ctx.errors.push({ line, column: instr.column, endLine, instr: index, message: `Unterminated here-document <<${unterminated}: no line holding only "${unterminated}" before the end of the file` });
  }
  if ((keyword === 'COPY' || keyword === 'ADD') && args.length < 2 && heredocs.length === 0) {
    ctx.errors.push({ line, column: instr.column, endLine, instr: index, message: `${keyword} requires at least two arguments: a source and a destination` });
  }

  if (keyword === 'RUN') {
    const mounts = flags.filter((f) => f.name === 'mount' && f.value !== null).map((f) => decodeMount(f.value!));
    if (json !== null) {
      instr.run = { script: json.join(' '), map: [], exec: true, shell: shellPosix ? execScript(json) : null, mounts };
    } else {
      const body = heredocs.length === 0 ? joined : joinContinuations(ctx.text, argsStart, end, ctx.escape, true);
      let shell: ShellScript | null = null;
      if (shellPosix) {
        shell = parseShell(body.text, { fastPath: ctx.fastPath });
        if (shell.error && unterminated === undefined) {
          const off = body.map[Math.min(shell.error.offset, body.map.length - 1)] ?? argsStart;
          const l = lineOf(ctx.starts, off);
          ctx.errors.push({
            line: l + 1,
            column: off - ctx.starts[l]! + 1,
            endLine,
            instr: index,
            message: `RUN shell syntax error: ${shell.error.message}`,
          });
        }
      }
      instr.run = { script: body.text, map: body.map, exec: false, shell, mounts };
    }
  } else if (keyword === 'ONBUILD') {
    const trig = (ast as unknown as { getTriggerInstruction(): Instruction | null }).getTriggerInstruction();
    if (trig) {
      const t = buildInstr(trig, index, stage, ctx, shellPosix, true);
      instr.trigger = t;
    }
  }
  return instr;
}

/**
 * Parses Dockerfile text into a {@link DockerfileModel}. Never throws.
 *
 * @param text the Dockerfile (any line endings).
 */
export function buildModel(text: string, options: { shellFastPath?: boolean } = {}): DockerfileModel {
  const starts = lineStarts(text);
  const model: DockerfileModel = {
    text,
    lineStarts: starts,
    escape: '\\',
    instrs: [],
    stages: [],
    globalArgs: new Map(),
    pragmas: [],
    comments: [],
    errors: [],
    parsed: false,
  };
  if (looksBinary(text)) {
    model.errors.push({ line: 1, column: 1, message: 'The file is not a text Dockerfile (it contains binary data)' });
    return model;
  }
  let ast;
  try {
    ast = DockerfileParser.parse(text);
  } catch (e) {
    model.errors.push({ line: 1, column: 1, message: `The Dockerfile could not be parsed: ${(e as Error).message}` });
    return model;
  }
  model.escape = ast.getEscapeCharacter() || '\\';
  const ctx: BuildCtx = { text, starts, escape: model.escape, errors: model.errors, fastPath: options.shellFastPath !== false };
  const astInstrs = ast.getInstructions();

  // Comments outside instructions, and pragmas among them.
  const covered: Array<[number, number]> = astInstrs.map((i) => [i.getRange().start.line, i.getRange().end.line]);
  let ci = 0;
  for (let l = 0; l < starts.length; l++) {
    while (ci < covered.length && covered[ci]![1] < l) ci++;
    if (ci < covered.length && covered[ci]![0] <= l && l <= covered[ci]![1]) continue;
    const lineText = text.slice(starts[l], l + 1 < starts.length ? starts[l + 1] : text.length);
    const m = /^[ \t]*#(.*?)\r?\n?$/.exec(lineText);
    if (!m) continue;
    model.comments.push({ line: l + 1, text: m[1]! });
    const p = parsePragma(m[1]!, l + 1);
    if (p) model.pragmas.push(p);
  }

  if (astInstrs.length === 0) {
    model.errors.push({ line: 1, column: 1, message: text.trim() === '' ? 'The Dockerfile is empty' : 'The Dockerfile has no instructions' });
    return model;
  }
  model.parsed = true;

  const shellPragmas = model.pragmas.filter((p) => p.kind === 'shell');
  let stage = -1;
  let posix = true;
  const stageShell: boolean[] = [];
  const aliasIndex = new Map<string, number>();
  for (let idx = 0; idx < astInstrs.length; idx++) {
    const a = astInstrs[idx]!;
    const keyword = a.getKeyword().toUpperCase();
    const line = a.getRange().start.line + 1;
    if (keyword === 'FROM') stage++;
    // FROM itself has no shell body, so it is built before the stage's shell is known.
    const fromInstr = keyword === 'FROM' ? buildInstr(a, idx, stage, ctx, true, false) : undefined;
    if (fromInstr) {
      // A stage built FROM an earlier stage inherits its shell.
      const img = fromInstr.args[0]?.toLowerCase();
      const parent = img !== undefined ? aliasIndex.get(img) : undefined;
      posix = parent !== undefined ? stageShell[parent]! : true;
    }
    for (const p of shellPragmas) {
      if (p.line < line && p.line >= (model.instrs[idx - 1]?.endLine ?? 0)) posix = !NON_POSIX_SHELLS.some((s) => p.shell!.toLowerCase().startsWith(s));
    }
    const instr: Instr = fromInstr ?? buildInstr(a, idx, stage, ctx, posix, false);
    model.instrs.push(instr);
    if (keyword === 'SHELL' && instr.json && instr.json.length > 0) {
      const exe = instr.json[0]!.toLowerCase();
      const base = exe.slice(Math.max(exe.lastIndexOf('/'), exe.lastIndexOf('\\')) + 1);
      posix = !NON_POSIX_SHELLS.some((s) => base.startsWith(s));
    }
    if (keyword === 'FROM') {
      const from = instr;
      let rawImage = '';
      let alias: string | undefined;
      const args = from.args;
      if (args.length > 0) rawImage = args[0]!;
      if (args.length >= 3 && args[1]!.toUpperCase() === 'AS') alias = args[2]!.toLowerCase();
      const platform = from.flags.find((f) => f.name === 'platform')?.value ?? undefined;
      const st: Stage = { index: stage, from, rawImage, image: undefined, instrs: [] };
      if (alias !== undefined) st.alias = alias;
      if (platform !== undefined && platform !== null) st.platform = platform;
      const parent = aliasIndex.get(rawImage.toLowerCase());
      if (parent !== undefined) st.parent = parent;
      st.image = parseImageRef(substituteArgs(rawImage, model.globalArgs));
      model.stages.push(st);
      if (alias !== undefined && !aliasIndex.has(alias)) aliasIndex.set(alias, stage);
    } else if (stage >= 0) {
      model.stages[stage]!.instrs.push(instr);
    } else if (keyword === 'ARG') {
      for (const p of instr.props) model.globalArgs.set(p.name, p.value);
    }
    stageShell[Math.max(stage, 0)] = posix;
  }
  if (model.stages.length === 0) {
    const first = model.instrs[0]!;
    model.errors.push({ line: first.line, column: first.column, message: 'The Dockerfile has no FROM instruction, so there is no build stage' });
  }
  return model;
}

/** Replaces `$NAME`, `${NAME}` and `${NAME:-default}` with values from `vars` (unknown names become empty, as BuildKit does). */
export function substituteArgs(s: string, vars: Map<string, string | null>): string {
  return s.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, n1: string | undefined, op: string | undefined, word: string | undefined, n2: string | undefined) => {
    const name = (n1 ?? n2)!;
    const v = vars.get(name);
    const set = v !== undefined && v !== null && v !== '';
    if (op === '-') return set ? v! : (word ?? '');
    if (op === '+') return set ? (word ?? '') : '';
    return set ? v! : '';
  });
}
