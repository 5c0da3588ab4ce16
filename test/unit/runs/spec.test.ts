/**
 * Run request validation (`validateRunRequest`) and host-path resolution (`resolveHostVolumes`):
 * every problem is a 400 naming its field, forbidden host paths and untrusted registries a 403;
 * whatever is accepted has limits set within the policy, a valid image reference and only
 * allowed host paths (property).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { imageRefProblem, registryTrusted } from '../../../src/manifest/index.js';
import { hostPathAllowed, resolveHostVolumes, validateRunRequest, type RunPolicy } from '../../../src/runs/index.js';

const allowed = mkdtempSync(join(tmpdir(), 'pitlane-spec-allowed-'));
mkdirSync(join(allowed, 'data'));
writeFileSync(join(allowed, 'file.txt'), 'x');
symlinkSync('/etc', join(allowed, 'etc'));
symlinkSync('..', join(allowed, 'up'));
symlinkSync('/var/run/docker.sock', join(allowed, 'sock'));
symlinkSync('data', join(allowed, 'inner'));

const policy: RunPolicy = {
  defaultMemoryBytes: 512 * 1024 * 1024,
  maxMemoryBytes: 2 * 1024 ** 3,
  defaultCpuCores: 1,
  maxCpuCores: 4,
  pidsLimit: 256,
  defaultTimeoutS: 60,
  maxTimeoutS: 3600,
  allowedHostPaths: [allowed],
  trustedRegistries: ['registry.example.com', '*.corp.example'],
};

function problem(body: Record<string, unknown>, dockerfile?: string, p: RunPolicy = policy): PitlaneError {
  try {
    validateRunRequest(body, p, dockerfile);
  } catch (error) {
    if (isPitlaneError(error)) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

const IMAGE = 'registry.example.com/tools/app:1';

describe('validateRunRequest', () => {
  it('accepts a full request and fills the limits', () => {
    const spec = validateRunRequest(
      { image: IMAGE, command: ['echo', 'hi'], env: { A: 1 }, volumes: [`${allowed}/data:/in:ro`, 'named:/vol'], timeout_s: '30', resources: { memory_max: '64Mi', cpu_max: '500m' }, network: 'none', results_dir: '/out/' },
      policy,
      undefined,
    );
    expect(spec).toMatchObject({ timeoutS: 30, memoryBytes: 64 * 1024 * 1024, cpuCores: 0.5, pidsLimit: 256, network: 'none', resultsDir: '/out', env: { A: '1' } });
    expect(validateRunRequest({ image: IMAGE }, policy, undefined)).toMatchObject({ memoryBytes: policy.defaultMemoryBytes, cpuCores: 1, timeoutS: 60 });
  });

  it.each([
    [{ image: 'registry.example.com/Tools/app:1' }, 'image'],
    [{ image: 'registry.example.com/app :1' }, 'image'],
    [{ image: 'registry.example.com/app@sha256:1234' }, 'image'],
    [{ image: '-registry.example.com/app' }, 'image'],
    [{ image: 7 }, 'image'],
    [{ image: `registry.example.com/${'a'.repeat(600)}` }, 'image'],
    [{ image: IMAGE, extra: 1 }, 'extra'],
    [{ image: IMAGE, command: [] }, 'command'],
    [{ image: IMAGE, command: 'a\u0000b' }, 'command'],
    [{ image: IMAGE, entrypoint: ['sh', 'x\u0000'] }, 'entrypoint.1'],
    [{ image: IMAGE, env: { '1A': 'x' } }, 'env.1A'],
    [{ image: IMAGE, env: { A: 'a\u0000' } }, 'env.A'],
    [{ image: IMAGE, volumes: ['named:/x\u0007'] }, 'volumes.0'],
    [{ image: IMAGE, volumes: ['a:b:c:d'] }, 'volumes.0'],
    [{ image: IMAGE, working_dir: '/a\nb' }, 'working_dir'],
    [{ image: IMAGE, timeout_s: [5] }, 'timeout_s'],
    [{ image: IMAGE, timeout_s: true }, 'timeout_s'],
    [{ image: IMAGE, timeout_s: '' }, 'timeout_s'],
    [{ image: IMAGE, timeout_s: 7200 }, 'timeout_s'],
    [{ image: IMAGE, resources: { memory_max: ['1Gi'] } }, 'resources.memory_max'],
    [{ image: IMAGE, resources: { memory_max: '4Gi' } }, 'resources.memory_max'],
    [{ image: IMAGE, resources: { memory_max: '5Mi' } }, 'resources.memory_max'],
    [{ image: IMAGE, resources: { cpu_max: '5m' } }, 'resources.cpu_max'],
    [{ image: IMAGE, resources: { cpu_max: 0 } }, 'resources.cpu_max'],
    [{ image: IMAGE, resources: { cpu_max: 8 } }, 'resources.cpu_max'],
    [{ image: IMAGE, resources: { cpu_max: { n: 1 } } }, 'resources.cpu_max'],
    [{ image: IMAGE, network: 'host' }, 'network'],
    [{ image: IMAGE, results_dir: '/\u0000' }, 'results_dir'],
  ])('400 for %j naming %s', (body, path) => {
    const error = problem(body as Record<string, unknown>);
    expect(error.status).toBe(400);
    expect(error.details.map((d) => d.path)).toContain(path);
  });

  it.each([
    [{ image: 'busybox:latest' }, 'image', 'REGISTRY_FORBIDDEN'],
    [{ image: 'docker.io/library/busybox' }, 'image', 'REGISTRY_FORBIDDEN'],
    [{ image: 'evil.corp.example.attacker.net/x' }, 'image', 'REGISTRY_FORBIDDEN'],
    [{ image: IMAGE, volumes: ['/etc:/etc'] }, 'volumes.0', 'VOLUME_FORBIDDEN'],
    [{ image: IMAGE, volumes: ['/var/run/docker.sock:/s'] }, 'volumes.0', 'VOLUME_FORBIDDEN'],
    [{ image: IMAGE, volumes: [`${allowed}/../x:/x`] }, 'volumes.0', 'VOLUME_FORBIDDEN'],
    [{ image: IMAGE, volumes: [`${allowed}/docker.sock:/x`] }, 'volumes.0', 'VOLUME_FORBIDDEN'],
  ])('403 for %j naming %s', (body, path, code) => {
    const error = problem(body as Record<string, unknown>);
    expect(error.status).toBe(403);
    expect(error.code).toBe(code);
    expect(error.details.map((d) => d.path)).toContain(path);
  });

  it('trusts every registry when the list is empty, and matches wildcards on whole labels', () => {
    expect(validateRunRequest({ image: 'busybox:latest' }, { ...policy, trustedRegistries: [] }, undefined).source).toEqual({ kind: 'image', image: 'busybox:latest' });
    expect(validateRunRequest({ image: 'mirror.corp.example/busybox' }, policy, undefined).source.kind).toBe('image');
    expect(registryTrusted('corp.example/x', ['*.corp.example'])).toBe(false);
    expect(registryTrusted('localhost:5000/x', ['localhost:5000'])).toBe(true);
    expect(registryTrusted('index.docker.io/library/busybox', ['docker.io'])).toBe(true);
  });

  it('throws nothing but a 400/403 PitlaneError on arbitrary input, and what it accepts is within the policy (property)', () => {
    const field = fc.constantFrom('image', 'command', 'entrypoint', 'env', 'volumes', 'working_dir', 'timeout_s', 'resources', 'network', 'results_dir', 'build_args', 'dockerfile');
    const hostile = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom('busybox', IMAGE, '-x', '/etc:/x', `${allowed}/data:/x`, `${allowed}/../../etc:/x`, 'a\u0000b', '1Gi', '0.001', 'host', '/', ['sh', '-c', 'x'], { memory_max: '64Mi', cpu_max: 2 }),
    );
    fc.assert(
      fc.property(fc.dictionary(field, hostile, { maxKeys: 6 }), (body) => {
        let spec;
        try {
          spec = validateRunRequest(body, policy, undefined);
        } catch (error) {
          expect(isPitlaneError(error), String(error)).toBe(true);
          expect([400, 403]).toContain((error as PitlaneError).status);
          return;
        }
        expect(spec.memoryBytes).toBeGreaterThanOrEqual(6 * 1024 * 1024);
        expect(spec.memoryBytes).toBeLessThanOrEqual(policy.maxMemoryBytes);
        expect(spec.cpuCores).toBeGreaterThanOrEqual(0.01);
        expect(spec.cpuCores).toBeLessThanOrEqual(policy.maxCpuCores);
        expect(spec.timeoutS).toBeGreaterThan(0);
        expect(spec.timeoutS).toBeLessThanOrEqual(policy.maxTimeoutS);
        expect(spec.pidsLimit).toBe(policy.pidsLimit);
        expect(['none', 'bridge']).toContain(spec.network);
        if (spec.source.kind === 'image') {
          expect(imageRefProblem(spec.source.image)).toBeUndefined();
          expect(registryTrusted(spec.source.image, policy.trustedRegistries!)).toBe(true);
        }
        for (const volume of spec.volumes) {
          if (volume.type === 'bind') expect(hostPathAllowed(volume.source, policy.allowedHostPaths)).toBe(true);
          expect(volume.target.startsWith('/')).toBe(true);
        }
        for (const arg of [...(spec.command ?? []), ...(spec.entrypoint ?? []), ...Object.values(spec.env)]) expect(arg).not.toContain('\u0000');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('resolveHostVolumes', () => {
  const bind = (source: string) => ({ type: 'bind' as const, source, target: '/x', readOnly: false });

  it('gives Docker the real path of an allowed source', async () => {
    const [resolved] = await resolveHostVolumes([bind(join(allowed, 'inner'))], [allowed]);
    expect(resolved!.source.endsWith('/data')).toBe(true);
    const [file] = await resolveHostVolumes([bind(join(allowed, 'file.txt'))], [allowed]);
    expect(file!.source.endsWith('file.txt')).toBe(true);
    expect(await resolveHostVolumes([{ type: 'volume', source: 'named', target: '/v', readOnly: true }], [allowed])).toHaveLength(1);
  });

  it.each(['etc', 'up', 'sock'])('403 for the symlink %s leading out of the allowed directory', async (name) => {
    const error = await resolveHostVolumes([bind(join(allowed, name))], [allowed]).catch((e: unknown) => e as PitlaneError);
    expect(isPitlaneError(error)).toBe(true);
    expect((error as PitlaneError).status).toBe(403);
    expect((error as PitlaneError).details[0]?.path).toBe('volumes.0');
  });

  it('400 for a source that does not exist', async () => {
    const error = await resolveHostVolumes([bind(join(allowed, 'missing'))], [allowed]).catch((e: unknown) => e as PitlaneError);
    expect((error as PitlaneError).status).toBe(400);
  });
});
