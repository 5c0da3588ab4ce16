/**
 * Packing a build context directory into a tar stream, honouring `.dockerignore` with Docker's
 * own matching rules (@balena/dockerignore implements moby's fileutils pattern semantics).
 * The Dockerfile and `.dockerignore` are always sent, as the Docker CLI does.
 */
import { lstatSync, readFileSync } from 'node:fs';
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

function readDockerignore(dir: string): string {
  try {
    return readFileSync(`${dir}/.dockerignore`, 'utf8');
  } catch {
    return '';
  }
}

/** Reads `<dir>/.dockerignore` if present and returns the matcher. */
export function loadDockerignore(dir: string, dockerfilePath: string): (relativePath: string) => boolean {
  return dockerignoreMatcher(readDockerignore(dir), [dockerfilePath, '.dockerignore']);
}

/**
 * Paths that may lie below an ignored directory and still be sent: the kept files and the `!`
 * exception patterns. The Docker CLI walks into an ignored directory when one of them starts with it.
 */
function reincludedPaths(text: string, keep: string[]): string[] {
  const exceptions = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('!'))
    .map((line) => line.slice(1).trim().replace(/^(\.?\/)+/, ''));
  return [...keep.map((k) => k.replace(/^\.\//, '')), ...exceptions];
}

/**
 * Packs `dir` as an uncompressed tar stream (what the Engine API's build endpoint takes),
 * leaving out what `.dockerignore` excludes. Symlinks are kept as links, not followed.
 */
export function packContext(dir: string, dockerfilePath = 'Dockerfile'): Readable {
  const text = readDockerignore(dir);
  const keep = [dockerfilePath, '.dockerignore'];
  const ignored = dockerignoreMatcher(text, keep);
  const reincluded = reincludedPaths(text, keep);
  const ignore = (absolutePath: string): boolean => {
    const relativePath = relative(dir, absolutePath).split(sep).join('/');
    if (!ignored(relativePath)) return false;
    // An ignored directory is still walked when a kept file or an exception lies below it (Docker CLI).
    if (!reincluded.some((path) => path.startsWith(`${relativePath}/`))) return true;
    try {
      return !lstatSync(absolutePath).isDirectory();
    } catch {
      return true;
    }
  };
  return tarFs.pack(dir, {
    dereference: false,
    ignore,
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
