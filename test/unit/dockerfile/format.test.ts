import { describe, expect, it } from 'vitest';
import { exceedsThreshold, formatFindings, lintDockerfile, type Finding } from '../../../src/dockerfile/index.js';

const text = `FROM debian
RUN apt-get install -y curl && echo "<done> & 'ok'"
WORKDIR app`;
const result = lintDockerfile(text);

describe('output formats', () => {
  it('json is hadolint\'s row shape', () => {
    const rows = JSON.parse(formatFindings(result, 'json', 'Dockerfile')) as Array<Record<string, unknown>>;
    expect(rows.length).toBe(result.findings.length);
    expect(Object.keys(rows[0]!)).toEqual(['code', 'column', 'file', 'level', 'line', 'message']);
    expect(rows[0]).toMatchObject({ code: 'DL3006', file: 'Dockerfile', level: 'warning', line: 1, column: 1 });
    expect(formatFindings([], 'json', 'x')).toBe('[]');
  });

  it('tty prints file:line:column, code, severity, message and docs link, coloured on request', () => {
    const plain = formatFindings(result, 'tty', 'Dockerfile', { color: false }).split('\n');
    expect(plain[0]).toBe('Dockerfile:1:1 DL3006 warning: Always tag the version of an image explicitly (https://github.com/hadolint/hadolint/wiki/DL3006)');
    expect(plain.some((l) => l.includes('DL3000 error: Use absolute WORKDIR'))).toBe(true);
    expect(plain.some((l) => l.includes('(docs/lint-rules.md#pl1004)'))).toBe(true);
    const coloured = formatFindings(result, 'tty', 'Dockerfile', { color: true });
    expect(coloured).toContain('\u001b[');
    expect(formatFindings([], 'tty', 'x', { color: false })).toBe('');
  });

  it('sarif is a SARIF 2.1.0 log', () => {
    const log = JSON.parse(formatFindings(result, 'sarif', 'sub/Dockerfile'));
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0];
    expect(run.tool.driver.name).toBe('pitlane-lint');
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id).sort()).toEqual([...new Set(result.findings.map((f) => f.code))].sort());
    expect(run.results[0]).toMatchObject({
      ruleId: 'DL3006',
      level: 'warning',
      message: { text: expect.any(String) },
      locations: [{ physicalLocation: { artifactLocation: { uri: 'sub/Dockerfile' }, region: { startLine: 1, startColumn: 1 } } }],
    });
    expect(run.results.find((r: { ruleId: string }) => r.ruleId === 'DL3015').level).toBe('note');
  });

  it('checkstyle is escaped XML', () => {
    const xml = formatFindings(lintDockerfile('FROM debian:12.6\nLABEL "bad key"=1'), 'checkstyle', 'a&b/Dockerfile');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<checkstyle version="4.3">')).toBe(true);
    expect(xml).toContain('<file name="a&amp;b/Dockerfile">');
    expect(xml).toMatch(/<error line="2" column="1" severity="info" message="Invalid label key\." source="DL3048"\/>/);
    expect(xml.trim().endsWith('</checkstyle>')).toBe(true);
  });

  it('codeclimate is a GitLab Code Quality array', () => {
    const issues = JSON.parse(formatFindings(result, 'codeclimate', 'Dockerfile'));
    expect(issues[0]).toMatchObject({ type: 'issue', check_name: 'DL3006', severity: 'major', location: { path: 'Dockerfile', lines: { begin: 1, end: 1 } } });
    expect(issues[0].fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(issues.map((i: { fingerprint: string }) => i.fingerprint)).size).toBe(issues.length);
    expect(issues.find((i: { check_name: string }) => i.check_name === 'DL3000').severity).toBe('blocker');
  });

  it('docs links: hadolint wiki for DL, configurable base for PL', () => {
    const f = lintDockerfile('FROM debian:12.6', { docsBaseUrl: 'https://pitlane.example/docs/lint' }).findings.find((x) => x.code === 'PL1004');
    expect(f?.docsUrl).toBe('https://pitlane.example/docs/lint#pl1004');
  });
});

describe('exceedsThreshold', () => {
  const mk = (severity: Finding['severity']): Finding => ({ code: 'X', severity, message: '', line: 1, column: 1, docsUrl: '', fixable: false });
  it('follows hadolint failure-threshold semantics', () => {
    const fs = [mk('warning'), mk('info')];
    expect(exceedsThreshold(fs, 'error')).toBe(false);
    expect(exceedsThreshold(fs, 'warning')).toBe(true);
    expect(exceedsThreshold(fs, 'info')).toBe(true);
    expect(exceedsThreshold([mk('style')], 'info')).toBe(false);
    expect(exceedsThreshold([mk('style')], 'style')).toBe(true);
    expect(exceedsThreshold([mk('style')], 'ignore')).toBe(true);
    expect(exceedsThreshold([mk('error')], 'none')).toBe(false);
    expect(exceedsThreshold([], 'ignore')).toBe(false);
    expect(exceedsThreshold([mk('info')])).toBe(true);
  });
});
