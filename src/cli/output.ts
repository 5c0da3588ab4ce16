/** Terminal output helpers for the CLI: tables, JSON, errors. Colours follow picocolors (NO_COLOR, non-TTY). */
import pc from 'picocolors';
import { ApiError } from './client.js';

/** Where commands write; injectable for tests. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The process's stdout/stderr. */
export const processOutput: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Renders rows as an aligned text table with a header row. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [pc.bold(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** Prints an error (with an API error's field details) to stderr. */
export function printError(output: Output, error: unknown): void {
  if (error instanceof ApiError) {
    output.err(`${pc.red('error')}: ${error.message}\n`);
    for (const detail of error.details) {
      const where = [detail.path, detail.line !== undefined ? `line ${detail.line}` : ''].filter(Boolean).join(' ');
      output.err(`  - ${where ? `${where}: ` : ''}${detail.message}\n`);
    }
    return;
  }
  output.err(`${pc.red('error')}: ${error instanceof Error ? error.message : String(error)}\n`);
}

/** A CLI failure with the exit code to use. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
}
