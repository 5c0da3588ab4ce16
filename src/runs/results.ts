/**
 * Result files of a run: what the container wrote under its results directory, copied out of the
 * container (a tar from the engine, extracted with the safe extractor), listed with size and
 * SHA-256, JSON files parsed inline (seed 002's `{"perf":0.99}` comes back as data).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { extractArchive, type ExtractLimits } from '../build/index.js';
import { PitlaneError } from '../errors.js';

/** One result file. `data` is the parsed JSON for `.json` files up to 1 MiB that parse. */
export interface ResultFile {
  /** Path relative to the results directory, with `/` separators. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  data?: unknown;
}

const MAX_INLINE_JSON_BYTES = 1024 * 1024;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Extracts the engine's tar of the results directory into `destination` and returns the directory
 * that holds the results (the archive's single top-level folder).
 */
export async function extractResults(archive: Readable, destination: string, resultsDir: string, limits: ExtractLimits): Promise<string> {
  await extractArchive(archive, destination, limits);
  return join(destination, posix.basename(resultsDir));
}

/** Lists the regular files below `root` (symlinks and other types are skipped), sorted by path. */
export async function listResultFiles(root: string): Promise<ResultFile[]> {
  const files: ResultFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const stats = await lstat(full);
        const path = relative(root, full).split(sep).join('/');
        const file: ResultFile = { path, size: stats.size, sha256: await sha256Of(full) };
        if (path.toLowerCase().endsWith('.json') && stats.size <= MAX_INLINE_JSON_BYTES) {
          try {
            file.data = JSON.parse(await readFile(full, 'utf8'));
          } catch {
            // not JSON after all: listed without data
          }
        }
        files.push(file);
      }
    }
  };
  await walk(root);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Resolves a requested result path to a file inside `root`, refusing anything that escapes it.
 * @throws PitlaneError 404 when there is no such result file, 400 for paths with `..` or NUL.
 */
export async function resolveResultPath(root: string, requested: string): Promise<string> {
  if (requested.includes('\0') || requested.split('/').includes('..')) {
    throw new PitlaneError(400, 'PATH_INVALID', 'result paths may not contain ".." or NUL', [{ path: 'path', message: 'invalid' }]);
  }
  const candidate = resolve(root, requested.replace(/^\/+/, ''));
  let real: string;
  let realRoot: string;
  try {
    real = await realpath(candidate);
    realRoot = await realpath(root);
  } catch {
    throw new PitlaneError(404, 'RESULT_NOT_FOUND', `no result file "${requested}"`);
  }
  if (real !== realRoot && !real.startsWith(`${realRoot}${sep}`)) {
    throw new PitlaneError(404, 'RESULT_NOT_FOUND', `no result file "${requested}"`);
  }
  const stats = await lstat(real);
  if (!stats.isFile()) throw new PitlaneError(404, 'RESULT_NOT_FOUND', `no result file "${requested}"`);
  return real;
}
