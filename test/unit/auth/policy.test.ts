import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grantCovers, hasScopeAnywhere, hasScopeOnJob, isAllowed, normaliseEndpoint, SCOPES, type PermissionGrant, type Scope } from '../../../src/auth/policy.js';
import { parseIdentityRef } from '../../../src/auth/identity-ref.js';
import { AuthService } from '../../../src/auth/auth-service.js';

const grant = (scope: Scope, jobName: string | null = null, jobVersion: string | null = null, endpoint: string | null = null): PermissionGrant => ({
  id: 'g',
  identityId: 'i',
  scope,
  jobName,
  jobVersion,
  endpoint,
});

describe('grantCovers (Racetrack rule: empty filters mean every, admin matches every scope)', () => {
  it.each([
    [grant('call_job'), 'call_job', { job: 'a', version: '1.0.0', endpoint: '/api/v1/perform' }, true],
    [grant('call_job'), 'read_job', { job: 'a' }, false],
    [grant('admin'), 'delete_job', { job: 'a', version: '2.0.0' }, true],
    [grant('call_job', 'a'), 'call_job', { job: 'a', version: '9.9.9' }, true],
    [grant('call_job', 'a'), 'call_job', { job: 'b' }, false],
    [grant('call_job', 'a'), 'call_job', {}, false],
    [grant('call_job', 'a', '1.0.0'), 'call_job', { job: 'a', version: '1.0.0' }, true],
    [grant('call_job', 'a', '1.0.0'), 'call_job', { job: 'a', version: '1.0.1' }, false],
    [grant('call_job', 'a', null, '/api/v1/perform'), 'call_job', { job: 'a', version: '1.0.0', endpoint: '/api/v1/perform/' }, true],
    [grant('call_job', 'a', null, '/api/v1/perform'), 'call_job', { job: 'a', version: '1.0.0', endpoint: '/api/v1/perform2' }, false],
    [grant('call_job', 'a', null, '/api/v1/perform'), 'call_job', { job: 'a', version: '1.0.0' }, false],
  ] as const)('%j %s %j → %s', (g, scope, resource, expected) => {
    expect(grantCovers(g, scope, resource)).toBe(expected);
  });

  it('never allows anything without grants, and a narrower grant never covers more than a wider one (property)', () => {
    const name = fc.constantFrom('a', 'b');
    const version = fc.constantFrom('1.0.0', '2.0.0');
    const endpoint = fc.constantFrom('/api/v1/perform', '/x');
    const scope = fc.constantFrom(...SCOPES);
    fc.assert(
      fc.property(scope, scope, name, version, endpoint, fc.option(name), fc.option(version), fc.option(endpoint), (granted, asked, job, v, e, gJob, gVersion, gEndpoint) => {
        const resource = { job, version: v, endpoint: e };
        expect(isAllowed([], asked, resource)).toBe(false);
        const narrow = grant(granted, gJob, gJob === null ? null : gVersion, gJob === null ? null : gEndpoint);
        const wide = grant(granted);
        if (grantCovers(narrow, asked, resource)) expect(grantCovers(wide, asked, resource)).toBe(true);
      }),
    );
  });

  it('answers the route-level and job-level questions', () => {
    expect(hasScopeAnywhere([grant('read_job', 'a')], 'read_job')).toBe(true);
    expect(hasScopeAnywhere([grant('read_job', 'a')], 'deploy_job')).toBe(false);
    expect(hasScopeAnywhere([grant('admin')], 'run')).toBe(true);
    expect(hasScopeOnJob([grant('call_job', 'a', '1.0.0')], 'call_job', 'a')).toBe(true);
    expect(hasScopeOnJob([grant('call_job', 'a', '1.0.0')], 'call_job', 'b')).toBe(false);
  });

  it('normalises endpoints', () => {
    expect(normaliseEndpoint('api/v1/perform/')).toBe('/api/v1/perform');
    expect(normaliseEndpoint('/x?y=1')).toBe('/x');
    expect(normaliseEndpoint('/')).toBe('/');
    expect(normaliseEndpoint('/api/v1/perform')).toBe('/api/v1/perform');
    expect(normaliseEndpoint('/api/v1/perform//')).toBe('/api/v1/perform');
    expect(normaliseEndpoint('/api/v1/perform/?x=/')).toBe('/api/v1/perform');
    expect(normaliseEndpoint('x')).toBe('/x');
    expect(normaliseEndpoint('')).toBe('/');
  });
});

describe('identity references and grant targets', () => {
  it.each([
    ['alice', { kind: 'user', name: 'alice' }],
    ['user:alice', { kind: 'user', name: 'alice' }],
    ['sa:ci-bot', { kind: 'service_account', name: 'ci-bot' }],
    ['service-account:ci', { kind: 'service_account', name: 'ci' }],
    ['job:adder@1.0.0', { kind: 'job', name: 'adder@1.0.0' }],
  ])('%s', (ref, expected) => {
    expect(parseIdentityRef(ref)).toEqual(expected);
  });

  it.each(['', 'Alice', 'robot:x', 'user:', 'job:adder', 'job:@1', '-rf', 'a b', 'user:x/../y'])('rejects %j naming the field', (ref) => {
    expect(() => parseIdentityRef(ref, 'identity')).toThrow(expect.objectContaining({ status: 400, details: [expect.objectContaining({ path: 'identity' })] }));
  });

  it.each([
    [{ scope: 'root' }, 'scope'],
    [{ scope: 'call_job', version: '1.0.0' }, 'version'],
    [{ scope: 'call_job', endpoint: '/x' }, 'endpoint'],
    [{ scope: 'call_job', job: 'Bad_Name' }, 'job'],
    [{ scope: 'call_job', job: 'a', endpoint: 'no-slash' }, 'endpoint'],
    [{ scope: 'admin', job: 'a' }, 'job'],
  ])('refuses grant %j at %s', (input, path) => {
    expect(() => AuthService.grantTarget(input)).toThrow(expect.objectContaining({ status: 400, details: [expect.objectContaining({ path })] }));
  });
});
