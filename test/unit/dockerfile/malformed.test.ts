import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixDockerfile, formatFindings, lintDockerfile, type LintResult } from '../../../src/dockerfile/index.js';

function pl0001(text: string): Array<[number, string]> {
  return lintDockerfile(text).findings.filter((f) => f.code === 'PL0001').map((f) => [f.line, f.message]);
}

function wellFormed(r: LintResult): void {
  for (let i = 0; i < r.findings.length; i++) {
    const f = r.findings[i]!;
    expect(f.line).toBeGreaterThanOrEqual(1);
    expect(f.column).toBeGreaterThanOrEqual(1);
    expect(typeof f.message).toBe('string');
    if (i > 0) expect(f.line).toBeGreaterThanOrEqual(r.findings[i - 1]!.line);
  }
}

describe('malformed input gives findings with a location, never an exception', () => {
  it('empty and comment-only files', () => {
    expect(pl0001('')).toEqual([[1, 'The Dockerfile is empty']]);
    expect(pl0001('  \n\t\n')).toEqual([[1, 'The Dockerfile is empty']]);
    expect(pl0001('# just a comment\n')).toEqual([[1, 'The Dockerfile has no instructions']]);
    expect(lintDockerfile('').parsed).toBe(false);
  });

  it('binary junk', () => {
    const junk = String.fromCharCode(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52);
    const r = lintDockerfile(junk);
    expect(r.findings.map((f) => [f.code, f.line])).toEqual([['PL0001', 1]]);
    expect(r.findings[0]!.message).toMatch(/binary/);
    expect(r.parsed).toBe(false);
  });

  it('unterminated heredoc', () => {
    expect(pl0001('FROM debian:12.6\nRUN <<EOF\napt-get update\n')).toEqual([[2, 'Unterminated here-document <<EOF: no line holding only "EOF" before the end of the file']]);
  });

  it('broken JSON (exec) form', () => {
    expect(pl0001('FROM debian:12.6\nCMD ["a", \'b\']')[0]?.[0]).toBe(2);
    expect(pl0001('FROM debian:12.6\nSHELL ["/bin/bash" "-c"]')[0]?.[1]).toMatch(/SHELL.*build fails/);
    // A shell test command is not broken JSON.
    expect(pl0001('FROM debian:12.6\nRUN [ -f /etc/os-release ] && cat /etc/os-release')).toEqual([]);
  });

  it('unknown instruction and missing arguments', () => {
    expect(pl0001('FROM debian:12.6\nFOO bar\nRUN make')).toEqual([[2, 'Unknown instruction: FOO']]);
    expect(pl0001('FROM\n')[0]).toEqual([1, 'FROM requires at least one argument']);
    expect(pl0001('FROM debian:12.6\nCOPY onlyone')[0]?.[1]).toMatch(/two arguments/);
    expect(pl0001('RUN make')).toEqual([[1, 'The Dockerfile has no FROM instruction, so there is no build stage']]);
  });

  it('shell syntax errors in RUN, with the line of the error', () => {
    const f = pl0001('FROM debian:12.6\nRUN echo "start" && \\\n    if true; then echo x\n');
    expect(f).toHaveLength(1);
    expect(f[0]![0]).toBeGreaterThanOrEqual(2);
    expect(f[0]![1]).toMatch(/^RUN shell syntax error: /);
    expect(pl0001("FROM debian:12.6\nRUN echo 'open")[0]?.[1]).toMatch(/quote/);
  });

  it('odd but valid files do not crash: BOM, CR line endings, trailing continuation, huge lines', () => {
    for (const t of ['\uFEFFFROM debian:12.6\nRUN make', 'FROM debian:12.6\rRUN a\rRUN b', 'FROM debian:12.6\nRUN apt-get update \\', `FROM debian:12.6\nRUN echo ${'x'.repeat(100_000)}`, 'FROM debian:12.6\nRUN ' + '"'.repeat(501)]) {
      const r = lintDockerfile(t);
      wellFormed(r);
      expect(() => formatFindings(r, 'sarif', 'f')).not.toThrow();
      expect(typeof fixDockerfile(t).text).toBe('string');
    }
  });

  it('non-string input is tolerated', () => {
    expect(() => lintDockerfile(undefined as unknown as string)).not.toThrow();
  });
});

describe('lintDockerfile never throws (property)', () => {
  const token = fc.constantFrom(
    'FROM', 'RUN', 'COPY', 'ADD', 'ENV', 'ARG', 'ONBUILD', 'SHELL', 'CMD', 'HEALTHCHECK', 'LABEL', 'EXPOSE', 'USER', 'WORKDIR', 'from',
    'debian:12', 'AS', 'x', '--from=x', '--mount=type=cache,target=/x', '[', ']', '"', "'", '["a",', '\\', '`', '<<EOF', 'EOF', '<<-', '$', '${', '}',
    '&&', '||', '|', ';', '(', ')', 'apt-get', 'install', '-y', 'cd', '#', '# hadolint ignore=DL3008', '# escape=`', '=', ' ', '\t', '\n', '\r\n', '\u0000', 'é', '🐳',
  );
  const dockerfileish = fc.array(token, { maxLength: 60 }).map((ts) => ts.join(' '));

  it('on Dockerfile-like token soup', () => {
    fc.assert(
      fc.property(dockerfileish, (text) => {
        const r = lintDockerfile(text);
        wellFormed(r);
      }),
      { numRuns: 400 },
    );
  });

  it('on arbitrary strings, and fixDockerfile too', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), dockerfileish), (text) => {
        wellFormed(lintDockerfile(text, { hasDockerignore: false, labelSchema: { a: 'url' } }));
        expect(typeof fixDockerfile(text).text).toBe('string');
      }),
      { numRuns: 200 },
    );
  });
});
