import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { composeRuntimeEnvironment, withRuntimeEnvironment, type ContainerSpec, type InfrastructureTarget } from '../../../src/infra/index.js';

const SPEC: ContainerSpec = {
  jobName: 'adder',
  jobVersion: '1.0.0',
  deploymentId: 'dep-1',
  image: 'sha256:abc',
  port: 7004,
  env: { JOB_NAME: 'adder', AUTH_TOKEN: '', FROM_MANIFEST: 'm' },
  memoryBytes: 1,
  cpuCores: 1,
  pidsLimit: 1,
};

/** A target that records what it is asked to do (the wrapper under test only forwards to it). */
function recordingTarget(): { target: InfrastructureTarget; calls: { method: string; args: unknown[] }[] } {
  const calls: { method: string; args: unknown[] }[] = [];
  const target = new Proxy({} as InfrastructureTarget, {
    get: (_t, method: string) => async (...args: unknown[]) => {
      calls.push({ method, args });
      return method === 'startReplica' ? 'container-1' : undefined;
    },
  });
  return { target, calls };
}

describe('runtime environment providers', () => {
  it('merge in list order: a later provider wins', async () => {
    const seen: unknown[] = [];
    const provider = composeRuntimeEnvironment([
      async (request) => {
        seen.push(request);
        return { DB_PASSWORD: 'secret', SHARED: 'first' };
      },
      async () => ({ AUTH_TOKEN: 'job-token', SHARED: 'second' }),
    ]);
    expect(await provider({ jobName: 'adder', jobVersion: '1.0.0', deploymentId: 'd' })).toEqual({ DB_PASSWORD: 'secret', SHARED: 'second', AUTH_TOKEN: 'job-token' });
    expect(seen).toEqual([{ jobName: 'adder', jobVersion: '1.0.0', deploymentId: 'd' }]);
    expect(await composeRuntimeEnvironment([])({ jobName: 'a', jobVersion: '1', deploymentId: 'd' })).toEqual({});
  });

  it('are resolved at each replica creation, override the stored env, and leave the stored spec untouched', async () => {
    const { target, calls } = recordingTarget();
    let value = 'v1';
    const wrapped = withRuntimeEnvironment(target, async ({ jobName }) => ({ DB_PASSWORD: `${jobName}-${value}`, AUTH_TOKEN: 'tok' }));
    const stored = structuredClone(SPEC);
    expect(await wrapped.startReplica(stored, 0, { a: 'b' }, false)).toBe('container-1');
    value = 'v2';
    await wrapped.startReplica(stored, 1, {});
    const starts = calls.filter((c) => c.method === 'startReplica');
    expect((starts[0]?.args[0] as ContainerSpec).env).toEqual({ JOB_NAME: 'adder', AUTH_TOKEN: 'tok', FROM_MANIFEST: 'm', DB_PASSWORD: 'adder-v1' });
    expect(starts[0]?.args.slice(1)).toEqual([0, { a: 'b' }, false]);
    expect((starts[1]?.args[0] as ContainerSpec).env.DB_PASSWORD).toBe('adder-v2');
    expect(stored).toEqual(SPEC);
  });

  it('fail the container creation when the provider fails, before the target is asked', async () => {
    const { target, calls } = recordingTarget();
    const wrapped = withRuntimeEnvironment(target, async () => {
      throw new Error('cannot decrypt adder/DB_PASSWORD');
    });
    await expect(wrapped.startReplica(SPEC, 0, {})).rejects.toThrow('cannot decrypt');
    expect(calls).toEqual([]);
  });

  it('pass every other operation through unchanged', async () => {
    const { target, calls } = recordingTarget();
    const wrapped = withRuntimeEnvironment(target, async () => ({}));
    const context = new PassThrough();
    const onLog = (): void => undefined;
    const signal = new AbortController().signal;
    await wrapped.buildImage(context, { tag: 't', dockerfile: 'Dockerfile', buildArgs: {}, labels: {}, secrets: { K: 'v' } }, onLog);
    await wrapped.ensureImage('busybox', onLog);
    await wrapped.tagImage('id', 'tag');
    await wrapped.removeImageTag('tag');
    await wrapped.enableRestarts('c');
    await wrapped.inspectReplica('c', 1);
    await wrapped.containerLogs('c', 5);
    await wrapped.followLogs('c', 5, onLog, signal);
    await wrapped.removeContainer('c', 3);
    await wrapped.listManagedContainers();
    expect(calls.map((c) => c.method)).toEqual([
      'buildImage',
      'ensureImage',
      'tagImage',
      'removeImageTag',
      'enableRestarts',
      'inspectReplica',
      'containerLogs',
      'followLogs',
      'removeContainer',
      'listManagedContainers',
    ]);
    expect(calls[0]?.args[0]).toBe(context);
    expect(calls[8]?.args).toEqual(['c', 3]);
  });
});
