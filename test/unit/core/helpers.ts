import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { expect } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';

type HeaderArgument = Partial<Header> & Pick<Header, 'name'>;

/** One entry of an in-memory tar archive. */
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  /** Declared size, when it should differ from the content (only for headers without content). */
  size?: number;
}

/** Builds a tar archive in memory. */
export async function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const header: HeaderArgument = { name: entry.name, type, mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644) };
    if (entry.linkname !== undefined) header.linkname = entry.linkname;
    if (type === 'file') {
      await new Promise<void>((resolve, reject) => {
        pack.entry(header, entry.content ?? '', (error) => (error ? reject(error) : resolve()));
      });
    } else {
      pack.entry(header);
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Builds a gzip-compressed tar archive in memory. */
export async function buildTarGz(entries: TarEntry[]): Promise<Buffer> {
  return gzipSync(await buildTar(entries));
}

/** Reads a tar stream back into `{ name → { type, content, linkname } }`. */
export async function readTar(stream: Readable): Promise<Map<string, { type: string; content: string; linkname?: string; uid?: number }>> {
  const extract = tar.extract();
  const entries = new Map<string, { type: string; content: string; linkname?: string; uid?: number }>();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.set(entry.header.name, {
        type: entry.header.type ?? 'file',
        content: Buffer.concat(chunks).toString('utf8'),
        ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}),
        ...(entry.header.uid !== undefined ? { uid: entry.header.uid } : {}),
      });
    }
  })();
  stream.pipe(extract);
  await done;
  return entries;
}

/** A fresh temporary directory, and a function removing it. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `pitlane-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Awaits `promise`, expecting a PitlaneError, and returns it. */
export async function rejectsWithPitlane(promise: Promise<unknown>): Promise<PitlaneError> {
  try {
    await promise;
  } catch (error) {
    expect(isPitlaneError(error), String(error)).toBe(true);
    return error as PitlaneError;
  }
  throw new Error('expected a PitlaneError, but the promise resolved');
}
