import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapUpstreamPath, parseGatewayUrl } from '../../../src/gateway/paths.js';

const DNS_1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe('parseGatewayUrl', () => {
  it('parses a job URL with a path and a query', () => {
    expect(parseGatewayUrl('/pub/job/adder/1.2.3/api/v1/perform?x=1&y=2')).toEqual({
      kind: 'job',
      name: 'adder',
      versionSpec: '1.2.3',
      rest: '/api/v1/perform',
      query: '?x=1&y=2',
    });
  });

  it('parses a URL that ends at the version', () => {
    expect(parseGatewayUrl('/pub/job/adder/latest')).toEqual({ kind: 'job', name: 'adder', versionSpec: 'latest', rest: '', query: '' });
    expect(parseGatewayUrl('/pub/job/adder/latest?q')).toEqual({ kind: 'job', name: 'adder', versionSpec: 'latest', rest: '', query: '?q' });
    expect(parseGatewayUrl('/pub/job/adder/1.x/')).toMatchObject({ versionSpec: '1.x', rest: '/' });
  });

  it('parses the legacy /pub/fatman/ prefix', () => {
    expect(parseGatewayUrl('/pub/fatman/adder/0.0.1/api/v1/perform')).toEqual({
      kind: 'fatman',
      name: 'adder',
      versionSpec: '0.0.1',
      rest: '/api/v1/perform',
      query: '',
    });
  });

  it.each(['1.x', '1.2.*', '*', 'latest', '1.0.0-rc.1', '1.0.0+build.5', '1'])('keeps the version spec %j as written', (spec) => {
    expect(parseGatewayUrl(`/pub/job/adder/${spec}/api/v1/perform`)?.versionSpec).toBe(spec);
  });

  it('keeps the rest percent-encoded and the query untouched (slashes and dots in the query are fine)', () => {
    expect(parseGatewayUrl('/pub/job/adder/1.0.0/api/v1/a%20b?path=/../../etc&x=..')).toEqual({
      kind: 'job',
      name: 'adder',
      versionSpec: '1.0.0',
      rest: '/api/v1/a%20b',
      query: '?path=/../../etc&x=..',
    });
  });

  it.each([
    '/',
    '/pub',
    '/pub/',
    '/pub/job',
    '/pub/job/',
    '/pub/job/adder',
    '/pub/job/adder/',
    '/pub/job//1.0.0/x',
    '/api/v1/job/adder/1.0.0',
    '/pub/jobs/adder/1.0.0',
    '/pubx/job/adder/1.0.0',
    'pub/job/adder/1.0.0',
  ])('does not parse %j', (url) => {
    expect(parseGatewayUrl(url)).toBeUndefined();
  });

  it.each([
    ['uppercase', 'Adder'],
    ['underscore', 'add_er'],
    ['leading dash', '-adder'],
    ['trailing dash', 'adder-'],
    ['dot', 'add.er'],
    ['64 characters', 'a'.repeat(64)],
    ['encoded character', 'add%65r'],
    ['dot-dot', '..'],
  ])('rejects a job name with %s', (_what, name) => {
    expect(parseGatewayUrl(`/pub/job/${name}/1.0.0/api/v1/perform`)).toBeUndefined();
  });

  it('accepts 63-character names and digits', () => {
    expect(parseGatewayUrl(`/pub/job/${'a'.repeat(63)}/1.0.0`)?.name).toBe('a'.repeat(63));
    expect(parseGatewayUrl('/pub/job/0/1.0.0')?.name).toBe('0');
    expect(parseGatewayUrl('/pub/job/a-1-b/1.0.0')?.name).toBe('a-1-b');
  });

  it.each(['1.0.0%2e', 'v 1', '1.0.0_1', 'ä', 'a'.repeat(129)])('rejects the version segment %j', (spec) => {
    expect(parseGatewayUrl(`/pub/job/adder/${spec}/api/v1/perform`)).toBeUndefined();
  });

  it.each([
    '/pub/job/adder/1.0.0/api/v1/../../../admin',
    '/pub/job/adder/1.0.0/..',
    '/pub/job/adder/1.0.0/api/..',
    '/pub/job/adder/1.0.0/./api',
    '/pub/job/adder/1.0.0/api/v1/.',
    '/pub/job/adder/1.0.0/api/v1/%2e%2e/secret',
    '/pub/job/adder/1.0.0/api/v1/%2E%2E/secret',
    '/pub/job/adder/1.0.0/api/v1/%2e%2E',
    '/pub/job/adder/1.0.0/api/v1/.%2e/secret',
    '/pub/job/adder/1.0.0/api/v1/%2e./secret',
    '/pub/job/adder/1.0.0/api/v1/%2e/secret',
    '/pub/job/adder/1.0.0/api/v1/..%2fsecret',
    '/pub/job/adder/1.0.0/api/v1/a%2f..%2f..%2fsecret',
    '/pub/job/adder/1.0.0/api/v1/..%5csecret',
    '/pub/fatman/adder/1.0.0/api/v1/../x',
  ])('rejects the traversal %j', (url) => {
    expect(parseGatewayUrl(url)).toBeUndefined();
  });

  it.each(['/pub/job/adder/1.0.0/api/v1/...', '/pub/job/adder/1.0.0/api/v1/.well-known/x', '/pub/job/adder/1.0.0/api/v1/a..b', '/pub/job/adder/1.0.0/api/v1/%2e.well-known', '/pub/job/adder/1.0.0/api/v1/a%2fb'])(
    'keeps dots that are not a traversal: %j',
    (url) => {
      expect(parseGatewayUrl(url)).toBeDefined();
    },
  );

  it('never throws, and every parsed result has a DNS-1123 name and no traversal segment (property)', () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '%2e%2e', '%2E%2e', '.%2e', '%2e.', '%2e', 'api', 'v1', 'perform', '', 'Adder', 'adder', 'a_b', '1.0.0', 'latest', '1.x', '%2f..'),
      fc.string({ maxLength: 12 }),
    );
    const url = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc
        .tuple(fc.constantFrom('/pub/job/', '/pub/fatman/', '/pub/', '/'), fc.array(segment, { maxLength: 8 }), fc.option(fc.string({ maxLength: 20 })))
        .map(([prefix, segments, query]) => `${prefix}${segments.join('/')}${query === null ? '' : `?${query}`}`),
    );
    fc.assert(
      fc.property(url, (input) => {
        const parsed = parseGatewayUrl(input);
        if (parsed === undefined) return;
        expect(parsed.name).toMatch(DNS_1123);
        expect(parsed.rest === '' || parsed.rest.startsWith('/')).toBe(true);
        expect(parsed.query === '' || parsed.query.startsWith('?')).toBe(true);
        expect(parsed.rest).not.toContain('?');
        for (const part of parsed.rest.split('/')) {
          const decoded = part.replace(/%2e/gi, '.');
          expect(decoded).not.toBe('..');
          expect(decoded).not.toBe('.');
        }
        const prefix = parsed.kind === 'job' ? '/pub/job/' : '/pub/fatman/';
        expect(`${prefix}${parsed.name}/${parsed.versionSpec}${parsed.rest}${parsed.query}`).toBe(input);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('mapUpstreamPath', () => {
  describe('docker-proxy jobs', () => {
    it.each([
      ['/api/v1/perform', '', '/perform'],
      ['/api/v1/perform', '?a=1', '/perform?a=1'],
      ['/api/v1/deep/nested/path', '', '/deep/nested/path'],
      ['/api/v1/perform/', '', '/perform/'],
      ['/api/v1', '', '/'],
      ['/api/v1/', '', '/'],
      ['/api/v1', '?x=y', '/?x=y'],
      ['/api/v1/a%20b', '', '/a%20b'],
    ])('%s%s → %s', (rest, query, forward) => {
      expect(mapUpstreamPath('docker-proxy', 'adder', '1.0.0', rest, query)).toEqual({ forward });
    });

    it.each(['live', 'ready', 'health'] as const)('answers /%s locally', (what) => {
      expect(mapUpstreamPath('docker-proxy', 'adder', '1.0.0', `/${what}`, '')).toEqual({ local: what });
    });

    it.each(['', '/', '/perform', '/api', '/api/v2/perform', '/api/v10/perform', '/api/v1perform', '/liveness', '/health/x', '/ready/'])(
      'answers %j with notFound naming the right form',
      (rest) => {
        const route = mapUpstreamPath('docker-proxy', 'adder', '1.0.0', rest, '');
        expect(route).toHaveProperty('notFound');
        if (!('notFound' in route)) return;
        expect(route.notFound).toContain('/pub/job/adder/1.0.0/api/v1/');
        expect(route.notFound).toContain(`"${rest || '/'}"`);
      },
    );
  });

  describe('wrapper job types', () => {
    it.each(['python3', 'node', 'dockerfile'])('%s keeps the full path with the exact version', (jobtype) => {
      expect(mapUpstreamPath(jobtype, 'adder', '1.2.3', '/api/v1/perform', '?a=1')).toEqual({ forward: '/pub/job/adder/1.2.3/api/v1/perform?a=1' });
      expect(mapUpstreamPath(jobtype, 'adder', '1.2.3', '/live', '')).toEqual({ forward: '/pub/job/adder/1.2.3/live' });
      expect(mapUpstreamPath(jobtype, 'adder', '1.2.3', '', '')).toEqual({ forward: '/pub/job/adder/1.2.3' });
    });
  });

  it('composes with parseGatewayUrl: a wildcard call goes to the exact version', () => {
    const target = parseGatewayUrl('/pub/fatman/adder/1.x/api/v1/perform?z=1');
    expect(target).toBeDefined();
    if (!target) return;
    expect(mapUpstreamPath('python3', target.name, '1.4.0', target.rest, target.query)).toEqual({ forward: '/pub/job/adder/1.4.0/api/v1/perform?z=1' });
    expect(mapUpstreamPath('docker-proxy', target.name, '1.4.0', target.rest, target.query)).toEqual({ forward: '/perform?z=1' });
  });
});
