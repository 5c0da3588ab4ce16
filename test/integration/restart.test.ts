/**
 * Durability: Pitlane SIGKILLed mid-build and with jobs running, then started again on the same
 * data directory. Nothing may stay stuck, running jobs stay callable, no container is orphaned,
 * and a record whose container vanished gets it back.
 */
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContextGzip } from '../../src/build/index.js';
import { containersOfJob, docker, eventually, PitlaneProcess, REPO_ROOT, removeJobContainers, sleep } from './helpers/pitlane.js';

const JOBS = ['durable-running', 'durable-build'];
const server = new PitlaneProcess();

async function contextOf(dir: string): Promise<string> {
  return (await buffer(packContextGzip(dir))).toString('base64');
}

beforeAll(async () => {
  await removeJobContainers(JOBS);
  await server.start();
});

afterAll(async () => {
  await server.stop();
  await removeJobContainers(JOBS);
});

describe('restart of Pitlane', () => {
  it('keeps running jobs callable across a SIGKILL, recreates a vanished container and removes orphans', async () => {
    const probe = await contextOf(join(REPO_ROOT, 'test/fixtures/probe-job'));
    const queued = await server.api('POST', '/api/v1/deploy', {
      manifest: { name: 'durable-running', version: '1.0.0', owner_email: 'a@example.com', jobtype: 'docker-proxy', replicas: 2 },
      build_context: probe,
    });
    expect((await server.waitForDeployment(queued.body.id)).status).toBe('done');
    const [first, second] = await containersOfJob('durable-running');
    expect(second).toBeDefined();

    await server.kill();
    // While Pitlane is down: one replica's container disappears, and a stray container appears.
    await docker.getContainer(first!.Id).remove({ force: true });
    const stray = await docker.createContainer({
      Image: first!.Image,
      Labels: { ...first!.Labels, 'pitlane.deployment': 'no-such-deployment' },
      Cmd: ['node', '-e', 'setInterval(()=>{},1e9)'],
    });
    await stray.start();

    await server.start();
    const answer = await server.api('POST', '/pub/job/durable-running/1.0.0/api/v1/perform', { n: 1 });
    expect(answer.status).toBe(200);
    expect(answer.body.version).toBe('1.0.0');
    await expect(docker.getContainer(stray.id).inspect()).rejects.toThrow();
    const containers = await containersOfJob('durable-running');
    expect(containers).toHaveLength(2);
    expect(containers.map((c) => c.Id)).toContain(second!.Id);
    const replicas = (await server.api('GET', '/api/v1/jobs/durable-running/1.0.0')).body.replicas.map((r: any) => r.container_id);
    expect(replicas.sort()).toEqual(containers.map((c) => c.Id).sort());
    const healthy = await eventually(async () => (await server.api('GET', '/api/v1/jobs/durable-running/1.0.0')).body.status === 'running', 15_000);
    expect(healthy).toBe(true);
  });

  it('finishes (or fails with a reason) a deployment whose server was SIGKILLed mid-build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-slow-'));
    copyFileSync(join(REPO_ROOT, 'test/fixtures/probe-job/server.js'), join(dir, 'server.js'));
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        'FROM debian:bookworm-slim',
        'ARG DEBIAN_FRONTEND=noninteractive',
        'RUN apt-get update \\',
        ' && apt-get install -y --no-install-recommends nodejs \\',
        ' && rm -rf /var/lib/apt/lists/*',
        'ARG NONCE',
        'RUN echo "slow step $NONCE" && sleep 5',
        'WORKDIR /app',
        'COPY server.js /app/',
        'USER nobody',
        'CMD ["node", "server.js"]',
        '',
      ].join('\n'),
    );
    const queued = await server.api('POST', '/api/v1/deploy', {
      manifest: { name: 'durable-build', version: '1.0.0', owner_email: 'a@example.com', jobtype: 'docker-proxy', build_args: { NONCE: String(Date.now()) } },
      build_context: await contextOf(dir),
    });
    expect(queued.status).toBe(202);
    const building = await eventually(async () => (await server.api('GET', `/api/v1/deploy/${queued.body.id}`)).body.phase === 'building', 30_000, 100);
    expect(building).toBe(true);
    await sleep(1500);
    await server.kill();
    await server.start();
    const finished = await server.waitForDeployment(queued.body.id, 120_000);
    expect(['done', 'failed']).toContain(finished.status);
    if (finished.status === 'failed') expect(finished.error).toBeTruthy();
    expect(finished.attempts).toBeGreaterThanOrEqual(2);
    const logs = (await server.api('GET', `/api/v1/deploy/${queued.body.id}/logs`)).body.lines.map((l: any) => l.line).join('\n');
    expect(logs).toContain('Pitlane restarted during this deployment');
    const containers = await containersOfJob('durable-build');
    const recorded = finished.status === 'done' ? finished.job.replicas.map((r: any) => r.container_id) : [];
    expect(containers.map((c) => c.Id).sort()).toEqual(recorded.sort());
    if (finished.status === 'done') {
      expect((await server.api('POST', '/pub/job/durable-build/1.0.0/api/v1/perform', {})).status).toBe(200);
    }
  });
});
