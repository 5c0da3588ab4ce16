import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ZipArchive, ZipError, ZipLimitError } from '../../../src/wheelhouse/index.js';
import { zip } from './helpers.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'wheels', 'Pitlane.Greet-0.1.0-py3-none-any.whl');

async function readAll(data: Buffer): Promise<Record<string, string>> {
  const archive = ZipArchive.open(data);
  const out: Record<string, string> = {};
  for (const entry of archive.entries) out[entry.name] = (await archive.read(entry)).toString('utf8');
  return out;
}

function openError(data: Buffer): ZipError {
  try {
    ZipArchive.open(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ZipError);
    return error as ZipError;
  }
  throw new Error('expected a ZipError');
}

async function readError(data: Buffer): Promise<ZipError> {
  try {
    await readAll(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ZipError);
    return error as ZipError;
  }
  throw new Error('expected a ZipError');
}

describe('ZipArchive', () => {
  it('reads a wheel written by setuptools/bdist_wheel (Python zipfile)', async () => {
    const files = await readAll(readFileSync(FIXTURE));
    expect(Object.keys(files)).toContain('Pitlane.Greet-0.1.0.dist-info/METADATA');
    expect(files['pitlane_greet/__init__.py']).toContain('def greet');
  });

  it('reads stored and deflated entries, directories, a comment and ZIP64 end records', async () => {
    const files = [
      { name: 'dir/', content: '', method: 0 },
      { name: 'dir/a.txt', content: 'stored', method: 0 },
      { name: 'dir/b.txt', content: 'deflated '.repeat(100) },
      { name: 'empty', content: '' },
    ];
    for (const options of [{}, { comment: 'a comment' }, { zip64: true }]) {
      const read = await readAll(zip(files, options));
      expect(read).toEqual({ 'dir/': '', 'dir/a.txt': 'stored', 'dir/b.txt': 'deflated '.repeat(100), empty: '' });
    }
    expect(ZipArchive.open(zip(files)).entries.find((e) => e.name === 'dir/')?.isDirectory).toBe(true);
  });

  it('refuses what is not a ZIP, or a truncated one', () => {
    expect(openError(Buffer.from('hello')).message).toContain('too short');
    expect(openError(Buffer.alloc(1000, 7)).message).toContain('end-of-central-directory');
    expect(openError(zip([{ name: 'a', content: 'x' }], { truncate: 3 })).message).toContain('end-of-central-directory');
    const gzip = Buffer.from('1f8b08000000000000ff', 'hex');
    expect(openError(Buffer.concat([gzip, Buffer.alloc(30)])).message).toMatch(/end-of-central-directory/);
  });

  it('refuses a central directory that points outside the archive', () => {
    const data = zip([{ name: 'a', content: 'x' }]);
    const eocd = data.length - 22;
    data.writeUInt32LE(data.length + 100, eocd + 16);
    expect(openError(data).message).toContain('outside');
  });

  it('refuses a corrupt entry header and an entry offset past the directory', () => {
    const data = zip([{ name: 'a', content: 'x' }]);
    const cd = data.readUInt32LE(data.length - 22 + 16);
    const broken = Buffer.from(data);
    broken.writeUInt32LE(0x12345678, cd);
    expect(openError(broken).message).toContain('corrupt');
    const farOffset = Buffer.from(data);
    farOffset.writeUInt32LE(cd + 10, cd + 42);
    expect(openError(farOffset).message).toContain('outside');
  });

  it('refuses duplicate names, encryption, other compression methods and multi-disk archives', () => {
    expect(openError(zip([{ name: 'a', content: '1' }, { name: 'a', content: '2' }])).message).toContain('twice');
    expect(openError(zip([{ name: 'a', content: '1', flags: 1 }])).message).toContain('encrypted');
    expect(openError(zip([{ name: 'a', content: '1', method: 12 }])).message).toContain('method 12');
    const multi = zip([{ name: 'a', content: '1' }]);
    multi.writeUInt16LE(1, multi.length - 22 + 4);
    expect(openError(multi).message).toContain('multi-disk');
  });

  it('checks the CRC, the declared size, the local header and the deflate stream', async () => {
    expect((await readError(zip([{ name: 'a', content: 'hello', crc: 1234 }]))).message).toContain('CRC');
    expect((await readError(zip([{ name: 'a', content: 'hello', uncompressedSize: 3 }]))).message).toMatch(/corrupt|bytes but the directory says 3/);
    expect((await readError(zip([{ name: 'a', content: 'hello', uncompressedSize: 9 }]))).message).toContain('directory says 9');
    expect((await readError(zip([{ name: 'a', content: 'hello', localName: 'b' }]))).message).toContain('different file');
    const data = zip([{ name: 'a', content: 'some text that deflates '.repeat(20) }]);
    data.fill(0xff, 35, 45);
    const error = await readError(data);
    expect(error.entry).toBe('a');
  });

  it('bounds entries and the uncompressed total (zip bombs)', async () => {
    const many = zip(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: 'x' })));
    expect(() => ZipArchive.open(many, { maxEntries: 10, maxUncompressedBytes: 1e9 })).toThrow(ZipLimitError);
    const bomb = Buffer.alloc(10 * 1024 * 1024);
    const data = zip([{ name: 'bomb', content: bomb }]);
    expect(data.length).toBeLessThan(20_000);
    expect(() => ZipArchive.open(data, { maxEntries: 10, maxUncompressedBytes: 1024 * 1024 })).toThrow(ZipLimitError);
    // An entry that lies about its size cannot inflate past it.
    const liar = zip([{ name: 'bomb', content: bomb, uncompressedSize: 100, crc: crc32(bomb.subarray(0, 100)) }]);
    expect((await readError(liar)).message).toMatch(/corrupt|directory says 100/);
  });

  it('finds the real end record when the comment holds a fake signature', async () => {
    const fake = Buffer.from([0x50, 0x4b, 0x05, 0x06]).toString('latin1');
    expect(await readAll(zip([{ name: 'x', content: 'abc' }], { comment: `${fake} not a record` }))).toEqual({ x: 'abc' });
  });
});
