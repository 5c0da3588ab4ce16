import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readSecretValue, type SecretInput } from '../../../src/cli/secret-commands.js';
import { CliExit, type Output } from '../../../src/cli/output.js';

function capture(): Output & { text: () => string } {
  let text = '';
  return { out: (t) => (text += t), err: (t) => (text += t), text: () => text };
}

/** A stream posing as a terminal, recording raw-mode switches. */
function fakeTty(): PassThrough & SecretInput & { modes: boolean[] } {
  const stream = new PassThrough() as PassThrough & SecretInput & { modes: boolean[] };
  stream.isTTY = true;
  stream.modes = [];
  stream.setRawMode = (raw: boolean) => stream.modes.push(raw);
  return stream;
}

describe('secret value input', () => {
  it('reads piped stdin whole, minus one trailing line break', async () => {
    const input = new PassThrough();
    input.end('line one\nline two\n');
    expect(await readSecretValue(input, capture(), 'K')).toBe('line one\nline two');
    const crlf = new PassThrough();
    crlf.end('v\r\n');
    expect(await readSecretValue(crlf, capture(), 'K')).toBe('v');
  });

  it('refuses an empty value on a pipe with exit code 2 and a hint', async () => {
    const input = new PassThrough();
    input.end('');
    const error = await readSecretValue(input, capture(), 'DB_PASSWORD').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliExit);
    expect((error as CliExit).code).toBe(2);
    expect((error as CliExit).message).toContain('printf %s "$VALUE" | pitlane secret set JOB DB_PASSWORD');
  });

  it('reads a typed value in raw mode, echoing nothing but the prompt, and restores the terminal', async () => {
    const tty = fakeTty();
    const output = capture();
    const reading = readSecretValue(tty, output, 'DB_PASSWORD');
    tty.write('hunter');
    tty.write('2x\u007f\u001b[D\r');
    expect(await reading).toBe('hunter2');
    expect(tty.modes).toEqual([true, false]);
    expect(output.text()).toBe('Value of DB_PASSWORD (input hidden, Enter to finish): \n');
  });

  it('cancels on ctrl-c with exit code 130 and restores the terminal', async () => {
    const tty = fakeTty();
    const reading = readSecretValue(tty, capture(), 'K').catch((e: unknown) => e);
    tty.write('abc\u0003');
    const error = await reading;
    expect((error as CliExit).code).toBe(130);
    expect(tty.modes).toEqual([true, false]);
  });
});
