import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixDockerfile, lintDockerfile, unifiedDiff } from '../../../src/dockerfile/index.js';

function fix(text: string): string {
  return fixDockerfile(text).text;
}

describe('fixDockerfile', () => {
  it('ENV DEBIAN_FRONTEND → ARG, keeping other pairs and re-declaring in child stages', () => {
    const text = 'FROM debian:12.6 AS base\nENV LANG=C.UTF-8 DEBIAN_FRONTEND="noninteractive"\nFROM base\nRUN apt-get update\n';
    expect(fix(text)).toBe('FROM debian:12.6 AS base\nARG DEBIAN_FRONTEND=noninteractive\nENV LANG=C.UTF-8\nFROM base\nARG DEBIAN_FRONTEND=noninteractive\nRUN apt-get update\n');
    expect(fix('from debian:12.6\nenv DEBIAN_FRONTEND noninteractive\n')).toBe('from debian:12.6\narg DEBIAN_FRONTEND=noninteractive\n');
  });

  it('merges consecutive RUNs, keeping comments and the escape character', () => {
    expect(fix('FROM debian:12.6\nRUN make\n# build docs\n\nRUN make docs\n')).toBe('FROM debian:12.6\nRUN make \\\n# build docs\n    && make docs\n');
    expect(fix('# escape=`\nFROM debian:12.6\nRUN a\nRUN b\n')).toBe('# escape=`\nFROM debian:12.6\nRUN a `\n    && b\n');
  });

  it('does not merge when that could change behaviour', () => {
    const keep = [
      'FROM debian:12.6\nRUN export X=1\nRUN echo $X\n', // state carried into the next command
      'FROM debian:12.6\nRUN a\n# hadolint ignore=DL3059\nRUN b\n', // a pragma between them
      'FROM debian:12.6\nRUN --mount=type=cache,target=/x a\nRUN b\n', // different mounts
      'FROM debian:12.6\nRUN ["a"]\nRUN b\n', // exec form
      'FROM debian:12.6\nRUN a # note\nRUN b\n', // a shell comment would swallow the rest
      'FROM debian:12.6\nRUN a\nRUN b || true\n', // not an && chain
      'FROM debian:12.6\nRUN <<EOF\na\nEOF\nRUN b\n', // heredoc
    ];
    for (const t of keep) expect(fix(t).match(/^RUN/gm)?.length, t).toBe(2);
  });

  it('adds -y and --no-install-recommends to every apt-get install of the RUN', () => {
    expect(fix('FROM debian:12.6\nRUN apt-get install curl=8 && sudo apt-get install -y wget=1\n')).toBe(
      'FROM debian:12.6\nRUN apt-get install -y --no-install-recommends curl=8 && sudo apt-get install --no-install-recommends -y wget=1\n',
    );
    // Ignored findings are not fixed.
    expect(fixDockerfile('FROM debian:12.6\nRUN apt-get install -y curl=8\n', { ignored: ['DL3015'] }).text).toBe('FROM debian:12.6\nRUN apt-get install -y curl=8\n');
  });

  it('adds --no-cache-dir to pip installs but not pipx', () => {
    expect(fix('FROM python:3.12\nRUN python -m pip install x==1 && pipx install y==2\n')).toBe('FROM python:3.12\nRUN python -m pip install --no-cache-dir x==1 && pipx install y==2\n');
  });

  it('appends the apt list clean-up only when no later layer needs the lists', () => {
    expect(fix('FROM debian:12.6\nRUN apt-get update && apt-get install -y --no-install-recommends curl=8\n')).toBe(
      'FROM debian:12.6\nRUN apt-get update && apt-get install -y --no-install-recommends curl=8 \\\n    && rm -rf /var/lib/apt/lists/*\n',
    );
    const later = 'FROM debian:12.6\nRUN apt-get update && apt-get install -y --no-install-recommends curl=8\nCOPY x /x\nRUN apt-get install -y --no-install-recommends wget=1\n';
    expect(fix(later)).toBe(later);
  });

  it('turns `cd dir && ...` into WORKDIR, restoring the directory when later instructions depend on it', () => {
    expect(fix('FROM debian:12.6\nRUN cd /src && make\nWORKDIR /app\nCMD ["x"]\n')).toBe('FROM debian:12.6\nWORKDIR /src\nRUN make\nWORKDIR /app\nCMD ["x"]\n');
    expect(fix('FROM debian:12.6\nWORKDIR /w\nRUN cd sub && make \\\n    && make test\nCOPY a b\n')).toBe('FROM debian:12.6\nWORKDIR /w\nWORKDIR /w/sub\nRUN make \\\n    && make test\nWORKDIR /w\nCOPY a b\n');
    // Unknown previous directory (the base image's) and the image config would change: left alone.
    const unknown = 'FROM debian:12.6\nRUN cd /src && make\n';
    expect(fix(unknown)).toBe(unknown);
    const variable = 'FROM debian:12.6\nWORKDIR /w\nRUN cd $HOME && make\nWORKDIR /x\n';
    expect(fix(variable)).toBe(variable);
  });

  it('keeps CRLF line endings', () => {
    const out = fix('FROM debian:12.6\r\nRUN a\r\nRUN b\r\n');
    expect(out).toBe('FROM debian:12.6\r\nRUN a \\\r\n    && b\r\n');
  });

  it('leaves files with parse errors unchanged', () => {
    const t = 'FROM debian:12.6\nRUN apt-get install curl\nFOO bar\n';
    expect(fixDockerfile(t)).toEqual({ text: t, applied: [] });
  });

  it('never increases the number of findings and is idempotent (property)', () => {
    const pieces = [
      'RUN apt-get update',
      'RUN apt-get install curl',
      'RUN apt-get install -y wget=1',
      'RUN pip install flask==3.0',
      'RUN cd /src && make',
      'RUN make install',
      'ENV DEBIAN_FRONTEND=noninteractive',
      'WORKDIR /app',
      '# a comment',
      'COPY . .',
      'RUN --mount=type=cache,target=/root/.cache/pip pip install x==1',
      'USER 1000',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 10 }), (lines) => {
        const text = `FROM debian:12.6\nWORKDIR /base\n${lines.join('\n')}\n`;
        const once = fixDockerfile(text);
        const twice = fixDockerfile(once.text);
        expect(twice.text).toBe(once.text);
        expect(lintDockerfile(once.text).findings.length).toBeLessThanOrEqual(lintDockerfile(text).findings.length);
      }),
      { numRuns: 150 },
    );
  });
});

/** Applies a unified diff produced by unifiedDiff (test helper). */
function applyDiff(before: string, diff: string): string {
  if (diff === '') return before;
  const src = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  const lines = diff.split('\n');
  let i = 2;
  let pos = 0;
  let finalNl = true;
  while (i < lines.length && lines[i] !== '') {
    const m = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[i]!)!;
    const aStart = Number(m[2]) === 0 ? Number(m[1]) : Number(m[1]) - 1;
    while (pos < aStart) out.push(src[pos++]!);
    i++;
    while (i < lines.length && lines[i] !== '' && !lines[i]!.startsWith('@@')) {
      const l = lines[i]!;
      if (l.startsWith('\\')) {
        // "\ No newline at end of file" after a new or context line: the result ends without one.
        if (!lines[i - 1]!.startsWith('-')) finalNl = false;
      } else if (l[0] === ' ') {
        out.push(src[pos++]!);
      } else if (l[0] === '-') pos++;
      else out.push(l.slice(1));
      i++;
    }
  }
  while (pos < src.length) out.push(src[pos++]!);
  return out.join('\n') + (out.length && finalNl ? '\n' : '');
}

describe('unifiedDiff', () => {
  it('is empty for equal texts and has git-style headers otherwise', () => {
    expect(unifiedDiff('a\n', 'a\n', 'Dockerfile')).toBe('');
    expect(unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'Dockerfile')).toBe('--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
  });

  it('marks a missing final newline', () => {
    expect(unifiedDiff('a\nb', 'a\nb\n', 'f')).toBe('--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
  });

  it('splits distant changes into hunks with 3 lines of context', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const b = a.replace('l1\n', 'L1\n').replace('l18\n', 'L18\n');
    const d = unifiedDiff(a, b, 'f');
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('@@ -1,5 +1,5 @@');
    expect(d).toContain('@@ -16,5 +16,5 @@');
  });

  it('applies back to the new text (property)', () => {
    const line = fc.constantFrom('a', 'b', 'c', 'RUN x', '', '# c');
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), fc.array(line, { maxLength: 25 }), (xs, ys) => {
        const before = xs.length ? xs.join('\n') + '\n' : '';
        const after = ys.length ? ys.join('\n') + '\n' : '';
        expect(applyDiff(before, unifiedDiff(before, after, 'f'))).toBe(after);
      }),
      { numRuns: 300 },
    );
  });
});
