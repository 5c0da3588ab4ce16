/**
 * Light pre-checks of the user's Python source and requirements, done in TypeScript before the
 * build so that common mistakes fail the deployment at once with a field path (pure functions).
 * The wrapper remains the authority at run time (it imports the module and inspects real classes).
 */

/** A top-level `class Name` statement found by {@link scanTopLevelClasses}. */
export interface ClassDefinition {
  name: string;
  /** 1-based line. */
  line: number;
}

/**
 * Top-level classes of a Python file: lines `class Name:` / `class Name(Base):` starting in
 * column 0, outside triple-quoted strings. Decorated classes count; nested and indented (for
 * example `if`-guarded) classes do not, nor do imported ones.
 */
export function scanTopLevelClasses(source: string): ClassDefinition[] {
  const out: ClassDefinition[] = [];
  let inString: '"""' | "'''" | null = null;
  const lines = source.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((line, index) => {
    if (inString === null) {
      const m = /^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*[(:]/.exec(line);
      if (m) out.push({ name: m[1]!, line: index + 1 });
    }
    inString = tripleQuoteStateAfter(line, inString);
  });
  return out;
}

/** Whether a line ends inside a triple-quoted string, given the state at its start. */
function tripleQuoteStateAfter(line: string, state: '"""' | "'''" | null): '"""' | "'''" | null {
  let i = 0;
  let cur = state;
  while (i < line.length) {
    if (cur !== null) {
      const end = line.indexOf(cur, i);
      if (end < 0) return cur;
      // An escaped quote does not close the string.
      if (end > 0 && line[end - 1] === '\\' && !(end > 1 && line[end - 2] === '\\')) {
        i = end + 1;
        continue;
      }
      i = end + 3;
      cur = null;
      continue;
    }
    const c = line[i]!;
    if (c === '#') return null;
    if (line.startsWith('"""', i) || line.startsWith("'''", i)) {
      cur = line.slice(i, i + 3) as '"""' | "'''";
      i += 3;
      continue;
    }
    if (c === '"' || c === "'") {
      // A one-line string: skip to its closing quote.
      let k = i + 1;
      while (k < line.length && line[k] !== c) k += line[k] === '\\' ? 2 : 1;
      i = k + 1;
      continue;
    }
    i++;
  }
  return cur;
}

/** What {@link scanRequirements} found in a requirements file. */
export interface RequirementsScan {
  /** Other requirement or constraint files it includes (`-r`, `-c`), as written (relative to the file's directory). */
  includes: Array<{ path: string; line: number }>;
  /** Lines that install from a local path (`.`, `./pkg`, `-e .`, `file:`), which a dependency-only build cannot see. */
  localPaths: Array<{ text: string; line: number }>;
}

/**
 * Scans a pip requirements file for included files (`-r`/`--requirement`, `-c`/`--constraint`)
 * and local-path requirements. Comments and line continuations are handled.
 */
export function scanRequirements(text: string): RequirementsScan {
  const includes: RequirementsScan['includes'] = [];
  const localPaths: RequirementsScan['localPaths'] = [];
  const rawLines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  let buffer = '';
  let startLine = 0;
  rawLines.forEach((raw, index) => {
    if (buffer === '') startLine = index + 1;
    if (raw.endsWith('\\')) {
      buffer += raw.slice(0, -1) + ' ';
      return;
    }
    const logical = (buffer + raw).replace(/(^|\s)#.*$/, '').trim();
    buffer = '';
    if (logical === '') return;
    const inc = /^(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S+)/.exec(logical);
    if (inc) {
      includes.push({ path: inc[1]!, line: startLine });
      return;
    }
    const editable = /^(?:-e|--editable)(?:\s*=\s*|\s+)(\S+)/.exec(logical);
    const target = editable ? editable[1]! : logical.split(/\s+/)[0]!;
    if (target.startsWith('-')) return; // other options (--index-url, --find-links, --hash...)
    if (/^(\.{1,2}(\/|$)|\/|~\/|file:)/.test(target)) localPaths.push({ text: logical, line: startLine });
  });
  return { includes, localPaths };
}
