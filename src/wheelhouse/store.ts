/**
 * The wheelhouse: a directory of checked wheels (`<dataDir>/wheelhouse/*.whl`, usable as pip's
 * `--find-links` as it is) with a JSON index of what is known about each (`.index.json`).
 *
 * Writes are durable: a wheel is written to a dot-file, fsynced and renamed into place; the index
 * is rewritten the same way. The files are the truth: at start-up a wheel without an index entry
 * is checked and indexed, an entry without its file is dropped, and leftover temporary files are
 * removed. Mutations are serialised in this process.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PitlaneError } from '../errors.js';
import { inspectWheel, type WheelInfo } from './inspect.js';
import { isWheelFilename, normalizeProjectName, parseWheelFilename } from './names.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip.js';

/** One stored wheel, as the API shows it. */
export interface WheelRecord {
  filename: string;
  /** PEP 503-normalised project name. */
  name: string;
  /** Project name as METADATA writes it. */
  display_name: string;
  version: string;
  build: string | null;
  /** Expanded tag triples, e.g. `py3-none-any`. */
  tags: string[];
  requires_python: string | null;
  summary: string | null;
  size: number;
  sha256: string;
  uploaded_at: string;
  /** How it arrived: `upload`, `build` (with `build_id`) or `directory` (found in the directory at start-up). */
  source: 'upload' | 'build' | 'directory';
  build_id: string | null;
}

/** Options of a {@link Wheelhouse}. */
export interface WheelhouseOptions {
  /** Largest wheel accepted, in bytes (default 256 MiB). */
  maxWheelBytes?: number;
  /** ZIP limits for checking a wheel. */
  zipLimits?: ZipLimits;
  /** Called for notes (a bad file found at start-up). */
  log?: (message: string) => void;
}

const INDEX_FILE = '.index.json';
const TEMP_PREFIX = '.tmp-';

/** Writes `data` to `path` durably: a temporary file in the same directory, fsync, rename, fsync of the directory. */
export async function writeFileDurably(path: string, data: Buffer | string, mode = 0o644): Promise<void> {
  const dir = join(path, '..');
  const temp = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems do not fsync directories; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

function toRecord(info: WheelInfo, source: WheelRecord['source'], buildId: string | null, uploadedAt: string): WheelRecord {
  return {
    filename: info.filename,
    name: info.project,
    display_name: info.metadataName,
    version: info.metadataVersion,
    build: info.build,
    tags: info.tags,
    requires_python: info.requiresPython,
    summary: info.summary,
    size: info.size,
    sha256: info.sha256,
    uploaded_at: uploadedAt,
    source,
    build_id: buildId,
  };
}

/** What {@link Wheelhouse.add} did. */
export interface AddResult {
  wheel: WheelRecord;
  /** False when the same file (same SHA-256) was already stored. */
  created: boolean;
}

/** The wheel store. Call {@link init} once before use. */
export class Wheelhouse {
  private readonly wheels = new Map<string, WheelRecord>();
  private lock: Promise<unknown> = Promise.resolve();
  private initialised = false;
  readonly maxWheelBytes: number;
  private readonly zipLimits: ZipLimits;

  /** @param dir the wheelhouse directory, e.g. `<dataDir>/wheelhouse`. */
  constructor(
    readonly dir: string,
    private readonly options: WheelhouseOptions = {},
  ) {
    this.maxWheelBytes = options.maxWheelBytes ?? 256 * 1024 * 1024;
    this.zipLimits = options.zipLimits ?? DEFAULT_ZIP_LIMITS;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lock.then(work, work);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** Creates the directory, loads the index and reconciles it with the files (see the module comment). */
  async init(): Promise<void> {
    await this.exclusive(async () => {
      await mkdir(this.dir, { recursive: true });
      let stored: Record<string, WheelRecord> = {};
      try {
        const parsed = JSON.parse(await readFile(join(this.dir, INDEX_FILE), 'utf8')) as { wheels?: Record<string, WheelRecord> };
        stored = parsed.wheels ?? {};
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.log?.(`wheelhouse index unreadable, rebuilding it: ${(error as Error).message}`);
      }
      this.wheels.clear();
      let changed = false;
      for (const name of await readdir(this.dir)) {
        if (name.startsWith(TEMP_PREFIX)) {
          await unlink(join(this.dir, name)).catch(() => undefined);
          continue;
        }
        if (name.startsWith('.') || !name.endsWith('.whl')) continue;
        const path = join(this.dir, name);
        const known = stored[name];
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) continue;
        if (known && known.size === info.size) {
          this.wheels.set(name, known);
          continue;
        }
        changed = true;
        try {
          const checked = await inspectWheel(await readFile(path), name, this.zipLimits);
          this.wheels.set(name, toRecord(checked, 'directory', null, info.mtime.toISOString()));
        } catch (error) {
          this.options.log?.(`wheelhouse: ignoring ${name}: ${(error as Error).message}`);
        }
      }
      if (changed || Object.keys(stored).length !== this.wheels.size) await this.writeIndex();
      this.initialised = true;
    });
  }

  private assertInitialised(): void {
    if (!this.initialised) throw new Error('Wheelhouse.init() was not called');
  }

  private async writeIndex(): Promise<void> {
    const wheels = Object.fromEntries([...this.wheels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await writeFileDurably(join(this.dir, INDEX_FILE), `${JSON.stringify({ version: 1, wheels }, null, 1)}\n`);
  }

  /** Every wheel, sorted by project name, then filename. */
  list(filter: { name?: string } = {}): WheelRecord[] {
    this.assertInitialised();
    const wanted = filter.name ? normalizeProjectName(filter.name) : undefined;
    return [...this.wheels.values()]
      .filter((w) => !wanted || w.name === wanted)
      .sort((a, b) => (a.name === b.name ? (a.filename < b.filename ? -1 : 1) : a.name < b.name ? -1 : 1));
  }

  /** The wheel stored under `filename`, if any. */
  get(filename: string): WheelRecord | undefined {
    this.assertInitialised();
    return this.wheels.get(filename);
  }

  /** Projects (normalised names) with their wheels. */
  projects(): Map<string, WheelRecord[]> {
    const out = new Map<string, WheelRecord[]>();
    for (const wheel of this.list()) {
      const list = out.get(wheel.name) ?? [];
      list.push(wheel);
      out.set(wheel.name, list);
    }
    return out;
  }

  /**
   * Path of a stored wheel's file.
   * @throws PitlaneError 400 for a name that is not a wheel filename, 404 when it is not stored.
   */
  filePath(filename: string): string {
    parseWheelFilename(filename);
    if (!this.get(filename)) throw new PitlaneError(404, 'WHEEL_NOT_FOUND', `no wheel "${filename}" in the wheelhouse`, [{ path: 'filename', message: 'not found' }]);
    return join(this.dir, filename);
  }

  /**
   * Checks and stores a wheel. Storing the same bytes again is a no-op (`created: false`); other
   * bytes under a stored filename are refused (wheels are immutable; delete first).
   * @throws PitlaneError 400/413/422 from the checks ({@link inspectWheel}), 409 WHEEL_EXISTS.
   */
  async add(data: Buffer, filename: string, origin: { source: 'upload' | 'build'; buildId?: string } = { source: 'upload' }): Promise<AddResult> {
    this.assertInitialised();
    parseWheelFilename(filename);
    if (data.length > this.maxWheelBytes) {
      throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the wheel is larger than ${this.maxWheelBytes} bytes`, [{ path: 'file', message: 'too large' }]);
    }
    if (data.length === 0) throw new PitlaneError(400, 'WHEEL_CORRUPT', 'the wheel is empty', [{ path: 'file', message: 'empty' }]);
    const info = await inspectWheel(data, filename, this.zipLimits);
    return this.exclusive(async () => {
      const existing = this.wheels.get(filename);
      if (existing) {
        if (existing.sha256 === info.sha256) return { wheel: existing, created: false };
        throw new PitlaneError(409, 'WHEEL_EXISTS', `a different ${filename} is already in the wheelhouse (sha256 ${existing.sha256}); delete it first`, [
          { path: 'filename', message: 'already stored with other contents' },
        ]);
      }
      await writeFileDurably(join(this.dir, filename), data);
      const record = toRecord(info, origin.source, origin.buildId ?? null, new Date().toISOString());
      this.wheels.set(filename, record);
      try {
        await this.writeIndex();
      } catch (error) {
        this.wheels.delete(filename);
        await unlink(join(this.dir, filename)).catch(() => undefined);
        throw error;
      }
      return { wheel: record, created: true };
    });
  }

  /**
   * Deletes a wheel.
   * @throws PitlaneError 400 for a bad filename, 404 when it is not stored.
   */
  async delete(filename: string): Promise<WheelRecord> {
    this.assertInitialised();
    parseWheelFilename(filename);
    return this.exclusive(async () => {
      const existing = this.wheels.get(filename);
      if (!existing) throw new PitlaneError(404, 'WHEEL_NOT_FOUND', `no wheel "${filename}" in the wheelhouse`, [{ path: 'filename', message: 'not found' }]);
      await unlink(join(this.dir, filename)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      this.wheels.delete(filename);
      await this.writeIndex();
      return existing;
    });
  }
}

/**
 * Puts every wheel of `wheelhouseDir` into `destDir` (created if needed): hard links when both are
 * on one file system, copies otherwise. Only files with valid wheel filenames are taken (not the
 * index or temporary files). For a python3 build context, then `pip install --no-index --find-links DIR`.
 * @returns the filenames, sorted.
 */
export async function copyWheelsForBuild(wheelhouseDir: string, destDir: string): Promise<string[]> {
  await mkdir(destDir, { recursive: true });
  let names: string[];
  try {
    names = await readdir(wheelhouseDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const copied: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || !isWheelFilename(name)) continue;
    const source = join(wheelhouseDir, name);
    const target = join(destDir, name);
    try {
      await link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // deleted meanwhile
      if (code === 'EEXIST') {
        await unlink(target);
      } else if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP' && code !== 'EACCES') {
        throw error;
      }
      try {
        await copyFile(source, target);
      } catch (copyError) {
        if ((copyError as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw copyError;
      }
    }
    copied.push(name);
  }
  return copied;
}
