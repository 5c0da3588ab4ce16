import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractArchive, safeEntryPath, symlinkStaysInside } from '../../../src/build/archive.js';
import { isPitlaneError } from '../../../src/errors.js';
import { buildTar, buildTarGz, rejectsWithPitlane, tempDir, type TarEntry } from './helpers.js';

const SENTINEL = 'outside.txt';

let parent: { path: string; remove: () => void };
let dest: string;

/** Gives each test a fresh parent directory holding only a sentinel file; checks it afterwards. */
function useDestination(): void {
  beforeEach(() => {
    parent = tempDir('archive');
    dest = join(parent.path, 'dest');
    writeFileSync(join(parent.path, SENTINEL), 'untouched');
  });

  afterEach(() => {
    assertNothingOutside();
    parent.remove();
  });
}

/** The parent of the destination holds only the destination and the sentinel, unchanged. */
function assertNothingOutside(): void {
  expect(readdirSync(parent.path).sort()).toEqual(['dest', SENTINEL]);
  expect(readFileSync(join(parent.path, SENTINEL), 'utf8')).toBe('untouched');
  expect(lstatSync(join(parent.path, SENTINEL)).isFile()).toBe(true);
}

/** Every path below `root`, relative, with `/` separators. */
function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      out.push(relative(root, path).split('\\').join('/'));
      if (lstatSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return out.sort();
}

function streamOf(buffer: Buffer, chunkSize = buffer.length || 1): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

async function extract(entries: TarEntry[], limits?: { maxBytes: number; maxEntries: number }) {
  return extractArchive(streamOf(await buildTar(entries)), dest, limits);
}

async function expectInvalid(entries: TarEntry[] | Buffer, pattern?: RegExp): Promise<void> {
  const input = Buffer.isBuffer(entries) ? entries : await buildTar(entries);
  const error = await rejectsWithPitlane(extractArchive(streamOf(input), dest));
  expect(error.status).toBe(400);
  expect(error.code).toBe('ARCHIVE_INVALID');
  if (pattern) expect(error.message).toMatch(pattern);
  assertNothingOutside();
}

describe('safeEntryPath', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['./a.txt', 'a.txt'],
    ['dir/', 'dir'],
    ['./dir/sub/', 'dir/sub'],
    ['a//b', 'a/b'],
    ['a/./b', 'a/b'],
    ['./', ''],
    ['.', ''],
    ['a\\b', 'a/b'],
    ['...', '...'],
    ['..a/b..', '..a/b..'],
  ])('%j → %j', (name, expected) => {
    expect(safeEntryPath(name)).toBe(expected);
  });

  it.each(['/etc/passwd', '\\windows', 'C:/x', 'c:\\x', '..', '../x', 'a/../../x', 'a/..', 'a\\..\\..\\x', 'a/b/../c', 'nul\0byte'])('rejects %j', (name) => {
    let caught: unknown;
    try {
      safeEntryPath(name);
    } catch (error) {
      caught = error;
    }
    expect(isPitlaneError(caught)).toBe(true);
    expect(caught).toMatchObject({ status: 400, code: 'ARCHIVE_INVALID', details: [{ path: name }] });
  });
});

describe('symlinkStaysInside', () => {
  it.each([
    ['link', 'target'],
    ['link', './target'],
    ['a/link', '../target'],
    ['a/b/link', '../../target'],
    ['a/link', '..'],
    ['link', '.'],
    ['a/link', 'b/../c'],
    ['node_modules/.bin/tool', '../tool/bin/cli.js'],
  ])('%j -> %j stays inside', (link, target) => {
    expect(symlinkStaysInside(link, target)).toBe(true);
  });

  it.each([
    ['link', '/etc/passwd'],
    ['link', '..'],
    ['link', '../x'],
    ['a/link', '../..'],
    ['a/link', '../../x'],
    ['a/link', 'b/../../../x'],
    ['link', 'a/../../x'],
  ])('%j -> %j escapes', (link, target) => {
    expect(symlinkStaysInside(link, target)).toBe(false);
  });
});

describe('extractArchive', () => {
  useDestination();

  it('extracts files and directories', async () => {
    const summary = await extract([
      { name: 'Dockerfile', content: 'FROM scratch\n' },
      { name: 'src/', type: 'directory' },
      { name: 'src/main.py', content: 'print(1)\n', mode: 0o755 },
      { name: './deep/er/file.txt', content: 'deep' },
      { name: 'empty-dir/', type: 'directory' },
      { name: 'empty.txt', content: '' },
    ]);
    expect(summary).toEqual({ entries: 6, bytes: 13 + 9 + 4 });
    expect(listTree(dest)).toEqual(['Dockerfile', 'deep', 'deep/er', 'deep/er/file.txt', 'empty-dir', 'empty.txt', 'src', 'src/main.py']);
    expect(readFileSync(join(dest, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(readFileSync(join(dest, 'deep/er/file.txt'), 'utf8')).toBe('deep');
    expect(readFileSync(join(dest, 'empty.txt'), 'utf8')).toBe('');
    expect(statSync(join(dest, 'empty-dir')).isDirectory()).toBe(true);
    // Executable bit kept; group/other write never granted.
    expect(statSync(join(dest, 'src/main.py')).mode & 0o111).not.toBe(0);
  });

  it('never grants group or other write, and always owner read/write', async () => {
    await extract([{ name: 'a.txt', content: 'x', mode: 0o777 }, { name: 'b.txt', content: 'y', mode: 0o000 }]);
    expect(statSync(join(dest, 'a.txt')).mode & 0o022).toBe(0);
    expect(statSync(join(dest, 'b.txt')).mode & 0o600).toBe(0o600);
  });

  it('extracts a gzip-compressed archive', async () => {
    const archive = await buildTarGz([{ name: 'hello.txt', content: 'hello' }]);
    expect(archive[0]).toBe(0x1f);
    const summary = await extractArchive(streamOf(archive), dest);
    expect(summary).toEqual({ entries: 1, bytes: 5 });
    expect(readFileSync(join(dest, 'hello.txt'), 'utf8')).toBe('hello');
  });

  it.each([1, 7, 512])('handles input arriving in %i-byte chunks (tar and tar.gz)', async (chunkSize) => {
    const entries: TarEntry[] = [{ name: 'a/b.txt', content: 'x'.repeat(3000) }, { name: 'c.txt', content: 'c' }];
    await extractArchive(streamOf(await buildTar(entries), chunkSize), dest);
    expect(readFileSync(join(dest, 'a/b.txt'), 'utf8')).toBe('x'.repeat(3000));
    const second = join(dest, 'gz');
    await extractArchive(streamOf(await buildTarGz(entries), chunkSize), second);
    expect(readFileSync(join(second, 'c.txt'), 'utf8')).toBe('c');
  });

  it('creates the destination and accepts an empty archive', async () => {
    expect(existsSync(dest)).toBe(false);
    expect(await extractArchive(streamOf(await buildTar([])), dest)).toEqual({ entries: 0, bytes: 0 });
    expect(statSync(dest).isDirectory()).toBe(true);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('accepts an empty input stream as an empty archive', async () => {
    expect(await extractArchive(Readable.from([]), dest)).toEqual({ entries: 0, bytes: 0 });
  });

  it('keeps symlinks that stay inside the root', async () => {
    await extract([
      { name: 'lib/tool/cli.js', content: 'cli' },
      { name: 'node_modules/.bin/', type: 'directory' },
      { name: 'node_modules/.bin/tool', type: 'symlink', linkname: '../../lib/tool/cli.js' },
      { name: 'current', type: 'symlink', linkname: 'lib' },
      { name: 'chain', type: 'symlink', linkname: 'current/tool/cli.js' },
      { name: 'self-dir', type: 'symlink', linkname: '.' },
      { name: 'dangling', type: 'symlink', linkname: 'not/there' },
    ]);
    expect(readlinkSync(join(dest, 'node_modules/.bin/tool'))).toBe('../../lib/tool/cli.js');
    expect(readFileSync(join(dest, 'node_modules/.bin/tool'), 'utf8')).toBe('cli');
    expect(readFileSync(join(dest, 'chain'), 'utf8')).toBe('cli');
    expect(lstatSync(join(dest, 'dangling')).isSymbolicLink()).toBe(true);
  });

  describe('rejects', () => {
    it('absolute paths', async () => {
      await expectInvalid([{ name: join(parent.path, 'abs.txt'), content: 'pwned' }], /absolute path/);
      await expectInvalid([{ name: '/tmp/pitlane-abs-test.txt', content: 'pwned' }], /absolute path/);
      expect(existsSync('/tmp/pitlane-abs-test.txt')).toBe(false);
    });

    it.each(['../outside-new.txt', 'a/../../outside-new.txt', './../outside-new.txt', '..', 'a/b/../../../outside-new.txt'])('the ".." path %j', async (name) => {
      await expectInvalid([{ name: 'ok.txt', content: 'ok' }, { name, content: 'pwned' }], /\.\./);
    });

    it('a directory entry with ".."', async () => {
      await expectInvalid([{ name: '../newdir/', type: 'directory' }]);
    });

    it('hard links', async () => {
      await expectInvalid([{ name: 'a.txt', content: 'a' }, { name: 'hard', type: 'link', linkname: 'a.txt' }], /hard link/);
      await expectInvalid([{ name: 'hard2', type: 'link', linkname: join(parent.path, SENTINEL) }], /hard link/);
    });

    it.each(['character-device', 'block-device', 'fifo'] as const)('%s entries', async (type) => {
      await expectInvalid([{ name: 'special', type }], /not allowed/);
      expect(existsSync(join(dest, 'special'))).toBe(false);
    });

    it.each([
      ['absolute', 'evil', join('/tmp', 'x')],
      ['absolute to the parent', 'evil', '/'],
      ['"../x"', 'evil', `../${SENTINEL}`],
      ['".."', 'evil', '..'],
      ['nested "../.."', 'a/evil', '../..'],
      ['deep escape', 'a/b/evil', '../../../x'],
    ])('symlinks escaping the root (%s)', async (_what, name, linkname) => {
      await expectInvalid([{ name, type: 'symlink', linkname }], /points outside/);
      expect(existsSync(join(dest, name))).toBe(false);
    });

    it('the chain trick: a/x -> .. then a/x/y', async () => {
      await expectInvalid([
        { name: 'a/', type: 'directory' },
        { name: 'a/x', type: 'symlink', linkname: '..' },
        { name: 'a/x/y', content: 'through the link' },
      ]);
      expect(existsSync(join(dest, 'y'))).toBe(false);
    });

    it('the chain trick: a/x -> .. then a/x/../..', async () => {
      await expectInvalid([
        { name: 'a/', type: 'directory' },
        { name: 'a/x', type: 'symlink', linkname: '..' },
        { name: 'a/x/../../escaped.txt', content: 'pwned' },
      ]);
    });

    it('the chain trick: a/x -> .. then a/x/x/x/... deeper links', async () => {
      await expectInvalid([
        { name: 'a/', type: 'directory' },
        { name: 'a/x', type: 'symlink', linkname: '..' },
        { name: 'a/x/up', type: 'symlink', linkname: '..' },
      ]);
    });

    it('links combined to leave the root: a/b/y -> ../.. then x -> a/b/y/../outside.txt', async () => {
      // Each link alone stays inside when read lexically; followed by the kernel, x is ../outside.txt.
      await expectInvalid(
        [
          { name: 'a/b/', type: 'directory' },
          { name: 'a/b/y', type: 'symlink', linkname: '../..' },
          { name: 'x', type: 'symlink', linkname: `a/b/y/../${SENTINEL}` },
        ],
        /outside/,
      );
    });

    it('links combined in the other order (the later link changes where the earlier one leads)', async () => {
      await expectInvalid(
        [
          { name: 'x', type: 'symlink', linkname: `a/b/y/../${SENTINEL}` },
          { name: 'a/b/', type: 'directory' },
          { name: 'a/b/y', type: 'symlink', linkname: '../..' },
        ],
        /outside/,
      );
    });

    it('symlink loops', async () => {
      await expectInvalid([
        { name: 'l1', type: 'symlink', linkname: 'l2' },
        { name: 'l2', type: 'symlink', linkname: 'l1' },
      ]);
    });

    it('writing a file through a symlink to a directory inside the root', async () => {
      await expectInvalid(
        [
          { name: 'sub/', type: 'directory' },
          { name: 'link', type: 'symlink', linkname: 'sub' },
          { name: 'link/file.txt', content: 'through' },
        ],
        /symlink/,
      );
      expect(existsSync(join(dest, 'sub/file.txt'))).toBe(false);
    });

    it('creating a directory through a symlink', async () => {
      await expectInvalid([
        { name: 'link', type: 'symlink', linkname: '.' },
        { name: 'link/newdir/', type: 'directory' },
      ]);
      expect(existsSync(join(dest, 'newdir'))).toBe(false);
    });

    it('overwriting a symlink with a file entry (the write would follow the link)', async () => {
      await expectInvalid([
        { name: 'target.txt', content: 'original' },
        { name: 'link', type: 'symlink', linkname: 'target.txt' },
        { name: 'link', content: 'overwritten' },
      ]);
      expect(readFileSync(join(dest, 'target.txt'), 'utf8')).toBe('original');
    });

    it('duplicate file entries', async () => {
      await expectInvalid([
        { name: 'a.txt', content: 'first' },
        { name: 'a.txt', content: 'second' },
      ], /duplicate/);
      expect(readFileSync(join(dest, 'a.txt'), 'utf8')).toBe('first');
    });

    it('a path going through a file', async () => {
      await expectInvalid([
        { name: 'a', content: 'file' },
        { name: 'a/b.txt', content: 'x' },
      ]);
    });

    it('a file entry for the root itself', async () => {
      await expectInvalid([{ name: './', content: 'x' }]);
    });

    it('corrupt gzip', async () => {
      const gz = await buildTarGz([{ name: 'a.txt', content: 'a'.repeat(1000) }]);
      const corrupt = Buffer.concat([gz.subarray(0, 10), Buffer.alloc(200, 0xab), gz.subarray(210)]);
      await expectInvalid(corrupt, /gzip|corrupt/);
    });

    it('gzip magic followed by garbage', async () => {
      await expectInvalid(Buffer.from([0x1f, 0x8b, 0x00, 0x01, 0x02, 0x03, 0x04]), /gzip|corrupt/);
    });

    it('truncated gzip', async () => {
      const gz = await buildTarGz([{ name: 'a.txt', content: 'abc'.repeat(5000) }]);
      await expectInvalid(gz.subarray(0, Math.floor(gz.length / 2)), /gzip|corrupt|truncated/);
    });

    it('a truncated tar (inside a file body)', async () => {
      const archive = await buildTar([{ name: 'a.txt', content: 'x'.repeat(5000) }]);
      await expectInvalid(archive.subarray(0, 512 + 1000), /corrupt or truncated/);
    });

    it('a truncated tar (inside a header)', async () => {
      const archive = await buildTar([{ name: 'a.txt', content: 'x' }, { name: 'b.txt', content: 'y' }]);
      await expectInvalid(archive.subarray(0, 1024 + 100), /corrupt or truncated/);
    });

    it('stops writing before it answers, so the caller can remove the destination at once', async () => {
      for (let round = 0; round < 5; round += 1) {
        const target = join(dest, `round-${round}`);
        const archive = await buildTar([
          { name: 'big/one.bin', content: Buffer.alloc(2 * 1024 * 1024, 1) },
          { name: 'big/two.bin', content: Buffer.alloc(64 * 1024, 2) },
          { name: 'three.txt', content: 'x' },
        ]);
        // Cut inside the third header: the stream fails while the first files may still be written.
        const cut = archive.subarray(0, 512 + 2 * 1024 * 1024 + 512 + 64 * 1024 + 100);
        const error = await rejectsWithPitlane(extractArchive(streamOf(cut, 16 * 1024), target));
        expect(error.status).toBe(400);
        const snapshot = () => listTree(target).map((p) => `${p}:${lstatSync(join(target, p)).size}`);
        const before = snapshot();
        await new Promise((resolve) => setTimeout(resolve, 30));
        expect(snapshot()).toEqual(before);
      }
    });

    it('bytes that are not a tar at all', async () => {
      await expectInvalid(Buffer.from('this is definitely not a tar archive, just text\n'.repeat(20)), /corrupt or truncated/);
    });
  });

  describe('limits', () => {
    it('413 over maxBytes', async () => {
      const error = await rejectsWithPitlane(
        extract([{ name: 'a.txt', content: 'a'.repeat(600) }, { name: 'b.txt', content: 'b'.repeat(600) }], { maxBytes: 1000, maxEntries: 100 }),
      );
      expect(error).toMatchObject({ status: 413, code: 'ARCHIVE_TOO_LARGE' });
      expect(error.message).toContain('1000 bytes');
      expect(existsSync(join(dest, 'b.txt'))).toBe(false);
    });

    it('413 over maxBytes for a single big file, before it is written', async () => {
      const error = await rejectsWithPitlane(extract([{ name: 'big.bin', content: Buffer.alloc(64 * 1024) }], { maxBytes: 1024, maxEntries: 100 }));
      expect(error).toMatchObject({ status: 413, code: 'ARCHIVE_TOO_LARGE' });
      expect(existsSync(join(dest, 'big.bin'))).toBe(false);
    });

    it('413 over maxBytes counts uncompressed bytes (a small gzip bomb)', async () => {
      const gz = await buildTarGz([{ name: 'zeros.bin', content: Buffer.alloc(1024 * 1024) }]);
      expect(gz.length).toBeLessThan(8 * 1024);
      const error = await rejectsWithPitlane(extractArchive(streamOf(gz), dest, { maxBytes: 100 * 1024, maxEntries: 10 }));
      expect(error).toMatchObject({ status: 413, code: 'ARCHIVE_TOO_LARGE' });
    });

    it('accepts exactly maxBytes', async () => {
      await expect(extract([{ name: 'a.txt', content: 'a'.repeat(1000) }], { maxBytes: 1000, maxEntries: 1 })).resolves.toEqual({ entries: 1, bytes: 1000 });
    });

    it('413 over maxEntries', async () => {
      const entries = Array.from({ length: 5 }, (_, i): TarEntry => ({ name: `f${i}.txt`, content: `${i}` }));
      const error = await rejectsWithPitlane(extract(entries, { maxBytes: 1_000_000, maxEntries: 3 }));
      expect(error).toMatchObject({ status: 413, code: 'ARCHIVE_TOO_LARGE' });
      expect(error.message).toContain('3 entries');
      expect(existsSync(join(dest, 'f3.txt'))).toBe(false);
    });

    it('counts directory and symlink entries towards maxEntries', async () => {
      const error = await rejectsWithPitlane(
        extract([{ name: 'd/', type: 'directory' }, { name: 'l', type: 'symlink', linkname: 'd' }, { name: 'e/', type: 'directory' }], {
          maxBytes: 1000,
          maxEntries: 2,
        }),
      );
      expect(error.status).toBe(413);
    });
  });

  it('never writes outside the destination, whatever the entry names (property)', async () => {
    const segment = fc.constantFrom('..', '.', '', 'a', 'b', 'x', SENTINEL, 'dest', '...', '\\..', 'C:', '%2e%2e');
    const name = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')),
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
      fc.string({ maxLength: 20 }).filter((s) => s.length > 0),
    );
    const entry = fc.record({
      name,
      type: fc.constantFrom('file', 'file', 'directory', 'symlink') as fc.Arbitrary<'file' | 'directory' | 'symlink'>,
      linkname: fc.oneof(fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')), fc.constant(parent?.path ?? '/')),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), async (entries) => {
        run += 1;
        const target = join(dest, `run-${run}`);
        const tarEntries: TarEntry[] = entries.map((e) =>
          e.type === 'symlink' ? { name: e.name, type: 'symlink', linkname: e.linkname } : e.type === 'directory' ? { name: e.name, type: 'directory' } : { name: e.name, content: 'pwned' },
        );
        let archive: Buffer;
        try {
          archive = await buildTar(tarEntries);
        } catch {
          return; // tar-stream cannot encode this name; nothing to test
        }
        try {
          await extractArchive(streamOf(archive), target);
        } catch (error) {
          expect(isPitlaneError(error), String(error)).toBe(true);
        }
        assertNothingOutside();
        expect(readdirSync(dest).every((n) => n.startsWith('run-'))).toBe(true);
        // Whatever was extracted resolves inside the run's directory when followed by the kernel.
        const root = realpathSync.native(target);
        for (const path of listTree(target)) {
          let real: string;
          try {
            real = realpathSync.native(join(target, path));
          } catch {
            continue; // dangling or looping link: nothing to follow
          }
          expect(real === root || real.startsWith(`${root}/`), `${path} -> ${real}`).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('extractArchive with an existing destination', () => {
  useDestination();

  it('extracts into an existing directory and refuses to replace files already there', async () => {
    mkdirSync(dest);
    writeFileSync(join(dest, 'existing.txt'), 'keep');
    await expectInvalid([{ name: 'existing.txt', content: 'replace' }], /duplicate/);
    expect(readFileSync(join(dest, 'existing.txt'), 'utf8')).toBe('keep');
  });
});
