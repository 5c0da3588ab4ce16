import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectWheel, parseCsvLine, parseHeaders } from '../../../src/wheelhouse/index.js';
import { expectPitlaneError, makeWheel, zip } from './helpers.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'wheels', 'Pitlane.Greet-0.1.0-py3-none-any.whl');

describe('parseHeaders / parseCsvLine', () => {
  it('reads METADATA-style headers with repeats and continuation lines, up to the body', () => {
    const headers = parseHeaders('Name: x\r\nClassifier: a\nClassifier: b\nDescription: one\n  two\n\nName: body');
    expect(headers.get('name')).toEqual(['x']);
    expect(headers.get('classifier')).toEqual(['a', 'b']);
    expect(headers.get('description')).toEqual(['one\ntwo']);
  });

  it('splits RECORD lines with quoted paths', () => {
    expect(parseCsvLine('a/b.py,sha256=abc,12')).toEqual(['a/b.py', 'sha256=abc', '12']);
    expect(parseCsvLine('"a,b ""c"".py",sha256=x,1')).toEqual(['a,b "c".py', 'sha256=x', '1']);
    expect(parseCsvLine('x/RECORD,,')).toEqual(['x/RECORD', '', '']);
  });
});

describe('inspectWheel', () => {
  it('accepts a real setuptools wheel and reports its metadata', async () => {
    const info = await inspectWheel(readFileSync(FIXTURE), 'Pitlane.Greet-0.1.0-py3-none-any.whl');
    expect(info).toMatchObject({
      project: 'pitlane-greet',
      metadataName: 'Pitlane.Greet',
      metadataVersion: '0.1.0',
      requiresPython: '>=3.8',
      pure: true,
      tags: ['py3-none-any'],
    });
    expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts normalised, escaped and differently spelt names and versions', async () => {
    const wheel = makeWheel('my-pkg', '1.0', { metadataName: 'My.Pkg', metadataVersion: '1.0.0', metadataExtra: ['Requires-Python: >=3.8,<4', 'Summary: S'] });
    expect(wheel.filename).toBe('my_pkg-1.0-py3-none-any.whl');
    const info = await inspectWheel(wheel.data, wheel.filename);
    expect(info).toMatchObject({ project: 'my-pkg', metadataName: 'My.Pkg', requiresPython: '>=3.8,<4', summary: 'S' });
    const post = makeWheel('pkg', '1.0_1', { metadataVersion: '1.0.post1' });
    await expect(inspectWheel(post.data, post.filename)).resolves.toMatchObject({ version: '1.0_1' });
  });

  it('accepts WHEEL Tag lines that cover the filename tags', async () => {
    const wheel = makeWheel('pkg', '1.0', { tags: ['py2-none-any', 'py3-none-any'] });
    await expect(inspectWheel(wheel.data, wheel.filename)).resolves.toBeTruthy();
    const noTags = makeWheel('pkg', '1.0', { tags: [] });
    await expect(inspectWheel(noTags.data, noTags.filename)).resolves.toBeTruthy();
  });

  it('refuses a wheel whose METADATA Name contradicts the filename (422 naming METADATA.Name)', async () => {
    const wheel = makeWheel('requests', '2.0', { metadataName: 'evil-requests', distInfoName: 'requests' });
    const error = await expectPitlaneError(inspectWheel(wheel.data, wheel.filename), 422, 'WHEEL_MISMATCH');
    expect(error.details[0]?.path).toBe('METADATA.Name');
    expect(error.message).toContain('evil-requests');
  });

  it('refuses a wheel whose METADATA Version contradicts the filename (422 naming METADATA.Version)', async () => {
    const wheel = makeWheel('pkg', '2.0', { metadataVersion: '1.9' });
    const error = await expectPitlaneError(inspectWheel(wheel.data, wheel.filename), 422, 'WHEEL_MISMATCH');
    expect(error.details[0]?.path).toBe('METADATA.Version');
  });

  it('refuses a renamed wheel (the dist-info directory names another project or version)', async () => {
    const original = makeWheel('pkg', '1.0');
    const renamedProject = await expectPitlaneError(inspectWheel(original.data, 'other-1.0-py3-none-any.whl'), 422, 'WHEEL_MISMATCH');
    expect(renamedProject.details[0]?.path).toBe('dist-info');
    const renamedVersion = await expectPitlaneError(inspectWheel(original.data, 'pkg-2.0-py3-none-any.whl'), 422, 'WHEEL_MISMATCH');
    expect(renamedVersion.details[0]?.path).toBe('dist-info');
  });

  it('refuses filename tags that WHEEL does not declare (422 naming WHEEL.Tag)', async () => {
    const wheel = makeWheel('pkg', '1.0', { tags: ['cp311-cp311-linux_x86_64'] });
    const error = await expectPitlaneError(inspectWheel(wheel.data, wheel.filename), 422, 'WHEEL_MISMATCH');
    expect(error.details[0]?.path).toBe('WHEEL.Tag');
  });

  it.each(['METADATA', 'WHEEL', 'RECORD'] as const)('refuses a wheel without %s (422 naming it)', async (file) => {
    const wheel = makeWheel('pkg', '1.0', { omit: file });
    const error = await expectPitlaneError(inspectWheel(wheel.data, wheel.filename), 422, 'WHEEL_INVALID');
    expect(error.details[0]?.path).toBe(file);
  });

  it('refuses missing Name/Version, an unsupported Wheel-Version, no or several dist-info directories', async () => {
    const noName = makeWheel('pkg', '1.0', { metadataName: '' });
    expect((await expectPitlaneError(inspectWheel(noName.data, noName.filename), 422, 'WHEEL_INVALID')).details[0]?.path).toBe('METADATA.Name');
    const v2 = makeWheel('pkg', '1.0', { wheelVersion: '2.0' });
    expect((await expectPitlaneError(inspectWheel(v2.data, v2.filename), 422, 'WHEEL_INVALID')).details[0]?.path).toBe('WHEEL.Wheel-Version');
    const none = zip([{ name: 'pkg/__init__.py', content: '' }]);
    expect((await expectPitlaneError(inspectWheel(none, 'pkg-1.0-py3-none-any.whl'), 422, 'WHEEL_INVALID')).details[0]?.path).toBe('dist-info');
    const two = makeWheel('pkg', '1.0', { files: [{ name: 'other-1.0.dist-info/METADATA', content: 'Name: other' }] });
    expect((await expectPitlaneError(inspectWheel(two.data, two.filename), 422, 'WHEEL_INVALID')).message).toContain('several');
  });

  it('refuses files whose bytes contradict RECORD, and RECORD entries that are missing', async () => {
    const tampered = makeWheel('pkg', '1.0', { editRecord: (text) => text.replace(/pkg\/__init__\.py,sha256=[^,]+/, 'pkg/__init__.py,sha256=AAAA') });
    const error = await expectPitlaneError(inspectWheel(tampered.data, tampered.filename), 422, 'WHEEL_MISMATCH');
    expect(error.details[0]?.path).toBe('RECORD:pkg/__init__.py');
    const missing = makeWheel('pkg', '1.0', { editRecord: (text) => `${text}pkg/gone.py,sha256=AAAA,3\n` });
    expect((await expectPitlaneError(inspectWheel(missing.data, missing.filename), 422, 'WHEEL_MISMATCH')).details[0]?.path).toBe('RECORD:pkg/gone.py');
    const wrongSize = makeWheel('pkg', '1.0', { editRecord: (text) => text.replace(/(pkg\/__init__\.py,sha256=[^,]+),\d+/, '$1,9999') });
    expect((await expectPitlaneError(inspectWheel(wrongSize.data, wrongSize.filename), 422, 'WHEEL_MISMATCH')).message).toContain('9999');
  });

  it('refuses entries with unsafe paths', async () => {
    for (const name of ['../evil.py', '/etc/passwd', 'a\\b.py', 'C:/x.py']) {
      const wheel = makeWheel('pkg', '1.0', { files: [{ name, content: 'x', unlisted: true }] });
      const error = await expectPitlaneError(inspectWheel(wheel.data, wheel.filename), 422, 'WHEEL_INVALID');
      expect(error.message).toContain('safe');
    }
  });

  it('answers 400 WHEEL_CORRUPT for data that is not a ZIP, truncated, or has a bad CRC', async () => {
    await expectPitlaneError(inspectWheel(Buffer.from('not a zip at all, just text'.repeat(10)), 'pkg-1.0-py3-none-any.whl'), 400, 'WHEEL_CORRUPT');
    const truncated = makeWheel('pkg', '1.0', { zipOptions: { truncate: 10 } });
    await expectPitlaneError(inspectWheel(truncated.data, truncated.filename), 400, 'WHEEL_CORRUPT');
    const badCrc = makeWheel('pkg', '1.0', { editEntries: (entries) => entries.map((e) => (e.name === 'pkg/__init__.py' ? { ...e, crc: 42 } : e)) });
    const error = await expectPitlaneError(inspectWheel(badCrc.data, badCrc.filename), 400, 'WHEEL_CORRUPT');
    expect(error.details[0]?.path).toBe('file:pkg/__init__.py');
  });

  it('answers 413 WHEEL_TOO_LARGE beyond the ZIP limits', async () => {
    const wheel = makeWheel('pkg', '1.0', { files: [{ name: 'pkg/big.bin', content: 'x'.repeat(100_000) }] });
    await expectPitlaneError(inspectWheel(wheel.data, wheel.filename, { maxEntries: 100, maxUncompressedBytes: 50_000 }), 413, 'WHEEL_TOO_LARGE');
  });

  it('answers 400 WHEEL_FILENAME_INVALID before reading anything', async () => {
    await expectPitlaneError(inspectWheel(Buffer.alloc(0), 'not-a-wheel.zip'), 400, 'WHEEL_FILENAME_INVALID');
  });
});
