/**
 * Wheel builds as stored, asynchronous jobs: {@link WheelBuildService.start} records a build
 * (`<wheelhouse>/.builds/<id>.json`) and answers at once; builds run one at a time in this
 * process; each keeps its log (`<id>.log`), readable during and after the build. A build that was
 * queued or running when the process stopped is marked failed at the next start.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extractArchive, type ExtractLimits } from '../build/index.js';
import { PitlaneError, isPitlaneError, type ErrorDetail } from '../errors.js';
import { buildWheels, checkRequirements, type WheelBuildEngine, type WheelBuildInput } from './builder.js';
import { writeFileDurably, type Wheelhouse } from './store.js';

/** Status of a build. */
export type WheelBuildStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** A stored build, as the API shows it (the log is read separately). */
export interface WheelBuildRecord {
  id: string;
  status: WheelBuildStatus;
  requirements: string;
  /** Short descriptions of the local sources sent with the build. */
  sources: string[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  /** Filenames of wheels new to the wheelhouse. */
  wheels_added: string[];
  /** Filenames of wheels the wheelhouse already had. */
  wheels_reused: string[];
  /** Wheels pip made that the wheelhouse refused. */
  wheels_rejected: { filename: string; code: string; message: string }[];
  error: { code: string; message: string; details: ErrorDetail[] } | null;
}

/** Options of a {@link WheelBuildService}. */
export interface WheelBuildServiceOptions {
  wheelhouse: Wheelhouse;
  engine: WheelBuildEngine;
  /** Where records and logs are kept (default `<wheelhouse>/.builds`). */
  dir?: string;
  /** Parent of staging directories (default the OS temporary directory). */
  workDir?: string;
  /** Per-build time limit (default 30 minutes). */
  timeoutMs?: number;
  /** Largest log kept per build (default 5 MiB); later lines are dropped with a note. */
  maxLogBytes?: number;
  /** Most builds waiting (default 20); more answer 503. */
  maxQueued?: number;
  /** Package index to fall back to, instead of `--no-index`. */
  indexUrl?: string;
  /** Limits for unpacking an uploaded source archive (default 512 MiB, 100,000 entries). */
  sourceLimits?: ExtractLimits;
  log?: (message: string) => void;
}

const TERMINAL: WheelBuildStatus[] = ['succeeded', 'failed'];
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Stored, logged, one-at-a-time wheel builds. Call {@link init} once. */
export class WheelBuildService {
  readonly dir: string;
  /** Waiting builds; an uploaded source archive is already unpacked into `sourceDir`. */
  private readonly queue: { id: string; input: Omit<WheelBuildInput, 'sourceArchive'> }[] = [];
  private readonly records = new Map<string, WheelBuildRecord>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private running: { id: string; controller: AbortController; done: Promise<void> } | undefined;
  private closed = false;

  constructor(private readonly options: WheelBuildServiceOptions) {
    this.dir = options.dir ?? join(options.wheelhouse.dir, '.builds');
  }

  /** Creates the directory, fails builds a stopped process left unfinished, removes leftover builder containers. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.source')) {
        await rm(join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const record = await this.read(name.slice(0, -5)).catch(() => undefined);
      if (!record || TERMINAL.includes(record.status)) continue;
      record.status = 'failed';
      record.finished_at = new Date().toISOString();
      record.error = { code: 'WHEEL_BUILD_INTERRUPTED', message: 'Pitlane stopped before this build finished; start it again', details: [] };
      await this.save(record);
    }
    await this.options.engine.removeLeftovers?.().catch((error: Error) => this.options.log?.(`wheel builds: could not remove leftover builder containers: ${error.message}`));
  }

  private recordPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private sourcePath(id: string): string {
    return join(this.dir, `${id}.source`);
  }

  private logPath(id: string): string {
    return join(this.dir, `${id}.log`);
  }

  private async save(record: WheelBuildRecord): Promise<void> {
    this.records.set(record.id, record);
    await writeFileDurably(this.recordPath(record.id), `${JSON.stringify(record, null, 1)}\n`);
  }

  private async read(id: string): Promise<WheelBuildRecord> {
    return JSON.parse(await readFile(this.recordPath(id), 'utf8')) as WheelBuildRecord;
  }

  /**
   * Records a build and queues it. An uploaded source archive is unpacked here, with the safe
   * extractor, so a bad archive is refused before anything is recorded.
   * @throws PitlaneError 400/413 for bad requirements, 400 ARCHIVE_INVALID / 413 ARCHIVE_TOO_LARGE
   *   for a bad or oversized source archive (detail path `source`), 503 WHEEL_BUILD_QUEUE_FULL.
   */
  async start(input: WheelBuildInput & { sourceNames?: string[] }): Promise<WheelBuildRecord> {
    if (this.closed) throw new PitlaneError(503, 'SHUTTING_DOWN', 'Pitlane is stopping');
    const requirements = checkRequirements(input.requirements);
    if (this.queue.length >= (this.options.maxQueued ?? 20)) {
      throw new PitlaneError(503, 'WHEEL_BUILD_QUEUE_FULL', `${this.queue.length} wheel builds are already waiting; try again later`);
    }
    const record: WheelBuildRecord = {
      id: randomUUID(),
      status: 'queued',
      requirements,
      sources: input.sourceNames ?? [...(input.localPaths ?? []), ...(input.sourceArchive ? ['source archive'] : [])],
      created_at: new Date().toISOString(),
      started_at: null,
      finished_at: null,
      duration_ms: null,
      wheels_added: [],
      wheels_reused: [],
      wheels_rejected: [],
      error: null,
    };
    // A waiting build keeps its uploaded sources on disk, unpacked, not in memory.
    type Queued = (typeof this.queue)[number]['input'];
    let queued: Queued = { requirements, ...(input.localPaths ? { localPaths: input.localPaths } : {}) };
    if (input.sourceArchive) {
      const dir = this.sourcePath(record.id);
      const stream = Buffer.isBuffer(input.sourceArchive) ? Readable.from([input.sourceArchive]) : input.sourceArchive;
      try {
        const summary = await extractArchive(stream, dir, this.options.sourceLimits ?? { maxBytes: 512 * 1024 * 1024, maxEntries: 100_000 });
        if (summary.entries === 0) throw new PitlaneError(400, 'ARCHIVE_INVALID', 'the source archive is empty', [{ path: 'source', message: 'empty' }]);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        if (isPitlaneError(error)) throw new PitlaneError(error.status, error.code, `source: ${error.message}`, [{ path: 'source', message: error.message }, ...error.details]);
        throw error;
      }
      queued = { ...queued, sourceDir: dir };
    }
    await this.save(record);
    const snapshot = structuredClone(record);
    this.queue.push({ id: record.id, input: queued });
    this.pump();
    return snapshot;
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    const controller = new AbortController();
    const done = this.execute(next.id, next.input, controller.signal)
      .catch((error: Error) => this.options.log?.(`wheel build ${next.id} could not be recorded: ${error.message}`))
      .finally(() => {
        this.running = undefined;
        for (const wake of this.waiters.get(next.id) ?? []) wake();
        this.waiters.delete(next.id);
        this.pump();
      });
    this.running = { id: next.id, controller, done };
  }

  private async execute(id: string, queued: Omit<WheelBuildInput, 'sourceArchive'>, signal: AbortSignal): Promise<void> {
    const input: WheelBuildInput = { ...queued };
    const record = this.records.get(id) ?? (await this.read(id));
    record.status = 'running';
    record.started_at = new Date().toISOString();
    await this.save(record);
    const maxLogBytes = this.options.maxLogBytes ?? 5 * 1024 * 1024;
    const logFile: WriteStream = createWriteStream(this.logPath(id), { flags: 'a' });
    logFile.on('error', (error) => this.options.log?.(`wheel build ${id}: log write failed: ${error.message}`));
    let logBytes = 0;
    let truncated = false;
    const onLog = (line: string): void => {
      if (truncated) return;
      const text = `${line}\n`;
      logBytes += Buffer.byteLength(text);
      if (logBytes > maxLogBytes) {
        truncated = true;
        logFile.write(`[pitlane] the log is longer than ${maxLogBytes} bytes; the rest is not kept\n`);
        return;
      }
      logFile.write(text);
    };
    try {
      const result = await buildWheels(input, this.options.engine, this.options.wheelhouse, {
        buildId: id,
        onLog,
        signal,
        ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
        ...(this.options.workDir !== undefined ? { workDir: this.options.workDir } : {}),
        ...(this.options.indexUrl !== undefined ? { indexUrl: this.options.indexUrl } : {}),
      });
      record.wheels_added = result.added.map((w) => w.filename);
      record.wheels_reused = result.reused.map((w) => w.filename);
      record.wheels_rejected = result.rejected;
      if (result.rejected.length > 0) {
        record.status = 'failed';
        record.error = {
          code: 'WHEEL_REJECTED',
          message: `the wheelhouse refused ${result.rejected.length} built wheel${result.rejected.length === 1 ? '' : 's'}: ${result.rejected.map((r) => `${r.filename}: ${r.message}`).join('; ')}`,
          details: result.rejected.map((r) => ({ path: r.filename, message: r.message })),
        };
      } else {
        record.status = 'succeeded';
      }
      onLog(`[pitlane] build ${record.status}: ${record.wheels_added.length} wheel(s) added, ${record.wheels_reused.length} reused`);
    } catch (error) {
      record.status = 'failed';
      record.error = isPitlaneError(error)
        ? { code: error.code, message: error.message, details: error.details }
        : { code: 'INTERNAL', message: `the build failed: ${(error as Error).message}`, details: [] };
      onLog(`[pitlane] build failed: ${record.error.message}`);
    } finally {
      if (queued.sourceDir) await rm(queued.sourceDir, { recursive: true, force: true });
      await new Promise<void>((resolve) => logFile.end(resolve));
      record.finished_at = new Date().toISOString();
      record.duration_ms = Date.parse(record.finished_at) - Date.parse(record.started_at ?? record.finished_at);
      await this.save(record);
    }
  }

  /**
   * One build.
   * @throws PitlaneError 404 WHEEL_BUILD_NOT_FOUND.
   */
  async get(id: string): Promise<WheelBuildRecord> {
    const known = this.records.get(id);
    if (known) return structuredClone(known);
    if (!ID.test(id)) throw new PitlaneError(404, 'WHEEL_BUILD_NOT_FOUND', `no wheel build with id "${id}"`, [{ path: 'id', message: 'not found' }]);
    try {
      return await this.read(id);
    } catch {
      throw new PitlaneError(404, 'WHEEL_BUILD_NOT_FOUND', `no wheel build with id "${id}"`, [{ path: 'id', message: 'not found' }]);
    }
  }

  /** Lines of a build's log after the first `after` lines. @throws PitlaneError 404. */
  async log(id: string, after = 0): Promise<{ lines: string[]; total: number }> {
    await this.get(id);
    let text: string;
    try {
      text = await readFile(this.logPath(id), 'utf8');
    } catch {
      return { lines: [], total: 0 };
    }
    const all = text.split('\n');
    // A line still being written has no newline yet: leave it for the next read.
    all.pop();
    return { lines: all.slice(after), total: all.length };
  }

  /** Recent builds, newest first. */
  async list(limit = 50): Promise<WheelBuildRecord[]> {
    const records: WheelBuildRecord[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const id = name.slice(0, -5);
      const record = this.records.get(id) ?? (await this.read(id).catch(() => undefined));
      if (record) records.push(record);
    }
    return records.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0)).slice(0, limit);
  }

  /** Resolves with the build once it has finished. @throws PitlaneError 404. */
  async wait(id: string): Promise<WheelBuildRecord> {
    for (;;) {
      const record = await this.get(id);
      if (TERMINAL.includes(record.status)) return record;
      if (!this.records.has(id)) return record; // not this process's build
      await new Promise<void>((resolve) => {
        const list = this.waiters.get(id) ?? [];
        list.push(resolve);
        this.waiters.set(id, list);
      });
    }
  }

  /** Stops taking builds, cancels the running one and waits for it; queued builds stay "queued" and are failed at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (running) {
      running.controller.abort();
      await running.done;
    }
  }
}

/** Reads a multipart file part or stream into a buffer, refusing more than `limit` bytes. */
export async function readLimited(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.resume();
      throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the ${what} is larger than ${limit} bytes`, [{ path: what, message: 'too large' }]);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
