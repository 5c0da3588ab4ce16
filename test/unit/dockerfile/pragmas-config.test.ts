import { describe, expect, it } from 'vitest';
import { isPitlaneError } from '../../../src/errors.js';
import { lintDockerfile, mergeLintConfig, parseLintConfig, lintConfigFromObject } from '../../../src/dockerfile/index.js';
import { codes } from './helpers.js';

const BASE = `FROM debian:12.6
RUN apt-get update && apt-get install -y curl
RUN apt-get update && apt-get install -y wget`;

describe('pragmas', () => {
  it('# hadolint ignore= applies to the next instruction only', () => {
    const text = `FROM debian:12.6
# hadolint ignore=DL3008,DL3015 # trailing reason
RUN apt-get update && apt-get install -y curl
RUN apt-get update && apt-get install -y wget`;
    const f = lintDockerfile(text).findings;
    expect(f.filter((x) => x.code === 'DL3008').map((x) => x.line)).toEqual([4]);
    expect(f.filter((x) => x.code === 'DL3015').map((x) => x.line)).toEqual([4]);
  });

  it('the pitlane spelling works the same, also with other comments in between', () => {
    const text = `FROM debian:12.6
# pitlane ignore=DL3008
# another comment

RUN apt-get update && apt-get install -y curl`;
    expect(codes(text)).not.toContain('DL3008');
  });

  it('global ignore applies to the whole file', () => {
    expect(codes(`# hadolint global ignore=DL3008,DL3015\n${BASE}`)).not.toEqual(expect.arrayContaining(['DL3008']));
    expect(codes(`${BASE}\n# pitlane global ignore=DL3015`)).not.toContain('DL3015');
  });

  it('stage ignore applies to one stage', () => {
    const text = `FROM debian:12.6 AS a
# hadolint stage ignore=DL3008
RUN apt-get install -y --no-install-recommends curl
FROM debian:12.6
RUN apt-get install -y --no-install-recommends curl`;
    expect(lintDockerfile(text).findings.filter((x) => x.code === 'DL3008').map((x) => x.line)).toEqual([5]);
  });

  it('disableIgnorePragma turns pragmas off; DL1001 reports them when raised', () => {
    const text = `FROM debian:12.6\n# hadolint ignore=DL3008\nRUN apt-get install -y --no-install-recommends curl`;
    expect(codes(text, { disableIgnorePragma: true })).toContain('DL3008');
    const f = lintDockerfile(text, { override: { warning: ['DL1001'] } }).findings.find((x) => x.code === 'DL1001');
    expect(f).toMatchObject({ line: 2, severity: 'warning' });
  });
});

describe('options', () => {
  it('ignored drops codes; override changes levels; ignore-level rules stay off', () => {
    expect(codes(BASE, { ignored: ['DL3008', 'dl3015'] })).not.toEqual(expect.arrayContaining(['DL3008']));
    const f = lintDockerfile(BASE, { override: { error: ['DL3015'], style: ['DL3008'] } }).findings;
    expect(f.find((x) => x.code === 'DL3015')?.severity).toBe('error');
    expect(f.find((x) => x.code === 'DL3008')?.severity).toBe('style');
    expect(codes(BASE)).not.toContain('DL1001');
  });

  it('counts findings per severity', () => {
    const r = lintDockerfile(BASE);
    expect(r.counts.warning + r.counts.info + r.counts.error + r.counts.style).toBe(r.findings.length);
  });
});

describe('.hadolint.yaml configuration', () => {
  const yaml = `
failure-threshold: warning
format: json
ignored:
  - DL3008
  - SC2086
trustedRegistries:
  - docker.io
  - "*.gcr.io"
override:
  error: [DL3015]
  info:
    - DL3059
label-schema:
  maintainer: email
  org.opencontainers.image.version: semver
strict-labels: true
no-color: true
disable-ignore-pragma: false
`;

  it('parses every hadolint key into LintOptions', () => {
    expect(parseLintConfig(yaml)).toEqual({
      failureThreshold: 'warning',
      format: 'json',
      ignored: ['DL3008', 'SC2086'],
      trustedRegistries: ['docker.io', '*.gcr.io'],
      override: { error: ['DL3015'], info: ['DL3059'] },
      labelSchema: { maintainer: 'email', 'org.opencontainers.image.version': 'semver' },
      strictLabels: true,
      noColor: true,
      disableIgnorePragma: false,
    });
    expect(parseLintConfig('')).toEqual({});
    expect(parseLintConfig('trustedRegistries: my.registry:5000')).toEqual({ trustedRegistries: ['my.registry:5000'] });
  });

  it('the parsed config drives the linter', () => {
    const cfg = parseLintConfig(yaml);
    const r = lintDockerfile(BASE, cfg);
    expect(r.findings.map((f) => f.code)).not.toContain('DL3008');
    expect(r.findings.find((f) => f.code === 'DL3015')?.severity).toBe('error');
  });

  it('accepts the manifest lint: section spelling', () => {
    expect(lintConfigFromObject({ failure_threshold: 'error', trusted_registries: ['ghcr.io'], has_dockerignore: false }, 'lint')).toEqual({
      failureThreshold: 'error',
      trustedRegistries: ['ghcr.io'],
      hasDockerignore: false,
    });
  });

  it('rejects invalid settings with paths, and invalid YAML with lines', () => {
    try {
      parseLintConfig('failure-threshold: loud\nignored: [DL3008, nope]\nover: 1\noverride: {fatal: [DL3008]}');
      expect.unreachable();
    } catch (e) {
      expect(isPitlaneError(e)).toBe(true);
      const err = e as { status: number; code: string; details: Array<{ path?: string }> };
      expect(err.status).toBe(422);
      expect(err.code).toBe('LINT_CONFIG_INVALID');
      expect(err.details.map((d) => d.path)).toEqual(['failure-threshold', 'ignored.1', 'over', 'override.fatal']);
    }
    try {
      parseLintConfig('ignored: [DL3008\nfoo: : bar');
      expect.unreachable();
    } catch (e) {
      const err = e as { code: string; details: Array<{ line?: number }> };
      expect(err.code).toBe('LINT_CONFIG_INVALID');
      expect(err.details[0]?.line).toBeGreaterThan(0);
    }
    expect(() => lintConfigFromObject([1, 2])).toThrow(/mapping/);
  });

  it('merges configs: scalars last wins, lists union, override by code', () => {
    const merged = mergeLintConfig(
      { failureThreshold: 'info', ignored: ['DL3008'], override: { error: ['DL3015'] }, labelSchema: { a: 'text' } },
      undefined,
      { failureThreshold: 'error', ignored: ['DL3059', 'DL3008'], override: { warning: ['DL3015'], style: ['DL3006'] }, labelSchema: { b: 'url' } },
    );
    expect(merged).toEqual({
      failureThreshold: 'error',
      ignored: ['DL3008', 'DL3059'],
      override: { warning: ['DL3015'], style: ['DL3006'] },
      labelSchema: { a: 'text', b: 'url' },
    });
  });
});
