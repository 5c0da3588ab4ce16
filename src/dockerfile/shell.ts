/**
 * A small adapter over mvdan-sh (the GopherJS build of mvdan.cc/sh/v3/syntax) that turns a shell
 * script into plain data: the simple commands it runs, each with its argv and position.
 *
 * Why an adapter: mvdan-sh returns wrapped Go objects whose fields are not enumerable and whose
 * positions are UTF-8 byte offsets; the rules only need argv lists, offsets in the JavaScript
 * string, and a few facts (is there a pipe, does the script change shell state). Nothing else in
 * the linter imports mvdan-sh.
 *
 * Command extraction follows hadolint's `Hadolint.Shell.presentCommands` (every simple command
 * with a name, at any depth, including inside `$(...)`, subshells, `if`, loops and functions) so
 * that the DL rules see what hadolint sees. In addition, commands run through a wrapper (`sudo`,
 * `env`, `exec`, `nice`, `nohup`, `time`, `command`, `gosu`, `su-exec`, `xargs`) are also listed
 * as the wrapped command, flagged with `wrapper`.
 */
import sh from 'mvdan-sh';

/** One shell word (argument) with its rendered text and position in the parsed script. */
export interface ShellWord {
  /** The word after quote removal; non-literal parts (`$VAR`, `$(cmd)`, globs) keep their source text. */
  text: string;
  /** True when the word is fully static (only literal and quoted-literal parts). */
  literal: boolean;
  /** Start offset (JavaScript string index) in the script given to {@link parseShell}. */
  start: number;
  /** End offset (exclusive). */
  end: number;
}

/** A simple command (`name arg...`), found anywhere in the script. */
export interface ShellCommand {
  /** Basename of the first word (`/usr/bin/apt-get` → `apt-get`). */
  name: string;
  /** All words including the command name, as rendered by {@link ShellWord.text}. */
  argv: string[];
  /** The words with positions; `words[0]` is the command name. */
  words: ShellWord[];
  /** Prefix assignments (`DEBIAN_FRONTEND=noninteractive apt-get ...`). */
  assigns: Array<{ name: string; value: string }>;
  /** Start offset of the command in the script. */
  start: number;
  /** End offset (exclusive). */
  end: number;
  /** Set when this entry is the command run by a wrapper (`sudo apt-get` → `apt-get` with wrapper `sudo`). */
  wrapper?: string;
  /** Sequential number of the command in source order (wrapped commands share their wrapper's index). */
  index: number;
}

/** The analysis of one script. */
export interface ShellScript {
  /** Simple commands in source order. Empty when the script failed to parse. */
  commands: ShellCommand[];
  /** Whether the script contains a pipeline `a | b` (DL4006). */
  hasPipe: boolean;
  /** Assignments that set a variable for the rest of the script: bare `X=1`, `export X=1`, `declare X=1`. */
  assignments: Array<{ name: string; value: string }>;
  /**
   * True when running the script changes shell state that a following command would see:
   * `cd`, `export`, `set`, `source`, `exec`, `exit`, bare assignments, functions, background jobs...
   * Such a script cannot be safely concatenated with `&&` to another one.
   */
  stateful: boolean;
  /** True when the script (outside nested heredoc scripts) contains a here-document. */
  hasHeredoc: boolean;
  /** True when the script contains a shell comment (`# ...`), which would swallow text appended to its line. */
  hasComments: boolean;
  /**
   * When the whole script is one `&&` chain (`a && b | c && d`: no `;`, `||`, `&` or newline
   * between statements), the offsets of its elements; otherwise undefined.
   */
  andChain?: Array<{ start: number; end: number }>;
  /** The parse error, if any: message and offset in the script. */
  error?: { message: string; offset: number };
}

/** Options for {@link parseShell}. */
export interface ParseShellOptions {
  /**
   * Parse scripts of a small safe subset (plain words, simple quotes, `&&`, `||`, `|`, `;`) with a
   * built-in tokenizer instead of mvdan-sh; its output is identical and it is about 30 times faster.
   * Default true; false forces mvdan-sh for every script.
   */
  fastPath?: boolean;
  /**
   * Also analyse the body of a here-document fed to a shell (`<<EOF` with no command, or
   * `bash <<EOF`), as BuildKit runs `RUN <<EOF` bodies as scripts. Default true.
   */
  heredocScripts?: boolean;
}

// mvdan-sh is untyped; these are the few Go field names of mvdan.cc/sh/v3/syntax we read.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Node = any;

const syntax = (sh as any).syntax;
let parser: Node | undefined;
function getParser(): Node {
  if (parser === undefined) parser = syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash));
  return parser;
}

/** Binary operators of mvdan.cc/sh/v3/syntax.BinCmdOperator as numbered in mvdan-sh 0.10.1. */
const OP_AND = 10;
const OP_PIPE = 12;
const OP_PIPE_ALL = 13;
/** Redirect operators: `<<`, `<<-`. */
const REDIR_HDOC = 61;
const REDIR_DASH_HDOC = 62;

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', 'mksh', 'busybox']);
const STATEFUL_COMMANDS = new Set([
  'cd', 'pushd', 'popd', 'export', 'set', 'unset', 'source', '.', 'exec', 'exit', 'return', 'trap',
  'umask', 'alias', 'unalias', 'shopt', 'ulimit', 'declare', 'typeset', 'local', 'readonly', 'eval',
  'hash', 'enable', 'builtin', 'wait',
]);
/** Wrappers whose argument list starts (after their own options) with another command. */
const WRAPPERS = new Set(['sudo', 'env', 'exec', 'nice', 'nohup', 'time', 'command', 'gosu', 'su-exec', 'xargs', 'doas', 'chroot', 'timeout', 'stdbuf', 'ionice']);

/** Go slice (GopherJS internal) → element i. */
function at(slice: Node, i: number): Node {
  return slice.$array[slice.$offset + i];
}
function len(slice: Node): number {
  return slice ? slice.$length : 0;
}
/** Go type name of an internal object (`*syntax.CallExpr`), or undefined for nil interfaces and nil pointers. */
function typeOf(x: Node): string | undefined {
  if (x === null || x === undefined) return undefined;
  const c = x.constructor;
  if (c === undefined || c.string === undefined || c.nil === x) return undefined;
  return c.string;
}

/** Basename of a command word. */
function baseName(word: string): string {
  const i = word.lastIndexOf('/');
  return i >= 0 ? word.slice(i + 1) : word;
}

/** Maps UTF-8 byte offsets (mvdan positions) to string indices; identity for ASCII scripts. */
function byteMapper(script: string): (byteOffset: number) => number {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(script)) return (b) => b;
  const map: number[] = [];
  for (let i = 0; i < script.length; i++) {
    const cp = script.codePointAt(i)!;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < bytes; k++) map.push(i);
    if (cp >= 0x10000) i++;
  }
  map.push(script.length);
  return (b) => (b < map.length ? map[b]! : script.length);
}

/** Adds the command run by a wrapper (`sudo -u x apt-get install` → `apt-get install`) to `out`. */
function unwrap(command: ShellCommand, index: number, out: ShellCommand[]): void {
  let current = command;
  for (let depth = 0; depth < 4 && WRAPPERS.has(current.name); depth++) {
    const w = current.words;
    let i = 1;
    const wrapper = current.name;
    while (i < w.length) {
      const t = w[i]!.text;
      if (t === '--') {
        i++;
        break;
      }
      if (t.startsWith('-')) {
        // options that take a value
        if (((wrapper === 'sudo' || wrapper === 'doas') && /^-[ugCDhprtTU]$/.test(t)) || (wrapper === 'nice' && t === '-n') || (wrapper === 'xargs' && /^-[ILPdEns]$/.test(t)) || (wrapper === 'timeout' && /^-[sk]$/.test(t)) || (wrapper === 'env' && /^-[uCS]$/.test(t))) i++;
        i++;
        continue;
      }
      if (wrapper === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(t)) {
        i++;
        continue;
      }
      break;
    }
    if ((wrapper === 'gosu' || wrapper === 'su-exec' || wrapper === 'chroot') && i < w.length) i++; // user / root dir
    if (wrapper === 'timeout' && i < w.length && /^[0-9.]+[smhd]?$/.test(w[i]!.text)) i++;
    if (i >= w.length) return;
    const words = w.slice(i);
    const inner: ShellCommand = {
      name: baseName(words[0]!.text),
      argv: words.map((x) => x.text),
      words,
      assigns: [],
      start: words[0]!.start,
      end: current.end,
      wrapper,
      index,
    };
    out.push(inner);
    current = inner;
  }
}


class Walker {
  readonly commands: ShellCommand[] = [];
  readonly assignments: Array<{ name: string; value: string }> = [];
  hasPipe = false;
  stateful = false;
  hasHeredoc = false;
  hasComments = false;
  private counter = 0;

  constructor(
    private readonly script: string,
    private readonly toIndex: (b: number) => number,
    private readonly base: number,
    private readonly heredocScripts: boolean,
  ) {}

  pos(node: Node): number {
    return this.base + this.toIndex(node.Pos().offs);
  }
  end(node: Node): number {
    return this.base + this.toIndex(node.End().offs);
  }

  stmts(list: Node, topLevel: boolean): void {
    const n = len(list);
    for (let i = 0; i < n; i++) this.stmt(at(list, i), topLevel);
  }

  stmt(s: Node, topLevel: boolean): void {
    if (typeOf(s) === undefined) return;
    if (topLevel && s.Background) this.stateful = true;
    if (len(s.Comments) > 0) this.hasComments = true;
    const redirs = s.Redirs;
    const cmd = typeOf(s.Cmd) === undefined ? undefined : s.Cmd;
    if (cmd) this.command(cmd, topLevel);
    if (len(redirs)) this.redirects(redirs, cmd, topLevel);
  }

  redirects(redirs: Node, cmd: Node, topLevel: boolean): void {
    for (let i = 0; i < len(redirs); i++) {
      const r = at(redirs, i);
      const op = r.Op;
      if (op === REDIR_HDOC || op === REDIR_DASH_HDOC) {
        this.hasHeredoc = true;
        if (this.heredocScripts && topLevel && typeOf(r.Hdoc) && this.feedsShell(cmd)) this.heredocScript(r, op === REDIR_DASH_HDOC);
      } else if (typeOf(r.Word)) {
        this.word(r.Word);
      }
    }
  }

  /** True when a heredoc attached to `cmd` is run as a script: no command, or a shell without `-c`. */
  feedsShell(cmd: Node): boolean {
    if (!cmd) return true;
    if (typeOf(cmd) !== '*syntax.CallExpr') return false;
    const args = cmd.Args;
    if (len(args) === 0) return true;
    const name = baseName(this.wordText(at(args, 0)).text);
    if (!SHELLS.has(name)) return false;
    for (let i = 1; i < len(args); i++) {
      const t = this.wordText(at(args, i)).text;
      if (t === '-c' || (t.startsWith('-') && !t.startsWith('--') && t.includes('c'))) return false;
    }
    return true;
  }

  heredocScript(r: Node, dash: boolean): void {
    const delimWord = this.wordText(r.Word).text;
    const start = this.pos(r.Hdoc);
    // The body runs from the heredoc word's start to the line holding only the delimiter.
    let end = this.script.length;
    let lineStart = start - this.base;
    const local = this.script;
    while (lineStart < local.length) {
      let nl = local.indexOf('\n', lineStart);
      if (nl < 0) nl = local.length;
      let line = local.slice(lineStart, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if ((dash ? line.replace(/^\t+/, '') : line) === delimWord) {
        end = this.base + lineStart;
        break;
      }
      lineStart = nl + 1;
    }
    const body = local.slice(start - this.base, end - this.base);
    const inner = parseShellAt(body, start, false);
    if (inner.error) return; // a body that is not valid shell is reported by the caller's own parse only
    for (const c of inner.commands) {
      c.index = this.counter++;
      this.commands.push(c);
    }
    this.hasPipe ||= inner.hasPipe;
    this.hasComments ||= inner.hasComments;
    this.stateful ||= inner.stateful;
    this.assignments.push(...inner.assignments);
  }

  command(cmd: Node, topLevel: boolean): void {
    const type = typeOf(cmd);
    switch (type) {
      case '*syntax.CallExpr':
        this.call(cmd, topLevel);
        break;
      case '*syntax.BinaryCmd': {
        const op = cmd.Op;
        if (op === OP_PIPE || op === OP_PIPE_ALL) this.hasPipe = true;
        this.stmt(cmd.X, topLevel);
        this.stmt(cmd.Y, topLevel);
        break;
      }
      case '*syntax.Subshell':
        this.stmts(cmd.Stmts, false);
        break;
      case '*syntax.Block':
        this.stmts(cmd.Stmts, topLevel);
        break;
      case '*syntax.IfClause': {
        let c = cmd;
        while (typeOf(c)) {
          this.stmts(c.Cond, topLevel);
          this.stmts(c.Then, topLevel);
          c = c.Else;
        }
        break;
      }
      case '*syntax.WhileClause':
        this.stmts(cmd.Cond, topLevel);
        this.stmts(cmd.Do, topLevel);
        break;
      case '*syntax.ForClause':
        this.stmts(cmd.Do, topLevel);
        break;
      case '*syntax.CaseClause': {
        const items = cmd.Items;
        for (let i = 0; i < len(items); i++) this.stmts(at(items, i).Stmts, topLevel);
        break;
      }
      case '*syntax.FuncDecl':
        if (topLevel) this.stateful = true;
        this.stmt(cmd.Body, false);
        break;
      case '*syntax.TimeClause':
      case '*syntax.CoprocClause':
        this.stmt(cmd.Stmt, topLevel);
        break;
      case '*syntax.DeclClause': {
        if (topLevel) this.stateful = true;
        const args = cmd.Args;
        for (let i = 0; i < len(args); i++) {
          const a = at(args, i);
          if (typeOf(a.Name)) this.assignments.push({ name: a.Name.Value, value: typeOf(a.Value) ? this.wordText(a.Value, true).text : '' });
        }
        break;
      }
      default:
        // TestClause, ArithmCmd, LetClause: no commands inside that rules care about.
        break;
    }
  }

  call(cmd: Node, topLevel: boolean): void {
    const args = cmd.Args;
    const assignsNode = cmd.Assigns;
    const assigns: Array<{ name: string; value: string }> = [];
    for (let i = 0; i < len(assignsNode); i++) {
      const a = at(assignsNode, i);
      if (typeOf(a.Name)) assigns.push({ name: a.Name.Value, value: typeOf(a.Value) ? this.wordText(a.Value, true).text : '' });
    }
    const nargs = len(args);
    if (nargs === 0) {
      // A bare assignment changes the shell's variables.
      if (assigns.length) {
        if (topLevel) this.stateful = true;
        this.assignments.push(...assigns);
      }
      return;
    }
    const words: ShellWord[] = [];
    for (let i = 0; i < nargs; i++) words.push(this.word(at(args, i)));
    const name = baseName(words[0]!.text);
    if (topLevel && STATEFUL_COMMANDS.has(name)) this.stateful = true;
    const index = this.counter++;
    const command: ShellCommand = {
      name,
      argv: words.map((w) => w.text),
      words,
      assigns,
      start: this.pos(cmd),
      end: this.end(cmd),
      index,
    };
    this.commands.push(command);
    unwrap(command, index, this.commands);
  }

  /** Renders a word and walks the commands nested in it (`$(...)`, `<(...)`). */
  word(w: Node): ShellWord {
    const r = this.wordText(w, true);
    return r;
  }

  wordText(w: Node, walkNested = false): ShellWord {
    const parts = w.Parts;
    let text = '';
    let literal = true;
    for (let i = 0; i < len(parts); i++) {
      const r = this.part(at(parts, i), walkNested);
      text += r.text;
      if (!r.literal) literal = false;
    }
    return { text, literal, start: this.pos(w), end: this.end(w) };
  }

  part(p: Node, walkNested: boolean, quoted = false): { text: string; literal: boolean } {
    const type = typeOf(p);
    switch (type) {
      case '*syntax.Lit': {
        const v: string = p.Value;
        // Globs and brace expansion make an unquoted word non-static.
        return { text: v, literal: quoted || !/[*?[{]/.test(v) };
      }
      case '*syntax.SglQuoted':
        return { text: p.Value, literal: true };
      case '*syntax.DblQuoted': {
        const parts = p.Parts;
        let text = '';
        let literal = true;
        for (let i = 0; i < len(parts); i++) {
          const r = this.part(at(parts, i), walkNested, true);
          text += r.text;
          if (!r.literal) literal = false;
        }
        return { text, literal: literal };
      }
      case '*syntax.CmdSubst':
      case '*syntax.ProcSubst':
        if (walkNested) this.stmts(p.Stmts, false);
        return { text: this.source(p), literal: false };
      default:
        return { text: this.source(p), literal: false };
    }
  }

  source(node: Node): string {
    return this.script.slice(this.pos(node) - this.base, this.end(node) - this.base);
  }
}


// ------------------------------------------------------------------ fast path

/** Reserved words and declaration builtins that mvdan parses into something other than a CallExpr. */
const NOT_A_CALL = new Set([
  'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', 'function', 'select',
  'time', 'coproc', '{', '}', '[[', ']]', '!', 'declare', 'local', 'export', 'readonly', 'typeset', 'nameref', 'let',
]);

const SIMPLE_PARAM = /^\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)/;
const SIMPLE_PARAM_G = /\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)/g;

type FastTok = { op: '&&' | '||' | '|' | ';' | 'nl'; start: number } | { word: ShellWord };

/**
 * Parses scripts of a deliberately small subset of the shell grammar without calling mvdan-sh,
 * whose GopherJS build costs about 3 µs per character: plain words (letters, digits,
 * `_-./=:+,@%^~*?[]{}`), plain `$NAME` / `${NAME}` expansions, single-quoted strings, double-quoted
 * strings without `` ` ``, `\`, `!` or other expansions, joined by `&&`, `||`, `|`, `;` and newlines. Anything else (expansions, redirections,
 * subshells, comments, escapes, assignments, reserved words, non-ASCII) returns undefined and the
 * caller uses mvdan-sh. The result is identical to the mvdan-sh path (a property test checks it).
 */
function fastParse(script: string): ShellScript | undefined {
  const toks: FastTok[] = [];
  const n = script.length;
  let i = 0;
  while (i < n) {
    const c = script.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    if (c === 10) {
      toks.push({ op: 'nl', start: i });
      i++;
      continue;
    }
    if (c === 38 /* & */) {
      if (script.charCodeAt(i + 1) !== 38) return undefined;
      toks.push({ op: '&&', start: i });
      i += 2;
      continue;
    }
    if (c === 124 /* | */) {
      const d = script.charCodeAt(i + 1);
      if (d === 124) {
        toks.push({ op: '||', start: i });
        i += 2;
      } else if (d === 38) return undefined;
      else {
        toks.push({ op: '|', start: i });
        i++;
      }
      continue;
    }
    if (c === 59 /* ; */) {
      if (script.charCodeAt(i + 1) === 59 || script.charCodeAt(i + 1) === 38) return undefined;
      toks.push({ op: ';', start: i });
      i++;
      continue;
    }
    // A word.
    const start = i;
    let text = '';
    let literal = true;
    while (i < n) {
      const ch = script.charCodeAt(i);
      if (ch === 32 || ch === 9 || ch === 10 || ch === 38 || ch === 124 || ch === 59) break;
      if (ch === 39 /* ' */) {
        const close = script.indexOf("'", i + 1);
        if (close < 0) return undefined;
        const inner = script.slice(i + 1, close);
        // eslint-disable-next-line no-control-regex
        if (/[^\x20-\x7e\t]/.test(inner)) return undefined;
        text += inner;
        i = close + 1;
        continue;
      }
      if (ch === 34 /* " */) {
        const close = script.indexOf('"', i + 1);
        if (close < 0) return undefined;
        const inner = script.slice(i + 1, close);
        if (/[`\\!]/.test(inner) || /[^\x20-\x7e\t]/.test(inner)) return undefined;
        if (inner.includes('$')) {
          // Only plain `$NAME` / `${NAME}` expansions; they keep their source text.
          if (inner.replace(SIMPLE_PARAM_G, '').includes('$')) return undefined;
          literal = false;
        }
        text += inner;
        i = close + 1;
        continue;
      }
      if (ch === 36 /* $ */) {
        const m = SIMPLE_PARAM.exec(script.slice(i, i + 256));
        if (!m) return undefined;
        text += m[0];
        literal = false;
        i += m[0].length;
        continue;
      }
      // Unquoted run of safe characters.
      let j = i;
      while (j < n) {
        const k = script.charCodeAt(j);
        const safe =
          (k >= 48 && k <= 57) || (k >= 65 && k <= 90) || (k >= 97 && k <= 122) ||
          k === 95 || k === 45 || k === 46 || k === 47 || k === 61 || k === 58 || k === 43 || k === 44 || k === 64 ||
          k === 37 || k === 94 || k === 126 || k === 42 || k === 63 || k === 91 || k === 93 || k === 123 || k === 125;
        if (!safe) break;
        j++;
      }
      if (j === i) return undefined; // an unsupported character: $ ` \ ( ) < > # ! quote-less non-ASCII...
      const lit = script.slice(i, j);
      if (/[*?[{]/.test(lit)) literal = false;
      text += lit;
      i = j;
    }
    toks.push({ word: { text, literal, start, end: i } });
  }

  // Statements → and/or lists → pipelines → commands.
  const commands: ShellCommand[] = [];
  let hasPipe = false;
  let stateful = false;
  let statements = 0;
  let counter = 0;
  let chain: Array<{ start: number; end: number }> | undefined;
  let chainOk = true;
  let cur: ShellWord[] = [];
  let pipeStart = -1;
  let pipeEnd = -1;
  let stmtChain: Array<{ start: number; end: number }> = [];
  let lastSemicolon = -1;
  let afterOp = false; // an operator expects another command (newlines are skipped)

  const endCommand = (): boolean => {
    if (cur.length === 0) return false;
    const first = cur[0]!.text;
    // `name[...]` in command position is bash array-assignment syntax.
    if (NOT_A_CALL.has(first) || first.includes('=') || /^[A-Za-z_][A-Za-z0-9_]*\[/.test(script.slice(cur[0]!.start, cur[0]!.end)) || cur.some((w) => w.text === '{' || w.text === '}')) return false;
    const name = baseName(first);
    if (STATEFUL_COMMANDS.has(name)) stateful = true;
    const index = counter++;
    const command: ShellCommand = { name, argv: cur.map((w) => w.text), words: cur, assigns: [], start: cur[0]!.start, end: cur[cur.length - 1]!.end, index };
    commands.push(command);
    unwrap(command, index, commands);
    if (pipeStart < 0) pipeStart = command.start;
    pipeEnd = command.end;
    cur = [];
    return true;
  };
  const endPipeline = (): void => {
    stmtChain.push({ start: pipeStart, end: pipeEnd });
    pipeStart = -1;
  };
  const endStatement = (): void => {
    statements++;
    if (statements === 1 && chainOk) chain = stmtChain;
    else chain = undefined;
    stmtChain = [];
    chainOk = true;
  };

  for (const t of toks) {
    if ('word' in t) {
      cur.push(t.word);
      afterOp = false;
      continue;
    }
    if (t.op === 'nl' && (afterOp || cur.length === 0)) {
      if (afterOp) continue;
      if (cur.length === 0) continue; // empty line
    }
    if (!endCommand()) return undefined; // an operator with no command before it
    if (t.op === '|') {
      hasPipe = true;
      afterOp = true;
      continue;
    }
    endPipeline();
    if (t.op === '&&') {
      afterOp = true;
      continue;
    }
    if (t.op === '||') {
      chainOk = false;
      afterOp = true;
      continue;
    }
    // ';' or newline ends the statement.
    lastSemicolon = t.op === ';' ? t.start : -1;
    endStatement();
    afterOp = false;
  }
  if (afterOp) return undefined; // dangling operator: let mvdan report the syntax error
  if (cur.length > 0) {
    if (!endCommand()) return undefined;
    endPipeline();
    lastSemicolon = -1;
    endStatement();
  }
  const out: ShellScript = { commands, hasPipe, assignments: [], stateful, hasHeredoc: false, hasComments: false };
  if (statements === 1 && chain) {
    // mvdan's Stmt.End() includes a terminating `;` for a statement that is a single element.
    if (chain.length === 1 && lastSemicolon >= 0) chain[0] = { start: chain[0]!.start, end: lastSemicolon + 1 };
    out.andChain = chain;
  }
  return out;
}

function parseShellAt(script: string, base: number, heredocScripts: boolean): ShellScript {
  const toIndex = byteMapper(script);
  let file: Node;
  try {
    file = getParser().Parse(script, '').__internal_object__;
  } catch (e) {
    const err = e as Node;
    let message = 'shell syntax error';
    let offset = base;
    try {
      message = String(err.Text ?? (typeof err.Error === 'function' ? err.Error() : err));
      if (err.Pos && typeof err.Pos.Offset === 'function') offset = base + toIndex(err.Pos.Offset());
    } catch {
      /* keep defaults */
    }
    return { commands: [], hasPipe: false, assignments: [], stateful: true, hasHeredoc: false, hasComments: false, error: { message, offset } };
  }
  const walker = new Walker(script, toIndex, base, heredocScripts);
  walker.stmts(file.Stmts, true);
  if (len(file.Last) > 0) walker.hasComments = true;
  const out: ShellScript = {
    commands: walker.commands,
    hasPipe: walker.hasPipe,
    assignments: walker.assignments,
    stateful: walker.stateful,
    hasHeredoc: walker.hasHeredoc,
    hasComments: walker.hasComments,
  };
  if (len(file.Stmts) === 1) {
    const chain: Array<{ start: number; end: number }> = [];
    if (andChain(at(file.Stmts, 0), chain, walker)) out.andChain = chain;
  }
  return out;
}

/** Collects the elements of a top-level `&&` chain; false when the statement is anything else. */
function andChain(s: Node, out: Array<{ start: number; end: number }>, w: Walker): boolean {
  if (s.Background || s.Negated || s.Coprocess) return false;
  const cmd = s.Cmd;
  const type = typeOf(cmd);
  if (type === '*syntax.BinaryCmd' && cmd.Op === OP_AND) {
    return andChain(cmd.X, out, w) && andChain(cmd.Y, out, w);
  }
  if (type === '*syntax.BinaryCmd' && cmd.Op !== OP_PIPE && cmd.Op !== OP_PIPE_ALL) return false;
  out.push({ start: w.pos(s), end: w.end(s) });
  return true;
}

/**
 * Parses a shell script (bash dialect, a superset of POSIX sh as used by `/bin/sh -c`).
 *
 * @param script the script text, already joined from Dockerfile continuation lines.
 * @returns the commands and facts; never throws: a syntax error is returned in `error`
 *          (with an offset into `script`) and `commands` is then empty.
 */
export function parseShell(script: string, options: ParseShellOptions = {}): ShellScript {
  if (options.fastPath !== false) {
    const fast = fastParse(script);
    if (fast) return fast;
  }
  return parseShellAt(script, 0, options.heredocScripts ?? true);
}
