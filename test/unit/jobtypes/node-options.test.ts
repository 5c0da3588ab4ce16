import { describe, expect, it } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import {
  analyseNodeProject,
  contextRelativePath,
  DEFAULT_NODE_BASE_IMAGE,
  DEFAULT_NODE_VERSION,
  nodeBaseImage,
  parseNodeOptions,
  stripJsonComments,
  type ProjectFiles,
} from '../../../src/jobtypes/node/index.js';

/** The PitlaneError `fn` throws, or a failure when it does not throw. */
function errorOf(fn: () => unknown): PitlaneError {
  try {
    fn();
  } catch (e) {
    if (isPitlaneError(e)) return e;
    throw e;
  }
  throw new Error('expected a PitlaneError');
}

function paths(extra: Record<string, unknown>, baseImages: Record<string, string> = {}): string[] {
  const error = errorOf(() => parseNodeOptions(extra, baseImages));
  expect(error.status).toBe(422);
  expect(error.code).toBe('JOBTYPE_EXTRA_INVALID');
  return error.details.map((d) => d.path ?? '');
}

describe('parseNodeOptions', () => {
  it('defaults everything but entrypoint_path', () => {
    const { options, warnings } = parseNodeOptions({ entrypoint_path: 'adder.ts', user_module_port: 7004 });
    expect(options).toEqual({ entrypointPath: 'adder.ts', entrypointKind: 'ts', nodeVersion: '24', typecheck: false });
    expect(DEFAULT_NODE_VERSION).toBe('24');
    expect(warnings).toEqual([]);
  });

  it('knows the three entrypoint kinds and normalises paths', () => {
    expect(parseNodeOptions({ entrypoint_path: './src/./main.mjs' }).options).toMatchObject({ entrypointPath: 'src/main.mjs', entrypointKind: 'mjs' });
    expect(parseNodeOptions({ entrypoint_path: 'lib\\job.js' }).options).toMatchObject({ entrypointPath: 'lib/job.js', entrypointKind: 'js' });
    expect(parseNodeOptions({ entrypoint_path: 'a/../b/job.ts' }).options).toMatchObject({ entrypointPath: 'b/job.ts', entrypointKind: 'ts' });
  });

  it('takes node_version as a string or an integer, and typecheck', () => {
    const images = { '22': 'node:22-slim', '24.1': 'registry.local/node:24.1' };
    expect(parseNodeOptions({ entrypoint_path: 'a.js', node_version: 22 }, images).options.nodeVersion).toBe('22');
    expect(parseNodeOptions({ entrypoint_path: 'a.js', node_version: '24.1' }, images).options.nodeVersion).toBe('24.1');
    expect(parseNodeOptions({ entrypoint_path: 'a.ts', typecheck: true }).options.typecheck).toBe(true);
  });

  it('requires entrypoint_path', () => {
    expect(paths({})).toEqual(['jobtype_extra.entrypoint_path']);
    expect(paths({ entrypoint_path: null })).toEqual(['jobtype_extra.entrypoint_path']);
    expect(errorOf(() => parseNodeOptions({})).message).toMatch(/jobtype_extra\.entrypoint_path is required/);
  });

  it.each([
    [42, /must be a string/],
    [['a.js'], /must be a string \(got an array\)/],
    ['', /must not be empty/],
    ['/abs/job.js', /not an absolute path/],
    ['C:/job.js', /not an absolute path/],
    ['../outside.js', /must stay inside the job directory/],
    ['a/../../outside.js', /must stay inside the job directory/],
    ['src/', /must name a file/],
    ['.pitlane/wrapper/server.mjs', /must not be under `\.pitlane\/`/],
    ['node_modules/pkg/index.js', /must not be inside node_modules/],
    ['my job.js', /contains " "/],
    ['job.py', /must end in \.js, \.mjs or \.ts \(got \.py\)/],
    ['Makefile', /got no extension/],
    ['types.d.ts', /declaration file/],
    ['job.cjs', /got \.cjs/],
  ])('rejects entrypoint_path %j', (value, message) => {
    const error = errorOf(() => parseNodeOptions({ entrypoint_path: value }));
    expect(error.details).toHaveLength(1);
    expect(error.details[0]!.path).toBe('jobtype_extra.entrypoint_path');
    expect(error.details[0]!.message).toMatch(message);
  });

  it('rejects node versions without a base image, naming the ones there are', () => {
    const error = errorOf(() => parseNodeOptions({ entrypoint_path: 'a.js', node_version: '18' }, { '22': 'node:22-slim' }));
    expect(error.details).toEqual([{ path: 'jobtype_extra.node_version', message: expect.stringContaining('available: 22, 24') }]);
    expect(paths({ entrypoint_path: 'a.js', node_version: 'lts' })).toEqual(['jobtype_extra.node_version']);
    expect(paths({ entrypoint_path: 'a.js', node_version: 24.5 })).toEqual(['jobtype_extra.node_version']);
  });

  it('rejects a non-boolean typecheck', () => {
    expect(paths({ entrypoint_path: 'a.ts', typecheck: 'yes' })).toEqual(['jobtype_extra.typecheck']);
  });

  it('reports every problem at once', () => {
    expect(paths({ entrypoint_path: 'x.py', node_version: 'x', typecheck: 1 })).toEqual([
      'jobtype_extra.entrypoint_path',
      'jobtype_extra.node_version',
      'jobtype_extra.typecheck',
    ]);
  });

  it('warns about unknown keys and typecheck on JavaScript', () => {
    const { options, warnings } = parseNodeOptions({ entrypoint_path: 'a.js', typecheck: true, entrypoint_class: 'Adder' });
    expect(options.typecheck).toBe(false);
    expect(warnings).toEqual([
      'jobtype_extra.typecheck only applies to a TypeScript entrypoint; ignored',
      'jobtype_extra.entrypoint_class is not a node job type option; ignored',
    ]);
  });
});

describe('nodeBaseImage and contextRelativePath', () => {
  it('uses the configured image, else node:24-slim for 24', () => {
    expect(DEFAULT_NODE_BASE_IMAGE).toBe('node:24-slim');
    expect(nodeBaseImage('24')).toBe('node:24-slim');
    expect(nodeBaseImage('24', { '24': 'mirror.local/node:24.11-slim' })).toBe('mirror.local/node:24.11-slim');
    expect(nodeBaseImage('22', { '22': 'node:22-bookworm-slim' })).toBe('node:22-bookworm-slim');
  });

  it('normalises or explains', () => {
    expect(contextRelativePath('./a//b/./c.ts')).toEqual({ path: 'a/b/c.ts' });
    expect(contextRelativePath('a\0b')).toEqual({ error: 'must not contain NUL characters' });
  });
});

describe('analyseNodeProject', () => {
  const lock = (ts?: string): string =>
    JSON.stringify({ lockfileVersion: 3, packages: { '': {}, ...(ts ? { 'node_modules/typescript': { version: ts, dev: true } } : {}) } });

  it('no package.json: nothing to install', () => {
    const { project, warnings } = analyseNodeProject({});
    expect(project).toEqual({
      packageJson: false,
      lockfiles: [],
      npmrc: false,
      esm: false,
      typescript: { listed: false, version: null },
      tsconfig: { present: false, extendsPackage: false },
      foreignLockfiles: [],
    });
    expect(warnings).toEqual([]);
    expect(analyseNodeProject({ 'package-lock.json': lock() }).warnings).toEqual(['a lockfile without package.json: no dependencies are installed']);
  });

  it('package.json with a lockfile, .npmrc, ESM, typescript pinned by the lockfile', () => {
    const { project, warnings } = analyseNodeProject({
      'package.json': JSON.stringify({ type: 'module', devDependencies: { typescript: '^5.4.0' } }),
      'package-lock.json': lock('5.8.2'),
      '.npmrc': 'registry=https://npm.example/\n',
    });
    expect(project).toMatchObject({ packageJson: true, lockfiles: ['package-lock.json'], npmrc: true, esm: true, typescript: { listed: true, version: '5.8.2' } });
    expect(warnings).toEqual([]);
  });

  it('reads the lockfile v1 format and falls back to the range, or null for tags', () => {
    const v1 = JSON.stringify({ lockfileVersion: 1, dependencies: { typescript: { version: '4.9.5' } } });
    expect(analyseNodeProject({ 'package.json': '{"devDependencies":{"typescript":"4.9.x"}}', 'package-lock.json': v1 }).project.typescript.version).toBe('4.9.5');
    expect(analyseNodeProject({ 'package.json': '{"dependencies":{"typescript":"~5.7.2"}}' }).project.typescript.version).toBe('5.7.2');
    expect(analyseNodeProject({ 'package.json': '{"dependencies":{"typescript":"latest"}}' }).project.typescript).toEqual({ listed: true, version: null });
  });

  it('prefers npm-shrinkwrap.json and warns about yarn and pnpm lockfiles', () => {
    const { project, warnings } = analyseNodeProject({ 'package.json': '{}', 'npm-shrinkwrap.json': lock(), 'package-lock.json': lock(), 'yarn.lock': '' });
    expect(project.lockfiles).toEqual(['npm-shrinkwrap.json', 'package-lock.json']);
    expect(warnings).toEqual(['yarn.lock ignored: the node job type installs with npm from npm-shrinkwrap.json']);
  });

  it('warns when there is no lockfile (npm install instead of npm ci)', () => {
    const { project, warnings } = analyseNodeProject({ 'package.json': '{"dependencies":{"ms":"^2"}}' });
    expect(project.lockfiles).toEqual([]);
    expect(warnings[0]).toMatch(/no package-lock\.json: .*npm install --omit=dev.*npm install --package-lock-only/);
  });

  it('sees a tsconfig.json extending a package (comments and trailing commas allowed)', () => {
    const tsconfig = '// base\n{ "extends": "@tsconfig/node24/tsconfig.json", /* x */ "compilerOptions": { "strict": true, }, }';
    expect(analyseNodeProject({ 'tsconfig.json': tsconfig }).project.tsconfig).toEqual({ present: true, extendsPackage: true });
    expect(analyseNodeProject({ 'tsconfig.json': '{"extends":"./base.json"}' }).project.tsconfig).toEqual({ present: true, extendsPackage: false });
    expect(analyseNodeProject({ 'tsconfig.json': '{ not json' }).project.tsconfig).toEqual({ present: true, extendsPackage: false });
  });

  it('rejects invalid package.json with the position', () => {
    const error = errorOf(() => analyseNodeProject({ 'package.json': '{\n  "name": "x",\n  oops\n}' }));
    expect(error.status).toBe(422);
    expect(error.code).toBe('PACKAGE_JSON_INVALID');
    expect(error.details[0]).toMatchObject({ path: 'package.json', line: 3 });
    expect(errorOf(() => analyseNodeProject({ 'package.json': '[]' })).details[0]!.message).toBe('must be a JSON object');
  });

  it('rejects workspaces and local-path dependencies, naming them', () => {
    const files: ProjectFiles = {
      'package.json': JSON.stringify({ workspaces: ['pkgs/*'], dependencies: { util: 'file:../util', ok: '^1' }, devDependencies: { tool: './tools/x' } }),
    };
    const error = errorOf(() => analyseNodeProject(files));
    expect(error.details.map((d) => d.path)).toEqual(['package.json workspaces', 'package.json dependencies.util', 'package.json devDependencies.tool']);
  });
});

describe('stripJsonComments', () => {
  it('keeps strings that look like comments', () => {
    const text = '{ "a": "http://x/*y*/", // c\n "b": "\\"//\\"", /* d */ "c": [1,2,], }';
    expect(JSON.parse(stripJsonComments(text))).toEqual({ a: 'http://x/*y*/', b: '"//"', c: [1, 2] });
  });
});
