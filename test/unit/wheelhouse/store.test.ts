import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyWheelsForBuild, findLinksHtml, simpleProjectHtml, simpleRootHtml, Wheelhouse, type WheelRecord } from '../../../src/wheelhouse/index.js';
import { expectPitlaneError, makeWheel, tempDir } from './helpers.js';

async function house(options: ConstructorParameters<typeof Wheelhouse>[1] = {}): Promise<Wheelhouse> {
  const wheelhouse = new Wheelhouse(join(tempDir(), 'wheelhouse'), options);
  await wheelhouse.init();
  return wheelhouse;
}

describe('Wheelhouse', () => {
  it('stores, lists, gets and deletes wheels; the index survives a restart', async () => {
    const wheelhouse = await house();
    const a = makeWheel('Alpha.Pkg', '1.0', { metadataExtra: ['Requires-Python: >=3.8'] });
    const b = makeWheel('beta', '2.0');
    const added = await wheelhouse.add(a.data, a.filename);
    expect(added.created).toBe(true);
    expect(added.wheel).toMatchObject({ filename: 'Alpha_Pkg-1.0-py3-none-any.whl', name: 'alpha-pkg', display_name: 'Alpha.Pkg', version: '1.0', tags: ['py3-none-any'], size: a.data.length, source: 'upload', requires_python: '>=3.8' });
    expect(added.wheel.uploaded_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await wheelhouse.add(b.data, b.filename, { source: 'build', buildId: 'b1' });
    expect(wheelhouse.list().map((w) => w.name)).toEqual(['alpha-pkg', 'beta']);
    expect(wheelhouse.list({ name: 'ALPHA_pkg' }).map((w) => w.filename)).toEqual([a.filename]);
    expect(readFileSync(join(wheelhouse.dir, a.filename))).toEqual(a.data);

    const reopened = new Wheelhouse(wheelhouse.dir);
    await reopened.init();
    expect(reopened.list()).toEqual(wheelhouse.list());
    expect(reopened.get(b.filename)).toMatchObject({ source: 'build', build_id: 'b1' });

    const deleted = await reopened.delete(a.filename);
    expect(deleted.filename).toBe(a.filename);
    expect(existsSync(join(wheelhouse.dir, a.filename))).toBe(false);
    expect(reopened.list().map((w) => w.filename)).toEqual([b.filename]);
    await expectPitlaneError(reopened.delete(a.filename), 404, 'WHEEL_NOT_FOUND');
    await expectPitlaneError(reopened.delete('../x-1.0-py3-none-any.whl'), 400, 'WHEEL_FILENAME_INVALID');
  });

  it('is idempotent for the same bytes and refuses other bytes under a stored filename (409)', async () => {
    const wheelhouse = await house();
    const first = makeWheel('pkg', '1.0');
    await wheelhouse.add(first.data, first.filename);
    expect((await wheelhouse.add(first.data, first.filename)).created).toBe(false);
    const other = makeWheel('pkg', '1.0', { files: [{ name: 'pkg/extra.py', content: 'x = 1\n' }] });
    const error = await expectPitlaneError(wheelhouse.add(other.data, other.filename), 409, 'WHEEL_EXISTS');
    expect(error.details[0]?.path).toBe('filename');
  });

  it('refuses bad wheels without writing anything', async () => {
    const wheelhouse = await house({ maxWheelBytes: 2000 });
    const big = makeWheel('pkg', '1.0', { files: [{ name: 'pkg/big.bin', content: randomBytes(3000).toString('base64') }] });
    await expectPitlaneError(wheelhouse.add(big.data, big.filename), 413, 'PAYLOAD_TOO_LARGE');
    await expectPitlaneError(wheelhouse.add(Buffer.from('garbage'), 'pkg-1.0-py3-none-any.whl'), 400, 'WHEEL_CORRUPT');
    await expectPitlaneError(wheelhouse.add(Buffer.alloc(0), 'pkg-1.0-py3-none-any.whl'), 400, 'WHEEL_CORRUPT');
    const liar = makeWheel('pkg', '1.0', { metadataName: 'other' });
    await expectPitlaneError(wheelhouse.add(liar.data, liar.filename), 422, 'WHEEL_MISMATCH');
    expect(readdirSync(wheelhouse.dir).filter((n) => n.endsWith('.whl') || n.startsWith('.tmp-'))).toEqual([]);
    expect(wheelhouse.list()).toEqual([]);
  });

  it('serialises concurrent adds (one index, every wheel in it)', async () => {
    const wheelhouse = await house();
    const wheels = Array.from({ length: 12 }, (_, i) => makeWheel(`pkg${i}`, '1.0'));
    await Promise.all(wheels.map((w) => wheelhouse.add(w.data, w.filename)));
    const reopened = new Wheelhouse(wheelhouse.dir);
    await reopened.init();
    expect(reopened.list()).toHaveLength(12);
  });

  it('reconciles the index with the directory at start-up', async () => {
    const wheelhouse = await house();
    const kept = makeWheel('kept', '1.0');
    const gone = makeWheel('gone', '1.0');
    await wheelhouse.add(kept.data, kept.filename);
    await wheelhouse.add(gone.data, gone.filename);
    // A crash left a temporary file; someone removed a wheel and dropped others in by hand.
    writeFileSync(join(wheelhouse.dir, '.tmp-leftover'), 'partial');
    const { rmSync } = await import('node:fs');
    rmSync(join(wheelhouse.dir, gone.filename));
    const dropped = makeWheel('dropped', '3.0');
    writeFileSync(join(wheelhouse.dir, dropped.filename), dropped.data);
    writeFileSync(join(wheelhouse.dir, 'broken-1.0-py3-none-any.whl'), 'not a zip');
    const notes: string[] = [];
    const reopened = new Wheelhouse(wheelhouse.dir, { log: (m) => notes.push(m) });
    await reopened.init();
    expect(reopened.list().map((w) => w.filename)).toEqual([dropped.filename, kept.filename]);
    expect(reopened.get(dropped.filename)?.source).toBe('directory');
    expect(existsSync(join(wheelhouse.dir, '.tmp-leftover'))).toBe(false);
    expect(notes.join('\n')).toContain('broken-1.0-py3-none-any.whl');
  });

  it('rebuilds an unreadable index from the files', async () => {
    const wheelhouse = await house();
    const w = makeWheel('pkg', '1.0');
    await wheelhouse.add(w.data, w.filename);
    writeFileSync(join(wheelhouse.dir, '.index.json'), '{ not json');
    const reopened = new Wheelhouse(wheelhouse.dir, { log: () => undefined });
    await reopened.init();
    expect(reopened.list().map((x) => x.filename)).toEqual([w.filename]);
    expect(JSON.parse(readFileSync(join(wheelhouse.dir, '.index.json'), 'utf8')).wheels[w.filename]).toBeTruthy();
  });

  it('filePath is path-safe', async () => {
    const wheelhouse = await house();
    const w = makeWheel('pkg', '1.0');
    await wheelhouse.add(w.data, w.filename);
    expect(wheelhouse.filePath(w.filename)).toBe(join(wheelhouse.dir, w.filename));
    await expectPitlaneError(() => wheelhouse.filePath('../../etc/passwd'), 400, 'WHEEL_FILENAME_INVALID');
    await expectPitlaneError(() => wheelhouse.filePath('.index.json'), 400, 'WHEEL_FILENAME_INVALID');
    await expectPitlaneError(() => wheelhouse.filePath('other-1.0-py3-none-any.whl'), 404, 'WHEEL_NOT_FOUND');
  });
});

describe('copyWheelsForBuild', () => {
  it('hard-links (or copies) every wheel and nothing else', async () => {
    const wheelhouse = await house();
    for (const w of [makeWheel('a', '1.0'), makeWheel('b', '2.0')]) await wheelhouse.add(w.data, w.filename);
    writeFileSync(join(wheelhouse.dir, '.tmp-x.whl'), 'x');
    const dest = join(tempDir(), 'ctx', 'wheels');
    const copied = await copyWheelsForBuild(wheelhouse.dir, dest);
    expect(copied).toEqual(['a-1.0-py3-none-any.whl', 'b-2.0-py3-none-any.whl']);
    expect(readdirSync(dest).sort()).toEqual(copied);
    expect(statSync(join(dest, copied[0] as string)).size).toBe(statSync(join(wheelhouse.dir, copied[0] as string)).size);
    // Running it again over an existing directory replaces the files.
    expect(await copyWheelsForBuild(wheelhouse.dir, dest)).toEqual(copied);
  });

  it('gives an empty list for a missing wheelhouse', async () => {
    expect(await copyWheelsForBuild(join(tempDir(), 'none'), join(tempDir(), 'dest'))).toEqual([]);
  });
});

describe('index pages', () => {
  const record = (filename: string, name: string, sha: string, requires: string | null = null): WheelRecord => ({
    filename, name, display_name: name, version: '1.0', build: null, tags: ['py3-none-any'], requires_python: requires, summary: null,
    size: 1, sha256: sha, uploaded_at: '2025-01-01T00:00:00.000Z', source: 'upload', build_id: null,
  });

  it('lists projects by normalised name with relative links (PEP 503)', () => {
    const page = simpleRootHtml(['zeta', 'alpha-pkg']);
    expect(page).toContain('<a href="alpha-pkg/">alpha-pkg</a>');
    expect(page.indexOf('alpha-pkg')).toBeLessThan(page.indexOf('zeta'));
    expect(page).toMatch(/^<!DOCTYPE html>/);
  });

  it('links files with #sha256 and an escaped data-requires-python', () => {
    const page = simpleProjectHtml('pkg', [record('pkg-1.0+local-py3-none-any.whl', 'pkg', 'ab'.repeat(32), '>=3.8,<4')]);
    expect(page).toContain(`<a href="../../files/pkg-1.0%2Blocal-py3-none-any.whl#sha256=${'ab'.repeat(32)}" data-requires-python="&gt;=3.8,&lt;4">pkg-1.0+local-py3-none-any.whl</a>`);
    expect(page).toContain('<title>Links for pkg</title>');
  });

  it('find-links lists every wheel relative to /wheels/find-links/', () => {
    const page = findLinksHtml([record('b-1.0-py3-none-any.whl', 'b', 'cd'.repeat(32)), record('a-1.0-py3-none-any.whl', 'a', 'ef'.repeat(32))]);
    expect(page).toContain(`<a href="../files/a-1.0-py3-none-any.whl#sha256=${'ef'.repeat(32)}">a-1.0-py3-none-any.whl</a>`);
    expect(page.indexOf('a-1.0')).toBeLessThan(page.indexOf('b-1.0'));
  });
});
