/** Pure argument helpers of the identity commands. */
import { describe, expect, it } from 'vitest';
import { canonicalIdentity, describeGrantTarget, parseDuration, splitJobSpec, stripTrailingNewline, tokenIdOf, tokenState } from '../../../src/cli/auth-args.js';
import { CliExit } from '../../../src/cli/output.js';

describe('parseDuration', () => {
  it('turns units into seconds', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400);
    expect(parseDuration('12h')).toBe(43_200);
    expect(parseDuration('90m')).toBe(5_400);
    expect(parseDuration('3600s')).toBe(3_600);
    expect(parseDuration('2w')).toBe(1_209_600);
    expect(parseDuration('3600')).toBe(3_600);
    expect(parseDuration('1D')).toBe(86_400);
  });
  it.each(['', '0', '0d', '-1d', '1.5h', '1 d', 'd', '10y', '12hours', '1d2h', '9999999999'])('refuses %j with exit code 2', (text) => {
    let error: unknown;
    try {
      parseDuration(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliExit);
    expect((error as CliExit).code).toBe(2);
    expect((error as CliExit).message).toContain('--expires');
  });
});

describe('splitJobSpec', () => {
  it('splits NAME and NAME@VERSION', () => {
    expect(splitJobSpec('adder')).toEqual({ job: 'adder', version: undefined });
    expect(splitJobSpec('adder@1.0.0')).toEqual({ job: 'adder', version: '1.0.0' });
    expect(splitJobSpec('adder@1.0.0-rc.1+b2', { requireVersion: true })).toEqual({ job: 'adder', version: '1.0.0-rc.1+b2' });
  });
  it.each([['@1.0.0'], ['adder@'], ['a@1@2'], ['']])('refuses %j', (spec) => {
    expect(() => splitJobSpec(spec)).toThrow(CliExit);
  });
  it('requires the version when asked, naming the argument', () => {
    expect(() => splitJobSpec('adder', { requireVersion: true, what: 'JOB' })).toThrow(/JOB must be NAME@VERSION/);
  });
});

describe('tokenIdOf', () => {
  it('accepts the id, the prefix or the whole token', () => {
    expect(tokenIdOf('abcd234xyz')).toBe('abcd234xyz');
    expect(tokenIdOf('pitlane_abcd234xyz')).toBe('abcd234xyz');
    expect(tokenIdOf('pitlane_abcd234xyz_Zm9v-YmFy_x')).toBe('abcd234xyz');
  });
  it('leaves anything else alone (the server answers 404)', () => {
    expect(tokenIdOf('pitlane_short')).toBe('pitlane_short');
    expect(tokenIdOf('pitlane_ABCD234XYZ')).toBe('pitlane_ABCD234XYZ');
  });
});

describe('canonicalIdentity', () => {
  it('writes identities as the audit log does', () => {
    expect(canonicalIdentity('alice')).toBe('user:alice');
    expect(canonicalIdentity('user:alice')).toBe('user:alice');
    expect(canonicalIdentity('sa:ci')).toBe('service_account:ci');
    expect(canonicalIdentity('service-account:ci')).toBe('service_account:ci');
    expect(canonicalIdentity('job:adder@1.0.0')).toBe('job:adder@1.0.0');
    expect(canonicalIdentity('system')).toBe('system');
    expect(canonicalIdentity('weird:x')).toBe('weird:x');
  });
});

describe('describeGrantTarget', () => {
  it('describes each narrowing', () => {
    expect(describeGrantTarget({ job: null, version: null, endpoint: null })).toBe('everything');
    expect(describeGrantTarget({ job: 'adder', version: null, endpoint: null })).toBe('job adder');
    expect(describeGrantTarget({ job: 'adder', version: '1.0.0', endpoint: null })).toBe('job adder@1.0.0');
    expect(describeGrantTarget({ job: 'adder', version: null, endpoint: '/api/v1/perform' })).toBe('endpoint /api/v1/perform of job adder');
  });
});

describe('tokenState', () => {
  const now = Date.parse('2025-01-02T00:00:00Z');
  it('judges revoked before expired before active', () => {
    expect(tokenState({ revoked_at: '2025-01-01T00:00:00Z', expires_at: '2024-01-01T00:00:00Z' }, now)).toBe('revoked');
    expect(tokenState({ revoked_at: null, expires_at: '2025-01-01T00:00:00Z' }, now)).toBe('expired');
    expect(tokenState({ revoked_at: null, expires_at: '2025-01-03T00:00:00Z' }, now)).toBe('active');
    expect(tokenState({ revoked_at: null, expires_at: null }, now)).toBe('active');
  });
});

describe('stripTrailingNewline', () => {
  it('drops exactly one line break', () => {
    expect(stripTrailingNewline('pw\n')).toBe('pw');
    expect(stripTrailingNewline('pw\r\n')).toBe('pw');
    expect(stripTrailingNewline('pw\n\n')).toBe('pw\n');
    expect(stripTrailingNewline(' pw ')).toBe(' pw ');
  });
});
