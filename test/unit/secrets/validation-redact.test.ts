import { describe, expect, it } from 'vitest';
import { jobNameProblems, MAX_SECRET_VALUE_BYTES, redactingLines, redactSecrets, secretKeyProblems, secretNeedles, secretValueProblems } from '../../../src/secrets/index.js';

describe('secret validation', () => {
  it.each(['DB_PASSWORD', '_x', 'a1', 'A'.repeat(255)])('accepts key %s', (key) => {
    expect(secretKeyProblems(key, 'runtime')).toEqual([]);
  });

  it.each(['', '1ABC', 'DB-PASSWORD', 'A B', 'x=y', 'ümlaut', 'A'.repeat(256), '../etc', 'a,b'])('refuses key %j naming the field', (key) => {
    const problems = secretKeyProblems(key, 'runtime');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('key');
    expect(problems[0]?.message).toContain('environment variable name');
  });

  it('refuses the names Pitlane injects for runtime secrets only', () => {
    expect(secretKeyProblems('AUTH_TOKEN', 'runtime')[0]?.message).toContain('AUTH_TOKEN is reserved');
    expect(secretKeyProblems('JOB_NAME', 'runtime')[0]?.message).toContain('reserved');
    expect(secretKeyProblems('AUTH_TOKEN', 'build')).toEqual([]);
    expect(secretKeyProblems('AUTH_TOKEN', undefined)).toEqual([]);
  });

  it('checks values: not empty, at most 64 KiB of UTF-8, no NUL in runtime secrets; never quotes them', () => {
    expect(secretValueProblems('ok', 'runtime')).toEqual([]);
    expect(secretValueProblems('x'.repeat(MAX_SECRET_VALUE_BYTES), 'runtime')).toEqual([]);
    expect(secretValueProblems('', 'runtime')[0]?.message).toContain('must not be empty');
    const big = secretValueProblems('é'.repeat(MAX_SECRET_VALUE_BYTES / 2 + 1), 'build');
    expect(big[0]).toMatchObject({ path: 'value' });
    expect(big[0]?.message).toContain('got 65538 bytes');
    const nul = secretValueProblems('se\u0000cret', 'runtime');
    expect(nul[0]?.message).toContain('NUL');
    expect(nul[0]?.message).not.toContain('se\u0000cret');
    expect(secretValueProblems('bin\u0000ary', 'build')).toEqual([]);
  });

  it('checks job names as DNS-1123 labels', () => {
    expect(jobNameProblems('adder-2')).toEqual([]);
    for (const bad of ['Adder', 'a_b', '-a', 'a'.repeat(64), '']) expect(jobNameProblems(bad)[0]?.path).toBe('name');
  });
});

describe('redaction', () => {
  it('replaces every occurrence, longest value first', () => {
    expect(redactSecrets('token=abc123 and again abc123', ['abc123'])).toBe('token=*** and again ***');
    expect(redactSecrets('x=abcdef', ['abc', 'abcdef'])).toBe('x=***');
    expect(redactSecrets('nothing here', ['abc'])).toBe('nothing here');
    expect(redactSecrets('keep', [''])).toBe('keep');
  });

  it('hides each line (4+ characters) of a multi-line value, since logs are stored line by line', () => {
    const value = '-----BEGIN KEY-----\nMIIEvQIBADANBg\nab\n-----END KEY-----';
    expect(secretNeedles([value])).toContain('MIIEvQIBADANBg');
    expect(secretNeedles([value])).not.toContain('ab');
    expect(redactSecrets('#5 0.31 MIIEvQIBADANBg', [value])).toBe('#5 0.31 ***');
  });

  it('wraps a line consumer', () => {
    const lines: string[] = [];
    const sink = (line: string): void => {
      lines.push(line);
    };
    expect(redactingLines([], sink)).toBe(sink);
    redactingLines(['hunter2'], sink)('password is hunter2');
    expect(lines).toEqual(['password is ***']);
  });
});
