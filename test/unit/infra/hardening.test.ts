/**
 * The container security baseline and the engine guard: every kind of container Pitlane creates
 * (job replica, run, wheel builder, structure-test containers) gets a HostConfig that passes
 * `hostConfigProblems`; the guard refuses a creation that does not, before it reaches the engine;
 * Engine API requests time out (except the ones the caller bounds itself).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerImageChecker } from '../../../src/deploy/index.js';
import { parseStructureTests } from '../../../src/image/index.js';
import {
  CONTAINER_CAPABILITIES,
  ContainerPolicyError,
  DockerTarget,
  EngineTimeoutError,
  engineCallTimeoutMs,
  exposesDockerSocket,
  guardEngine,
  namedVolumesOf,
  volumeBindsHostPath,
  hardenedHostConfig,
  hostConfigProblems,
} from '../../../src/infra/index.js';
import { RunEngine, type RunSpec } from '../../../src/runs/index.js';
import { DockerWheelBuildEngine } from '../../../src/wheelhouse/index.js';

const CAPTURED = 'captured the create request';

/** A dockerode stand-in that records `createContainer` bodies and stops the caller right there. */
function capturingDocker(): { docker: Docker; bodies: Docker.ContainerCreateOptions[] } {
  const bodies: Docker.ContainerCreateOptions[] = [];
  const fake = {
    createContainer: async (body: Docker.ContainerCreateOptions) => {
      bodies.push(body);
      throw new Error(CAPTURED);
    },
    getContainer: () => ({ remove: async () => undefined }),
    getImage: () => ({ inspect: async () => ({ Id: 'sha256:0123', Config: {} }) }),
    listNetworks: async () => [{ Name: 'pitlane' }],
    modem: {},
  };
  return { docker: fake as unknown as Docker, bodies };
}

const limits = { memoryBytes: 256 * 1024 * 1024, cpuCores: 0.5, pidsLimit: 128 };

function expectHardened(body: Docker.ContainerCreateOptions | undefined): void {
  expect(body).toBeDefined();
  const hostConfig = body!.HostConfig as Record<string, unknown>;
  expect(hostConfigProblems(hostConfig)).toEqual([]);
  expect(hostConfig.Privileged).toBe(false);
  expect(hostConfig.CapDrop).toEqual(['ALL']);
  expect(hostConfig.CapAdd).not.toContain('NET_RAW');
  expect(hostConfig.CapAdd).not.toContain('MKNOD');
  expect(hostConfig.SecurityOpt).toContain('no-new-privileges');
  expect(hostConfig.Memory).toBeGreaterThan(0);
  expect(hostConfig.NanoCpus).toBeGreaterThan(0);
  expect(hostConfig.PidsLimit).toBeGreaterThan(0);
  for (const field of ['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode']) expect(hostConfig[field] ?? '').not.toBe('host');
  expect(JSON.stringify(hostConfig)).not.toContain('docker.sock');
}

describe('every container kind Pitlane creates is hardened', () => {
  it('job replicas (DockerTarget.startReplica), on the network and on loopback', async () => {
    for (const access of ['network', 'loopback'] as const) {
      const { docker, bodies } = capturingDocker();
      const target = new DockerTarget({ docker, access, networkName: 'pitlane', installationId: 'test' });
      const spec = { jobName: 'j', jobVersion: '1.0.0', deploymentId: 'd', image: 'sha256:0123', port: 7004, env: {}, ...limits };
      await expect(target.startReplica(spec, 0, {})).rejects.toThrow(CAPTURED);
      expectHardened(bodies[0]);
      expect(bodies[0]!.HostConfig!.Memory).toBe(limits.memoryBytes);
      expect(bodies[0]!.HostConfig!.NanoCpus).toBe(5e8);
      expect(bodies[0]!.HostConfig!.PidsLimit).toBe(128);
    }
  });

  it('runs (RunEngine.create), with host-path and named volumes', async () => {
    const { docker, bodies } = capturingDocker();
    const spec: RunSpec = {
      source: { kind: 'image', image: 'busybox:latest' },
      buildArgs: {},
      command: ['true'],
      entrypoint: null,
      env: {},
      volumes: [
        { type: 'bind', source: mkdtempSync(join(tmpdir(), 'pitlane-hardening-')), target: '/in', readOnly: true },
        { type: 'volume', source: 'named', target: '/vol', readOnly: false },
      ],
      workingDir: null,
      timeoutS: 10,
      network: 'none',
      resultsDir: '/data',
      ...limits,
    };
    await expect(new RunEngine(docker, 'test').create('run-1', spec, 'busybox:latest', null)).rejects.toThrow(CAPTURED);
    expectHardened(bodies[0]);
    expect(bodies[0]!.HostConfig!.NetworkMode).toBe('none');
  });

  it('wheel builders (DockerWheelBuildEngine.run)', async () => {
    const { docker, bodies } = capturingDocker();
    const engine = new DockerWheelBuildEngine({ docker, installationId: 'test' });
    await expect(
      engine.run({
        context: Readable.from([]),
        command: ['true'],
        workingDir: '/src',
        env: [],
        outPath: '/out',
        outDir: tmpdir(),
        labels: {},
        onLine: () => undefined,
        signal: new AbortController().signal,
        timeoutMs: 1000,
      }),
    ).rejects.toThrow(CAPTURED);
    expectHardened(bodies[0]);
  });

  it('structure-test containers (command tests and the file-reading container), without host access', async () => {
    const { docker, bodies } = capturingDocker();
    const checker = new DockerImageChecker(docker, limits);
    const config = parseStructureTests({
      schemaVersion: '2.0.0',
      commandTests: [{ name: 'echo', command: 'echo', args: ['hi'] }],
      fileExistenceTests: [{ name: 'etc', path: '/etc', shouldExist: true }],
    });
    await checker.structureTests('sha256:0123', config).catch(() => undefined);
    expect(bodies.length).toBeGreaterThanOrEqual(2);
    for (const body of bodies) {
      expectHardened(body);
      expect(body.HostConfig!.NetworkMode).toBe('none');
    }
  });

  it('structure tests that ask for host access fail on the server instead of getting it', async () => {
    const { docker, bodies } = capturingDocker();
    const checker = new DockerImageChecker(docker, limits);
    const config = parseStructureTests({
      schemaVersion: '2.0.0',
      containerRunOptions: { privileged: true, bindMounts: ['/var/run/docker.sock:/var/run/docker.sock'] },
      commandTests: [{ name: 'echo', command: 'echo', args: ['hi'] }],
    });
    const report = await checker.structureTests('sha256:0123', config);
    expect(report.pass).toBe(false);
    expect(JSON.stringify(report)).toContain('not allowed');
    expect(bodies).toEqual([]);
  });
});

describe('hostConfigProblems', () => {
  const good = { ...hardenedHostConfig(limits), NetworkMode: 'bridge' };

  it('accepts the baseline', () => {
    expect(hostConfigProblems(good)).toEqual([]);
    expect(good.CapAdd).toEqual([...CONTAINER_CAPABILITIES]);
  });

  it.each([
    ['privileged', { Privileged: true }, 'Privileged'],
    ['host network', { NetworkMode: 'host' }, 'NetworkMode'],
    ['host PID namespace', { PidMode: 'host' }, 'PidMode'],
    ["another container's IPC namespace", { IpcMode: 'container:abc' }, 'IpcMode'],
    ['host UTS namespace', { UTSMode: 'host' }, 'UTSMode'],
    ['host user namespace', { UsernsMode: 'host' }, 'UsernsMode'],
    ['no no-new-privileges', { SecurityOpt: [] }, 'no-new-privileges'],
    ['seccomp unconfined', { SecurityOpt: ['no-new-privileges', 'seccomp=unconfined'] }, 'seccomp=unconfined'],
    ['capabilities kept', { CapDrop: ['NET_RAW'] }, 'CapDrop'],
    ['SYS_ADMIN added', { CapAdd: ['SYS_ADMIN'] }, 'SYS_ADMIN'],
    ['no memory limit', { Memory: 0 }, 'Memory'],
    ['no CPU limit', { NanoCpus: undefined }, 'NanoCpus'],
    ['no process limit', { PidsLimit: -1 }, 'PidsLimit'],
    ['a device', { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }, 'Devices'],
    ['the Docker socket as a bind', { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] }, 'Docker socket'],
    ['the Docker socket as a mount', { Mounts: [{ Type: 'bind', Source: '/run/docker.sock', Target: '/s' }] }, 'Docker socket'],
    ['the directory holding the socket', { Binds: ['/var/run:/host-run:ro'] }, 'Docker socket'],
    ['the host root', { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }, 'Docker socket'],
  ])('refuses %s', (_what, change, word) => {
    const problems = hostConfigProblems({ ...good, ...change });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join(' ')).toContain(word);
  });

  it('refuses a missing HostConfig', () => {
    expect(hostConfigProblems(undefined)).toHaveLength(1);
  });

  it('sees a symlink to the Docker socket, and a directory holding the socket path it protects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-sock-'));
    const socket = join(dir, 'engine.sock');
    writeFileSync(socket, '');
    symlinkSync(socket, join(dir, 'innocent'));
    mkdirSync(join(dir, 'data'));
    expect(exposesDockerSocket(join(dir, 'innocent'), [socket])).toBe(true);
    expect(exposesDockerSocket(dir, [socket])).toBe(true);
    expect(exposesDockerSocket(join(dir, 'data'), [socket])).toBe(false);
    expect(exposesDockerSocket('/srv/other/docker.sock', [socket])).toBe(true);
  });
});

describe('named volumes', () => {
  it('finds the named volumes of Mounts and Binds, not host paths', () => {
    expect(namedVolumesOf({ Mounts: [{ Type: 'volume', Source: 'a' }, { Type: 'bind', Source: '/srv' }, { Type: 'volume', Target: '/anon' }], Binds: ['b:/x', '/host:/y', 'a:/z:ro'] })).toEqual(['a', 'b']);
    expect(namedVolumesOf(undefined)).toEqual([]);
  });

  it.each([
    [{ type: 'none', o: 'bind', device: '/' }, true],
    [{ o: 'rbind' }, true],
    [{ o: 'uid=1000,bind' }, true],
    [{ device: '/dev/sdb1', type: 'ext4' }, true],
    [{ type: 'tmpfs', o: 'size=100m' }, false],
    [{ type: 'tmpfs', device: 'tmpfs', o: 'size=100m' }, false],
    [{ type: 'nfs', o: 'addr=10.0.0.1,rw', device: ':/exports/data' }, false],
    [{ type: 'ext4', device: '/dev/sdb1' }, true],
    [{}, false],
  ])('%j binds a host path: %s', (options, expected) => {
    expect(volumeBindsHostPath({ Options: options as Record<string, string> })).toBe(expected);
  });
});

describe('engineCallTimeoutMs', () => {
  const timeouts = { requestMs: 5000 };

  it.each([
    [{ path: '/containers/abc/json?', method: 'GET' }, 5000],
    [{ path: '/containers/create?', method: 'POST', options: {} }, 5000],
    [{ path: '/containers/abc/stop?', method: 'POST', options: { t: 30 } }, 35_000],
    [{ path: '/containers/abc/wait?', method: 'POST', options: {} }, null],
    [{ path: '/containers/abc/logs?', method: 'GET', isStream: true }, null],
    [{ path: '/containers/abc/attach?', method: 'POST', isStream: true, hijack: true }, null],
    [{ path: '/build?', method: 'POST', isStream: true, file: Readable.from([]) }, null],
    [{ path: '/containers/abc/archive?', method: 'PUT', file: Readable.from([]) }, null],
  ])('%j → %s', (options, expected) => {
    expect(engineCallTimeoutMs(options, timeouts)).toBe(expected);
  });
});

describe('guardEngine on a real dockerode client', () => {
  let server: Server;
  let socketPath: string;

  beforeAll(async () => {
    socketPath = join(mkdtempSync(join(tmpdir(), 'pitlane-engine-')), 'engine.sock');
    // A fake engine: inspect never answers, wait answers after 700 ms, create answers at once.
    server = createServer((req, res) => {
      if (req.url?.startsWith('/volumes/hostroot')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Name: 'hostroot', Driver: 'local', Options: { type: 'none', o: 'bind', device: '/' } }));
      } else if (req.url?.startsWith('/volumes/plain')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Name: 'plain', Driver: 'local', Options: null }));
      } else if (req.url?.startsWith('/volumes/')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'no such volume' }));
      } else if (req.url?.includes('/wait')) {
        setTimeout(() => res.end(JSON.stringify({ StatusCode: 3 })), 700);
      } else if (req.url?.startsWith('/containers/create')) {
        req.resume();
        req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ Id: 'created' })));
      } else {
        // never answers
      }
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function client(): Docker {
    const docker = new Docker({ socketPath });
    guardEngine(docker, { requestMs: 300 });
    guardEngine(docker, { requestMs: 300 }); // a second call changes nothing
    return docker;
  }

  it('times out a request the engine does not answer, naming it', async () => {
    const started = Date.now();
    const error = await client().getContainer('abc').inspect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineTimeoutError);
    expect((error as Error).message).toContain('GET /containers/abc/json');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('does not time out wait, which lasts as long as the container runs', async () => {
    expect(await client().getContainer('abc').wait()).toEqual({ StatusCode: 3 });
  });

  it('passes a hardened creation through and refuses a privileged one before it reaches the engine', async () => {
    const docker = client();
    const created = await docker.createContainer({ Image: 'x', HostConfig: { ...hardenedHostConfig(limits) } });
    expect(created.id).toBe('created');
    const refused = await docker.createContainer({ Image: 'x', HostConfig: { ...hardenedHostConfig(limits), Privileged: true } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ContainerPolicyError);
    const socketBind = await docker
      .createContainer({ Image: 'x', HostConfig: { ...hardenedHostConfig(limits), Binds: [`${socketPath}:/var/run/docker.sock`] } })
      .catch((e: unknown) => e);
    expect(socketBind).toBeInstanceOf(ContainerPolicyError);
    expect((socketBind as ContainerPolicyError).problems.join(' ')).toContain('Docker socket');
  });

  it('refuses a named volume that is a bind of a host path, and lets plain and new volumes through', async () => {
    const docker = client();
    const mount = (name: string) => ({ Image: 'x', HostConfig: { ...hardenedHostConfig(limits), Mounts: [{ Type: 'volume' as const, Source: name, Target: '/v' }] } });
    const refused = await docker.createContainer(mount('hostroot')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ContainerPolicyError);
    expect((refused as ContainerPolicyError).problems.join(' ')).toContain('volume hostroot');
    expect((await docker.createContainer(mount('plain'))).id).toBe('created');
    expect((await docker.createContainer(mount('not-created-yet'))).id).toBe('created');
    const viaBinds = await docker.createContainer({ Image: 'x', HostConfig: { ...hardenedHostConfig(limits), Binds: ['hostroot:/v:ro'] } }).catch((e: unknown) => e);
    expect(viaBinds).toBeInstanceOf(ContainerPolicyError);
  });
});
