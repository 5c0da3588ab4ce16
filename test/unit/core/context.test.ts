import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dockerignoreMatcher, loadDockerignore, packContext, packContextGzip } from '../../../src/build/context.js';
import { readTar, tempDir } from './helpers.js';

describe('dockerignoreMatcher', () => {
  function ignored(text: string, paths: string[], keep: string[] = []): string[] {
    const matches = dockerignoreMatcher(text, keep);
    return paths.filter((p) => matches(p));
  }

  it('ignores nothing for an empty file', () => {
    expect(ignored('', ['a', 'b/c', 'Dockerfile'])).toEqual([]);
  });

  it('"*" matches top-level entries (and so everything below them)', () => {
    expect(ignored('*', ['a.txt', 'src', 'src/main.py', 'Dockerfile'])).toEqual(['a.txt', 'src', 'src/main.py', 'Dockerfile']);
  });

  it('"*.log" matches only at the root, "**/*.log" at every depth', () => {
    const paths = ['a.log', 'dir/b.log', 'dir/sub/c.log', 'a.txt', 'log'];
    expect(ignored('*.log', paths)).toEqual(['a.log']);
    expect(ignored('**/*.log', paths)).toEqual(['a.log', 'dir/b.log', 'dir/sub/c.log']);
  });

  it('a plain name matches only at the root, with everything below it', () => {
    expect(ignored('node_modules', ['node_modules', 'node_modules/x/index.js', 'pkg/node_modules', 'pkg/node_modules/y.js'])).toEqual([
      'node_modules',
      'node_modules/x/index.js',
    ]);
  });

  it('"dir/*" matches the children of dir, not dir', () => {
    expect(ignored('build/*', ['build', 'build/out.o', 'build/sub/x'])).toEqual(['build/out.o', 'build/sub/x']);
  });

  it('"!" re-includes, and the last matching pattern wins', () => {
    expect(ignored('*.txt\n!keep.txt', ['a.txt', 'keep.txt', 'b.md'])).toEqual(['a.txt']);
    expect(ignored('!keep.txt\n*.txt', ['a.txt', 'keep.txt'])).toEqual(['a.txt', 'keep.txt']);
    expect(ignored('*\n!src\n!requirements.txt', ['src', 'src/app.py', 'requirements.txt', 'secret.env', 'tests/t.py'])).toEqual([
      'secret.env',
      'tests/t.py',
    ]);
  });

  it('re-includes a file below an ignored directory', () => {
    expect(ignored('vendor\n!vendor/keep.txt', ['vendor/drop.txt', 'vendor/keep.txt'])).toEqual(['vendor/drop.txt']);
  });

  it('skips comments and blank lines, trims spaces, and accepts CRLF', () => {
    const text = '# a comment\r\n\r\n   secret.env   \r\n#*.txt\r\n  # indented comment\r\n';
    expect(ignored(text, ['secret.env', 'a.txt', '# indented comment', '#*.txt'])).toEqual(['secret.env']);
  });

  it('cleans patterns like Docker: leading "/" and "./"', () => {
    expect(ignored('/build\n./dist', ['build', 'build/x', 'dist/y', 'src/build'])).toEqual(['build', 'build/x', 'dist/y']);
  });

  it('supports "?" and character classes', () => {
    expect(ignored('file?.txt\n[ab].md', ['file1.txt', 'file12.txt', 'a.md', 'c.md'])).toEqual(['file1.txt', 'a.md']);
  });

  it('is case-sensitive', () => {
    expect(ignored('README.md', ['README.md', 'readme.md'])).toEqual(['README.md']);
  });

  it('always keeps the paths in `keep` (the Dockerfile and .dockerignore)', () => {
    const keep = ['Dockerfile', '.dockerignore'];
    expect(ignored('*\n.*', ['Dockerfile', '.dockerignore', 'other', '.env'], keep)).toEqual(['other', '.env']);
    expect(ignored('Dockerfile\n.dockerignore', ['Dockerfile', '.dockerignore'], keep)).toEqual([]);
  });

  it('normalises a "./" prefix in keep paths', () => {
    expect(ignored('*', ['Dockerfile.prod', 'x'], ['./Dockerfile.prod'])).toEqual(['x']);
  });

  it('never ignores the root itself', () => {
    expect(ignored('*\n**\n.', [''])).toEqual([]);
  });
});

describe('loadDockerignore', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('dockerignore');
  });
  afterEach(() => dir.remove());

  it('reads .dockerignore and keeps the given Dockerfile and .dockerignore', () => {
    writeFileSync(join(dir.path, '.dockerignore'), '*\n');
    const matches = loadDockerignore(dir.path, 'build/App.Dockerfile');
    expect(matches('build/App.Dockerfile')).toBe(false);
    expect(matches('.dockerignore')).toBe(false);
    expect(matches('Dockerfile')).toBe(true);
    expect(matches('anything')).toBe(true);
  });

  it('ignores nothing without a .dockerignore', () => {
    const matches = loadDockerignore(dir.path, 'Dockerfile');
    expect(matches('anything')).toBe(false);
    expect(matches('deep/er/path')).toBe(false);
  });
});

describe('packContext', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('context');
  });
  afterEach(() => dir.remove());

  function write(files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) {
      const path = join(dir.path, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
  }

  function files(entries: Map<string, { type: string }>): string[] {
    return [...entries].filter(([, e]) => e.type === 'file').map(([name]) => name).sort();
  }

  it('packs the directory without the ignored files', async () => {
    write({
      Dockerfile: 'FROM scratch\nCOPY . /app\n',
      '.dockerignore': '# build junk\n**/*.log\nsecret.env\nnode_modules\n*.tmp\n!important.tmp\n',
      'src/main.py': 'print(1)\n',
      'src/debug.log': 'log',
      'deep/er/trace.log': 'log',
      'app.log': 'log',
      'secret.env': 'TOKEN=x',
      'node_modules/pkg/index.js': 'module.exports = 1',
      'scratch.tmp': 'tmp',
      'important.tmp': 'keep me',
      'sub/secret.env': 'only the root one is ignored',
    });
    const entries = await readTar(packContext(dir.path));
    expect(files(entries)).toEqual(['.dockerignore', 'Dockerfile', 'important.tmp', 'src/main.py', 'sub/secret.env']);
    expect([...entries.keys()].some((name) => name.startsWith('node_modules'))).toBe(false);
    expect(entries.get('Dockerfile')?.content).toBe('FROM scratch\nCOPY . /app\n');
    expect(entries.get('src/main.py')?.content).toBe('print(1)\n');
  });

  it('packs everything when there is no .dockerignore', async () => {
    write({ Dockerfile: 'FROM scratch\n', 'a/b/c.txt': 'c', '.hidden': 'h' });
    const entries = await readTar(packContext(dir.path));
    expect(files(entries)).toEqual(['.hidden', 'Dockerfile', 'a/b/c.txt']);
  });

  it('always sends the Dockerfile and .dockerignore, even when ignored', async () => {
    write({ Dockerfile: 'FROM scratch\n', '.dockerignore': 'Dockerfile\n.dockerignore\n*.txt\n', 'a.txt': 'a', 'b.md': 'b' });
    expect(files(await readTar(packContext(dir.path)))).toEqual(['.dockerignore', 'Dockerfile', 'b.md']);
  });

  it('always sends a custom Dockerfile path', async () => {
    write({ 'Dockerfile.prod': 'FROM scratch\n', '.dockerignore': '*\n!app\n', 'app/x.py': 'x', 'other.txt': 'o' });
    expect(files(await readTar(packContext(dir.path, 'Dockerfile.prod')))).toEqual(['.dockerignore', 'Dockerfile.prod', 'app/x.py']);
  });

  it('sends a Dockerfile that lives in an ignored directory, as the Docker CLI does', async () => {
    write({ 'docker/Dockerfile': 'FROM scratch\n', 'docker/notes.md': 'n', '.dockerignore': '*\n!app\n', 'app/x.py': 'x', 'other.txt': 'o' });
    expect(files(await readTar(packContext(dir.path, 'docker/Dockerfile')))).toEqual(['.dockerignore', 'app/x.py', 'docker/Dockerfile']);
  });

  it('sends a file re-included below an ignored directory', async () => {
    write({ Dockerfile: 'FROM scratch\n', '.dockerignore': 'vendor\n!vendor/keep/this.txt\n', 'vendor/drop.txt': 'd', 'vendor/keep/this.txt': 'k', 'vendor/keep/not.txt': 'n' });
    expect(files(await readTar(packContext(dir.path)))).toEqual(['.dockerignore', 'Dockerfile', 'vendor/keep/this.txt']);
  });

  it('does not descend into an ignored file named like the start of an exception', async () => {
    write({ Dockerfile: 'FROM scratch\n', '.dockerignore': 'vendor\n!vendor/keep.txt\n', vendor: 'a file, not a directory' });
    expect(files(await readTar(packContext(dir.path)))).toEqual(['.dockerignore', 'Dockerfile']);
  });

  it('keeps symlinks as links and sets uid/gid 0', async () => {
    write({ Dockerfile: 'FROM scratch\n', 'real.txt': 'real' });
    symlinkSync('real.txt', join(dir.path, 'link.txt'));
    const entries = await readTar(packContext(dir.path));
    expect(entries.get('link.txt')).toMatchObject({ type: 'symlink', linkname: 'real.txt' });
    expect(entries.get('real.txt')).toMatchObject({ type: 'file', uid: 0 });
  });

  it('packContextGzip produces the same entries, gzip-compressed', async () => {
    write({ Dockerfile: 'FROM scratch\n', '.dockerignore': '*.log\n', 'a.log': 'x', 'b.txt': 'b' });
    const chunks: Buffer[] = [];
    for await (const chunk of packContextGzip(dir.path)) chunks.push(chunk as Buffer);
    const gz = Buffer.concat(chunks);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    expect(files(await readTar(Readable.from([gunzipSync(gz)])))).toEqual(['.dockerignore', 'Dockerfile', 'b.txt']);
  });
});
