import { describe, expect, it } from 'vitest';
import { manifestJsonSchema } from '../../../src/manifest/index.js';
import { closestName, levenshtein, unknownFieldMessage } from '../../../src/manifest/did-you-mean.js';
import { gitRemoteProblem, relativePathProblem } from '../../../src/manifest/references.js';

describe('did-you-mean', () => {
  it('computes edit distances', () => {
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('owner_emial', 'owner_email')).toBe(2);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
  });

  it.each([
    ['owner_emial', 'owner_email'],
    ['Name', 'name'],
    ['owner', 'owner_email'],
    ['timeout', 'timeout_s'],
    ['dockerfile', 'dockerfile_path'],
    ['zzz', undefined],
    ['a', undefined],
  ])('%s → %s', (unknown, expected) => {
    expect(closestName(unknown, ['name', 'owner_email', 'timeout_s', 'docker', 'dockerfile_path', 'git'])).toBe(expected);
  });

  it('formats the message', () => {
    expect(unknownFieldMessage('owner_emial', ['owner_email'])).toBe('unknown field "owner_emial"; did you mean "owner_email"?');
    expect(unknownFieldMessage('zzz', ['a', 'b'])).toBe('unknown field "zzz"; known fields: a, b');
  });
});

describe('references', () => {
  it.each(['git@host', 'user@host:', 'https://', 'http:///path', 'file://', 'ssh://u@-host/x', '\\\\server\\share'])('rejects git remote %j', (remote) => {
    expect(gitRemoteProblem(remote)).toBeDefined();
  });

  it.each(['.', 'a/b', './a/', 'a/../b'])('accepts directory %j', (p) => expect(relativePathProblem(p, false)).toBeUndefined());
  it.each(['', '..', '/a', 'C:/a', 'a\\b', 'a/../../b', 'a\nb'])('rejects directory %j', (p) => expect(relativePathProblem(p, false)).toBeDefined());
});

describe('manifestJsonSchema', () => {
  it('describes the accepted input', () => {
    const schema = manifestJsonSchema();
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['name', 'owner_email']);
    expect(schema.oneOf).toEqual([{ required: ['jobtype'] }, { required: ['lang'] }]);
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(properties)).toEqual(expect.arrayContaining(['git', 'resources', 'runtime_env', 'public_endpoints', 'lint']));
    expect(properties.replicas).toMatchObject({ type: 'integer', minimum: 1, maximum: 50, default: 1 });
    expect(properties.lang).toMatchObject({ deprecated: true });
    expect(() => JSON.stringify(schema)).not.toThrow();
  });
});
