/**
 * The manifest's hardening rules: label keys, CPU and memory minimums, NUL-free values, image
 * references and registries, git remotes and branches. Examples, and properties: whatever the
 * manifest accepts meets every rule, with the real `git check-ref-format --branch` as the oracle
 * for branch names.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import {
  gitBranchProblem,
  gitRemoteProblem,
  imageRefProblem,
  imageRegistry,
  labelKeyProblem,
  parseTrustedRegistries,
  registryTrusted,
  validateManifest,
} from '../../../src/manifest/index.js';

const BASE = { name: 'job', owner_email: 'a@example.com', jobtype: 'docker-proxy' };

function paths(input: Record<string, unknown>): string[] {
  try {
    validateManifest({ ...BASE, ...input });
  } catch (error) {
    if (isPitlaneError(error)) return (error as PitlaneError).details.map((d) => d.path ?? '');
    throw error;
  }
  return [];
}

describe('label keys', () => {
  it.each(['team', 'app.kubernetes.io/name', 'org.opencontainers.image.title', 'com.example.tier-1', '__proto__', 'A_B', 'x'])('accepts %j', (key) => {
    expect(labelKeyProblem(key)).toBeUndefined();
    expect(paths({ labels: { [key]: 'v' } })).toEqual([]);
  });

  it.each(['', ' team', 'team name', 'a=b', '-lead', 'trail.', 'a..b', 'a//b', 'a/.b', 'x\u0000', 'ünï', 'pitlane.job', 'com.docker.compose.project', 'io.docker.x', 'org.dockerproject.y', 'a'.repeat(256)])(
    'refuses %j naming labels.KEY',
    (key) => {
      expect(labelKeyProblem(key)).toBeDefined();
      expect(paths({ labels: { [key]: 'v' } })).toContain(`labels.${key}`);
    },
  );
});

describe('values and quantities', () => {
  it('refuses NUL characters and oversized values in runtime_env, build_args and labels', () => {
    expect(paths({ runtime_env: { A: 'x\u0000y' } })).toEqual(['runtime_env.A']);
    expect(paths({ build_args: { A: 'x\u0000' } })).toEqual(['build_args.A']);
    expect(paths({ labels: { team: 'a'.repeat(70_000) } })).toEqual(['labels.team']);
  });

  it('refuses CPU limits below what Docker accepts and accepts 10m', () => {
    expect(paths({ resources: { cpu_max: '1m' } })).toEqual(['resources.cpu_max']);
    expect(paths({ resources: { cpu_max: 0.005 } })).toEqual(['resources.cpu_max']);
    expect(paths({ resources: { cpu_max: '10m' } })).toEqual([]);
    expect(paths({ resources: { memory_max: '5Mi' } })).toEqual(['resources.memory_max']);
  });

  it('refuses ports outside 1-65535 and non-integers', () => {
    for (const port of [0, -1, 65_536, 1.5, '80', null]) expect(paths({ jobtype_extra: { user_module_port: port } })).toEqual(['jobtype_extra.user_module_port']);
    expect(paths({ jobtype_extra: { user_module_port: 65_535 } })).toEqual([]);
  });
});

describe('image references and registries', () => {
  it.each([
    ['busybox', 'docker.io'],
    ['library/busybox:1.36', 'docker.io'],
    ['index.docker.io/library/busybox', 'docker.io'],
    ['localhost/app', 'localhost'],
    ['localhost:5000/app:1', 'localhost:5000'],
    ['Registry.Example.com/team/app@sha256:' + 'a'.repeat(64), 'registry.example.com'],
    ['ghcr.io/org/app', 'ghcr.io'],
  ])('%s comes from %s', (ref, registry) => {
    expect(imageRefProblem(ref)).toBeUndefined();
    expect(imageRegistry(ref)).toBe(registry);
  });

  it.each(['Busybox', 'registry.example.com/Team/app', 'app:', 'app@sha256:abc', 'app@md5:' + 'a'.repeat(32), 'app :1', 'app\n', '-app', '/app', 'app//x', 'a'.repeat(300)])('refuses %j', (ref) => {
    expect(imageRefProblem(ref)).toBeDefined();
  });

  it('parses the trusted list and matches hosts exactly or by a whole-label wildcard', () => {
    const trusted = parseTrustedRegistries(' registry.example.com, *.corp.example  index.docker.io ');
    expect(trusted).toEqual(['registry.example.com', '*.corp.example', 'docker.io']);
    expect(registryTrusted('busybox', trusted)).toBe(true);
    expect(registryTrusted('registry.example.com/app', trusted)).toBe(true);
    expect(registryTrusted('registry.example.com:5000/app', trusted)).toBe(false);
    expect(registryTrusted('a.b.corp.example/app', trusted)).toBe(true);
    expect(registryTrusted('corp.example/app', trusted)).toBe(false);
    expect(registryTrusted('evilcorp.example/app', trusted)).toBe(false);
    expect(registryTrusted('anything/at/all', [])).toBe(true);
    expect(parseTrustedRegistries('')).toEqual([]);
  });
});

describe('git remotes and branches', () => {
  it.each(['https://example.com/r.git', 'http://example.com/r', 'ssh://git@example.com:22/r.git', 'git@example.com:team/r.git', 'file:///srv/r.git', '/srv/repos/r'])('accepts the remote %s', (remote) => {
    expect(gitRemoteProblem(remote)).toBeUndefined();
  });

  it.each([
    'ext::sh -c touch /tmp/x',
    'ext::touch',
    'fd::17',
    'transport::x',
    '-uhelp',
    '--upload-pack=touch /tmp/x',
    'ssh://-oProxyCommand=touch/x',
    'ssh://%2doProxyCommand@host/x',
    '-o@host:x',
    'https://example.com/r\n',
    'https://example.com/r x',
    'git://example.com/r',
    'gopher://example.com/r',
    'relative/path',
    'C:\\repo',
    '',
  ])('refuses the remote %j', (remote) => {
    expect(gitRemoteProblem(remote)).toBeDefined();
  });

  it('agrees with `git check-ref-format --branch` and never accepts a leading "-" (property, real git as oracle)', () => {
    const chars = fc.constantFrom('a', 'b', '1', '-', '.', '/', '_', '@', '{', '~', '^', ':', '?', '*', '[', '\\', ' ', '"', 'é', '\t');
    const branch = fc.oneof(
      fc.array(chars, { minLength: 1, maxLength: 12 }).map((c) => c.join('')),
      fc.constantFrom('main', 'feature/x-1', 'x.lock', 'a..b', '@', '@{-1}', '-b', '--upload-pack=x', 'a/.b', 'a//b', 'a.', 'v1.0', 'HEAD'),
    );
    fc.assert(
      fc.property(branch, (name) => {
        const ours = gitBranchProblem(name) === undefined;
        const git = spawnSync('git', ['check-ref-format', '--branch', name], { stdio: 'ignore' }).status === 0;
        if (ours) {
          expect(git, `we accept ${JSON.stringify(name)}, git does not`).toBe(true);
          expect(name.startsWith('-')).toBe(false);
        }
        // Stricter than git only where we mean to be: a leading "-", '"', "@" and "@{...}" (which
        // --branch expands), spaces and control characters, names over 255 characters.
        if (git && !ours) expect(/^-|"|[\s\u0000-\u001f\u007f]|^@$|@\{/.test(name) || name.length > 255, JSON.stringify(name)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('whatever validateManifest accepts meets the hardening rules (property)', () => {
  const hostileString = fc.oneof(
    fc.string({ maxLength: 16 }),
    fc.constantFrom('-x', '--upload-pack=x', 'ext::sh', 'fd::1', 'a\u0000b', '../..', '/etc', 'pitlane.job', 'Busybox', 'busybox', 'registry.example.com/app:1', 'git@h:r', 'https://h/r', 'main', '1m', '10m', '512Mi', '5Mi', 'A-B', 'OK'),
  );
  const scalar = fc.oneof(hostileString, fc.integer({ min: -10, max: 70_000 }), fc.double({ min: -1, max: 10, noNaN: true }), fc.boolean());
  const manifest = fc.record(
    {
      git: fc.record({ remote: hostileString, branch: hostileString, directory: hostileString }, { requiredKeys: ['remote'] }),
      image: hostileString,
      labels: fc.dictionary(hostileString, scalar, { maxKeys: 3 }),
      runtime_env: fc.dictionary(hostileString, scalar, { maxKeys: 3 }),
      build_args: fc.dictionary(hostileString, scalar, { maxKeys: 3 }),
      resources: fc.record({ memory_max: scalar, cpu_max: scalar }, { requiredKeys: [] }),
      jobtype_extra: fc.record({ user_module_port: scalar }, { requiredKeys: [] }),
      dockerfile_path: hostileString,
    },
    { requiredKeys: [] },
  );

  it('holds for 3000 hostile manifests', () => {
    fc.assert(
      fc.property(manifest, (input) => {
        let parsed;
        try {
          parsed = validateManifest({ ...BASE, ...input }).manifest;
        } catch (error) {
          expect(isPitlaneError(error), String(error)).toBe(true);
          expect((error as PitlaneError).status).toBe(400);
          return;
        }
        if (parsed.git) {
          expect(gitRemoteProblem(parsed.git.remote)).toBeUndefined();
          expect(parsed.git.remote.startsWith('-')).toBe(false);
          expect(parsed.git.remote).not.toMatch(/^[A-Za-z][A-Za-z0-9+.-]*::/);
          if (parsed.git.branch !== null) expect(parsed.git.branch.startsWith('-')).toBe(false);
          expect(parsed.git.directory.startsWith('..') || parsed.git.directory.startsWith('/')).toBe(false);
        }
        if (parsed.image !== null) expect(imageRefProblem(parsed.image)).toBeUndefined();
        for (const key of Object.keys(parsed.labels)) expect(labelKeyProblem(key)).toBeUndefined();
        for (const [key, value] of [...Object.entries(parsed.runtime_env), ...Object.entries(parsed.build_args)]) {
          expect(key).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
          expect(value).not.toContain('\u0000');
        }
        if (parsed.resources.cpu_max_cores !== null) expect(parsed.resources.cpu_max_cores).toBeGreaterThanOrEqual(0.01);
        if (parsed.resources.memory_max_bytes !== null) expect(parsed.resources.memory_max_bytes).toBeGreaterThanOrEqual(6 * 2 ** 20);
        const port = parsed.jobtype_extra.user_module_port;
        expect(Number.isInteger(port) && port >= 1 && port <= 65_535).toBe(true);
        expect(parsed.dockerfile_path.startsWith('..') || parsed.dockerfile_path.startsWith('/')).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });
});
