/**
 * Acceptance case of issue 4: the course's (seed 001) task 1 Dockerfile gets the findings the
 * course teaches, and --fix turns it into the shape of its task 2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixDockerfile, lintDockerfile, unifiedDiff } from '../../../src/dockerfile/index.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const task1 = fixture('course-task1.Dockerfile');
const golden = fixture('course-task1.fixed.Dockerfile');

describe('course task 1 → task 2', () => {
  const before = lintDockerfile(task1, { hasDockerignore: false });
  const codesBefore = before.findings.map((f) => f.code);

  it('reports what the course teaches', () => {
    // "Do not use ENV as this would persist after the build" (task 1, item 2)
    expect(before.findings.find((f) => f.code === 'PL1001')?.line).toBe(3);
    // "use a single layer to install your dependencies" (task 2, item 1)
    expect(codesBefore.filter((c) => c === 'DL3059').length).toBe(6);
    expect(codesBefore).toContain('PL1002');
    // "--no-install-recommends" (task 2, item 2): the three apt-get installs
    expect(before.findings.filter((f) => f.code === 'DL3015').map((f) => f.line)).toEqual([7, 13, 14]);
    // "--no-cache-dir" (task 2, item 3)
    expect(before.findings.filter((f) => f.code === 'DL3042').map((f) => f.line)).toEqual([15]);
    // "rm -rf /var/lib/apt/lists/*" (task 1 hint, task 2 item 4): both apt-get update layers
    expect(before.findings.filter((f) => f.code === 'DL3009').map((f) => f.line)).toEqual([5, 11]);
    // "Copying the complete current directory" with no .dockerignore
    expect(before.findings.find((f) => f.code === 'PL1009')?.line).toBe(17);
  });

  const fixed = fixDockerfile(task1);

  it('--fix produces the task 2 shape', () => {
    expect(fixed.text).toBe(golden);
    const runs = fixed.text.split('\n').filter((l) => l.startsWith('RUN '));
    expect(runs).toHaveLength(1); // one layer for every dependency
    expect(fixed.text).toContain('ARG DEBIAN_FRONTEND=noninteractive');
    expect(fixed.text).not.toMatch(/^ENV DEBIAN_FRONTEND/m);
    expect(fixed.text.match(/--no-install-recommends/g)).toHaveLength(3);
    expect(fixed.text).toContain('pip3 install --no-cache-dir fastapi==0.78.0');
    expect(fixed.text.trimEnd().split('\n').find((l) => l.includes('rm -rf /var/lib/apt/lists/*'))).toBe('    && rm -rf /var/lib/apt/lists/*');
    // Comments and the rest of the file are kept.
    for (const line of ['#install required dependencies', "# Add PPA to system's source list", 'WORKDIR /server', 'COPY . /server', 'CMD ["app.main:app", "--host", "0.0.0.0", "--port", "8000"]']) {
      expect(fixed.text).toContain(line);
    }
    expect(fixed.applied.map((a) => a.split(' ')[0])).toEqual(expect.arrayContaining(['PL1001', 'DL3059', 'DL3015', 'DL3042', 'DL3009']));
  });

  it('the fixed file has fewer findings, none of the taught ones', () => {
    const after = lintDockerfile(fixed.text, { hasDockerignore: false });
    expect(after.findings.length).toBeLessThan(before.findings.length);
    const left = after.findings.map((f) => f.code);
    for (const c of ['PL1001', 'DL3059', 'PL1002', 'DL3015', 'DL3042', 'DL3009']) expect(left).not.toContain(c);
    // What --fix cannot decide for the user stays: pinning apt versions, adding a USER, a .dockerignore.
    expect(new Set(left)).toEqual(new Set(['DL3008', 'PL1004', 'PL1009']));
  });

  it('the fixed RUN runs the same commands in the same order', () => {
    const cmds = (t: string): string[] =>
      t
        .split('\n').filter((l) => /^(RUN|\s+&&)/.test(l)).map((l) => l.replace(/^(RUN|\s+&&)\s*/, '').replace(/\s*\\$/, '').replace(/ --no-install-recommends| --no-cache-dir/g, ''));
    expect(cmds(fixed.text).slice(0, -1)).toEqual(cmds(task1));
  });

  it('fixing is idempotent', () => {
    const again = fixDockerfile(fixed.text);
    expect(again.text).toBe(fixed.text);
    expect(again.applied).toEqual([]);
  });

  it('--diff shows the change as a unified diff', () => {
    const diff = unifiedDiff(task1, fixed.text, 'Dockerfile');
    expect(diff.startsWith('--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,')).toBe(true);
    expect(diff).toContain('-ENV DEBIAN_FRONTEND noninteractive\n+ARG DEBIAN_FRONTEND=noninteractive\n');
    expect(diff).toContain('+    && rm -rf /var/lib/apt/lists/*\n');
    expect(diff).not.toContain('-WORKDIR /server');
  });
});
