/**
 * Safe extraction of untrusted tar / tar.gz archives (uploaded build contexts, run contexts).
 *
 * Every entry is checked before anything is written: absolute paths, `..` segments, device files,
 * FIFOs, hard links and symlinks that point outside the root are rejected, as are archives over
 * the byte or entry limits. Nothing is ever written outside `destination`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, posix, relative, sep } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { PitlaneError } from '../errors.js';

/** Limits for one extraction. */
export interface ExtractLimits {
  /** Maximum total bytes of file contents (uncompressed). */
  maxBytes: number;
  /** Maximum number of entries. */
  maxEntries: number;
}

/** Default limits: 512 MiB and 100,000 entries. */
export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = { maxBytes: 512 * 1024 * 1024, maxEntries: 100_000 };

/** Summary of an extraction. */
export interface ExtractSummary {
  entries: number;
  bytes: number;
}

function reject(message: string, entryName: string): PitlaneError {
  return new PitlaneError(400, 'ARCHIVE_INVALID', message, [{ path: entryName, message }]);
}

/**
 * Resolves an archive entry name to a safe path relative to the root, or throws.
 * Pure: exported for tests. Returns `''` for the root itself (`./`).
 * @throws PitlaneError 400 ARCHIVE_INVALID for absolute names, `..` segments, NUL bytes.
 */
export function safeEntryPath(name: string): string {
  if (name.includes('\0')) throw reject(`entry name contains a NUL byte`, name);
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) {
    throw reject(`absolute path "${name}" is not allowed in an archive`, name);
  }
  const segments = name.replace(/\\/g, '/').split('/');
  if (segments.includes('..')) throw reject(`path "${name}" escapes the archive root with ".."`, name);
  return posix.normalize(segments.filter((s) => s !== '' && s !== '.').join('/') || '.').replace(/^\.$/, '');
}

/** True when symlink `linkPath` (relative to root) pointing at `target` stays inside the root. */
export function symlinkStaysInside(linkPath: string, target: string): boolean {
  if (isAbsolute(target) || target.startsWith('/')) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  return resolved !== '..' && !resolved.startsWith('../');
}

/**
 * Throws when any existing ancestor of `relativePath` below `root` is a symlink, so that no entry
 * is ever written through a link (a link inside the root can still point outside it once combined).
 */
async function assertNoSymlinkAncestor(root: string, relativePath: string, entryName: string): Promise<void> {
  const segments = relativePath.split('/').slice(0, -1);
  let current = root;
  for (const segment of segments) {
    current = join(current, segment);
    try {
      const stats = await lstat(current);
      if (stats.isSymbolicLink()) throw reject(`path "${entryName}" goes through a symlink`, entryName);
      if (!stats.isDirectory()) throw reject(`path "${entryName}" goes through a file`, entryName);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
  }
}

/**
 * True when the symlink at `linkPath` (relative to root), followed the way the kernel follows it,
 * ends inside the root. The lexical check of {@link symlinkStaysInside} is not enough once links
 * combine: with `a/b/y -> ../..`, the link `x -> a/b/y/../f` looks like `a/b/f` but is `../f`.
 * Missing components are taken literally; absolute targets and chains over 40 links count as outside.
 */
async function linkResolvesInside(root: string, linkPath: string): Promise<boolean> {
  const stack = linkPath.split('/').slice(0, -1);
  const first = await readlink(join(root, linkPath));
  if (isAbsolute(first) || first.startsWith('/')) return false;
  let pending = first.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const segment = pending.shift() as string;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (stack.length === 0) return false;
      stack.pop();
      continue;
    }
    stack.push(segment);
    const stats = await lstat(join(root, ...stack)).catch(() => undefined);
    if (stats?.isSymbolicLink()) {
      hops += 1;
      const target = await readlink(join(root, ...stack));
      if (hops > 40 || isAbsolute(target) || target.startsWith('/')) return false;
      stack.pop();
      pending = [...target.split('/'), ...pending];
    }
  }
  return true;
}

/**
 * Walks the tree below `root` (not following links, skipping `skip` names such as `.git`) and
 * returns the root-relative path of the first symlink that, followed the way the kernel follows
 * it, ends outside `root`, or of the first device, FIFO or socket; undefined when there is none.
 * For trees Pitlane did not extract itself (git clones), which must meet the extractor's rules.
 * @param limits stops with a finding after `maxEntries` entries (the tree is then too big to trust).
 */
export async function findUnsafeTreeEntry(root: string, skip: readonly string[] = ['.git'], limits: Pick<ExtractLimits, 'maxEntries'> = DEFAULT_EXTRACT_LIMITS): Promise<{ path: string; reason: string } | undefined> {
  const pending: string[] = [''];
  let seen = 0;
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    const entries = await readdir(join(root, dir), { withFileTypes: true });
    for (const entry of entries) {
      if (dir === '' && skip.includes(entry.name)) continue;
      seen += 1;
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (seen > limits.maxEntries) return { path, reason: `the tree has more than ${limits.maxEntries} entries` };
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isSymbolicLink()) {
        if (!(await linkResolvesInside(root, path))) return { path, reason: 'symlink leads outside the tree' };
      } else if (!entry.isFile()) return { path, reason: 'devices, FIFOs and sockets are not allowed' };
    }
  }
  return undefined;
}

/** Detects gzip by its magic bytes and returns a stream of the plain tar. */
function maybeGunzip(input: Readable): Readable {
  const output = new PassThrough();
  let decided = false;
  // The magic is two bytes, and the first chunk may be shorter: keep what came until there are two.
  let head = Buffer.alloc(0);
  input.once('error', (error) => output.destroy(error));
  input.on('data', function onData(data: Buffer) {
    if (decided) return;
    head = Buffer.concat([head, data]);
    if (head.length < 2) return;
    const chunk = head;
    decided = true;
    input.off('data', onData);
    input.pause();
    const gzip = chunk[0] === 0x1f && chunk[1] === 0x8b;
    const source = new PassThrough();
    source.write(chunk);
    input.pipe(source);
    if (gzip) {
      const gunzip = createGunzip();
      gunzip.once('error', (error) => output.destroy(reject(`the archive is not valid gzip: ${error.message}`, '')));
      source.pipe(gunzip).pipe(output);
    } else {
      source.pipe(output);
    }
    input.resume();
  });
  input.once('end', () => {
    if (!decided) output.end(head);
  });
  return output;
}

/**
 * Extracts a tar or tar.gz stream into `destination` (created if needed).
 * @throws PitlaneError 400 ARCHIVE_INVALID (bad entries, corrupt data), 413 ARCHIVE_TOO_LARGE (limits).
 */
export async function extractArchive(
  input: Readable,
  destination: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<ExtractSummary> {
  await mkdir(destination, { recursive: true });
  const root = normalize(destination);
  const extract = tar.extract();
  let entries = 0;
  let bytes = 0;
  const links: Array<{ path: string; name: string }> = [];
  /** The file being written, closed on failure (a destroyed entry does not end `pipeline`). */
  let writing: WriteStream | undefined;
  let failed = false;
  const work = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      entries += 1;
      if (entries > limits.maxEntries) {
        throw new PitlaneError(413, 'ARCHIVE_TOO_LARGE', `the archive has more than ${limits.maxEntries} entries`);
      }
      const relativePath = safeEntryPath(header.name);
      const target = join(root, relativePath);
      const fromRoot = relative(root, target);
      if (fromRoot.startsWith('..') || isAbsolute(fromRoot) || fromRoot.split(sep).includes('..')) {
        throw reject(`path "${header.name}" escapes the archive root`, header.name);
      }
      if (relativePath !== '') await assertNoSymlinkAncestor(root, relativePath, header.name);
      switch (header.type as string) {
        case 'directory':
          await mkdir(target, { recursive: true });
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          bytes += header.size ?? 0;
          if (bytes > limits.maxBytes) {
            throw new PitlaneError(413, 'ARCHIVE_TOO_LARGE', `the archive holds more than ${limits.maxBytes} bytes`);
          }
          if (relativePath === '') throw reject(`a file entry cannot be the archive root`, header.name);
          await mkdir(dirname(target), { recursive: true });
          if (failed) throw reject(`extraction stopped`, header.name);
          const file = createWriteStream(target, { mode: (header.mode ?? 0o644) & 0o777 & ~0o022 | 0o600, flags: 'wx' });
          writing = file;
          await pipeline(entry, file);
          writing = undefined;
          break;
        }
        case 'symlink': {
          const linkTarget = header.linkname ?? '';
          if (!symlinkStaysInside(relativePath, linkTarget)) {
            throw reject(`symlink "${header.name}" -> "${linkTarget}" points outside the archive root`, header.name);
          }
          await mkdir(dirname(target), { recursive: true });
          await symlink(linkTarget, target);
          links.push({ path: relativePath, name: header.name });
          entry.resume();
          break;
        }
        case 'pax-header':
        case 'pax-global-header':
        case 'gnu-long-path':
        case 'gnu-long-link-path':
          entry.resume();
          break;
        case 'link':
          throw reject(`hard link "${header.name}" is not allowed in an archive`, header.name);
        default:
          throw reject(`entry "${header.name}" of type ${header.type} (devices, FIFOs) is not allowed`, header.name);
      }
    }
  })();
  const feed = pipeline(maybeGunzip(input), extract).catch((error: Error) => {
    throw error instanceof PitlaneError ? error : reject(`the archive is corrupt or truncated: ${error.message}`, '');
  });
  try {
    await Promise.all([work, feed]);
    // Checked once every entry exists: a later link can change where an earlier one leads.
    for (const link of links) {
      if (!(await linkResolvesInside(root, link.path))) {
        throw reject(`symlink "${link.name}" leads outside the archive root through other links`, link.name);
      }
    }
  } catch (error) {
    failed = true;
    extract.destroy();
    writing?.destroy();
    // Let the entry loop stop first, so nothing is written after the caller cleans up the destination.
    await work.catch(() => undefined);
    if (error instanceof PitlaneError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw reject(`the archive contains a duplicate entry`, '');
    if (code === 'ENOTDIR' || code === 'ELOOP') throw reject(`an entry's path goes through a file or link`, '');
    throw reject(`the archive is corrupt or truncated: ${(error as Error).message}`, '');
  }
  return { entries, bytes };
}
