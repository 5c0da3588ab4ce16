import { describe, expect, it } from 'vitest';
import { isWildcardSpec, resolveVersion, type VersionCandidate } from '../../../src/gateway/versions.js';

function serving(...versions: string[]): VersionCandidate[] {
  return versions.map((version) => ({ version, serving: true }));
}

function resolved(spec: string, candidates: VersionCandidate[]): string | undefined {
  const result = resolveVersion(spec, candidates);
  return result.ok ? result.version : undefined;
}

describe('isWildcardSpec', () => {
  it.each(['1.x', '1.X', '1.*', '1.2.x', '1.2.*', '*', 'x', 'X', '1.x.x', '1', '1.2', '10', '0.0'])('%j is a wildcard', (spec) => {
    expect(isWildcardSpec(spec)).toBe(true);
  });

  it.each(['1.2.3', '0.0.1', 'latest', '', 'abc', '1.2.3.4', '1.2.3.x', '>=1.0.0', '^1.0.0', '~1.2', '1.x-rc', 'v1', '1.', '.1', '1..2', 'x.y'])(
    '%j is not a wildcard',
    (spec) => {
      expect(isWildcardSpec(spec)).toBe(false);
    },
  );
});

describe('resolveVersion: latest', () => {
  it('takes the highest stable serving version', () => {
    expect(resolved('latest', serving('0.0.1', '0.2.0', '0.1.5'))).toBe('0.2.0');
  });

  it('ignores pre-releases even when they are higher', () => {
    expect(resolved('latest', serving('1.0.0', '2.0.0-rc.1', '1.5.0-beta'))).toBe('1.0.0');
  });

  it('ignores versions that are not serving', () => {
    const candidates: VersionCandidate[] = [
      { version: '3.0.0', serving: false },
      { version: '2.0.0', serving: true },
      { version: '2.5.0', serving: false },
    ];
    expect(resolved('latest', candidates)).toBe('2.0.0');
  });

  it('orders numerically, not as text (1.10.0 > 1.9.0, 0.10.0 > 0.9.9)', () => {
    expect(resolved('latest', serving('1.9.0', '1.10.0', '1.2.0'))).toBe('1.10.0');
    expect(resolved('latest', serving('0.9.9', '0.10.0'))).toBe('0.10.0');
    expect(resolved('latest', serving('9.0.0', '10.0.0'))).toBe('10.0.0');
  });

  it('treats build metadata as stable and returns the version as written', () => {
    expect(resolved('latest', serving('1.0.0', '1.1.0+build.7'))).toBe('1.1.0+build.7');
    expect(resolved('latest', serving('1.1.0+build.7', '1.0.0'))).toBe('1.1.0+build.7');
  });

  it('explains when only pre-releases are serving', () => {
    const result = resolveVersion('latest', serving('1.0.0-rc.1', '1.0.0-rc.2'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe('no_match');
    expect(result.message).toContain('pre-releases only');
    expect(result.message).toContain('1.0.0-rc.2, 1.0.0-rc.1');
  });

  it('says there is no stable version when nothing is serving', () => {
    const result = resolveVersion('latest', [{ version: '1.0.0', serving: false }]);
    expect(result).toEqual({ ok: false, reason: 'no_match', message: 'no stable version is serving' });
    expect(resolveVersion('latest', [])).toMatchObject({ ok: false, reason: 'no_match' });
  });
});

describe('resolveVersion: wildcards and partial versions', () => {
  const candidates = serving('1.2.3', '1.2.10', '1.3.0', '1.10.0-rc.1', '2.0.0', '0.9.0');

  it.each([
    ['1.x', '1.3.0'],
    ['1.X', '1.3.0'],
    ['1.*', '1.3.0'],
    ['1', '1.3.0'],
    ['1.2.x', '1.2.10'],
    ['1.2.*', '1.2.10'],
    ['1.2', '1.2.10'],
    ['2.x', '2.0.0'],
    ['0.x', '0.9.0'],
    ['*', '2.0.0'],
    ['x', '2.0.0'],
  ])('%s resolves to %s', (spec, expected) => {
    expect(resolved(spec, candidates)).toBe(expected);
  });

  it('prefers 1.10.0 over 1.9.0 for 1.x', () => {
    expect(resolved('1.x', serving('1.9.0', '1.10.0', '1.1.0'))).toBe('1.10.0');
  });

  it('never picks a pre-release for a wildcard', () => {
    expect(resolved('1.x', serving('1.0.0', '1.5.0-rc.1'))).toBe('1.0.0');
    const result = resolveVersion('3.x', serving('3.0.0-alpha'));
    expect(result).toMatchObject({ ok: false, reason: 'no_match' });
  });

  it('ignores versions that are not serving', () => {
    const result = resolveVersion('1.x', [
      { version: '1.9.0', serving: false },
      { version: '1.1.0', serving: true },
    ]);
    expect(result).toEqual({ ok: true, version: '1.1.0' });
  });

  it('reports no_match naming the spec', () => {
    const result = resolveVersion('5.x', candidates);
    expect(result).toEqual({ ok: false, reason: 'no_match', message: 'no serving version matches 5.x' });
  });
});

describe('resolveVersion: exact versions', () => {
  it('returns a serving exact version', () => {
    expect(resolveVersion('1.2.3', serving('1.2.3', '1.3.0'))).toEqual({ ok: true, version: '1.2.3' });
  });

  it('returns an exact version that is not serving (the caller answers 503)', () => {
    expect(resolveVersion('1.2.3', [{ version: '1.2.3', serving: false }])).toEqual({ ok: true, version: '1.2.3' });
  });

  it('returns an exact pre-release', () => {
    expect(resolveVersion('2.0.0-rc.1', serving('2.0.0-rc.1', '1.0.0'))).toEqual({ ok: true, version: '2.0.0-rc.1' });
  });

  it('matches build metadata exactly', () => {
    expect(resolveVersion('1.0.0+build.2', serving('1.0.0+build.1', '1.0.0+build.2'))).toEqual({ ok: true, version: '1.0.0+build.2' });
    expect(resolveVersion('1.0.0+build.3', serving('1.0.0+build.1'))).toMatchObject({ ok: false, reason: 'unknown_version' });
  });

  it('reports an unknown version', () => {
    const result = resolveVersion('9.9.9', serving('1.0.0'));
    expect(result).toEqual({ ok: false, reason: 'unknown_version', message: 'version 9.9.9 is not deployed' });
  });

  it('does not treat 1.0.0 and 1.0.0-rc.1 as the same version', () => {
    expect(resolveVersion('1.0.0', serving('1.0.0-rc.1'))).toMatchObject({ ok: false, reason: 'unknown_version' });
  });
});

describe('resolveVersion: invalid specs', () => {
  it.each(['', 'abc', 'newest', 'Latest', '1.2.3.4', '>=1.0.0', '^1.0.0', '~1.2.0', '1.x || 2.x', '01.2.3', '1.2.3-', '..'])(
    '%j is invalid',
    (spec) => {
      const result = resolveVersion(spec, serving('1.2.3'));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.reason).toBe('invalid_spec');
      expect(result.message).toContain(`"${spec}" is not a version`);
    },
  );

  it.each(['v1.2.3', ' 1.2.3'])('%j, a loose spelling of a deployed version, is not taken as that version', (spec) => {
    expect(resolveVersion(spec, serving('1.2.3'))).toMatchObject({ ok: false, reason: 'unknown_version' });
  });
});
