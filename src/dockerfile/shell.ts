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
    return this.base + this.toIndex(node.Pos().Offset());
  }
  end(node: Node): number {
    return this.base + this.toIndex(node.End().Offset());
  }

  stmts(list: Node, topLevel: boolean): void {
    if (!list) return;
    const n = list.length;
    for (let i = 0; i < n; i++) this.stmt(list[i], topLevel);
  }

  stmt(s: Node, topLevel: boolean): void {
    if (!s) return;
    if (topLevel && s.Background) this.stateful = true;
    if (s.Comments && s.Comments.length > 0) this.hasComments = true;
    const redirs = s.Redirs;
    const cmd = s.Cmd;
    if (redirs && redirs.length) this.redirects(redirs, cmd, topLevel);
    if (cmd) this.command(cmd, topLevel);
  }

  redirects(redirs: Node, cmd: Node, topLevel: boolean): void {
    for (let i = 0; i < redirs.length; i++) {
      const r = redirs[i];
      const op = r.Op;
      if (op === REDIR_HDOC || op === REDIR_DASH_HDOC) {
        this.hasHeredoc = true;
        if (this.heredocScripts && topLevel && r.Hdoc && this.feedsShell(cmd)) this.heredocScript(r, op === REDIR_DASH_HDOC);
      } else if (r.Word) {
        this.word(r.Word);
      }
    }
  }

  /** True when a heredoc attached to `cmd` is run as a script: no command, or a shell without `-c`. */
  feedsShell(cmd: Node): boolean {
    if (!cmd) return true;
    if (syntax.NodeType(cmd) !== 'CallExpr') return false;
    const args = cmd.Args;
    if (!args || args.length === 0) return true;
    const name = baseName(this.wordText(args[0]).text);
    if (!SHELLS.has(name)) return false;
    for (let i = 1; i < args.length; i++) {
      const t = this.wordText(args[i]).text;
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
    const type = syntax.NodeType(cmd);
    switch (type) {
      case 'CallExpr':
        this.call(cmd, topLevel);
        break;
      case 'BinaryCmd': {
        const op = cmd.Op;
        if (op === OP_PIPE || op === OP_PIPE_ALL) this.hasPipe = true;
        this.stmt(cmd.X, topLevel);
        this.stmt(cmd.Y, topLevel);
        break;
      }
      case 'Subshell':
        this.stmts(cmd.Stmts, false);
        break;
      case 'Block':
        this.stmts(cmd.Stmts, topLevel);
        break;
      case 'IfClause': {
        let c = cmd;
        while (c) {
          this.stmts(c.Cond, topLevel);
          this.stmts(c.Then, topLevel);
          c = c.Else;
        }
        break;
      }
      case 'WhileClause':
        this.stmts(cmd.Cond, topLevel);
        this.stmts(cmd.Do, topLevel);
        break;
      case 'ForClause':
        this.stmts(cmd.Do, topLevel);
        break;
      case 'CaseClause': {
        const items = cmd.Items;
        for (let i = 0; i < items.length; i++) this.stmts(items[i].Stmts, topLevel);
        break;
      }
      case 'FuncDecl':
        if (topLevel) this.stateful = true;
        this.stmt(cmd.Body, false);
        break;
      case 'TimeClause':
      case 'CoprocClause':
        this.stmt(cmd.Stmt, topLevel);
        break;
      case 'DeclClause': {
        if (topLevel) this.stateful = true;
        const args = cmd.Args;
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (a.Name) this.assignments.push({ name: a.Name.Value, value: a.Value ? this.wordText(a.Value, true).text : '' });
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
    for (let i = 0; i < assignsNode.length; i++) {
      const a = assignsNode[i];
      if (a.Name) assigns.push({ name: a.Name.Value, value: a.Value ? this.wordText(a.Value, true).text : '' });
    }
    if (args.length === 0) {
      // A bare assignment changes the shell's variables.
      if (assigns.length) {
        if (topLevel) this.stateful = true;
        this.assignments.push(...assigns);
      }
      return;
    }
    const words: ShellWord[] = [];
    for (let i = 0; i < args.length; i++) words.push(this.word(args[i]));
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
    this.unwrap(command, index);
  }

  /** Adds the command run by a wrapper (`sudo -u x apt-get install` → `apt-get install`). */
  unwrap(command: ShellCommand, index: number): void {
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
      this.commands.push(inner);
      current = inner;
    }
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
    for (let i = 0; i < parts.length; i++) {
      const r = this.part(parts[i], walkNested);
      text += r.text;
      if (!r.literal) literal = false;
    }
    return { text, literal, start: this.pos(w), end: this.end(w) };
  }

  part(p: Node, walkNested: boolean): { text: string; literal: boolean } {
    const type = syntax.NodeType(p);
    switch (type) {
      case 'Lit': {
        const v: string = p.Value;
        // Globs and brace expansion make a word non-static.
        return { text: v, literal: !/[*?[{]/.test(v) };
      }
      case 'SglQuoted':
        return { text: p.Value, literal: true };
      case 'DblQuoted': {
        const parts = p.Parts;
        let text = '';
        let literal = true;
        for (let i = 0; i < parts.length; i++) {
          const r = this.part(parts[i], walkNested);
          text += r.text;
          if (!r.literal) literal = false;
        }
        return { text, literal: literal };
      }
      case 'CmdSubst':
      case 'ProcSubst':
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

function parseShellAt(script: string, base: number, heredocScripts: boolean): ShellScript {
  const toIndex = byteMapper(script);
  let file: Node;
  try {
    file = getParser().Parse(script, '');
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
  if (file.Last && file.Last.length > 0) walker.hasComments = true;
  const out: ShellScript = {
    commands: walker.commands,
    hasPipe: walker.hasPipe,
    assignments: walker.assignments,
    stateful: walker.stateful,
    hasHeredoc: walker.hasHeredoc,
    hasComments: walker.hasComments,
  };
  if (file.Stmts.length === 1) {
    const chain: Array<{ start: number; end: number }> = [];
    if (andChain(file.Stmts[0], chain, walker)) out.andChain = chain;
  }
  return out;
}

/** Collects the elements of a top-level `&&` chain; false when the statement is anything else. */
function andChain(s: Node, out: Array<{ start: number; end: number }>, w: Walker): boolean {
  if (s.Background || s.Negated || s.Coprocess) return false;
  const cmd = s.Cmd;
  if (cmd && syntax.NodeType(cmd) === 'BinaryCmd' && cmd.Op === OP_AND) {
    return andChain(cmd.X, out, w) && andChain(cmd.Y, out, w);
  }
  if (cmd && syntax.NodeType(cmd) === 'BinaryCmd' && cmd.Op !== OP_PIPE && cmd.Op !== OP_PIPE_ALL) return false;
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
  return parseShellAt(script, 0, options.heredocScripts ?? true);
}
