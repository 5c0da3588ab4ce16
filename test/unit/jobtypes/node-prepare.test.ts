/**
 * nodeBuilder.prepare on real directories: the files it writes, the errors it gives, and the
 * generated Dockerfile of every kind of job linted with zero findings. One test compiles a
 * prepared TypeScript job with the generated tsconfig (the repository's own typescript 5.9.3)
 * and checks the JavaScript it writes.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { packContext } from '../../../src/build/context.js';
import { lintDockerfile } from '../../../src/dockerfile/index.js';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { createNodeBuilder, DEFAULT_NODE_WRAPPER_DIR, NODE_DOCKERFILE, nodeBuilder } from '../../../src/jobtypes/node/index.js';
import type { JobTypeSettings } from '../../../src/jobtypes/types.js';
import { validateManifest } from '../../../src/manifest/index.js';
import type { JobManifest } from '../../../src/manifest/types.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SHA = '0123456789abcdef0123456789abcdef01234567';
const SETTINGS: JobTypeSettings = { baseImages: {}, wheelhouseDir: null, commit: null };

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh job directory with `files` (path → content). */
function jobDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pitlane-node-prepare-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function manifest(extra: Record<string, unknown>, name = 'adder-node'): JobManifest {
  return validateManifest({ name, version: '1.0.0', owner_email: 'a@example.com', jobtype: 'node', jobtype_extra: extra }).manifest;
}

async function errorOf(promise: Promise<unknown>): Promise<PitlaneError> {
  try {
    await promise;
  } catch (e) {
    if (isPitlaneError(e)) return e;
    throw e;
  }
  throw new Error('expected a PitlaneError');
}

/** Names of the entries of a tar stream. */
async function tarNames(stream: NodeJS.ReadableStream): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  await new Promise<void>((done, fail) => {
    extract.on('entry', (header, body, next) => {
      names.push(header.name.replace(/\/$/, ''));
      body.resume();
      body.on('end', next);
    });
    extract.on('finish', done);
    extract.on('error', fail);
    stream.pipe(extract);
  });
  return names.sort();
}

const LOCK = JSON.stringify({ name: 'j', lockfileVersion: 3, requires: true, packages: { '': { name: 'j' } } });

describe('nodeBuilder.prepare: generated files', () => {
  it('the example (TypeScript, own compiler, lockfile): wrapper, tsconfig, Dockerfile, .dockerignore', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-node-prepare-'));
    dirs.push(dir);
    cpSync(join(REPO, 'examples/adder-node'), dir, { recursive: true });
    const prepared = await nodeBuilder.prepare(manifest({ entrypoint_path: 'adder.ts' }), dir, { ...SETTINGS, commit: SHA });
    expect(prepared).toEqual({
      dockerfilePath: '.pitlane/Dockerfile',
      port: 7000,
      readinessPath: '/ready',
      warnings: [],
      // The Dockerfile sets the pipeline's labels itself (one LABEL before the code), so the build API adds none after it.
      imageLabels: { 'pitlane.job': 'adder-node', 'pitlane.version': '1.0.0', 'pitlane.jobtype': 'node', 'pitlane.managed': 'true', 'pitlane.git-commit': SHA, 'org.opencontainers.image.revision': SHA },
    });
    expect(NODE_DOCKERFILE).toBe('.pitlane/Dockerfile');
    expect(readdirSync(join(dir, '.pitlane')).sort()).toEqual(['Dockerfile', 'tsconfig.json', 'wrapper']);
    expect(readdirSync(join(dir, '.pitlane/wrapper')).sort()).toEqual(['job.mjs', 'metrics.mjs', 'openapi.mjs', 'package.json', 'server.mjs']);
    expect(existsSync(join(DEFAULT_NODE_WRAPPER_DIR, 'README.md'))).toBe(true);
    const dockerfile = readFileSync(join(dir, '.pitlane/Dockerfile'), 'utf8');
    expect(dockerfile).toContain('FROM node:24-slim AS deps');
    // The runtime: debian:bookworm-slim and the node binary alone, by default.
    expect(dockerfile).toContain('FROM debian:bookworm-slim AS runtime');
    expect(dockerfile).toContain('COPY --from=node /usr/local/bin/node /usr/local/bin/node');
    expect(dockerfile).toContain('RUN ./node_modules/.bin/tsc --project .pitlane/tsconfig.json');
    expect(dockerfile).toContain(`pitlane.git-commit="${SHA}"`);
    expect(dockerfile).toContain('CMD ["node", "--enable-source-maps", "/opt/pitlane/wrapper/server.mjs", "/app/adder.js"]');
    expect(lintDockerfile(dockerfile, { hasDockerignore: true }).findings).toEqual([]);
    const tsconfig = JSON.parse(readFileSync(join(dir, '.pitlane/tsconfig.json'), 'utf8'));
    expect(tsconfig).toMatchObject({ extends: '../tsconfig.json', files: ['../adder.ts'] });
    expect(readFileSync(join(dir, '.dockerignore'), 'utf8')).toContain('**/node_modules');
  });

  it('JavaScript without package.json: no deps stage, no tsconfig, the configured base images', async () => {
    const dir = jobDir({ 'src/job.mjs': 'export const perform = () => 1;\n' });
    const prepared = await nodeBuilder.prepare(manifest({ entrypoint_path: 'src/job.mjs', node_version: '22' }), dir, {
      ...SETTINGS,
      baseImages: { node: { '22': 'node:22-slim' }, 'node-runtime': { '22': 'mirror.example.com/debian:bookworm-slim' }, python3: { '3.11': 'python:3.11-slim' } },
    });
    expect(prepared.warnings).toEqual([]);
    expect(existsSync(join(dir, '.pitlane/tsconfig.json'))).toBe(false);
    const dockerfile = readFileSync(join(dir, prepared.dockerfilePath), 'utf8');
    expect(dockerfile.match(/^FROM .*/gm)).toEqual(['FROM node:22-slim AS source', 'FROM node:22-slim AS node', 'FROM mirror.example.com/debian:bookworm-slim AS runtime']);
    // Configured as the node image itself: the runtime stage is the node image.
    await nodeBuilder.prepare(manifest({ entrypoint_path: 'src/job.mjs', node_version: '22' }), dir, {
      ...SETTINGS,
      baseImages: { node: { '22': 'node:22-slim' }, 'node-runtime': { '22': 'node:22-slim' } },
    });
    expect(readFileSync(join(dir, prepared.dockerfilePath), 'utf8').match(/^FROM .*/gm)).toEqual(['FROM node:22-slim AS source', 'FROM node:22-slim AS runtime']);
    expect(dockerfile).toContain('"/app/src/job.mjs"]');
  });

  it('warns without a lockfile and about unknown keys; writes npm install', async () => {
    const dir = jobDir({ 'job.js': 'exports.perform = () => 1;\n', 'package.json': '{"dependencies":{"ms":"^2.1.3"}}' });
    const prepared = await nodeBuilder.prepare(manifest({ entrypoint_path: 'job.js', colour: 'red' }), dir, SETTINGS);
    expect(prepared.warnings).toEqual([
      'jobtype_extra.colour is not a node job type option; ignored',
      expect.stringMatching(/^package\.json has no package-lock\.json/),
    ]);
    expect(readFileSync(join(dir, prepared.dockerfilePath), 'utf8')).toContain('RUN npm install --omit=dev --no-audit --no-fund');
  });

  it('replaces a stale .pitlane/ and is repeatable on the same directory', async () => {
    const dir = jobDir({ 'job.mjs': 'export const perform = () => 1;\n', '.pitlane/old.txt': 'stale', '.dockerignore': '*\n!job.mjs\n' });
    await nodeBuilder.prepare(manifest({ entrypoint_path: 'job.mjs' }), dir, SETTINGS);
    const first = readFileSync(join(dir, '.dockerignore'), 'utf8');
    await nodeBuilder.prepare(manifest({ entrypoint_path: 'job.mjs' }), dir, SETTINGS);
    expect(readFileSync(join(dir, '.dockerignore'), 'utf8')).toBe(first);
    expect(existsSync(join(dir, '.pitlane/old.txt'))).toBe(false);
  });

  it("keeps the job's .dockerignore and adds what the build needs: the packed context has it all, and no node_modules", async () => {
    const dir = jobDir({
      '.dockerignore': '# mine\n*\n!src\n',
      'src/job.ts': 'export const perform = (): number => 1;\n',
      'src/node_modules/x/index.js': '',
      'node_modules/ms/index.js': '',
      'package.json': '{"type":"module","devDependencies":{"typescript":"5.9.3"}}',
      'package-lock.json': LOCK,
      'tsconfig.json': '{}',
      'secret.txt': 'no',
    });
    const prepared = await nodeBuilder.prepare(manifest({ entrypoint_path: 'src/job.ts' }), dir, SETTINGS);
    const ignore = readFileSync(join(dir, '.dockerignore'), 'utf8');
    expect(ignore.startsWith('# mine\n*\n!src\n')).toBe(true);
    expect(ignore).toContain('# --- added by Pitlane (node job type) ---');
    const names = await tarNames(packContext(dir, prepared.dockerfilePath));
    expect(names).toEqual(
      expect.arrayContaining([
        '.dockerignore',
        '.pitlane/Dockerfile',
        '.pitlane/tsconfig.json',
        '.pitlane/wrapper/server.mjs',
        '.pitlane/wrapper/job.mjs',
        '.pitlane/wrapper/metrics.mjs',
        '.pitlane/wrapper/openapi.mjs',
        '.pitlane/wrapper/package.json',
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'src/job.ts',
      ]),
    );
    expect(names.filter((n) => n.includes('node_modules') || n === 'secret.txt')).toEqual([]);
  });

  it('takes the job typescript version into account (old compilers type-check, with a warning)', async () => {
    const dir = jobDir({
      'job.ts': 'export const perform = (): number => 1;\n',
      'package.json': '{"devDependencies":{"typescript":"5.4.5"}}',
      'package-lock.json': JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/typescript': { version: '5.4.5' } } }),
    });
    const prepared = await nodeBuilder.prepare(manifest({ entrypoint_path: 'job.ts' }), dir, SETTINGS);
    expect(prepared.warnings).toEqual(['typescript 5.4.5 cannot compile without type checking (needs 5.6+): type errors will fail the build']);
    const tsconfig = JSON.parse(readFileSync(join(dir, '.pitlane/tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions.noCheck).toBeUndefined();
    expect(tsconfig.compilerOptions.rewriteRelativeImportExtensions).toBeUndefined();
  });

  it('fails clearly when the wrapper is missing from the installation', async () => {
    const dir = jobDir({ 'job.mjs': 'export const perform = () => 1;\n' });
    const error = await errorOf(createNodeBuilder({ wrapperDir: join(dir, 'nowhere/') }).prepare(manifest({ entrypoint_path: 'job.mjs' }), dir, SETTINGS));
    expect(error.code).toBe('WRAPPER_MISSING');
  });
});

describe('nodeBuilder.prepare: bad input (422 naming the field or file)', () => {
  it('a missing entrypoint file, with a hint when the other extension exists', async () => {
    const dir = jobDir({ 'adder.ts': 'export const perform = () => 1;\n' });
    const error = await errorOf(nodeBuilder.prepare(manifest({ entrypoint_path: 'adder.js' }), dir, SETTINGS));
    expect(error.status).toBe(422);
    expect(error.code).toBe('JOBTYPE_EXTRA_INVALID');
    expect(error.details).toEqual([{ path: 'jobtype_extra.entrypoint_path', message: '"adder.js" does not exist in the job directory (there is adder.ts)' }]);
    expect(existsSync(join(dir, '.pitlane'))).toBe(false);
  });

  it('an entrypoint that is a directory, or a link leaving the job directory', async () => {
    const outside = jobDir({ 'evil.js': 'exports.perform = () => 1;\n' });
    const dir = jobDir({ 'lib.js/x': '' });
    symlinkSync(join(outside, 'evil.js'), join(dir, 'link.js'));
    expect((await errorOf(nodeBuilder.prepare(manifest({ entrypoint_path: 'lib.js' }), dir, SETTINGS))).details[0]!.message).toBe('"lib.js" is not a file');
    expect((await errorOf(nodeBuilder.prepare(manifest({ entrypoint_path: 'link.js' }), dir, SETTINGS))).details[0]!.message).toBe(
      '"link.js" is a link to a file outside the job directory',
    );
  });

  it('manifest problems come before file checks', async () => {
    const dir = jobDir({});
    const error = await errorOf(nodeBuilder.prepare(manifest({}), dir, SETTINGS));
    expect(error.details.map((d) => d.path)).toEqual(['jobtype_extra.entrypoint_path']);
  });

  it('an invalid package.json', async () => {
    const dir = jobDir({ 'job.js': '', 'package.json': '{ "dependencies": { "ms": "^2" }, }' });
    const error = await errorOf(nodeBuilder.prepare(manifest({ entrypoint_path: 'job.js' }), dir, SETTINGS));
    expect(error.code).toBe('PACKAGE_JSON_INVALID');
    expect(error.details[0]).toMatchObject({ path: 'package.json', line: 1 });
  });
});

describe('nodeBuilder.prepare: zero lint findings for every kind of job', () => {
  type Kind = { name: string; files: Record<string, string>; extra: Record<string, unknown> };
  const projects: Array<[string, Record<string, string>]> = [
    ['no package.json', {}],
    ['package.json without lockfile', { 'package.json': '{"dependencies":{"ms":"2.1.3"}}' }],
    ['package.json + lockfile', { 'package.json': '{"type":"module","dependencies":{"ms":"2.1.3"}}', 'package-lock.json': LOCK }],
    ['package.json + shrinkwrap + .npmrc', { 'package.json': '{}', 'npm-shrinkwrap.json': LOCK, '.npmrc': 'fund=false\n' }],
    ['package.json listing typescript + lockfile', { 'package.json': '{"devDependencies":{"typescript":"5.9.3"}}', 'package-lock.json': LOCK }],
    ['tsconfig extending a package', { 'package.json': '{}', 'package-lock.json': LOCK, 'tsconfig.json': '{"extends":"@tsconfig/node24/tsconfig.json"}' }],
  ];
  const entries: Array<[string, Record<string, unknown>]> = [
    ['job.js', { entrypoint_path: 'job.js' }],
    ['lib/job.mjs', { entrypoint_path: 'lib/job.mjs' }],
    ['src/job.ts', { entrypoint_path: 'src/job.ts' }],
    ['src/job.ts typecheck', { entrypoint_path: 'src/job.ts', typecheck: true }],
  ];
  const kinds: Kind[] = [];
  for (const [projectName, files] of projects) {
    for (const [entryName, extra] of entries) {
      const entry = String(extra.entrypoint_path);
      for (const dockerignore of [false, true]) {
        kinds.push({
          name: `${projectName}, ${entryName}${dockerignore ? ', own .dockerignore' : ''}`,
          files: { ...files, [entry]: 'export const perform = () => 1;\n', ...(dockerignore ? { '.dockerignore': '.git\n' } : {}) },
          extra,
        });
      }
    }
  }

  it.each(kinds.map((k) => [k.name, k] as const))('%s', async (_name, kind) => {
    for (const commit of [null, SHA]) {
      const dir = jobDir(kind.files);
      const prepared = await nodeBuilder.prepare(manifest(kind.extra), dir, { ...SETTINGS, commit });
      const result = lintDockerfile(readFileSync(join(dir, prepared.dockerfilePath), 'utf8'), { hasDockerignore: existsSync(join(dir, '.dockerignore')) });
      expect(result.findings).toEqual([]);
      expect(existsSync(join(dir, '.dockerignore'))).toBe(true);
    }
  });
});

describe('the generated tsconfig compiles a job with the TypeScript the build stage uses', () => {
  it('examples/adder-node: adder.js and its source map next to adder.ts, loadable as ESM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-node-tsc-'));
    dirs.push(dir);
    cpSync(join(REPO, 'examples/adder-node'), dir, { recursive: true });
    writeFileSync(join(dir, 'helper.ts'), 'export const twice = (n: number): number => n * 2;\n');
    writeFileSync(
      join(dir, 'adder.ts'),
      `${readFileSync(join(dir, 'adder.ts'), 'utf8')}\nimport { twice } from './helper.ts';\nexport const doubled = (n: number): number => twice(n);\nconst wrong: string = 5; // a type error: ignored without typecheck\n`,
    );
    await nodeBuilder.prepare(manifest({ entrypoint_path: 'adder.ts' }), dir, SETTINGS);
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '--project', '.pitlane/tsconfig.json'], { cwd: dir, stdio: 'pipe' });
    expect(existsSync(join(dir, 'adder.js.map'))).toBe(true);
    const js = readFileSync(join(dir, 'adder.js'), 'utf8');
    expect(js).toMatch(/from ["']\.\/helper\.js["']/);
    expect(js).not.toContain(': number');
    const mod = (await import(join(dir, 'adder.js'))) as { perform: (i: { numbers: number[] }) => number; doubled: (n: number) => number; docsInputExample: unknown };
    expect(mod.perform({ numbers: [40, 2] })).toBe(42);
    expect(mod.doubled(21)).toBe(42);
    expect(mod.docsInputExample).toEqual({ numbers: [40, 2] });
  });

  it('a syntax error fails the compile with the file and position', () => {
    const dir = jobDir({ 'job.ts': 'export function perform(input: { a: number }): number {\n  return input.a +;\n}\n' });
    return nodeBuilder.prepare(manifest({ entrypoint_path: 'job.ts' }), dir, SETTINGS).then(() => {
      let output = '';
      try {
        execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '--project', '.pitlane/tsconfig.json'], { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout);
      }
      expect(output).toMatch(/job\.ts\(2,\d+\): error TS1109: Expression expected/);
    });
  });
});
