/**
 * Reading credentials for the CLI: typed at a terminal (raw mode, the password not echoed), or
 * piped on stdin (`--password-stdin`). Prompts go to stderr so stdout stays clean for `--json`.
 * The keystroke handling ({@link typeKeys}) is pure; {@link promptLines} drives a real TTY.
 */
import { text as readText } from 'node:stream/consumers';
import { stripTrailingNewline } from './auth-args.js';
import { CliExit, type Output } from './output.js';

/** A terminal-like input: a readable stream that may be a TTY with raw mode. */
export type TerminalInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** The outcome of applying a chunk of raw-mode keystrokes to a line being typed. */
export interface TypedKeys {
  /** The line so far. */
  value: string;
  /** Enter (or Ctrl-D) ended the line. */
  finished: boolean;
  /** Ctrl-C was pressed. */
  cancelled: boolean;
  /** Keystrokes after the end of the line (the start of the next one). */
  rest: string;
  /** What to write to the terminal to show the typing when the prompt echoes (`\b \b` per erase). */
  echo: string;
}

/**
 * Applies raw-mode keystrokes `chunk` to line `value` (pure): printable characters are appended,
 * Backspace/DEL removes the last character, Ctrl-U clears the line, Enter (CR or LF) or Ctrl-D
 * ends it, Ctrl-C cancels; other control characters and ANSI escape sequences (arrow keys) are
 * ignored.
 */
export function typeKeys(value: string, chunk: string): TypedKeys {
  let line = value;
  let echo = '';
  const keys = [...chunk.replace(/\u001b\[[0-9;]*[A-Za-z~]|\u001bO[A-Za-z]/g, '')];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] ?? '';
    if (key === '\r' || key === '\n' || key === '\u0004') {
      let next = i + 1;
      if (key === '\r' && keys[next] === '\n') next += 1;
      return { value: line, finished: true, cancelled: false, rest: keys.slice(next).join(''), echo };
    }
    if (key === '\u0003') return { value: line, finished: false, cancelled: true, rest: '', echo };
    if (key === '\u007f' || key === '\b') {
      if (line !== '') {
        line = [...line].slice(0, -1).join('');
        echo += '\b \b';
      }
    } else if (key === '\u0015') {
      echo += '\b \b'.repeat([...line].length);
      line = '';
    } else if (key >= ' ' && key !== '\u001b') {
      line += key;
      echo += key;
    }
  }
  return { value: line, finished: false, cancelled: false, rest: '', echo };
}

/** One question asked at the terminal. */
export interface Prompt {
  /** Shown on stderr before the answer, e.g. `Password: `. */
  text: string;
  /** Show what is typed (usernames); false hides it (passwords). */
  echo: boolean;
}

/**
 * Asks `prompts` one after the other at terminal `input` in one raw-mode session (keystrokes typed
 * ahead carry over to the next prompt) and resolves to the answers, in order.
 * @throws CliExit 130 when Ctrl-C is pressed; Error when `input` is not a TTY with raw mode.
 */
export async function promptLines(input: TerminalInput, output: Output, prompts: Prompt[]): Promise<string[]> {
  if (!input.isTTY || typeof input.setRawMode !== 'function') throw new Error('prompting needs a terminal');
  const answers: string[] = [];
  if (prompts.length === 0) return answers;
  return new Promise<string[]>((resolve, reject) => {
    let value = '';
    output.err(prompts[0]?.text ?? '');
    const finish = (): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
    };
    const onData = (chunk: Buffer | string): void => {
      let pending = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      while (answers.length < prompts.length) {
        const prompt = prompts[answers.length];
        const typed = typeKeys(value, pending);
        if (prompt?.echo && typed.echo) output.err(typed.echo);
        if (typed.cancelled) {
          output.err('\n');
          finish();
          reject(new CliExit(130, 'cancelled'));
          return;
        }
        if (!typed.finished) {
          value = typed.value;
          return;
        }
        output.err('\n');
        answers.push(typed.value);
        value = '';
        pending = typed.rest;
        if (answers.length < prompts.length) output.err(prompts[answers.length]?.text ?? '');
      }
      finish();
      resolve(answers);
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

/**
 * Reads a password piped on stdin (`--password-stdin`): all of it, minus one trailing line break.
 * @throws CliExit 2 when stdin is a terminal (nothing is piped) or the password is empty.
 */
export async function readPipedPassword(input: TerminalInput): Promise<string> {
  if (input.isTTY) throw new CliExit(2, '--password-stdin reads the password from a pipe, e.g. `printf %s "$PASSWORD" | pitlane ... --password-stdin`; stdin is a terminal');
  const password = stripTrailingNewline(await readText(input));
  if (password === '') throw new CliExit(2, 'no password on stdin (--password-stdin)');
  return password;
}

/**
 * A password: from stdin with `fromStdin`, else typed without echo at the terminal, twice when
 * `confirm` (the two must match).
 * @throws CliExit 2 when stdin is not a terminal and `fromStdin` is false (naming `--password-stdin`),
 *   when the password is empty or the confirmation differs; 130 on Ctrl-C.
 */
export async function readPassword(input: TerminalInput, output: Output, options: { fromStdin: boolean; confirm: boolean; label?: string }): Promise<string> {
  if (options.fromStdin) return readPipedPassword(input);
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    throw new CliExit(2, 'stdin is not a terminal: pass the password on stdin with --password-stdin, e.g. `printf %s "$PASSWORD" | pitlane ... --password-stdin`');
  }
  const label = options.label ?? 'Password';
  const prompts: Prompt[] = [{ text: `${label} (input hidden): `, echo: false }];
  if (options.confirm) prompts.push({ text: `${label} again: `, echo: false });
  const [first = '', second = ''] = await promptLines(input, output, prompts);
  if (first === '') throw new CliExit(2, 'the password is empty');
  if (options.confirm && first !== second) throw new CliExit(2, 'the two passwords differ; nothing was changed');
  return first;
}
