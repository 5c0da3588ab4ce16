/**
 * The API's input hardening as pure functions: per-route body limits, strict JSON body types,
 * malformed multipart and HTTP parser errors mapped to 4xx JSON errors.
 */
import { describe, expect, it } from 'vitest';
import { bodyLimitFor, bodyLimitHook, DEFAULT_BODY_LIMIT } from '../../../src/api/body-limits.js';
import { clientErrorAnswer } from '../../../src/api/client-errors.js';
import { malformedMultipart } from '../../../src/api/multipart.js';
import { strictTypeProblems } from '../../../src/api/validation.js';

const sizes = { uploadBytes: 3 * 1024 * 1024, dockerfileBytes: 1024 * 1024 };

describe('bodyLimitFor', () => {
  it('gives upload routes room for a base64 build context, and nothing else more than 64 KiB', () => {
    for (const url of ['/api/v1/deploy', '/api/v1/runs', '/run']) {
      expect(bodyLimitFor('POST', url, sizes)).toBe(4 * 1024 * 1024 + 1024 * 1024);
    }
    expect(bodyLimitFor('POST', '/api/v1/lint', sizes)).toBe(2 * 1024 * 1024 + DEFAULT_BODY_LIMIT);
    expect(bodyLimitFor('POST', '/api/v1/wheels/build', sizes)).toBe(2 * 1024 * 1024);
    for (const [method, url] of [
      ['POST', '/api/v1/auth/login'],
      ['POST', '/api/v1/tokens'],
      ['POST', '/api/v1/grants'],
      ['DELETE', '/api/v1/runs/:id'],
      ['GET', '/api/v1/deploy'],
      ['PUT', '/api/v1/deploy'],
      ['POST', '/api/v1/wheels'],
    ] as const) {
      expect(bodyLimitFor(method, url, sizes), `${method} ${url}`).toBe(DEFAULT_BODY_LIMIT);
    }
    expect(bodyLimitFor(['GET', 'POST'], '/run', sizes)).toBeGreaterThan(DEFAULT_BODY_LIMIT);
  });

  it('keeps a limit the route declares itself', () => {
    const hook = bodyLimitHook(sizes);
    const declared = { method: 'POST', url: '/api/v1/secrets', bodyLimit: 1234 } as never as Parameters<typeof hook>[0];
    hook(declared);
    expect(declared.bodyLimit).toBe(1234);
    const plain = { method: 'POST', url: '/api/v1/deploy' } as never as Parameters<typeof hook>[0];
    hook(plain);
    expect(plain.bodyLimit).toBe(bodyLimitFor('POST', '/api/v1/deploy', sizes));
  });
});

describe('strictTypeProblems', () => {
  const schema = {
    type: 'object',
    properties: {
      dockerfile: { type: 'string' },
      force: { type: 'boolean' },
      count: { type: 'integer' },
      ratio: { type: 'number' },
      tags: { type: 'array', items: { type: 'string' } },
      nested: { type: 'object', properties: { on: { type: 'boolean' } } },
      anything: { description: 'no type' },
      either: { type: ['string', 'null'] },
    },
  };

  it('accepts values of the declared types', () => {
    expect(strictTypeProblems(schema, { dockerfile: 'FROM x', force: true, count: 2, ratio: 0.5, tags: ['a'], nested: { on: false }, anything: [1], either: null })).toEqual([]);
  });

  it.each([
    [{ dockerfile: 1 }, 'body.dockerfile'],
    [{ force: 'true' }, 'body.force'],
    [{ count: '2' }, 'body.count'],
    [{ count: 1.5 }, 'body.count'],
    [{ ratio: '0.5' }, 'body.ratio'],
    [{ tags: 'a' }, 'body.tags'],
    [{ tags: ['a', 2] }, 'body.tags.1'],
    [{ nested: { on: 'yes' } }, 'body.nested.on'],
    [{ either: 5 }, 'body.either'],
    [[], 'body'],
    ['text', 'body'],
    [null, 'body'],
  ])('names the field of %j', (value, path) => {
    const problems = strictTypeProblems(schema, value);
    expect(problems.map((p) => p.path)).toEqual([path]);
  });

  it('never throws on odd schemas and values', () => {
    expect(strictTypeProblems(undefined, { a: 1 })).toEqual([]);
    expect(strictTypeProblems({ type: 'object', properties: { __proto__: { type: 'string' } } }, JSON.parse('{"__proto__": 1, "constructor": 2}'))).toBeInstanceOf(Array);
  });
});

describe('malformedMultipart', () => {
  it.each([
    'Unexpected end of multipart data',
    'Part terminated early due to unexpected end of multipart data',
    'Multipart: Boundary not found',
    'The needle cannot have a length bigger than 256.',
    'The needle cannot be an empty String/Buffer.',
  ])('makes %j a 400 naming the body', (message) => {
    const error = malformedMultipart(new Error(message));
    expect(error?.status).toBe(400);
    expect(error?.code).toBe('MULTIPART_INVALID');
    expect(error?.details[0]?.path).toBe('body');
  });

  it('leaves other errors alone (they stay 500 or keep their status)', () => {
    expect(malformedMultipart(new Error('ENOSPC: no space left on device'))).toBeUndefined();
    expect(malformedMultipart(Object.assign(new Error('Unexpected end of multipart data'), { statusCode: 413 }))).toBeUndefined();
  });
});

describe('clientErrorAnswer', () => {
  it('maps parser errors to 431, 408 and 400', () => {
    expect(clientErrorAnswer('HPE_HEADER_OVERFLOW').status).toBe(431);
    expect(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT').status).toBe(408);
    expect(clientErrorAnswer('HPE_INVALID_METHOD')).toMatchObject({ status: 400, code: 'BAD_HTTP_REQUEST' });
    expect(clientErrorAnswer(undefined).status).toBe(400);
  });
});
