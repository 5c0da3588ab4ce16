import { describe, expect, it } from 'vitest';
import { parseManifestText, validateManifest } from '../../../src/manifest/index.js';
import { baseManifest } from './helpers.js';

const SEED_FATMAN_YAML = `name: supersmart
owner_email: nobody@example.com
lang: docker-proxy

git:
  remote: https://github.com/racetrack/supersmart-model
  branch: master

docker:
  dockerfile_path: Dockerfile
`;

const FULL_JOB_YAML = `name: sum-numbers
owner_email: team@example.com
jobtype: python3:2.*
version: 1.2.3-rc.1+build.5
git:
  remote: git@github.com:example/sum-numbers.git
  branch: feature/fast-sum
  directory: ./jobs/sum/
dockerfile_path: docker/Dockerfile.prod
image: registry.example.com:5000/team/sum-numbers:v1.2@sha256:${'a'.repeat(64)}
labels:
  team: data
  tier: 3
  critical: true
  ratio: 1.10
runtime_env:
  LOG_LEVEL: debug
  WORKERS: 4
  FEATURE_X: false
  HEX: 0x1F
build_args:
  PIP_INDEX_URL: https://pypi.example.com/simple
  _PY: 3.11
replicas: 3
resources:
  memory_min: 256Mi
  memory_max: 1Gi
  cpu_min: 100m
  cpu_max: 1.5
timeout_s: 120.5
jobtype_extra:
  user_module_port: 8080
  entrypoint_path: sum.py
  max_concurrency: 4
public_endpoints:
  - /api/v1/perform
  - /api/v1/webview
lint:
  ignore: [DL3008]
structure_tests:
  files: [tests.yaml]
image_checks:
  max_size_mb: 500
`;

describe('valid manifests', () => {
  it("parses seed 000's fatman.yaml exactly", () => {
    const parsed = parseManifestText(SEED_FATMAN_YAML, 'fatman.yaml');
    expect(parsed.manifest).toEqual({
      name: 'supersmart',
      version: '0.0.1',
      owner_email: 'nobody@example.com',
      jobtype: 'docker-proxy',
      jobtype_version: null,
      git: { remote: 'https://github.com/racetrack/supersmart-model', branch: 'master', directory: '.' },
      dockerfile_path: 'Dockerfile',
      image: null,
      labels: {},
      runtime_env: {},
      build_args: {},
      replicas: 1,
      resources: { memory_max_bytes: null, cpu_max_cores: null },
      timeout_s: 60,
      jobtype_extra: { user_module_port: 7004 },
    });
    expect(parsed.warnings).toEqual(['`lang` is deprecated; use `jobtype`', '`docker` is deprecated; use `dockerfile_path`']);
  });

  it('parses a job.yaml using every field', () => {
    const { manifest, warnings } = parseManifestText(FULL_JOB_YAML);
    expect(warnings).toEqual([]);
    expect(manifest).toEqual({
      name: 'sum-numbers',
      version: '1.2.3-rc.1+build.5',
      owner_email: 'team@example.com',
      jobtype: 'python3',
      jobtype_version: '2.*',
      git: { remote: 'git@github.com:example/sum-numbers.git', branch: 'feature/fast-sum', directory: 'jobs/sum' },
      dockerfile_path: 'docker/Dockerfile.prod',
      image: `registry.example.com:5000/team/sum-numbers:v1.2@sha256:${'a'.repeat(64)}`,
      labels: { team: 'data', tier: '3', critical: 'true', ratio: '1.10' },
      runtime_env: { LOG_LEVEL: 'debug', WORKERS: '4', FEATURE_X: 'false', HEX: '0x1F' },
      build_args: { PIP_INDEX_URL: 'https://pypi.example.com/simple', _PY: '3.11' },
      replicas: 3,
      resources: { memory_max_bytes: 1073741824, cpu_max_cores: 1.5 },
      timeout_s: 120.5,
      jobtype_extra: { user_module_port: 8080, entrypoint_path: 'sum.py', max_concurrency: 4 },
      public_endpoints: ['/api/v1/perform', '/api/v1/webview'],
      lint: { ignore: ['DL3008'] },
      structure_tests: { files: ['tests.yaml'] },
      image_checks: { max_size_mb: 500 },
    });
  });

  it('applies defaults to a minimal manifest without git or image (uploaded source)', () => {
    const { manifest, warnings } = validateManifest(baseManifest());
    expect(warnings).toEqual([]);
    expect(manifest).toEqual({
      name: 'adder',
      version: '0.0.1',
      owner_email: 'owner@example.com',
      jobtype: 'docker-proxy',
      jobtype_version: null,
      git: null,
      dockerfile_path: 'Dockerfile',
      image: null,
      labels: {},
      runtime_env: {},
      build_args: {},
      replicas: 1,
      resources: { memory_max_bytes: null, cpu_max_cores: null },
      timeout_s: 60,
      jobtype_extra: { user_module_port: 7004 },
    });
    expect('public_endpoints' in manifest).toBe(false);
  });

  it('accepts JSON input, stringifying scalar map values', () => {
    const { manifest } = validateManifest({
      ...baseManifest(),
      jobtype: 'node:latest',
      labels: { n: 1.5, ok: true },
      runtime_env: { A: 1 },
      git: { remote: '/srv/git/adder.git' },
      resources: { memory_max: 536870912, cpu_max: '500m' },
    });
    expect(manifest.jobtype).toBe('node');
    expect(manifest.jobtype_version).toBe('latest');
    expect(manifest.labels).toEqual({ n: '1.5', ok: 'true' });
    expect(manifest.runtime_env).toEqual({ A: '1' });
    expect(manifest.git).toEqual({ remote: '/srv/git/adder.git', branch: null, directory: '.' });
    expect(manifest.resources).toEqual({ memory_max_bytes: 536870912, cpu_max_cores: 0.5 });
  });

  it.each([
    'https://github.com/a/b.git',
    'http://git.local:8080/a/b',
    'ssh://git@github.com:22/a/b.git',
    'file:///srv/git/b.git',
    'git@github.com:a/b.git',
    '/srv/git/b',
  ])('accepts git remote %s', (remote) => {
    expect(validateManifest({ ...baseManifest(), git: { remote } }).manifest.git?.remote).toBe(remote);
  });

  it.each(['master', 'feature/x-1', 'release-1.2', 'v1.0', 'user/a.b/c'])('accepts git branch %s', (branch) => {
    expect(validateManifest({ ...baseManifest(), git: { remote: '/r', branch } }).manifest.git?.branch).toBe(branch);
  });

  it.each([
    'nginx',
    'nginx:1.27-alpine',
    'library/nginx:latest',
    'localhost:5000/app',
    'ghcr.io/org/some_app__x/y-z:V1.0_b',
    `app@sha256:${'0123456789abcdef'.repeat(4)}`,
  ])('accepts image %s', (image) => {
    expect(validateManifest({ ...baseManifest(), image }).manifest.image).toBe(image);
  });

  it.each(['docker-proxy:1.x', 'python3:latest', 'dockerfile:1.0.0', 'python3:1.2.3-*-bullseye'])('accepts jobtype %s', (jobtype) => {
    const { manifest } = validateManifest({ ...baseManifest(), jobtype });
    expect(`${manifest.jobtype}:${manifest.jobtype_version}`).toBe(jobtype);
  });

  it('warns when git.remote carries a password', () => {
    const { warnings } = validateManifest({ ...baseManifest(), git: { remote: 'https://u:secret@example.com/r.git' } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('password');
  });

  it('takes docker.dockerfile_path when given, normalised', () => {
    const { manifest } = validateManifest({ ...baseManifest(), docker: { dockerfile_path: './build/Dockerfile' } });
    expect(manifest.dockerfile_path).toBe('build/Dockerfile');
  });

  it('passes YAML warnings on', () => {
    const { warnings } = parseManifestText('name: a\nowner_email: a@example.com\njobtype: !custom node\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^job\.yaml line 3: /);
  });

  it('keeps a __proto__ key as plain data', () => {
    const { manifest } = parseManifestText('name: a\nowner_email: a@example.com\njobtype: node\nlabels:\n  __proto__: x\n');
    expect(Object.getPrototypeOf(manifest.labels)).toBe(Object.prototype);
    expect(Object.hasOwn(manifest.labels, '__proto__')).toBe(true);
  });
});
