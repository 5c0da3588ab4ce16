import { describe, expect, it } from 'vitest';
import { RoutingTable, type RoutingSource } from '../../../src/gateway/routing-table.js';
import type { JobRecord, ReplicaRecord } from '../../../src/store/jobs.js';

function job(name: string, version: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    name,
    version,
    status: 'running',
    statusReason: null,
    jobtype: 'docker-proxy',
    manifest: { name, version, timeout_s: 30 },
    imageId: `sha256:${name}-${version}`,
    imageTag: `pitlane-job/${name}:${version}`,
    deploymentId: `dep-${name}-${version}`,
    containerSpec: {},
    deployedAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...extra,
  };
}

function replica(containerId: string, jobName: string, jobVersion: string, replicaIndex: number, extra: Partial<ReplicaRecord> = {}): ReplicaRecord {
  return {
    containerId,
    jobName,
    jobVersion,
    replicaIndex,
    host: '127.0.0.1',
    port: 40_000 + replicaIndex,
    createdAt: '2024-01-01T00:00:00.000Z',
    ...extra,
  };
}

/** An in-memory RoutingSource whose contents tests change between reloads. */
class FakeSource implements RoutingSource {
  jobs: JobRecord[] = [];
  replicas: ReplicaRecord[] = [];
  listCalls = 0;

  async list(): Promise<JobRecord[]> {
    this.listCalls += 1;
    return this.jobs.map((j) => ({ ...j }));
  }

  async allReplicas(): Promise<ReplicaRecord[]> {
    return this.replicas.map((r) => ({ ...r }));
  }
}

async function table(source: FakeSource): Promise<RoutingTable> {
  const routes = new RoutingTable(source);
  await routes.reload();
  return routes;
}

function picks(routes: RoutingTable, name: string, version: string, count: number): Array<string | undefined> {
  const resolved = routes.resolve(name, version);
  const route = resolved?.route;
  if (!route) throw new Error(`no route for ${name} ${version}`);
  return Array.from({ length: count }, () => routes.pickReplica(route)?.containerId);
}

describe('RoutingTable', () => {
  it('is empty before the first reload', () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    const routes = new RoutingTable(source);
    expect(routes.hasJob('adder')).toBe(false);
    expect(routes.resolve('adder', 'latest')).toBeUndefined();
    expect(source.listCalls).toBe(0);
  });

  it('loads jobs, versions and replicas from the source', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0'), job('adder', '1.1.0', { jobtype: 'python3', manifest: { timeout_s: 2.5 } }), job('echo', '0.0.1')];
    source.replicas = [
      replica('c-b', 'adder', '1.1.0', 1),
      replica('c-a', 'adder', '1.1.0', 0),
      replica('c-old', 'adder', '1.0.0', 0),
      replica('c-echo', 'echo', '0.0.1', 0),
    ];
    const routes = await table(source);
    expect(routes.hasJob('adder')).toBe(true);
    expect(routes.hasJob('echo')).toBe(true);
    expect(routes.hasJob('missing')).toBe(false);

    const resolved = routes.resolve('adder', 'latest');
    expect(resolved?.resolution).toEqual({ ok: true, version: '1.1.0' });
    expect(resolved?.route).toMatchObject({
      name: 'adder',
      version: '1.1.0',
      jobtype: 'python3',
      status: 'running',
      timeoutMs: 2500,
    });
    // Replicas ordered by replica index, only this version's.
    expect(resolved?.route?.replicas.map((r) => r.containerId)).toEqual(['c-a', 'c-b']);
    expect(routes.resolve('adder', '1.0.0')?.route?.replicas.map((r) => r.containerId)).toEqual(['c-old']);
  });

  it('defaults the timeout to 60 s when the manifest has none', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0', { manifest: {} })];
    const routes = await table(source);
    expect(routes.resolve('adder', '1.0.0')?.route?.timeoutMs).toBe(60_000);
  });

  it('resolves wildcards and exact versions, and reports unknown ones', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.9.0'), job('adder', '1.10.0'), job('adder', '2.0.0-rc.1')];
    const routes = await table(source);
    expect(routes.resolve('adder', '1.x')?.route?.version).toBe('1.10.0');
    expect(routes.resolve('adder', 'latest')?.route?.version).toBe('1.10.0');
    expect(routes.resolve('adder', '2.0.0-rc.1')?.route?.version).toBe('2.0.0-rc.1');
    const unknown = routes.resolve('adder', '3.0.0');
    expect(unknown?.resolution).toMatchObject({ ok: false, reason: 'unknown_version' });
    expect(unknown?.route).toBeUndefined();
    expect(routes.resolve('adder', 'nonsense')?.resolution).toMatchObject({ ok: false, reason: 'invalid_spec' });
    expect(routes.resolve('nobody', 'latest')).toBeUndefined();
  });

  it('reflects removed and added jobs after a reload', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    const routes = await table(source);
    source.jobs = [job('echo', '1.0.0')];
    await routes.reload();
    expect(routes.hasJob('adder')).toBe(false);
    expect(routes.resolve('echo', '1.0.0')?.route?.version).toBe('1.0.0');
  });

  it('round-robins across ready replicas', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0), replica('c1', 'adder', '1.0.0', 1), replica('c2', 'adder', '1.0.0', 2)];
    const routes = await table(source);
    expect(picks(routes, 'adder', '1.0.0', 7)).toEqual(['c0', 'c1', 'c2', 'c0', 'c1', 'c2', 'c0']);
  });

  it('shares one cursor between specs that resolve to the same version', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0), replica('c1', 'adder', '1.0.0', 1)];
    const routes = await table(source);
    expect(picks(routes, 'adder', 'latest', 1)).toEqual(['c0']);
    expect(picks(routes, 'adder', '1.x', 1)).toEqual(['c1']);
    expect(picks(routes, 'adder', '1.0.0', 1)).toEqual(['c0']);
  });

  it('keeps the round-robin cursor across reloads', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0), replica('c1', 'adder', '1.0.0', 1), replica('c2', 'adder', '1.0.0', 2)];
    const routes = await table(source);
    expect(picks(routes, 'adder', '1.0.0', 1)).toEqual(['c0']);
    await routes.reload();
    expect(picks(routes, 'adder', '1.0.0', 2)).toEqual(['c1', 'c2']);
  });

  it('skips replicas without an address', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    source.replicas = [
      replica('c0', 'adder', '1.0.0', 0, { port: null }),
      replica('c1', 'adder', '1.0.0', 1),
      replica('c2', 'adder', '1.0.0', 2, { host: null }),
    ];
    const routes = await table(source);
    const route = routes.resolve('adder', '1.0.0')?.route;
    expect(route?.replicas.map((r) => r.ready)).toEqual([false, true, false]);
    expect(picks(routes, 'adder', '1.0.0', 3)).toEqual(['c1', 'c1', 'c1']);
  });

  it('setReplicaRunning(false) takes a replica out of rotation and true puts it back', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0), replica('c1', 'adder', '1.0.0', 1), replica('c2', 'adder', '1.0.0', 2)];
    const routes = await table(source);

    routes.setReplicaRunning('c1', false);
    expect(picks(routes, 'adder', '1.0.0', 4)).toEqual(['c0', 'c2', 'c0', 'c2']);

    routes.setReplicaRunning('c1', true);
    const after = picks(routes, 'adder', '1.0.0', 3);
    expect(after.sort()).toEqual(['c0', 'c1', 'c2']);
  });

  it('remembers a down replica across reloads until it is seen running', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0), replica('c1', 'adder', '1.0.0', 1)];
    const routes = await table(source);
    routes.setReplicaRunning('c0', false);
    await routes.reload();
    expect(picks(routes, 'adder', '1.0.0', 3)).toEqual(['c1', 'c1', 'c1']);
    routes.setReplicaRunning('c0', true);
    await routes.reload();
    expect(new Set(picks(routes, 'adder', '1.0.0', 2))).toEqual(new Set(['c0', 'c1']));
  });

  it('a replica marked down before it appears is not ready when it is loaded', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    const routes = await table(source);
    routes.setReplicaRunning('c9', false);
    source.replicas = [replica('c9', 'adder', '1.0.0', 0)];
    await routes.reload();
    expect(routes.resolve('adder', '1.0.0')?.route?.replicas[0]?.ready).toBe(false);
  });

  it('setReplicaRunning(true) does not make a replica without an address ready', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0')];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0, { port: null })];
    const routes = await table(source);
    routes.setReplicaRunning('c0', true);
    const route = routes.resolve('adder', '1.0.0')?.route;
    expect(route?.replicas[0]?.ready).toBe(false);
    expect(route && routes.pickReplica(route)).toBeUndefined();
  });

  it('pickReplica returns undefined when no replica is ready', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0'), job('lonely', '1.0.0', { status: 'failed', statusReason: 'containers are gone' })];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0), replica('c1', 'adder', '1.0.0', 1)];
    const routes = await table(source);
    routes.setReplicaRunning('c0', false);
    routes.setReplicaRunning('c1', false);
    expect(picks(routes, 'adder', '1.0.0', 2)).toEqual([undefined, undefined]);

    const lonely = routes.resolve('lonely', 'latest');
    expect(lonely?.route).toMatchObject({ status: 'failed', statusReason: 'containers are gone', replicas: [] });
    expect(lonely?.route && routes.pickReplica(lonely.route)).toBeUndefined();
  });

  it('only affects the replica with that container id', async () => {
    const source = new FakeSource();
    source.jobs = [job('adder', '1.0.0'), job('echo', '1.0.0')];
    source.replicas = [replica('c0', 'adder', '1.0.0', 0), replica('e0', 'echo', '1.0.0', 0)];
    const routes = await table(source);
    routes.setReplicaRunning('c0', false);
    expect(picks(routes, 'echo', '1.0.0', 1)).toEqual(['e0']);
    expect(picks(routes, 'adder', '1.0.0', 1)).toEqual([undefined]);
  });
});
