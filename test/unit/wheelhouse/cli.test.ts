import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Command } from 'commander';
import fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/api/errors.js';
import { registerWheelRoutes } from '../../../src/api/wheel-routes.js';
import { PitlaneClient } from '../../../src/cli/client.js';
import { CliExit } from '../../../src/cli/output.js';
import { localRequirements, packSources, registerWheelCommands } from '../../../src/cli/wheel-commands.js';
import { Wheelhouse, WheelBuildService } from '../../../src/wheelhouse/index.js';
import { FakeEngine, readTar } from './fake-engine.js';
import { makeWheel, tempDir } from './helpers.js';

function packageDir(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, name.replace(/-/g, '_')), { recursive: true });
  mkdirSync(join(dir, '__pycache__'));
  writeFileSync(join(dir, 'pyproject.toml'), `[project]\nname = "${name}"\n`);
  writeFileSync(join(dir, '__pycache__', 'x.pyc'), 'junk');
  return dir;
}

describe('localRequirements', () => {
  it('rewrites local directory requirements to ./<base name> and collects them', () => {
    const root = tempDir();
    const libs = join(root, 'libs');
    packageDir(libs, 'alpha');
    packageDir(root, 'beta');
    const extra = packageDir(tempDir(), 'gamma');
    const text = ['requests==2.0', './libs/alpha', '-e ../missing', '-e ./beta[extra] ; python_version>"3"', '/nonexistent/pkg', '# ./libs/alpha', ''].join('\n');
    const result = localRequirements(text, root, [extra]);
    expect(result.text).toBe(['requests==2.0', './alpha', '-e ../missing', '-e ./beta[extra] ; python_version>"3"', '/nonexistent/pkg', '# ./libs/alpha', ''].join('\n'));
    expect([...result.dirs.keys()].sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(result.dirs.get('alpha')).toBe(join(libs, 'alpha'));
  });

  it('refuses two directories with one base name, and --source that is not a directory', () => {
    const root = tempDir();
    packageDir(join(root, 'a'), 'pkg');
    packageDir(join(root, 'b'), 'pkg');
    expect(() => localRequirements('./a/pkg\n./b/pkg\n', root)).toThrow(CliExit);
    expect(() => localRequirements('x', root, [join(root, 'nope')])).toThrow(/not a directory/);
  });
});

describe('packSources', () => {
  it('packs each directory under its base name without caches', async () => {
    const root = tempDir();
    const dirs = new Map([['alpha', packageDir(root, 'alpha')]]);
    const archive = await packSources(dirs);
    const entries = await readTar(Readable.from([archive]).pipe(createGunzip()));
    expect([...entries.keys()].sort()).toEqual(['alpha', 'alpha/alpha', 'alpha/pyproject.toml']);
  });
});

describe('pitlane wheels (against a server with the wheel routes)', () => {
  let app: FastifyInstance;
  let url: string;
  let wheelhouse: Wheelhouse;
  let engine: FakeEngine;
  let builds: WheelBuildService;

  beforeAll(async () => {
    wheelhouse = new Wheelhouse(join(tempDir(), 'wheelhouse'));
    await wheelhouse.init();
    engine = new FakeEngine();
    builds = new WheelBuildService({ wheelhouse, engine });
    await builds.init();
    app = fastify();
    app.setErrorHandler(errorHandler);
    await app.register(multipart, { limits: { fileSize: 1024 * 1024, files: 2 } });
    app.register(async (scope) => registerWheelRoutes(scope, { wheelhouse, builds }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await builds.close();
    await app.close();
  });

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const program = new Command().exitOverride();
    registerWheelCommands(program, { out: (t) => (out += t), err: (t) => (err += t) }, () => new PitlaneClient({ url, token: undefined }));
    let code = 0;
    try {
      await program.parseAsync(['node', 'pitlane', ...args]);
    } catch (error) {
      if (error instanceof CliExit) code = error.code;
      else {
        err += String((error as Error).message);
        code = 1;
      }
    }
    return { code, out, err };
  }

  it('uploads, lists and deletes wheels', async () => {
    const dir = tempDir();
    const good = makeWheel('uploaded', '1.0');
    const liar = makeWheel('liar', '1.0', { metadataName: 'someone' });
    writeFileSync(join(dir, good.filename), good.data);
    writeFileSync(join(dir, liar.filename), liar.data);
    const upload = await cli('wheels', 'upload', join(dir, good.filename), join(dir, liar.filename));
    expect(upload.code).toBe(1);
    expect(upload.out).toContain(`uploaded ${good.filename}`);
    expect(upload.err).toContain('METADATA.Name');
    const list = await cli('wheels', 'list');
    expect(list.out).toContain('uploaded');
    expect(list.out).toContain('py3-none-any');
    expect(list.out).toContain('1 wheel');
    const json = JSON.parse((await cli('wheels', 'list', '--json')).out);
    expect(json[0]).toMatchObject({ filename: good.filename, name: 'uploaded' });
    expect((await cli('wheels', 'delete', good.filename)).out).toContain(`deleted ${good.filename}`);
    expect((await cli('wheels', 'delete', good.filename)).code).toBe(1);
    expect(wheelhouse.list()).toEqual([]);
  });

  it('builds from a requirements file, sending local packages, and waits for the result', async () => {
    const root = tempDir();
    packageDir(root, 'localpkg');
    writeFileSync(join(root, 'requirements.txt'), './localpkg\nother==1.0\n');
    const built = makeWheel('localpkg', '0.1');
    engine.next = { wheels: [built], lines: ['Successfully built localpkg'] };
    const result = await cli('wheels', 'build', '-r', join(root, 'requirements.txt'));
    expect(result.code).toBe(0);
    expect(result.out).toContain(`added   ${built.filename}`);
    const run = engine.runs.at(-1);
    expect(run?.context.get('src/.pitlane-requirements.txt')?.toString()).toBe('./localpkg\nother==1.0\n');
    expect(run?.context.has('src/localpkg/pyproject.toml')).toBe(true);
    const listed = await cli('wheels', 'builds');
    expect(listed.out).toContain('succeeded');
  });

  it('exits 1 with the reason and the log tail when the build fails', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'requirements.txt'), 'ghost==1\n');
    engine.next = { exitCode: 1, lines: ['ERROR: No matching distribution found for ghost==1'] };
    const result = await cli('wheels', 'build', '-r', join(root, 'requirements.txt'));
    expect(result.code).toBe(1);
    expect(result.err).toContain('wheelhouse cannot satisfy "ghost==1"');
    expect(result.err).toContain('│ ERROR: No matching distribution found for ghost==1');
    const id = /pitlane wheels builds (\S+)/.exec(result.err)?.[1] ?? '';
    const shown = await cli('wheels', 'builds', id);
    expect(shown.out).toContain('ERROR: No matching distribution found for ghost==1');
  });

  it('prints only the id with --no-wait, and exits 2 for a missing requirements file', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'r.txt'), 'x\n');
    engine.next = {};
    const result = await cli('wheels', 'build', '-r', join(root, 'r.txt'), '--no-wait');
    expect(result.out.trim()).toMatch(/^[0-9a-f-]{36}$/);
    await builds.wait(result.out.trim());
    expect((await cli('wheels', 'build', '-r', join(root, 'missing.txt'))).code).toBe(2);
  });
});
