import { describe, expect, it } from 'vitest';
import { REQUEST_ID_HEADER, buildContainerSpec, checkResources, jobImageTag, type ResourcePolicy } from '../../../src/deploy/container-spec.js';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { validateManifest, type JobManifest } from '../../../src/manifest/index.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const policy: ResourcePolicy = {
  defaultMemoryBytes: 512 * MiB,
  maxMemoryBytes: 2 * GiB,
  defaultCpuCores: 1,
  maxCpuCores: 4,
  pidsLimit: 256,
};

function manifest(extra: Record<string, unknown> = {}): JobManifest {
  return validateManifest({ name: 'adder', owner_email: 'owner@example.com', jobtype: 'docker-proxy', version: '1.2.3', ...extra }).manifest;
}

function resourcesError(m: JobManifest, p: ResourcePolicy = policy): PitlaneError {
  try {
    checkResources(m, p);
  } catch (error) {
    expect(isPitlaneError(error)).toBe(true);
    return error as PitlaneError;
  }
  throw new Error('expected checkResources to throw');
}

function spec(m: JobManifest, deployedAtMs = Date.UTC(2024, 4, 1, 10, 30, 15, 999)) {
  return buildContainerSpec({
    manifest: m,
    deploymentId: 'dep-42',
    image: 'sha256:0123abcd',
    policy,
    pubUrl: 'http://127.0.0.1:7300/pub',
    deployedAtMs,
  });
}

describe('buildContainerSpec', () => {
  it('builds the replica specification from the manifest', () => {
    expect(spec(manifest())).toEqual({
      jobName: 'adder',
      jobVersion: '1.2.3',
      deploymentId: 'dep-42',
      image: 'sha256:0123abcd',
      port: 7004,
      env: {
        JOB_NAME: 'adder',
        JOB_VERSION: '1.2.3',
        JOB_DEPLOYMENT_TIMESTAMP: String(Math.floor(Date.UTC(2024, 4, 1, 10, 30, 15) / 1000)),
        PUB_URL: 'http://127.0.0.1:7300/pub',
        AUTH_TOKEN: '',
        REQUEST_TRACING_HEADER: 'X-Request-Id',
      },
      memoryBytes: 512 * MiB,
      cpuCores: 1,
      pidsLimit: 256,
    });
  });

  it('gives JOB_DEPLOYMENT_TIMESTAMP in whole seconds, rounded down', () => {
    expect(spec(manifest(), 1_700_000_000_999).env.JOB_DEPLOYMENT_TIMESTAMP).toBe('1700000000');
    expect(spec(manifest(), 1_700_000_001_000).env.JOB_DEPLOYMENT_TIMESTAMP).toBe('1700000001');
    expect(spec(manifest(), 0).env.JOB_DEPLOYMENT_TIMESTAMP).toBe('0');
  });

  it('keeps runtime_env next to the injected variables', () => {
    const env = spec(manifest({ runtime_env: { DEBUG: 'true', WORKERS: 4, EMPTY: '' } })).env;
    expect(env).toMatchObject({ DEBUG: 'true', WORKERS: '4', EMPTY: '', JOB_NAME: 'adder', PUB_URL: 'http://127.0.0.1:7300/pub' });
    expect(Object.keys(env).sort()).toEqual(
      ['AUTH_TOKEN', 'DEBUG', 'EMPTY', 'JOB_DEPLOYMENT_TIMESTAMP', 'JOB_NAME', 'JOB_VERSION', 'PUB_URL', 'REQUEST_TRACING_HEADER', 'WORKERS'].sort(),
    );
  });

  it('the injected variables win over runtime_env of the same name', () => {
    // The manifest rejects reserved names; a manifest built by hand must not override them either.
    const m = { ...manifest(), runtime_env: { JOB_NAME: 'spoofed', PUB_URL: 'http://evil', OTHER: 'x' } };
    const env = spec(m).env;
    expect(env.JOB_NAME).toBe('adder');
    expect(env.PUB_URL).toBe('http://127.0.0.1:7300/pub');
    expect(env.OTHER).toBe('x');
  });

  it('the manifest rejects reserved runtime_env names', () => {
    expect(() => manifest({ runtime_env: { JOB_VERSION: '9' } })).toThrow();
  });

  it('uses the manifest resources when set', () => {
    const s = spec(manifest({ resources: { memory_max: '1Gi', cpu_max: '500m' } }));
    expect(s.memoryBytes).toBe(GiB);
    expect(s.cpuCores).toBe(0.5);
  });

  it('uses the policy defaults when resources are null', () => {
    const m = manifest();
    expect(m.resources).toEqual({ memory_max_bytes: null, cpu_max_cores: null });
    const s = spec(m);
    expect(s.memoryBytes).toBe(policy.defaultMemoryBytes);
    expect(s.cpuCores).toBe(policy.defaultCpuCores);
    const onlyCpu = spec(manifest({ resources: { cpu_max: 2 } }));
    expect(onlyCpu).toMatchObject({ memoryBytes: policy.defaultMemoryBytes, cpuCores: 2 });
  });

  it('uses the manifest user_module_port and version', () => {
    const s = spec(manifest({ version: '2.0.0-rc.1', jobtype_extra: { user_module_port: 8080 } }));
    expect(s.port).toBe(8080);
    expect(s.jobVersion).toBe('2.0.0-rc.1');
    expect(s.env.JOB_VERSION).toBe('2.0.0-rc.1');
  });

  it('exports the request tracing header name', () => {
    expect(REQUEST_ID_HEADER).toBe('X-Request-Id');
  });
});

describe('checkResources', () => {
  it('accepts resources within the policy, and unset resources', () => {
    expect(() => checkResources(manifest(), policy)).not.toThrow();
    expect(() => checkResources(manifest({ resources: { memory_max: '2Gi', cpu_max: 4 } }), policy)).not.toThrow();
    expect(() => checkResources(manifest({ resources: { memory_max: '6Mi', cpu_max: '100m' } }), policy)).not.toThrow();
  });

  it('rejects memory over the maximum, naming resources.memory_max', () => {
    const error = resourcesError(manifest({ resources: { memory_max: '3Gi' } }));
    expect(error).toMatchObject({ status: 400, code: 'MANIFEST_INVALID' });
    expect(error.details).toEqual([{ path: 'resources.memory_max', message: `must be at most ${2 * GiB} bytes (server maximum)` }]);
  });

  it('rejects memory one byte over the maximum', () => {
    const m = manifest({ resources: { memory_max: String(2 * GiB + 1) } });
    expect(resourcesError(m).details.map((d) => d.path)).toEqual(['resources.memory_max']);
  });

  it('rejects CPU over the maximum, naming resources.cpu_max', () => {
    const error = resourcesError(manifest({ resources: { cpu_max: '4001m' } }));
    expect(error).toMatchObject({ status: 400, code: 'MANIFEST_INVALID' });
    expect(error.details).toEqual([{ path: 'resources.cpu_max', message: 'must be at most 4 cores (server maximum)' }]);
  });

  it('reports both problems at once', () => {
    const error = resourcesError(manifest({ resources: { memory_max: '10Gi', cpu_max: 16 } }));
    expect(error.details.map((d) => d.path)).toEqual(['resources.memory_max', 'resources.cpu_max']);
  });

  it('rejects memory under Docker\'s 6Mi minimum (a manifest not from validateManifest)', () => {
    const m = { ...manifest(), resources: { memory_max_bytes: 6 * MiB - 1, cpu_max_cores: null } };
    expect(resourcesError(m).details).toEqual([{ path: 'resources.memory_max', message: 'must be at least 6Mi (Docker minimum)' }]);
  });

  it('applies the policy it is given', () => {
    const strict = { ...policy, maxMemoryBytes: 256 * MiB, maxCpuCores: 0.5 };
    const error = resourcesError(manifest({ resources: { memory_max: '512Mi', cpu_max: 1 } }), strict);
    expect(error.details.map((d) => d.path)).toEqual(['resources.memory_max', 'resources.cpu_max']);
    expect(error.details[1]?.message).toContain('0.5 cores');
  });
});

describe('jobImageTag', () => {
  it.each([
    ['adder', '1.2.3', 'pitlane-job/adder:1.2.3'],
    ['adder', '2.0.0-rc.1', 'pitlane-job/adder:2.0.0-rc.1'],
    ['adder', '1.0.0+build.5', 'pitlane-job/adder:1.0.0_build.5'],
    ['adder', '1.0.0-rc.1+a+b', 'pitlane-job/adder:1.0.0-rc.1_a_b'],
    ['sum-numbers', '0.0.1', 'pitlane-job/sum-numbers:0.0.1'],
  ])('%s %s → %s', (name, version, tag) => {
    expect(jobImageTag(name, version)).toBe(tag);
  });

  it('produces a valid Docker tag for semver versions', () => {
    for (const version of ['0.0.1', '10.20.30', '1.0.0-alpha.beta-1', '1.0.0+20130313144700', '1.0.0-x.7.z.92+exp.sha.5114f85']) {
      const tag = jobImageTag('job', version).split(':')[1] ?? '';
      expect(tag).toMatch(/^[\w][\w.-]{0,127}$/);
    }
  });
});
