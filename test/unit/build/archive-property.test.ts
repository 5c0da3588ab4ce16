/**
 * Properties of the one archive extractor beyond entry names (those are in core/archive.test.ts):
 * whatever the mix of entry types and sizes, an archive holding a hard link, a device or a FIFO is
 * refused; an extraction that succeeds stayed within the byte and entry limits; a refusal is a
 * PitlaneError 400 or 413, never anything else. And every upload path goes through it: a wheel
 * build's source archive is refused when it is submitted, before anything is recorded.
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { extractArchive } from '../../../src/build/index.js';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { Wheelhouse, WheelBuildService } from '../../../src/wheelhouse/index.js';
import { buildTar, type TarEntry } from '../core/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'pitlane-archive-property-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every path below `dir`, with its type. */
function walk(dir: string, prefix = ''): { path: string; type: string }[] {
  const out: { path: string; type: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = prefix ? `${prefix}/${name}` : name;
    const stats = lstatSync(join(dir, name));
    const type = stats.isSymbolicLink() ? 'symlink' : stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'other';
    out.push({ path, type });
    if (type === 'directory') out.push(...walk(join(dir, name), path));
  }
  return out;
}

describe('extractArchive (properties)', () => {
  const forbidden = ['link', 'character-device', 'block-device', 'fifo'] as const;
  const entry: fc.Arbitrary<TarEntry> = fc.oneof(
    fc.record({ name: fc.constantFrom('a', 'b', 'c/d', 'c/e', 'f/g/h'), content: fc.string({ maxLength: 300 }) }),
    fc.record({ name: fc.constantFrom('c', 'f', 'f/g', 'dir'), type: fc.constant('directory' as const) }),
    fc.record({ name: fc.constantFrom('l1', 'c/l2'), type: fc.constant('symlink' as const), linkname: fc.constantFrom('a', '../a', 'c', 'd', '.') }),
    fc.record({ name: fc.constantFrom('x', 'c/y'), type: fc.constantFrom(...forbidden), linkname: fc.constantFrom('a', '/etc/passwd') }),
  );
  const limits = fc.record({ maxBytes: fc.integer({ min: 0, max: 1200 }), maxEntries: fc.integer({ min: 1, max: 8 }) });
  let run = 0;

  it('refuses hard links, devices and FIFOs, keeps to the limits, and fails only with 400 or 413', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 10 }), limits, fc.boolean(), async (entries, limit, gzip) => {
        run += 1;
        const destination = join(root, `run-${run}`);
        const tar = await buildTar(entries);
        let summary;
        try {
          summary = await extractArchive(Readable.from([gzip ? gzipSync(tar) : tar]), destination, limit);
        } catch (error) {
          expect(isPitlaneError(error), String(error)).toBe(true);
          expect([400, 413]).toContain((error as PitlaneError).status);
          return;
        }
        expect(entries.some((e) => (forbidden as readonly string[]).includes(e.type ?? 'file'))).toBe(false);
        expect(summary.entries).toBeLessThanOrEqual(limit.maxEntries);
        expect(summary.bytes).toBeLessThanOrEqual(limit.maxBytes);
        const fileBytes = entries.filter((e) => (e.type ?? 'file') === 'file').reduce((sum, e) => sum + Buffer.byteLength(e.content ?? ''), 0);
        expect(summary.bytes).toBe(fileBytes);
        for (const found of walk(destination)) expect(['file', 'directory', 'symlink'], found.path).toContain(found.type);
      }),
      { numRuns: 400 },
    );
  });
});

describe('wheel build sources go through the extractor when submitted', () => {
  it.each([
    [[{ name: '../escape.py', content: 'x' }], 400],
    [[{ name: 'pkg', type: 'symlink', linkname: '/etc' }], 400],
    [[{ name: 'dev', type: 'character-device' }], 400],
    [[{ name: 'big', content: 'x'.repeat(2000) }], 413],
    [[], 400],
  ] as [TarEntry[], number][])('refuses %j with %i and records nothing', async (entries, status) => {
    const wheelhouse = new Wheelhouse(mkdtempSync(join(root, 'wheelhouse-')));
    await wheelhouse.init();
    const service = new WheelBuildService({
      wheelhouse,
      engine: { run: async () => ({ exitCode: 0, timedOut: false, aborted: false }) },
      sourceLimits: { maxBytes: 1000, maxEntries: 10 },
    });
    await service.init();
    const error = await service.start({ requirements: './pkg\n', sourceArchive: gzipSync(await buildTar(entries)) }).catch((e: unknown) => e);
    expect(isPitlaneError(error), String(error)).toBe(true);
    expect((error as PitlaneError).status).toBe(status);
    expect((error as PitlaneError).details[0]?.path).toBe('source');
    expect(await service.list()).toEqual([]);
    expect(readdirSync(service.dir)).toEqual([]);
    await service.close();
  });
});
