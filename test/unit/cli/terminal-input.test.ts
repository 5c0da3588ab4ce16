/** Hidden prompts: keystroke handling (pure) and a fake terminal driven through promptLines/readPassword. */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it, vi, type Mock } from 'vitest';
import { CliExit, type Output } from '../../../src/cli/output.js';
import { promptLines, readPassword, readPipedPassword, typeKeys, type TerminalInput } from '../../../src/cli/terminal-input.js';

function capture(): Output & { errText: () => string } {
  let err = '';
  return { out: () => undefined, err: (text) => (err += text), errText: () => err };
}

function fakeTerminal(): PassThrough & { isTTY: boolean; setRawMode: Mock<(raw: boolean) => unknown> } {
  return Object.assign(new PassThrough(), { isTTY: true, setRawMode: vi.fn<(raw: boolean) => unknown>() });
}

describe('typeKeys', () => {
  it('appends, erases, clears and ends lines', () => {
    expect(typeKeys('', 'abc')).toEqual({ value: 'abc', finished: false, cancelled: false, rest: '', echo: 'abc' });
    expect(typeKeys('abc', '\u007f\bd')).toEqual({ value: 'ad', finished: false, cancelled: false, rest: '', echo: '\b \b\b \bd' });
    expect(typeKeys('abc', '\u0015x').value).toBe('x');
    expect(typeKeys('ab', 'c\rnext')).toMatchObject({ value: 'abc', finished: true, rest: 'next' });
    expect(typeKeys('ab', '\r\nnext')).toMatchObject({ value: 'ab', finished: true, rest: 'next' });
    expect(typeKeys('ab', '\u0004')).toMatchObject({ value: 'ab', finished: true });
    expect(typeKeys('ab', 'x\u0003')).toMatchObject({ cancelled: true, finished: false });
  });
  it('ignores arrow keys and control characters, and erasing an empty line echoes nothing', () => {
    expect(typeKeys('a', '\u001b[A\u001b[D\u0007b')).toMatchObject({ value: 'ab', echo: 'b' });
    expect(typeKeys('', '\u007f')).toMatchObject({ value: '', echo: '' });
  });
  it('erases whole characters outside the BMP', () => {
    expect(typeKeys('a🔑', '\u007f').value).toBe('a');
  });
});

describe('promptLines', () => {
  it('asks each prompt in turn, echoing only where asked, with typed-ahead keys carried over', async () => {
    const input = fakeTerminal();
    const output = capture();
    const answers = promptLines(input, output, [
      { text: 'Username: ', echo: true },
      { text: 'Password: ', echo: false },
    ]);
    input.write('alice\rsecret-');
    input.write('pass\r');
    expect(await answers).toEqual(['alice', 'secret-pass']);
    expect(output.errText()).toBe('Username: alice\nPassword: \n');
    expect(input.setRawMode.mock.calls).toEqual([[true], [false]]);
  });
  it('rejects with CliExit 130 on Ctrl-C and leaves raw mode', async () => {
    const input = fakeTerminal();
    const answers = promptLines(input, capture(), [{ text: 'P: ', echo: false }]);
    input.write('abc\u0003');
    await expect(answers).rejects.toMatchObject({ code: 130 });
    expect(input.setRawMode).toHaveBeenLastCalledWith(false);
  });
});

describe('readPassword', () => {
  it('asks twice and returns the password when both match', async () => {
    const input = fakeTerminal();
    const output = capture();
    const password = readPassword(input, output, { fromStdin: false, confirm: true });
    input.write('correct horse\rcorrect horse\r');
    expect(await password).toBe('correct horse');
    expect(output.errText()).not.toContain('correct horse');
    expect(output.errText()).toContain('again');
  });
  it('refuses differing confirmations with exit code 2', async () => {
    const input = fakeTerminal();
    const password = readPassword(input, capture(), { fromStdin: false, confirm: true });
    input.write('correct horse\rcorrect house\r');
    await expect(password).rejects.toMatchObject({ code: 2, message: expect.stringContaining('differ') });
  });
  it('refuses to prompt without a terminal, pointing at --password-stdin', async () => {
    const input = Readable.from(['pw\n']) as TerminalInput;
    await expect(readPassword(input, capture(), { fromStdin: false, confirm: false })).rejects.toMatchObject({ code: 2, message: expect.stringContaining('--password-stdin') });
  });
  it('reads a piped password minus one trailing newline', async () => {
    expect(await readPassword(Readable.from(['pass word\n']) as TerminalInput, capture(), { fromStdin: true, confirm: true })).toBe('pass word');
  });
});

describe('readPipedPassword', () => {
  it('refuses an empty pipe and a terminal', async () => {
    await expect(readPipedPassword(Readable.from(['\n']) as TerminalInput)).rejects.toBeInstanceOf(CliExit);
    await expect(readPipedPassword(fakeTerminal())).rejects.toMatchObject({ code: 2 });
  });
});
