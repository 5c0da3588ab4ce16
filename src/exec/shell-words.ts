/**
 * Splitting a command string into words the way a POSIX shell would, without running a shell
 * (the rules of Python's `shlex.split`, which docker-py applies to a string `command`):
 *
 * - blanks (space, tab, newline) separate words;
 * - `'...'` keeps everything literally;
 * - `"..."` keeps everything literally except `\"`, `\\`, `\$`, `` \` `` and backslash-newline;
 * - an unquoted backslash makes the next character literal (backslash-newline disappears);
 * - `""` and `''` make an empty word;
 * - nothing else is special: no globbing, no `$VAR` expansion, no `;`, `|`, `&&` or redirections
 *   (they stay literal characters of the words; run `sh -c '...'` to get a shell).
 *
 * Why not mvdan-sh (installed for the Dockerfile linter): it is a full shell parser, so it would
 * have to be taught to refuse expansions and operators, and loading it costs more than this whole
 * module, on a command whose run time is benchmarked against `docker run`.
 */

/** A string that cannot be split: an unterminated quote or a trailing backslash. */
export class ShellSplitError extends Error {
  /**
   * @param position 1-based character position of the offending quote or backslash.
   */
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'ShellSplitError';
  }
}

const BLANKS = new Set([' ', '\t', '\n', '\r']);
/** Characters a backslash escapes inside double quotes (POSIX). */
const DOUBLE_QUOTE_ESCAPES = new Set(['"', '\\', '$', '`', '\n']);

/**
 * Splits `input` into words.
 * @throws ShellSplitError for an unterminated quote or a backslash at the very end.
 */
export function splitShellWords(input: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (BLANKS.has(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i += 1;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new ShellSplitError(`unterminated single quote at position ${i + 1}`, i + 1);
      word = (word ?? '') + input.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      const start = i;
      let text = '';
      i += 1;
      for (;;) {
        if (i >= input.length) throw new ShellSplitError(`unterminated double quote at position ${start + 1}`, start + 1);
        const d = input[i] as string;
        if (d === '"') break;
        if (d === '\\' && i + 1 < input.length && DOUBLE_QUOTE_ESCAPES.has(input[i + 1] as string)) {
          const next = input[i + 1] as string;
          if (next !== '\n') text += next;
          i += 2;
        } else {
          text += d;
          i += 1;
        }
      }
      word = (word ?? '') + text;
      i += 1;
    } else if (c === '\\') {
      if (i + 1 >= input.length) throw new ShellSplitError(`backslash at the end (position ${i + 1}) escapes nothing`, i + 1);
      const next = input[i + 1] as string;
      if (next !== '\n') word = (word ?? '') + next;
      i += 2;
    } else {
      word = (word ?? '') + c;
      i += 1;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
