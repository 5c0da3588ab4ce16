import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseShell } from '../../../src/dockerfile/index.js';

const argv = (s: string, fastPath = true): string[][] => parseShell(s, { fastPath }).commands.map((c) => (c.wrapper ? [`(${c.wrapper})`, ...c.argv] : c.argv));

describe('parseShell (mvdan-sh adapter)', () => {
  it('extracts argv lists across &&, ;, ||, pipes and newlines', () => {
    expect(argv('apt-get update && apt-get install -y --no-install-recommends curl=7.* && rm -rf /var/lib/apt/lists/*')).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', '--no-install-recommends', 'curl=7.*'],
      ['rm', '-rf', '/var/lib/apt/lists/*'],
    ]);
    expect(argv('a; b || c | d\ne')).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
  });

  it('removes quotes and keeps expansions as written', () => {
    expect(argv(`echo 'a b' "c $HOME" x"y"'z' $(id -u)`, false)).toEqual([['id', '-u'], ['echo', 'a b', 'c $HOME', 'xyz', '$(id -u)']]);
    const w = parseShell('echo "$X" lit "q" *.txt').commands[0]!.words;
    expect(w.map((x) => x.literal)).toEqual([true, false, true, true, false]);
  });

  it('finds commands in subshells, blocks, if/for/while/case, functions and command substitutions', () => {
    const names = parseShell('(cd /x && make); { a; }; if t; then b; else c; fi; for i in 1; do d; done; while w; do e; done; case x in y) f;; esac; g() { h; }; echo $(i) "$(j)" <(k)').commands.map((c) => c.name);
    // Nested command substitutions are listed before the command whose word contains them.
    expect(names).toEqual(['cd', 'make', 'a', 't', 'b', 'c', 'd', 'w', 'e', 'f', 'h', 'i', 'j', 'k', 'echo']);
  });

  it('unwraps sudo, env and friends', () => {
    expect(argv('sudo -u app env FOO=1 apt-get install x')).toEqual([
      ['sudo', '-u', 'app', 'env', 'FOO=1', 'apt-get', 'install', 'x'],
      ['(sudo)', 'env', 'FOO=1', 'apt-get', 'install', 'x'],
      ['(env)', 'apt-get', 'install', 'x'],
    ]);
    expect(argv('/usr/bin/apt-get install x')[0]![0]).toBe('/usr/bin/apt-get');
    expect(parseShell('/usr/bin/apt-get install x').commands[0]!.name).toBe('apt-get');
  });

  it('analyses heredocs fed to a shell, not to other programs', () => {
    expect(parseShell('<<EOF\napt-get install x\nEOF\n').commands.map((c) => c.name)).toEqual(['apt-get']);
    expect(parseShell("bash <<-'X'\n\tsudo make\n\tX\n").commands.map((c) => c.name)).toEqual(['bash', 'sudo', 'make']);
    expect(parseShell('python3 <<EOF\nprint(1)\nEOF\n').commands.map((c) => c.name)).toEqual(['python3']);
    expect(parseShell('sh -c "x" <<EOF\nnope\nEOF\n').commands.map((c) => c.name)).toEqual(['sh']);
    const hd = parseShell('<<EOF\napt-get install x\nEOF\n').commands[0]!;
    expect(hd.start).toBe(6);
  });

  it('reports facts the rules and the fixer need', () => {
    expect(parseShell('a | b').hasPipe).toBe(true);
    expect(parseShell('a || b').hasPipe).toBe(false);
    expect(parseShell('cd /x && make').stateful).toBe(true);
    expect(parseShell('X=1').stateful).toBe(true);
    expect(parseShell('X=1 make').stateful).toBe(false);
    expect(parseShell('make &').stateful).toBe(true);
    expect(parseShell('export A=1 B; declare C=2').assignments).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '' }, { name: 'C', value: '2' }]);
    expect(parseShell('a && b | c && d').andChain).toEqual([{ start: 0, end: 1 }, { start: 5, end: 10 }, { start: 14, end: 15 }]);
    expect(parseShell('a && b || c').andChain).toBeUndefined();
    expect(parseShell('a\nb').andChain).toBeUndefined();
    expect(parseShell('a # note').hasComments).toBe(true);
    expect(parseShell('echo "#x"').hasComments).toBe(false);
  });

  it('maps UTF-8 positions back to string indices', () => {
    const c = parseShell('echo "é🐳" && sudo make', { fastPath: false }).commands.find((x) => x.name === 'sudo')!;
    expect(c.start).toBe('echo "é🐳" && '.length);
  });

  it('returns syntax errors with an offset instead of throwing', () => {
    const r = parseShell("echo 'x");
    expect(r.commands).toEqual([]);
    expect(r.error?.message).toMatch(/quote/);
    expect(r.error?.offset).toBe(5);
    expect(parseShell('if then fi').error).toBeDefined();
  });

  it('the fast path returns exactly what the mvdan-sh path returns (property)', () => {
    const atoms = ['apt-get', 'install', '-y', 'curl=7.*', 'a', 'b1', "'x y'", '"q r"', "'$HOME'", '"a"b', '{a,b}', 'u[x]', '~/p', '--flag=v', '[', ']', 'cd', 'sudo', 'env', '{', '}', 'if', 'X=1', 'x:y@z%w^', '"', "''", '""', '$X', '>', '#c', '\\', '${X}', '$1', '${X:-d}', '"$HOME/x"', '"${A}b$C"', '$A[0]', '"$(id)"', '$$', "$'x'"];
    const ops = [' ', ' ', ' && ', ' || ', ' | ', '; ', '\n', ';', '&&', ' ;\n', '\n\n', ' &&\n ', '\t', '&', '|&'];
    const structured = fc.array(fc.tuple(fc.constantFrom(...atoms), fc.constantFrom(...ops)), { maxLength: 12 }).map((xs) => xs.map(([a, o]) => a + o).join(''));
    const chars = fc.array(fc.constantFrom(...'ab_-./=:+,@%^~*?[]{}09 \t\n;&|\'"$#!()<>\\'.split('')), { maxLength: 25 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(structured, chars), (s) => isDeepStrictEqual(parseShell(s), parseShell(s, { fastPath: false }))),
      { numRuns: 3000 },
    );
  });
});
