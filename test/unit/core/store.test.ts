import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentRepository, JobRepository, SettingsRepository, openDatabase, type JobRecord, type PitlaneDatabase } from '../../../src/store/index.js';
import { tempDir } from './helpers.js';

const START = Date.UTC(2024, 0, 1, 12, 0, 0);

/** A clock tests move by hand. */
class Clock {
  constructor(public ms = START) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

let dir: { path: string; remove: () => void };
let dbPath: string;
const open: PitlaneDatabase[] = [];

async function database(): Promise<PitlaneDatabase> {
  const db = await openDatabase(dbPath);
  open.push(db);
  return db;
}

beforeEach(() => {
  dir = tempDir('store');
  dbPath = join(dir.path, 'nested', 'pitlane.db');
});

afterEach(async () => {
  for (const db of open.splice(0)) await db.destroy();
  dir.remove();
});

function deploymentInput(id: string, extra: Partial<Parameters<DeploymentRepository['create']>[0]> = {}) {
  return {
    id,
    jobName: 'adder',
    jobVersion: '1.0.0',
    manifest: { name: 'adder', version: '1.0.0', nested: { list: [1, 2] } },
    sourceKind: 'upload' as const,
    contextPath: `/data/contexts/${id}`,
    force: false,
    warnings: ['field `lang` is deprecated'],
    ...extra,
  };
}

describe('openDatabase', () => {
  it('creates the file and its directory, and can be opened again (migrations are idempotent)', async () => {
    const first = await database();
    expect(existsSync(dbPath)).toBe(true);
    await new SettingsRepository(first).set('k', 'v');
    await first.destroy();
    open.splice(open.indexOf(first), 1);
    const second = await database();
    expect(await new SettingsRepository(second).get('k')).toBe('v');
  });
});

describe('DeploymentRepository', () => {
  let clock: Clock;
  let repo: DeploymentRepository;

  beforeEach(async () => {
    clock = new Clock();
    repo = new DeploymentRepository(await database(), clock.now);
  });

  it('creates a queued deployment and reads it back with JSON decoded', async () => {
    const created = await repo.create(deploymentInput('d1', { force: true }));
    expect(created).toMatchObject({ id: 'd1', status: 'queued', phase: 'queued', attempts: 0, leaseOwner: null, force: true });
    const read = await repo.get('d1');
    expect(read).toEqual(created);
    expect(read).toMatchObject({
      jobName: 'adder',
      jobVersion: '1.0.0',
      manifest: { name: 'adder', version: '1.0.0', nested: { list: [1, 2] } },
      sourceKind: 'upload',
      contextPath: '/data/contexts/d1',
      force: true,
      warnings: ['field `lang` is deprecated'],
      error: null,
      imageId: null,
      createdAt: new Date(START).toISOString(),
      updatedAt: new Date(START).toISOString(),
      finishedAt: null,
    });
  });

  it('get returns undefined for an unknown id', async () => {
    expect(await repo.get('nope')).toBeUndefined();
  });

  it('rejects a duplicate id', async () => {
    await repo.create(deploymentInput('d1'));
    await expect(repo.create(deploymentInput('d1'))).rejects.toThrow();
  });

  it('lists newest first, filters by job and status, and limits', async () => {
    await repo.create(deploymentInput('a1', { jobName: 'adder' }));
    clock.advance(1000);
    await repo.create(deploymentInput('e1', { jobName: 'echo' }));
    clock.advance(1000);
    await repo.create(deploymentInput('a2', { jobName: 'adder', jobVersion: '2.0.0' }));
    await repo.finish('a1', { status: 'done' });

    expect((await repo.list()).map((d) => d.id)).toEqual(['a2', 'e1', 'a1']);
    expect((await repo.list({ jobName: 'adder' })).map((d) => d.id)).toEqual(['a2', 'a1']);
    expect((await repo.list({ status: 'queued' })).map((d) => d.id)).toEqual(['a2', 'e1']);
    expect((await repo.list({ jobName: 'adder', status: 'done' })).map((d) => d.id)).toEqual(['a1']);
    expect((await repo.list({ limit: 2 })).map((d) => d.id)).toEqual(['a2', 'e1']);
  });

  it('findActive finds a queued or running deployment of the job version only', async () => {
    await repo.create(deploymentInput('d1'));
    expect((await repo.findActive('adder', '1.0.0'))?.id).toBe('d1');
    expect(await repo.findActive('adder', '2.0.0')).toBeUndefined();
    expect(await repo.findActive('echo', '1.0.0')).toBeUndefined();
    await repo.claimNext('w1', 10_000);
    expect((await repo.findActive('adder', '1.0.0'))?.status).toBe('running');
    await repo.finish('d1', { status: 'failed', error: 'boom' });
    expect(await repo.findActive('adder', '1.0.0')).toBeUndefined();
  });

  it('claimNext takes queued work oldest first and takes a lease', async () => {
    await repo.create(deploymentInput('first'));
    clock.advance(10);
    await repo.create(deploymentInput('second'));
    clock.advance(10);
    await repo.create(deploymentInput('third'));

    const claimed = await repo.claimNext('worker-1', 5000);
    expect(claimed).toMatchObject({ id: 'first', status: 'running', leaseOwner: 'worker-1', attempts: 1 });
    expect(claimed?.updatedAt).toBe(new Date(clock.ms).toISOString());
    expect((await repo.claimNext('worker-1', 5000))?.id).toBe('second');
    expect((await repo.claimNext('worker-2', 5000))?.id).toBe('third');
    expect(await repo.claimNext('worker-2', 5000)).toBeUndefined();
  });

  it('oldest first is by creation time, not by id or insertion order', async () => {
    clock.ms = START + 5000;
    await repo.create(deploymentInput('aaa-newer'));
    clock.ms = START;
    await repo.create(deploymentInput('zzz-older'));
    expect((await repo.claimNext('w', 1000))?.id).toBe('zzz-older');
  });

  it('returns undefined when nothing is queued, and never claims finished work', async () => {
    expect(await repo.claimNext('w', 1000)).toBeUndefined();
    await repo.create(deploymentInput('d1'));
    await repo.claimNext('w', 1000);
    await repo.finish('d1', { status: 'done' });
    clock.advance(60_000);
    expect(await repo.claimNext('w2', 1000)).toBeUndefined();
  });

  it('two owners never claim the same deployment (same connection, concurrently)', async () => {
    for (let i = 0; i < 5; i += 1) {
      await repo.create(deploymentInput(`d${i}`));
      clock.advance(1);
    }
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.claimNext(`w${i}`, 60_000)));
    const ids = claims.filter((c) => c !== undefined).map((c) => c?.id);
    expect(ids.sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    expect(claims.filter((c) => c === undefined)).toHaveLength(3);
    for (const claim of claims) {
      if (!claim) continue;
      expect((await repo.get(claim.id))?.leaseOwner).toBe(claim.leaseOwner);
    }
  });

  it('two owners never claim the same deployment (two connections to one file)', async () => {
    const other = new DeploymentRepository(await database(), clock.now);
    await repo.create(deploymentInput('only'));
    const [a, b] = await Promise.all([repo.claimNext('owner-a', 60_000), other.claimNext('owner-b', 60_000)]);
    expect([a, b].filter((c) => c !== undefined)).toHaveLength(1);
    const winner = (a ?? b)?.leaseOwner;
    expect((await other.get('only'))?.leaseOwner).toBe(winner);
    expect((await other.get('only'))?.attempts).toBe(1);
  });

  it('an expired lease is claimed again by another owner, with attempts incremented', async () => {
    await repo.create(deploymentInput('d1'));
    const first = await repo.claimNext('dead-worker', 5000);
    expect(first?.attempts).toBe(1);

    clock.advance(4999);
    expect(await repo.claimNext('live-worker', 5000)).toBeUndefined();
    clock.advance(1);
    // lease_expires_ms < now is required: exactly at expiry the lease still holds.
    expect(await repo.claimNext('live-worker', 5000)).toBeUndefined();
    clock.advance(1);
    const second = await repo.claimNext('live-worker', 5000);
    expect(second).toMatchObject({ id: 'd1', leaseOwner: 'live-worker', attempts: 2, status: 'running' });

    // The dead worker, back, has lost its lease.
    expect(await repo.renewLease('d1', 'dead-worker', 5000)).toBe(false);
    expect(await repo.renewLease('d1', 'live-worker', 5000)).toBe(true);
  });

  it('prefers the older of a queued and an expired deployment', async () => {
    await repo.create(deploymentInput('old-running'));
    await repo.claimNext('dead', 1000);
    clock.advance(10);
    await repo.create(deploymentInput('new-queued'));
    clock.advance(5000);
    expect((await repo.claimNext('w', 1000))?.id).toBe('old-running');
    expect((await repo.claimNext('w', 1000))?.id).toBe('new-queued');
  });

  it('renewLease extends the lease for the owner only', async () => {
    await repo.create(deploymentInput('d1'));
    await repo.claimNext('owner', 1000);
    clock.advance(900);
    expect(await repo.renewLease('d1', 'owner', 1000)).toBe(true);
    clock.advance(900);
    // Renewed at +900 for 1000 ms: still held at +1800.
    expect(await repo.claimNext('thief', 1000)).toBeUndefined();
    expect(await repo.renewLease('d1', 'thief', 1000)).toBe(false);
    expect(await repo.renewLease('missing', 'owner', 1000)).toBe(false);
    expect((await repo.get('d1'))?.leaseOwner).toBe('owner');
  });

  it('renewLease fails once the deployment is finished', async () => {
    await repo.create(deploymentInput('d1'));
    await repo.claimNext('owner', 1000);
    await repo.finish('d1', { status: 'done' });
    expect(await repo.renewLease('d1', 'owner', 1000)).toBe(false);
  });

  it('finish releases the lease and records the outcome', async () => {
    await repo.create(deploymentInput('ok'));
    await repo.create(deploymentInput('bad', { jobVersion: '2.0.0' }));
    await repo.claimNext('w', 1000);
    await repo.claimNext('w', 1000);
    clock.advance(42);
    await repo.finish('ok', { status: 'done' });
    await repo.finish('bad', { status: 'failed', error: 'the build failed' });
    const finishedAt = new Date(START + 42).toISOString();
    expect(await repo.get('ok')).toMatchObject({ status: 'done', phase: 'done', error: null, leaseOwner: null, finishedAt, updatedAt: finishedAt });
    expect(await repo.get('bad')).toMatchObject({ status: 'failed', phase: 'failed', error: 'the build failed', leaseOwner: null, finishedAt });
  });

  it('setPhase, setImage and addWarnings (kept in order, duplicates dropped)', async () => {
    await repo.create(deploymentInput('d1', { warnings: ['w1'] }));
    clock.advance(5);
    await repo.setPhase('d1', 'building');
    await repo.setImage('d1', 'sha256:abc');
    await repo.addWarnings('d1', ['w2', 'w1', 'w3', 'w2']);
    await repo.addWarnings('d1', []);
    await repo.addWarnings('missing', ['ignored']);
    expect(await repo.get('d1')).toMatchObject({
      phase: 'building',
      status: 'queued',
      imageId: 'sha256:abc',
      warnings: ['w1', 'w2', 'w3'],
      updatedAt: new Date(START + 5).toISOString(),
    });
  });

  it('appendLogs and logs(after) page through lines in order, per deployment', async () => {
    await repo.create(deploymentInput('d1'));
    await repo.create(deploymentInput('d2', { jobVersion: '2.0.0' }));
    await repo.appendLogs('d1', ['step 1', 'step 2']);
    await repo.appendLogs('d2', ['other']);
    await repo.appendLogs('d1', []);
    clock.advance(1000);
    await repo.appendLogs('d1', ['step 3', '']);

    const all = await repo.logs('d1');
    expect(all.map((l) => l.line)).toEqual(['step 1', 'step 2', 'step 3', '']);
    expect(all.map((l) => l.id)).toEqual([...all.map((l) => l.id)].sort((a, b) => a - b));
    expect(new Set(all.map((l) => l.id)).size).toBe(4);
    expect(all[0]?.time).toBe(new Date(START).toISOString());
    expect(all[2]?.time).toBe(new Date(START + 1000).toISOString());

    const second = all[1];
    expect(second).toBeDefined();
    expect((await repo.logs('d1', second?.id)).map((l) => l.line)).toEqual(['step 3', '']);
    expect((await repo.logs('d1', 0, 2)).map((l) => l.line)).toEqual(['step 1', 'step 2']);
    expect(await repo.logs('d1', all[3]?.id)).toEqual([]);
    expect((await repo.logs('d2')).map((l) => l.line)).toEqual(['other']);
    expect(await repo.logs('unknown')).toEqual([]);
  });
});

describe('JobRepository', () => {
  let clock: Clock;
  let jobs: JobRepository;

  beforeEach(async () => {
    clock = new Clock();
    jobs = new JobRepository(await database(), clock.now);
  });

  function jobInput(name: string, version: string, extra: Partial<JobRecord> = {}): Omit<JobRecord, 'updatedAt' | 'deployedAt'> {
    const { updatedAt: _u, deployedAt: _d, ...rest } = {
      name,
      version,
      status: 'running' as const,
      statusReason: null,
      jobtype: 'docker-proxy',
      manifest: { name, version, timeout_s: 60 },
      imageId: `sha256:${name}${version}`,
      imageTag: `pitlane-job/${name}:${version}`,
      deploymentId: `dep-${name}-${version}`,
      containerSpec: { env: { JOB_NAME: name } },
      updatedAt: '',
      deployedAt: '',
      ...extra,
    };
    return rest;
  }

  it('activates a job version with its replicas', async () => {
    const replaced = await jobs.activate(jobInput('adder', '1.0.0'), [
      { containerId: 'c1', replicaIndex: 1, host: '127.0.0.1', port: 40001 },
      { containerId: 'c0', replicaIndex: 0, host: '127.0.0.1', port: 40000 },
    ]);
    expect(replaced).toEqual([]);
    const job = await jobs.get('adder', '1.0.0');
    expect(job).toMatchObject({
      name: 'adder',
      version: '1.0.0',
      status: 'running',
      manifest: { name: 'adder', version: '1.0.0', timeout_s: 60 },
      containerSpec: { env: { JOB_NAME: 'adder' } },
      deployedAt: new Date(START).toISOString(),
      updatedAt: new Date(START).toISOString(),
    });
    const replicas = await jobs.replicas('adder', '1.0.0');
    expect(replicas.map((r) => [r.containerId, r.replicaIndex, r.port])).toEqual([
      ['c0', 0, 40000],
      ['c1', 1, 40001],
    ]);
    expect(replicas[0]).toMatchObject({ jobName: 'adder', jobVersion: '1.0.0', host: '127.0.0.1' });
    expect(typeof replicas[0]?.port).toBe('number');
  });

  it('activate replaces the replicas and returns the replaced container ids (kept ones excluded)', async () => {
    await jobs.activate(jobInput('adder', '1.0.0'), [
      { containerId: 'old-0', replicaIndex: 0, host: 'h', port: 1 },
      { containerId: 'keep', replicaIndex: 1, host: 'h', port: 2 },
      { containerId: 'old-2', replicaIndex: 2, host: 'h', port: 3 },
    ]);
    await jobs.activate(jobInput('other', '1.0.0'), [{ containerId: 'other-0', replicaIndex: 0, host: 'h', port: 9 }]);
    clock.advance(1000);
    const replaced = await jobs.activate(jobInput('adder', '1.0.0', { imageId: 'sha256:new' }), [
      { containerId: 'new-0', replicaIndex: 0, host: 'h', port: 4 },
      { containerId: 'keep', replicaIndex: 1, host: 'h', port: 2 },
    ]);
    expect(replaced.sort()).toEqual(['old-0', 'old-2']);
    expect((await jobs.replicas('adder', '1.0.0')).map((r) => r.containerId)).toEqual(['new-0', 'keep']);
    expect((await jobs.get('adder', '1.0.0'))?.imageId).toBe('sha256:new');
    expect((await jobs.get('adder', '1.0.0'))?.deployedAt).toBe(new Date(START + 1000).toISOString());
    // Other jobs are untouched.
    expect((await jobs.replicas('other', '1.0.0')).map((r) => r.containerId)).toEqual(['other-0']);
  });

  it('activate with no replicas removes the old ones', async () => {
    await jobs.activate(jobInput('adder', '1.0.0'), [{ containerId: 'c0', replicaIndex: 0, host: null, port: null }]);
    expect(await jobs.activate(jobInput('adder', '1.0.0'), [])).toEqual(['c0']);
    expect(await jobs.replicas('adder', '1.0.0')).toEqual([]);
    expect(await jobs.get('adder', '1.0.0')).toBeDefined();
  });

  it('activate is atomic: a failure leaves the previous job and replicas in place', async () => {
    await jobs.activate(jobInput('adder', '1.0.0', { imageId: 'sha256:old' }), [{ containerId: 'c0', replicaIndex: 0, host: 'h', port: 1 }]);
    await jobs.activate(jobInput('echo', '1.0.0'), [{ containerId: 'taken', replicaIndex: 0, host: 'h', port: 2 }]);
    // 'taken' belongs to another job: inserting it again violates the primary key, mid-transaction.
    await expect(
      jobs.activate(jobInput('adder', '1.0.0', { imageId: 'sha256:new' }), [
        { containerId: 'c-new', replicaIndex: 0, host: 'h', port: 3 },
        { containerId: 'taken', replicaIndex: 1, host: 'h', port: 4 },
      ]),
    ).rejects.toThrow();
    expect((await jobs.get('adder', '1.0.0'))?.imageId).toBe('sha256:old');
    expect((await jobs.replicas('adder', '1.0.0')).map((r) => r.containerId)).toEqual(['c0']);
    expect((await jobs.replicas('echo', '1.0.0')).map((r) => r.containerId)).toEqual(['taken']);
  });

  it('lists job versions by name then deployment time, optionally of one name', async () => {
    await jobs.activate(jobInput('zeta', '1.0.0'), []);
    clock.advance(1);
    await jobs.activate(jobInput('adder', '2.0.0'), []);
    clock.advance(1);
    await jobs.activate(jobInput('adder', '1.0.0'), []);
    expect((await jobs.list()).map((j) => `${j.name}@${j.version}`)).toEqual(['adder@2.0.0', 'adder@1.0.0', 'zeta@1.0.0']);
    expect((await jobs.list('adder')).map((j) => j.version)).toEqual(['2.0.0', '1.0.0']);
    expect(await jobs.list('nobody')).toEqual([]);
  });

  it('setStatus records the status and reason', async () => {
    await jobs.activate(jobInput('adder', '1.0.0'), []);
    clock.advance(7);
    await jobs.setStatus('adder', '1.0.0', 'degraded', '1 of 2 replicas running');
    expect(await jobs.get('adder', '1.0.0')).toMatchObject({
      status: 'degraded',
      statusReason: '1 of 2 replicas running',
      updatedAt: new Date(START + 7).toISOString(),
      deployedAt: new Date(START).toISOString(),
    });
  });

  it('delete removes the version and its replicas and returns their container ids', async () => {
    await jobs.activate(jobInput('adder', '1.0.0'), [
      { containerId: 'c0', replicaIndex: 0, host: 'h', port: 1 },
      { containerId: 'c1', replicaIndex: 1, host: 'h', port: 2 },
    ]);
    await jobs.activate(jobInput('adder', '2.0.0'), [{ containerId: 'd0', replicaIndex: 0, host: 'h', port: 3 }]);
    expect((await jobs.delete('adder', '1.0.0')).sort()).toEqual(['c0', 'c1']);
    expect(await jobs.get('adder', '1.0.0')).toBeUndefined();
    expect(await jobs.replicas('adder', '1.0.0')).toEqual([]);
    expect((await jobs.get('adder', '2.0.0'))?.version).toBe('2.0.0');
    expect((await jobs.allReplicas()).map((r) => r.containerId)).toEqual(['d0']);
    expect(await jobs.delete('adder', '1.0.0')).toEqual([]);
  });

  it('updateReplica changes the container id and/or address', async () => {
    await jobs.activate(jobInput('adder', '1.0.0'), [
      { containerId: 'c0', replicaIndex: 0, host: '127.0.0.1', port: 1 },
      { containerId: 'c1', replicaIndex: 1, host: '127.0.0.1', port: 2 },
    ]);
    await jobs.updateReplica('c0', { containerId: 'c0-recreated', port: 5555 });
    await jobs.updateReplica('c1', { host: null, port: null });
    await jobs.updateReplica('c1', {});
    await jobs.updateReplica('missing', { port: 1 });
    const replicas = await jobs.replicas('adder', '1.0.0');
    expect(replicas.map((r) => [r.containerId, r.replicaIndex, r.host, r.port])).toEqual([
      ['c0-recreated', 0, '127.0.0.1', 5555],
      ['c1', 1, null, null],
    ]);
  });

  it('allReplicas returns every replica of every job', async () => {
    await jobs.activate(jobInput('a', '1.0.0'), [{ containerId: 'a0', replicaIndex: 0, host: 'h', port: 1 }]);
    await jobs.activate(jobInput('b', '1.0.0'), [{ containerId: 'b0', replicaIndex: 0, host: 'h', port: 2 }]);
    expect((await jobs.allReplicas()).map((r) => `${r.jobName}:${r.containerId}`).sort()).toEqual(['a:a0', 'b:b0']);
  });
});

describe('SettingsRepository', () => {
  it('gets, sets and replaces values', async () => {
    const settings = new SettingsRepository(await database());
    expect(await settings.get('admin_token_sha256')).toBeUndefined();
    await settings.set('admin_token_sha256', 'first');
    expect(await settings.get('admin_token_sha256')).toBe('first');
    await settings.set('admin_token_sha256', 'second');
    expect(await settings.get('admin_token_sha256')).toBe('second');
    await settings.set('other', '');
    expect(await settings.get('other')).toBe('');
    expect(await settings.get('admin_token_sha256')).toBe('second');
  });

  it('values survive reopening the database', async () => {
    const db = await database();
    await new SettingsRepository(db).set('k', 'durable');
    const reopened = await database();
    expect(await new SettingsRepository(reopened).get('k')).toBe('durable');
  });
});
