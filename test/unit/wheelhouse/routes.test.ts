import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/api/errors.js';
import { isOpenWheelPath, registerWheelRoutes } from '../../../src/api/wheel-routes.js';
import { Wheelhouse, WheelBuildService } from '../../../src/wheelhouse/index.js';
import { FakeEngine } from './fake-engine.js';
import { makeWheel, tempDir } from './helpers.js';

/** A multipart/form-data body. */
function form(parts: { name: string; filename?: string; content: Buffer | string }[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----pitlane${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    const type = part.filename !== undefined ? 'Content-Type: application/octet-stream\r\n' : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

let app: FastifyInstance;
let wheelhouse: Wheelhouse;
let builds: WheelBuildService;
let engine: FakeEngine;

beforeEach(async () => {
  wheelhouse = new Wheelhouse(join(tempDir(), 'wheelhouse'), { maxWheelBytes: 64 * 1024 });
  await wheelhouse.init();
  engine = new FakeEngine();
  builds = new WheelBuildService({ wheelhouse, engine });
  await builds.init();
  // The same ajv options as src/api/app.ts.
  app = fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } } });
  app.setErrorHandler(errorHandler);
  await app.register(multipart, { limits: { fileSize: 1024 * 1024, files: 2, fields: 20 } });
  app.register(async (scope) => registerWheelRoutes(scope, { wheelhouse, builds, maxSourceBytes: 10_000 }));
  await app.ready();
});

afterEach(async () => {
  await builds.close();
  await app.close();
});

async function upload(filename: string, data: Buffer): Promise<{ statusCode: number; body: any }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/wheels', ...form([{ name: 'file', filename, content: data }]) });
  return { statusCode: response.statusCode, body: response.json() };
}

describe('POST /api/v1/wheels', () => {
  it('stores a wheel (201), answers 200 for the same bytes again, 409 for other bytes', async () => {
    const wheel = makeWheel('Demo.Pkg', '1.2.0');
    const first = await upload(wheel.filename, wheel.data);
    expect(first.statusCode).toBe(201);
    expect(first.body).toMatchObject({ filename: 'Demo_Pkg-1.2.0-py3-none-any.whl', name: 'demo-pkg', version: '1.2.0', tags: ['py3-none-any'], size: wheel.data.length, source: 'upload' });
    expect(first.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await upload(wheel.filename, wheel.data)).statusCode).toBe(200);
    const other = makeWheel('Demo.Pkg', '1.2.0', { files: [{ name: 'demo_pkg/x.py', content: '' }] });
    const conflict = await upload(other.filename, other.data);
    expect(conflict.statusCode).toBe(409);
    expect(conflict.body.error.code).toBe('WHEEL_EXISTS');
  });

  it('answers 400 for a corrupt wheel, naming the file', async () => {
    const corrupt = await upload('pkg-1.0-py3-none-any.whl', Buffer.from('PK\u0003\u0004 this is not really a zip'));
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.body.error).toMatchObject({ code: 'WHEEL_CORRUPT', details: [{ path: 'file' }] });
    const wheel = makeWheel('pkg', '1.0');
    const truncated = await upload(wheel.filename, wheel.data.subarray(0, wheel.data.length - 30));
    expect(truncated.statusCode).toBe(400);
  });

  it('answers 422 for a wheel whose filename lies about its contents, naming the field', async () => {
    const wheel = makeWheel('honest', '1.0');
    const renamed = await upload('famous-1.0-py3-none-any.whl', wheel.data);
    expect(renamed.statusCode).toBe(422);
    expect(renamed.body.error).toMatchObject({ code: 'WHEEL_MISMATCH', details: [{ path: 'dist-info' }] });
    const liar = makeWheel('famous', '1.0', { metadataName: 'malware' });
    const lying = await upload(liar.filename, liar.data);
    expect(lying.statusCode).toBe(422);
    expect(lying.body.error.details[0].path).toBe('METADATA.Name');
    const version = makeWheel('famous', '2.0', { metadataVersion: '0.1' });
    expect((await upload(version.filename, version.data)).body.error.details[0].path).toBe('METADATA.Version');
  });

  it('answers 400 for a bad filename, 413 for a wheel over the limit, 400 without a file', async () => {
    const wheel = makeWheel('pkg', '1.0');
    // The multipart parser keeps only the base name of an uploaded file.
    const withPath = await upload('../../pkg-1.0-py3-none-any.whl', wheel.data);
    expect(withPath.statusCode).toBe(201);
    expect(withPath.body.filename).toBe('pkg-1.0-py3-none-any.whl');
    const badName = await upload('pkg-1.0.whl', wheel.data);
    expect(badName.statusCode).toBe(400);
    expect(badName.body.error).toMatchObject({ code: 'WHEEL_FILENAME_INVALID', details: [{ path: 'filename' }] });
    expect((await upload('pkg.zip', wheel.data)).statusCode).toBe(400);
    const big = makeWheel('big', '1.0', { files: [{ name: 'big/blob.txt', content: randomBytes(100_000).toString('base64') }] });
    expect(big.data.length).toBeGreaterThan(64 * 1024);
    const tooLarge = await upload(big.filename, big.data);
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const json = await app.inject({ method: 'POST', url: '/api/v1/wheels', payload: { file: 'x' } });
    expect(json.statusCode).toBe(400);
    const field = await app.inject({ method: 'POST', url: '/api/v1/wheels', ...form([{ name: 'other', content: 'x' }]) });
    expect(field.statusCode).toBe(400);
  });
});

describe('GET / DELETE /api/v1/wheels', () => {
  it('lists (with a name filter), shows and deletes wheels', async () => {
    for (const w of [makeWheel('alpha', '1.0'), makeWheel('alpha', '2.0'), makeWheel('beta', '1.0')]) await upload(w.filename, w.data);
    const list = (await app.inject({ url: '/api/v1/wheels' })).json();
    expect(list.wheels.map((w: { filename: string }) => w.filename)).toEqual(['alpha-1.0-py3-none-any.whl', 'alpha-2.0-py3-none-any.whl', 'beta-1.0-py3-none-any.whl']);
    expect(Object.keys(list.wheels[0])).toEqual(expect.arrayContaining(['name', 'version', 'tags', 'size', 'sha256', 'uploaded_at']));
    expect((await app.inject({ url: '/api/v1/wheels?name=ALPHA' })).json().wheels).toHaveLength(2);
    expect((await app.inject({ url: '/api/v1/wheels/beta-1.0-py3-none-any.whl' })).json().name).toBe('beta');
    const deleted = await app.inject({ method: 'DELETE', url: '/api/v1/wheels/beta-1.0-py3-none-any.whl' });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json().deleted.filename).toBe('beta-1.0-py3-none-any.whl');
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/wheels/beta-1.0-py3-none-any.whl' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/wheels/beta-1.0-py3-none-any.whl' })).statusCode).toBe(404);
    const traversal = await app.inject({ method: 'DELETE', url: '/api/v1/wheels/..%2F.index.json' });
    expect(traversal.statusCode).toBe(400);
    expect(wheelhouse.list()).toHaveLength(2);
  });
});

describe('the index pip reads', () => {
  beforeEach(async () => {
    for (const w of [makeWheel('Demo.Pkg', '1.0', { metadataExtra: ['Requires-Python: >=3.8'] }), makeWheel('other', '0.1')]) await upload(w.filename, w.data);
  });

  it('serves the PEP 503 root and project pages as HTML', async () => {
    const root = await app.inject({ url: '/wheels/simple/' });
    expect(root.statusCode).toBe(200);
    expect(root.headers['content-type']).toContain('text/html');
    expect(root.body).toContain('<a href="demo-pkg/">demo-pkg</a>');
    expect(root.body).toContain('<a href="other/">other</a>');
    const project = await app.inject({ url: '/wheels/simple/demo-pkg/' });
    expect(project.statusCode).toBe(200);
    const sha = wheelhouse.get('Demo_Pkg-1.0-py3-none-any.whl')?.sha256;
    expect(project.body).toContain(`href="../../files/Demo_Pkg-1.0-py3-none-any.whl#sha256=${sha}" data-requires-python="&gt;=3.8"`);
  });

  it('redirects other spellings and missing slashes to the normalised URL, 404 for unknown projects', async () => {
    for (const url of ['/wheels/simple/Demo.Pkg/', '/wheels/simple/Demo_Pkg', '/wheels/simple/demo-pkg']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(301);
      expect(response.headers.location).toBe('/wheels/simple/demo-pkg/');
    }
    expect((await app.inject({ url: '/wheels/simple' })).headers.location).toBe('/wheels/simple/');
    expect((await app.inject({ url: '/wheels/simple/nothing-here/' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/wheels/simple/..%2F..%2Fetc/' })).statusCode).toBe(404);
  });

  it('serves the find-links page and the files, path-safe', async () => {
    const page = await app.inject({ url: '/wheels/find-links/' });
    expect(page.body).toContain('href="../files/other-0.1-py3-none-any.whl#sha256=');
    const file = await app.inject({ url: '/wheels/files/other-0.1-py3-none-any.whl' });
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.subarray(0, 2).toString()).toBe('PK');
    expect(file.headers.etag).toBe(`"${wheelhouse.get('other-0.1-py3-none-any.whl')?.sha256}"`);
    expect((await app.inject({ url: '/wheels/files/other-0.1-py3-none-any.whl', headers: { 'if-none-match': file.headers.etag as string } })).statusCode).toBe(304);
    for (const url of ['/wheels/files/..%2F.index.json', '/wheels/files/.index.json', '/wheels/files/%2Fetc%2Fpasswd', '/wheels/files/..%2F..%2Fpitlane.db']) {
      expect((await app.inject({ url })).statusCode, url).toBe(400);
    }
    expect((await app.inject({ url: '/wheels/files/missing-1.0-py3-none-any.whl' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'HEAD', url: '/wheels/files/other-0.1-py3-none-any.whl' })).statusCode).toBe(200);
  });

  it('isOpenWheelPath opens only reads of /wheels/', () => {
    expect(isOpenWheelPath('GET', '/wheels/simple/')).toBe(true);
    expect(isOpenWheelPath('HEAD', '/wheels/files/x-1.0-py3-none-any.whl')).toBe(true);
    expect(isOpenWheelPath('POST', '/wheels/simple/')).toBe(false);
    expect(isOpenWheelPath('GET', '/api/v1/wheels')).toBe(false);
    expect(isOpenWheelPath('GET', '/wheelsx')).toBe(false);
  });
});

describe('wheel builds over the API', () => {
  it('takes JSON requirements: 202 {id}, then the build with its log', async () => {
    const built = makeWheel('built', '1.0');
    engine.next = { wheels: [built], lines: ['Successfully built built'] };
    const response = await app.inject({ method: 'POST', url: '/api/v1/wheels/build', payload: { requirements: 'built==1.0\n' } });
    expect(response.statusCode).toBe(202);
    const { id, status } = response.json();
    expect(status).toBe('queued');
    await builds.wait(id);
    const view = (await app.inject({ url: `/api/v1/wheels/builds/${id}` })).json();
    expect(view).toMatchObject({ id, status: 'succeeded', wheels_added: [built.filename], error: null });
    expect(view.log).toContain('Successfully built built');
    const after = (await app.inject({ url: `/api/v1/wheels/builds/${id}?after=${view.log_total - 1}` })).json();
    expect(after.log).toHaveLength(1);
    expect((await app.inject({ url: '/api/v1/wheels/builds' })).json().builds[0].id).toBe(id);
    expect((await app.inject({ url: '/api/v1/wheels' })).json().wheels[0].build_id).toBe(id);
  });

  it('takes multipart requirements (field or file) and a source tar.gz', async () => {
    const source = await tarGz({ 'mypkg/pyproject.toml': '[project]\nname="mypkg"\n' });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/wheels/build',
      ...form([{ name: 'requirements', filename: 'requirements.txt', content: './mypkg\n' }, { name: 'source', filename: 'src.tar.gz', content: source }]),
    });
    expect(response.statusCode).toBe(202);
    await builds.wait(response.json().id);
    expect(engine.runs[0]?.context.get('src/mypkg/pyproject.toml')?.toString()).toContain('mypkg');
    const field = await app.inject({ method: 'POST', url: '/api/v1/wheels/build', ...form([{ name: 'requirements', content: 'x\n' }]) });
    expect(field.statusCode).toBe(202);
  });

  it('keeps a failed build with the reason (a requirement the wheelhouse cannot satisfy)', async () => {
    engine.next = { exitCode: 1, lines: ['ERROR: Could not find a version that satisfies the requirement ghost==1 (from versions: none)', 'ERROR: No matching distribution found for ghost==1'] };
    const { id } = (await app.inject({ method: 'POST', url: '/api/v1/wheels/build', payload: { requirements: 'ghost==1' } })).json();
    await builds.wait(id);
    const view = (await app.inject({ url: `/api/v1/wheels/builds/${id}` })).json();
    expect(view.status).toBe('failed');
    expect(view.error.code).toBe('REQUIREMENT_UNSATISFIED');
    expect(view.error.message).toContain('No matching distribution found for ghost==1');
    expect(view.log.join('\n')).toContain('ERROR: No matching distribution found for ghost==1');
  });

  it('answers 400 for missing/empty requirements, unknown fields, an empty source; 413 for a large source; 404 for unknown builds', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/v1/wheels/build', payload: {} })).json().error.details[0].path).toBe('requirements');
    expect((await app.inject({ method: 'POST', url: '/api/v1/wheels/build', payload: { requirements: '\n# x\n' } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1/wheels/build', payload: { requirements: 'x', extra: 1 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1/wheels/build', ...form([{ name: 'requirements', content: 'x' }, { name: 'other', content: 'y' }]) })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1/wheels/build', ...form([{ name: 'requirements', content: 'x' }, { name: 'source', filename: 's.tgz', content: '' }]) })).statusCode).toBe(400);
    const large = await app.inject({ method: 'POST', url: '/api/v1/wheels/build', ...form([{ name: 'requirements', content: 'x' }, { name: 'source', filename: 's.tgz', content: Buffer.alloc(20_000, 1) }]) });
    expect(large.statusCode).toBe(413);
    expect((await app.inject({ url: '/api/v1/wheels/builds/00000000-0000-0000-0000-000000000000' })).statusCode).toBe(404);
    expect(engine.runs).toHaveLength(0);
  });
});
