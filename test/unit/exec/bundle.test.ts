/**
 * scripts/build-exec-bundle.mjs, which makes dist/exec/main.bundle.cjs (the CommonJS bundle
 * bin/pitlane.js loads for `pitlane exec`): on a small tree of ES modules like tsc's output, the
 * bundle exports what the entry exports, keeps dynamic imports real ES module imports resolved
 * from the original files, reports itself stale once a source file changes, and refuses modules
 * that cannot become CommonJS.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildExecBundle } from '../../../scripts/build-exec-bundle.mjs';

const require = createRequire(import.meta.url);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Bundle {
  isFresh(): boolean;
  load(): Record<string, unknown>;
  modules: string[];
}

/** Writes `files` (path under dist/ -> text) into a fresh temporary dist/ and returns its path. */
function distTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pitlane-bundle-'));
  dirs.push(dir);
  const dist = join(dir, 'dist');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dist, path, '..'), { recursive: true });
    writeFileSync(join(dist, path), text);
  }
  // ES modules by package.json type, as in the repository.
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  return dist;
}

const TREE = {
  'exec/main.js': [
    "import { join } from 'node:path';",
    "import { twice, Failure } from './lib.js';",
    "import { NAME } from '../shared.js';",
    "export { twice };",
    "export const label = `${NAME}:${join('a', 'b')}:${twice(21)}`;",
    "export function failure() { return new Failure('no'); }",
    "export async function lazy() { return (await import('./lazy.js')).where(); }",
    '// import from "./not-a-real-import.js" in a comment is not an import',
  ].join('\n'),
  'exec/lib.js': "export function twice(n) { return n * 2; }\nexport class Failure extends Error {}\n",
  'shared.js': "export const NAME = 'shared';\n",
  'exec/lazy.js': 'export function where() { return import.meta.url; }\n',
};

describe('build-exec-bundle', () => {
  it('bundles the static imports of the entry as CommonJS, with the same exports', () => {
    const dist = distTree(TREE);
    const out = join(dist, 'exec/main.bundle.cjs');
    expect(buildExecBundle({ distDir: dist, entry: join(dist, 'exec/main.js'), out })).toEqual(['exec/main.js', 'exec/lib.js', 'shared.js']);
    const bundle = require(out) as Bundle;
    expect(bundle.isFresh()).toBe(true);
    const main = bundle.load();
    expect(main.label).toBe('shared:a/b:42');
    expect((main.twice as (n: number) => number)(5)).toBe(10);
    expect((main.failure as () => Error)()).toBeInstanceOf(Error);
    expect(bundle.load()).toBe(main); // one instance per module
  });

  it('leaves dynamic imports as ES module imports of the files next to the original module', async () => {
    const dist = distTree(TREE);
    const out = join(dist, 'exec/main.bundle.cjs');
    buildExecBundle({ distDir: dist, entry: join(dist, 'exec/main.js'), out });
    const main = (require(out) as Bundle).load();
    // lazy.js uses import.meta: it ran as an ES module, from dist/exec/lazy.js.
    expect(await (main.lazy as () => Promise<string>)()).toMatch(/\/dist\/exec\/lazy\.js$/);
  });

  it('is stale once a bundled file changes (size or modification time)', () => {
    const dist = distTree(TREE);
    const out = join(dist, 'exec/main.bundle.cjs');
    buildExecBundle({ distDir: dist, entry: join(dist, 'exec/main.js'), out });
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dist, 'shared.js'), later, later);
    expect((require(out) as Bundle).isFresh()).toBe(false);
  });

  it('refuses a statically imported module that uses import.meta or top-level await', () => {
    for (const body of ['export const here = import.meta.url;', 'export const value = await Promise.resolve(1);']) {
      const dist = distTree({ 'exec/main.js': "export { here } from './bad.js';", 'exec/bad.js': body });
      expect(() => buildExecBundle({ distDir: dist, entry: join(dist, 'exec/main.js'), out: join(dist, 'exec/main.bundle.cjs') })).toThrow(/exec\/bad\.js cannot be bundled as CommonJS/);
    }
  });
});
