/**
 * Packing a build context directory into a tar stream, honouring `.dockerignore` with Docker's
 * own matching rules (@balena/dockerignore implements moby's fileutils pattern semantics).
 * The Dockerfile and `.dockerignore` are always sent, as the Docker CLI does.
 */
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import dockerignoreModule from '@balena/dockerignore';
import tarFs from 'tar-fs';

/**
 * Parses `.dockerignore` text into a predicate on context-relative paths (POSIX separators).
 * Pure: exported for tests.
 * @param keep paths that are never ignored (the Dockerfile, `.dockerignore`).
 */
export function dockerignoreMatcher(text: string, keep: string[] = []): (relativePath: string) => boolean {
  const patterns = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const matcher = (dockerignoreModule as unknown as (options: { ignorecase: boolean }) => import('@balena/dockerignore').Ignore)({ ignorecase: false }).add(patterns);
  const kept = new Set(keep.map((k) => k.replace(/^\.\//, '')));
  return (relativePath: string) => !kept.has(relativePath) && relativePath !== '' && matcher.ignores(relativePath);
}

/** Reads `<dir>/.dockerignore` if present and returns the matcher. */
export function loadDockerignore(dir: string, dockerfilePath: string): (relativePath: string) => boolean {
  let text = '';
  try {
    text = readFileSync(`${dir}/.dockerignore`, 'utf8');
  } catch {
    text = '';
  }
  return dockerignoreMatcher(text, [dockerfilePath, '.dockerignore']);
}

/**
 * Packs `dir` as an uncompressed tar stream (what the Engine API's build endpoint takes),
 * leaving out what `.dockerignore` excludes. Symlinks are kept as links, not followed.
 */
export function packContext(dir: string, dockerfilePath = 'Dockerfile'): Readable {
  const ignored = loadDockerignore(dir, dockerfilePath);
  return tarFs.pack(dir, {
    dereference: false,
    ignore: (absolutePath: string) => ignored(relative(dir, absolutePath).split(sep).join('/')),
    map: (header) => {
      header.uid = 0;
      header.gid = 0;
      return header;
    },
  }) as unknown as Readable;
}

/** Packs `dir` like {@link packContext}, gzip-compressed (the upload format of `POST /api/v1/deploy`). */
export function packContextGzip(dir: string, dockerfilePath = 'Dockerfile'): Readable {
  return packContext(dir, dockerfilePath).pipe(createGzip());
}
