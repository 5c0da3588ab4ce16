import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShellSplitError, splitShellWords } from '../../../src/exec/shell-words.js';

/** Quotes a word for a POSIX shell (single quotes, ' as '\''). */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

describe('splitShellWords', () => {
  it('splits on blanks and drops empty space', () => {
    expect(splitShellWords('  a  b\t\tc\n')).toEqual(['a', 'b', 'c']);
    expect(splitShellWords('')).toEqual([]);
    expect(splitShellWords('   ')).toEqual([]);
  });

  it('handles quotes, adjacent quoted parts and escapes', () => {
    expect(splitShellWords(`a'b c'd "e f"g`)).toEqual(['ab cd', 'e fg']);
    expect(splitShellWords(`'a\\b' "a\\b"`)).toEqual(['a\\b', 'a\\b']);
    expect(splitShellWords(`"\\"" '"' "'"`)).toEqual(['"', '"', "'"]);
    expect(splitShellWords('\\"x\\\' \\ \\\\')).toEqual(['"x\'', ' \\']);
    expect(splitShellWords('"line\\\ncontinued"')).toEqual(['linecontinued']);
  });

  it('leaves shell syntax alone', () => {
    expect(splitShellWords('echo ${A:-b} $(id) `id` *.txt > out 2>&1')).toEqual(['echo', '${A:-b}', '$(id)', '`id`', '*.txt', '>', 'out', '2>&1']);
  });

  it('gives the 1-based position of an unterminated quote', () => {
    const error = (() => {
      try {
        splitShellWords(`ok 'fine' "broken`);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ShellSplitError);
    expect((error as ShellSplitError).position).toBe(11);
    expect((error as ShellSplitError).message).toBe('unterminated double quote at position 11');
    expect(() => splitShellWords(`it's`)).toThrow('unterminated single quote at position 3');
  });

  it('round-trips any words quoted the POSIX way', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 8 }), (words) => {
        expect(splitShellWords(words.map(shellQuote).join(' '))).toEqual(words);
      }),
    );
  });
});
