/** A {@link WheelBuildEngine} for unit tests: reads the context tar, then "builds" what it is told. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { BuilderRun, WheelBuildEngine } from '../../../src/wheelhouse/index.js';

/** What one fake run does. */
export interface FakeOutcome {
  /** Wheels written to /out. */
  wheels?: { filename: string; data: Buffer }[];
  /** Other files written to /out. */
  files?: Record<string, string>;
  lines?: string[];
  exitCode?: number;
  /** Wait for the abort signal (or the timeout) instead of finishing. */
  hang?: boolean;
}

/** Records every run; `next` decides what the next run does. */
export class FakeEngine implements WheelBuildEngine {
  runs: { command: string[]; workingDir: string; labels: Record<string, string>; context: Map<string, Buffer | null> }[] = [];
  next: FakeOutcome = {};
  leftoversRemoved = 0;

  async run(run: BuilderRun): Promise<{ exitCode: number; timedOut: boolean; aborted: boolean }> {
    const context = await readTar(run.context);
    this.runs.push({ command: run.command, workingDir: run.workingDir, labels: run.labels, context });
    const outcome = this.next;
    for (const line of outcome.lines ?? []) run.onLine('stdout', line);
    if (outcome.hang) {
      const result = await new Promise<'timeout' | 'abort'>((resolve) => {
        if (run.signal.aborted) return resolve('abort');
        const timer = setTimeout(() => resolve('timeout'), run.timeoutMs);
        run.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve('abort');
        }, { once: true });
      });
      return { exitCode: 137, timedOut: result === 'timeout', aborted: result === 'abort' };
    }
    const exitCode = outcome.exitCode ?? 0;
    if (exitCode === 0) {
      const out = join(run.outDir, 'out');
      mkdirSync(out, { recursive: true });
      for (const wheel of outcome.wheels ?? []) writeFileSync(join(out, wheel.filename), wheel.data);
      for (const [name, text] of Object.entries(outcome.files ?? {})) writeFileSync(join(out, name), text);
    }
    return { exitCode, timedOut: false, aborted: false };
  }

  async removeLeftovers(): Promise<void> {
    this.leftoversRemoved += 1;
  }
}

/** Entries of a tar stream: file name -> content (null for directories and links). */
export async function readTar(stream: Readable): Promise<Map<string, Buffer | null>> {
  const entries = new Map<string, Buffer | null>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.set(entry.header.name.replace(/^\.\//, '').replace(/\/$/, ''), entry.header.type === 'file' ? Buffer.concat(chunks) : null);
    }
  })();
  stream.pipe(extract);
  await done;
  return entries;
}
