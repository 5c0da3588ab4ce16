import { describe, expect, it } from 'vitest';
import { parseManifestText, validateManifest } from '../../../src/manifest/index.js';
import { baseManifest, catchPitlane } from './helpers.js';

interface Case {
  name: string;
  /** Fields merged into the base manifest; `undefined` deletes the field. */
  patch: Record<string, unknown>;
  /** The exact path of the single expected problem. */
  path: string;
  /** A fragment of its message. */
  message: string;
}

const cases: Case[] = [
  { name: 'missing name', patch: { name: undefined }, path: 'name', message: 'is required' },
  { name: 'uppercase name', patch: { name: 'Adder' }, path: 'name', message: 'DNS-1123 label' },
  { name: 'underscore in name', patch: { name: 'my_job' }, path: 'name', message: 'DNS-1123 label' },
  { name: 'name ending with -', patch: { name: 'job-' }, path: 'name', message: 'DNS-1123 label' },
  { name: 'name longer than 63', patch: { name: 'a'.repeat(64) }, path: 'name', message: 'at most 63 characters' },
  { name: 'missing owner_email', patch: { owner_email: undefined }, path: 'owner_email', message: 'is required' },
  { name: 'owner_email not an address', patch: { owner_email: 'nobody' }, path: 'owner_email', message: 'e-mail address' },
  { name: 'neither jobtype nor lang', patch: { jobtype: undefined }, path: 'jobtype', message: 'is required' },
  { name: 'both jobtype and lang', patch: { lang: 'docker-proxy' }, path: 'lang', message: 'not both' },
  { name: 'unknown jobtype', patch: { jobtype: 'ruby' }, path: 'jobtype', message: 'must be one of docker-proxy' },
  { name: 'misspelt jobtype', patch: { jobtype: 'pyhton3:latest' }, path: 'jobtype', message: 'did you mean "python3"?' },
  { name: 'jobtype with empty version', patch: { jobtype: 'node:' }, path: 'jobtype', message: ':VERSION' },
  { name: 'bad lang', patch: { jobtype: undefined, lang: 'golang' }, path: 'lang', message: 'must be one of' },
  { name: 'version not semver', patch: { version: '1.0' }, path: 'version', message: 'semantic version' },
  { name: 'version with v prefix', patch: { version: 'v1.0.0' }, path: 'version', message: 'semantic version' },
  { name: 'version as a number', patch: { version: 1 }, path: 'version', message: 'quote it' },
  { name: 'git without remote', patch: { git: { branch: 'main' } }, path: 'git.remote', message: 'is required' },
  { name: 'git not an object', patch: { git: 'https://x/y' }, path: 'git', message: 'must be an object' },
  { name: 'ext:: transport', patch: { git: { remote: 'ext::sh -c touch% /tmp/pwned' } }, path: 'git.remote', message: 'spaces' },
  { name: 'ext:: transport, no spaces', patch: { git: { remote: 'ext::ssh' } }, path: 'git.remote', message: 'ext::' },
  { name: 'remote starting with -', patch: { git: { remote: '--upload-pack=touch' } }, path: 'git.remote', message: 'must not start with "-"' },
  { name: 'ftp remote', patch: { git: { remote: 'ftp://example.com/r.git' } }, path: 'git.remote', message: 'not supported' },
  { name: 'relative remote', patch: { git: { remote: 'repos/r.git' } }, path: 'git.remote', message: 'absolute local path' },
  { name: 'ssh host starting with -', patch: { git: { remote: 'ssh://-oProxyCommand=x/r' } }, path: 'git.remote', message: 'must not start with "-"' },
  { name: 'branch with ..', patch: { git: { remote: '/r', branch: 'a..b' } }, path: 'git.branch', message: '".."' },
  { name: 'branch with space', patch: { git: { remote: '/r', branch: 'my branch' } }, path: 'git.branch', message: 'spaces' },
  { name: 'branch with ~', patch: { git: { remote: '/r', branch: 'a~1' } }, path: 'git.branch', message: '"~"' },
  { name: 'branch starting with -', patch: { git: { remote: '/r', branch: '-f' } }, path: 'git.branch', message: 'start with "-"' },
  { name: 'branch ending with .lock', patch: { git: { remote: '/r', branch: 'x.lock' } }, path: 'git.branch', message: '.lock' },
  { name: 'branch ending with /', patch: { git: { remote: '/r', branch: 'x/' } }, path: 'git.branch', message: '"/"' },
  { name: 'directory escaping', patch: { git: { remote: '/r', directory: 'a/../../b' } }, path: 'git.directory', message: 'inside the source tree' },
  { name: 'absolute directory', patch: { git: { remote: '/r', directory: '/etc' } }, path: 'git.directory', message: 'relative path' },
  { name: 'unknown git field', patch: { git: { remote: '/r', brnach: 'x' } }, path: 'git.brnach', message: 'did you mean "branch"?' },
  { name: 'dockerfile_path escaping', patch: { dockerfile_path: '../Dockerfile' }, path: 'dockerfile_path', message: 'inside the source tree' },
  { name: 'dockerfile_path a directory', patch: { dockerfile_path: 'docker/' }, path: 'dockerfile_path', message: 'name a file' },
  { name: 'deprecated and current dockerfile paths', patch: { dockerfile_path: 'A', docker: { dockerfile_path: 'B' } }, path: 'docker.dockerfile_path', message: 'not both' },
  { name: 'unknown docker field', patch: { docker: { dockerfile: 'D' } }, path: 'docker.dockerfile', message: 'did you mean "dockerfile_path"?' },
  { name: 'uppercase image path', patch: { image: 'Team/App:1' }, path: 'image', message: 'lowercase path' },
  { name: 'image with short digest', patch: { image: 'app@sha256:abc' }, path: 'image', message: 'Docker image reference' },
  { name: 'image with space', patch: { image: 'app latest' }, path: 'image', message: 'Docker image reference' },
  { name: 'label value a list', patch: { labels: { team: ['a'] } }, path: 'labels.team', message: 'string, number or boolean' },
  { name: 'labels a list', patch: { labels: ['team'] }, path: 'labels', message: 'mapping' },
  { name: 'runtime_env bad name', patch: { runtime_env: { 'MY-VAR': 'x' } }, path: 'runtime_env.MY-VAR', message: 'names must match' },
  { name: 'runtime_env reserved JOB_NAME', patch: { runtime_env: { JOB_NAME: 'x' } }, path: 'runtime_env.JOB_NAME', message: 'reserved' },
  { name: 'runtime_env reserved PUB_URL', patch: { runtime_env: { PUB_URL: 'x' } }, path: 'runtime_env.PUB_URL', message: 'reserved' },
  { name: 'runtime_env null value', patch: { runtime_env: { A: null } }, path: 'runtime_env.A', message: 'string, number or boolean' },
  { name: 'build_args bad name', patch: { build_args: { '1X': 'y' } }, path: 'build_args.1X', message: 'names must match' },
  { name: 'replicas 0', patch: { replicas: 0 }, path: 'replicas', message: 'integer from 1 to 50' },
  { name: 'replicas 51', patch: { replicas: 51 }, path: 'replicas', message: 'integer from 1 to 50' },
  { name: 'replicas fractional', patch: { replicas: 1.5 }, path: 'replicas', message: 'integer from 1 to 50' },
  { name: 'replicas a string', patch: { replicas: '2' }, path: 'replicas', message: 'integer from 1 to 50' },
  { name: 'memory_max with m suffix', patch: { resources: { memory_max: '512m' } }, path: 'resources.memory_max', message: 'did you mean 512Mi?' },
  { name: 'memory_max garbage', patch: { resources: { memory_max: 'lots' } }, path: 'resources.memory_max', message: 'invalid memory quantity' },
  { name: 'memory_max in bytes too small', patch: { resources: { memory_max: 512 } }, path: 'resources.memory_max', message: 'at least' },
  { name: 'cpu_max negative', patch: { resources: { cpu_max: -1 } }, path: 'resources.cpu_max', message: 'invalid CPU quantity' },
  { name: 'cpu_max zero', patch: { resources: { cpu_max: '0m' } }, path: 'resources.cpu_max', message: 'greater than 0' },
  { name: 'cpu_min bad', patch: { resources: { cpu_min: '1 core' } }, path: 'resources.cpu_min', message: 'invalid CPU quantity' },
  { name: 'memory_min above memory_max', patch: { resources: { memory_min: '2Gi', memory_max: '1Gi' } }, path: 'resources.memory_min', message: 'memory_max' },
  { name: 'cpu_min above cpu_max', patch: { resources: { cpu_min: 2, cpu_max: '500m' } }, path: 'resources.cpu_min', message: 'cpu_max' },
  { name: 'unknown resources field', patch: { resources: { memory: '1Gi' } }, path: 'resources.memory', message: 'did you mean "memory_max"?' },
  { name: 'timeout 0', patch: { timeout_s: 0 }, path: 'timeout_s', message: 'greater than 0' },
  { name: 'timeout over an hour', patch: { timeout_s: 3601 }, path: 'timeout_s', message: 'at most 3600' },
  { name: 'user_module_port 0', patch: { jobtype_extra: { user_module_port: 0 } }, path: 'jobtype_extra.user_module_port', message: '1 to 65535' },
  { name: 'user_module_port too high', patch: { jobtype_extra: { user_module_port: 65536 } }, path: 'jobtype_extra.user_module_port', message: '1 to 65535' },
  { name: 'jobtype_extra a string', patch: { jobtype_extra: 'x' }, path: 'jobtype_extra', message: 'must be an object' },
  { name: 'public endpoint without /', patch: { public_endpoints: ['/ok', 'api'] }, path: 'public_endpoints.1', message: 'starting with "/"' },
  { name: 'public_endpoints a string', patch: { public_endpoints: '/api' }, path: 'public_endpoints', message: 'list of paths' },
  { name: 'lint a list', patch: { lint: ['x'] }, path: 'lint', message: 'must be an object' },
  { name: 'misspelt top-level field', patch: { owner_emial: 'x' }, path: 'owner_emial', message: 'unknown field "owner_emial"; did you mean "owner_email"?' },
  { name: 'prefix of a known field', patch: { replica: 2 }, path: 'replica', message: 'did you mean "replicas"?' },
  { name: 'unrelated unknown field', patch: { extends: 'base.yaml' }, path: 'extends', message: 'known fields: name' },
];

describe('invalid manifests: one problem each, at the exact path', () => {
  it('has at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it.each(cases)('$name → $path', ({ patch, path, message }) => {
    const input = { ...baseManifest(), ...patch };
    for (const [key, value] of Object.entries(patch)) if (value === undefined) delete input[key];
    const error = catchPitlane(() => validateManifest(input));
    expect(error.status).toBe(400);
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toBe('manifest is invalid: 1 problem(s)');
    expect(error.details.map((d) => d.path)).toEqual([path]);
    expect(error.details[0]?.message).toContain(message);
  });
});

describe('several problems', () => {
  it('lists every problem at once', () => {
    const error = catchPitlane(() =>
      validateManifest({ name: 'Bad_Name', jobtype: 'x', replicas: 0, git: { remot: 'x' }, labels: { team: null } }),
    );
    expect(error.details.map((d) => d.path).sort()).toEqual(
      ['git.remot', 'git.remote', 'jobtype', 'labels.team', 'name', 'owner_email', 'replicas'].sort(),
    );
    expect(error.message).toBe('manifest is invalid: 7 problem(s)');
    expect(error.toJSON().error.code).toBe('MANIFEST_INVALID');
  });
});

describe('non-object manifests', () => {
  it.each([
    ['a list', ['name']],
    ['a string', 'name: x'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['a date', new Date(0)],
  ])('rejects %s', (_label, input) => {
    const error = catchPitlane(() => validateManifest(input));
    expect(error.status).toBe(400);
    expect(error.details).toHaveLength(1);
    expect(error.details[0]?.path).toBeUndefined();
  });

  it.each(['', '# only a comment\n', '- a\n- b\n', 'just text', '42'])('rejects YAML document %j', (text) => {
    const error = catchPitlane(() => parseManifestText(text));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.details[0]?.message).toMatch(/mapping of fields/);
  });
});

describe('YAML errors and line numbers', () => {
  it('reports a syntax error with its line and column', () => {
    const error = catchPitlane(() => parseManifestText('name: a\nowner_email: a@example.com\njobtype: node\nimage: a: b\n'));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toMatch(/^job\.yaml is not valid YAML: .*\(line 4, column \d+\)$/);
    expect(error.details[0]?.line).toBe(4);
  });

  it('names the file in syntax errors', () => {
    const error = catchPitlane(() => parseManifestText('a: [1, 2\n', 'fatman.yaml'));
    expect(error.message).toMatch(/^fatman\.yaml is not valid YAML/);
  });

  it('rejects duplicate keys with the line of the duplicate', () => {
    const error = catchPitlane(() => parseManifestText('name: a\nowner_email: a@example.com\nname: b\n'));
    expect(error.details[0]).toMatchObject({ line: 3, column: 1 });
    expect(error.details[0]?.message).toMatch(/unique/);
  });

  it('rejects several documents', () => {
    const error = catchPitlane(() => parseManifestText('name: a\n---\nname: b\n'));
    expect(error.details[0]?.message).toContain('single YAML document');
    expect(error.details[0]?.line).toBe(2);
  });

  it('puts validation problems on the line of their key', () => {
    const text = [
      'name: adder', //                       1
      'owner_email: owner@example.com', //    2
      'jobtype: docker-proxy', //             3
      'git:', //                              4
      '  remote: https://example.com/r.git', // 5
      '  branch: "bad branch"', //            6
      'resources:', //                        7
      '  memory_max: 512m', //                8
      'labels:', //                           9
      '  app.kubernetes.io/name: [x]', //    10
      'owner_emial: x', //                   11
    ].join('\n');
    const error = catchPitlane(() => parseManifestText(text));
    const byPath = Object.fromEntries(error.details.map((d) => [d.path, { line: d.line, column: d.column }]));
    expect(byPath).toEqual({
      'git.branch': { line: 6, column: 3 },
      'resources.memory_max': { line: 8, column: 3 },
      'labels.app.kubernetes.io/name': { line: 10, column: 3 },
      owner_emial: { line: 11, column: 1 },
    });
  });

  it('points a missing nested field at its parent key', () => {
    const error = catchPitlane(() => parseManifestText('name: a\nowner_email: a@example.com\njobtype: node\ngit:\n  branch: main\n'));
    expect(error.details).toEqual([{ path: 'git.remote', message: 'is required', line: 4, column: 1 }]);
  });

  it('leaves line out for a missing top-level field', () => {
    const error = catchPitlane(() => parseManifestText('owner_email: a@example.com\njobtype: node\n'));
    expect(error.details).toEqual([{ path: 'name', message: 'is required' }]);
  });

  it('rejects deeply nested documents, YAML and JSON alike', () => {
    const yaml = catchPitlane(() => parseManifestText(`name: a\nlint: {a: ${'['.repeat(20000)}${']'.repeat(20000)}}\n`));
    expect(yaml.code).toBe('MANIFEST_INVALID');
    let nested: unknown = 1;
    for (let i = 0; i < 20000; i++) nested = [nested];
    const json = catchPitlane(() => validateManifest({ ...baseManifest(), lint: { a: nested } }));
    expect(json.details[0]?.message).toContain('levels deep');
  });

  it('rejects alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    const error = catchPitlane(() => parseManifestText(lines.join('\n')));
    expect(error.code).toBe('MANIFEST_INVALID');
  });
});
