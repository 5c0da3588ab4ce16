import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixFile, hadolintConfigCandidates, lintFile, loadLintConfig } from '../../../src/dockerfile/cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pitlane-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli helpers (file I/O)', () => {
  it('searches .hadolint.yaml in hadolint\'s order', () => {
    const c = hadolintConfigCandidates('/p', { XDG_CONFIG_HOME: '/xdg' }, '/h');
    expect(c.slice(0, 4)).toEqual(['/p/.hadolint.yaml', '/p/.hadolint.yml', '/xdg/hadolint.yaml', '/xdg/hadolint.yml']);
    expect(c.at(-2)).toBe('/h/.hadolint.yaml');
  });

  it('loads a config file and reports a missing explicit one', () => {
    writeFileSync(join(dir, '.hadolint.yaml'), 'ignored: [DL3008]\n');
    expect(loadLintConfig({ cwd: dir })).toEqual({ config: { ignored: ['DL3008'] }, path: join(dir, '.hadolint.yaml') });
    expect(() => loadLintConfig({ configPath: join(dir, 'nope.yaml') })).toThrow(/does not exist/);
    writeFileSync(join(dir, 'bad.yaml'), 'failure-threshold: 3\n');
    expect(() => loadLintConfig({ configPath: join(dir, 'bad.yaml') })).toThrow(/bad\.yaml/);
  });

  it('lints a file, noticing the context .dockerignore', () => {
    const df = join(dir, 'Dockerfile');
    writeFileSync(df, 'FROM debian:12.6\nCOPY . /app\n');
    expect(lintFile(df).findings.map((f) => f.code)).toContain('PL1009');
    writeFileSync(join(dir, '.dockerignore'), '.git\n');
    expect(lintFile(df).findings.map((f) => f.code)).not.toContain('PL1009');
    expect(() => lintFile(join(dir, 'missing'))).toThrow(/Cannot read/);
  });

  it('fixes a file in place, or only reports with dryRun', () => {
    const df = join(dir, 'fix.Dockerfile');
    const text = 'FROM debian:12.6\nRUN a\nRUN b\n';
    writeFileSync(df, text);
    const dry = fixFile(df, {}, true);
    expect(dry.before).toBe(text);
    expect(readFileSync(df, 'utf8')).toBe(text);
    fixFile(df);
    expect(readFileSync(df, 'utf8')).toBe(dry.text);
  });
});
