/** Test helpers: a small ZIP writer (with ways to break it) and wheels made from it. */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { isPitlaneError } from '../../../src/errors.js';

/** One file of a ZIP archive. */
export interface ZipFile {
  name: string;
  content: string | Buffer;
  /** 0 stored, 8 deflate (default). */
  method?: number;
  /** Overrides of what the central directory records. */
  crc?: number;
  flags?: number;
  /** Name written in the local header, when it should differ. */
  localName?: string;
  /** Declared uncompressed size, when it should differ. */
  uncompressedSize?: number;
}

/** Options of {@link zip}. */
export interface ZipOptions {
  comment?: string;
  /** Write ZIP64 end records (all-ones in the classic record). */
  zip64?: boolean;
  /** Cut this many bytes off the end. */
  truncate?: number;
}

/** Builds a ZIP archive in memory. */
export function zip(files: ZipFile[], options: ZipOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const data = Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content, 'utf8');
    const method = file.method ?? 8;
    const compressed = method === 8 ? deflateRawSync(data) : data;
    const crc = file.crc ?? crc32(data);
    const name = Buffer.from(file.name, 'utf8');
    const localName = Buffer.from(file.localName ?? file.name, 'utf8');
    const flags = (file.flags ?? 0) | 0x800;
    const size = file.uncompressedSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(localName.length, 26);
    locals.push(local, localName, compressed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + localName.length + compressed.length;
  }
  const cd = Buffer.concat(centrals);
  const comment = Buffer.from(options.comment ?? '', 'utf8');
  const tail: Buffer[] = [];
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  if (options.zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(files.length), 24);
    record.writeBigUInt64LE(BigInt(files.length), 32);
    record.writeBigUInt64LE(BigInt(cd.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
    eocd.writeUInt16LE(0xffff, 8);
    eocd.writeUInt16LE(0xffff, 10);
    eocd.writeUInt32LE(0xffffffff, 12);
    eocd.writeUInt32LE(0xffffffff, 16);
  } else {
    eocd.writeUInt16LE(files.length, 8);
    eocd.writeUInt16LE(files.length, 10);
    eocd.writeUInt32LE(cd.length, 12);
    eocd.writeUInt32LE(offset, 16);
  }
  eocd.writeUInt16LE(comment.length, 20);
  const all = Buffer.concat([...locals, cd, ...tail, eocd, comment]);
  return options.truncate ? all.subarray(0, all.length - options.truncate) : all;
}

/** RECORD's hash of some bytes. */
export function recordHash(content: string | Buffer): string {
  return `sha256=${createHash('sha256').update(content).digest('base64url')}`;
}

/** Options of {@link makeWheel}. */
export interface WheelOptions {
  /** Name of the dist-info directory's distribution part (default: `name`). */
  distInfoName?: string;
  distInfoVersion?: string;
  metadataName?: string;
  metadataVersion?: string;
  /** Extra METADATA header lines. */
  metadataExtra?: string[];
  /** WHEEL's Tag lines (default the filename's). */
  tags?: string[];
  wheelVersion?: string;
  /** Leave out one of METADATA, WHEEL, RECORD. */
  omit?: 'METADATA' | 'WHEEL' | 'RECORD';
  /** More files (listed in RECORD unless `unlisted`). */
  files?: { name: string; content: string; unlisted?: boolean }[];
  /** Rewrite RECORD's text before it is stored. */
  editRecord?: (text: string) => string;
  /** Tweak the ZIP entries before the archive is written. */
  editEntries?: (entries: ZipFile[]) => ZipFile[];
  zipOptions?: ZipOptions;
}

/** A small wheel `{name}-{version}-py3-none-any.whl` (pure Python, one module) as bytes. */
export function makeWheel(name: string, version: string, options: WheelOptions = {}): { filename: string; data: Buffer } {
  const escaped = name.replace(/[-_.]+/g, '_');
  const distInfo = `${options.distInfoName ?? escaped}-${options.distInfoVersion ?? version}.dist-info`;
  const module = escaped.toLowerCase();
  const files: { name: string; content: string; unlisted?: boolean }[] = [
    { name: `${module}/__init__.py`, content: `VALUE = ${JSON.stringify(`${name} ${version}`)}\n` },
    ...(options.files ?? []),
  ];
  if (options.omit !== 'METADATA') {
    files.push({
      name: `${distInfo}/METADATA`,
      content: [
        'Metadata-Version: 2.1',
        `Name: ${options.metadataName ?? name}`,
        `Version: ${options.metadataVersion ?? version}`,
        ...(options.metadataExtra ?? []),
        '',
        'A description.',
        '',
      ].join('\n'),
    });
  }
  if (options.omit !== 'WHEEL') {
    files.push({
      name: `${distInfo}/WHEEL`,
      content: [`Wheel-Version: ${options.wheelVersion ?? '1.0'}`, 'Generator: pitlane-tests', 'Root-Is-Purelib: true', ...(options.tags ?? ['py3-none-any']).map((t) => `Tag: ${t}`), ''].join('\n'),
    });
  }
  const entries: ZipFile[] = files.map((f) => ({ name: f.name, content: f.content }));
  if (options.omit !== 'RECORD') {
    let record = files.filter((f) => !f.unlisted).map((f) => `${f.name},${recordHash(f.content)},${Buffer.byteLength(f.content)}`).join('\n');
    record += `\n${distInfo}/RECORD,,\n`;
    if (options.editRecord) record = options.editRecord(record);
    entries.push({ name: `${distInfo}/RECORD`, content: record });
  }
  const filename = `${escaped}-${version}-py3-none-any.whl`;
  return { filename, data: zip(options.editEntries ? options.editEntries(entries) : entries, options.zipOptions) };
}

/** A new temporary directory. */
export function tempDir(prefix = 'pitlane-wheels-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Asserts that `promise` rejects with a PitlaneError of this status and code; returns it. */
export async function expectPitlaneError(promise: Promise<unknown> | (() => unknown), status: number, code: string): Promise<{ message: string; details: { path?: string; message: string }[] }> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(isPitlaneError(caught), `expected a PitlaneError ${status} ${code}, got ${String(caught)}`).toBe(true);
  const error = caught as { status: number; code: string; message: string; details: { path?: string; message: string }[] };
  expect({ status: error.status, code: error.code, message: error.message }).toMatchObject({ status, code });
  return error;
}
