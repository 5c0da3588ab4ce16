/**
 * The `docker` infrastructure target: the local Docker engine through dockerode (Engine API 1.41+).
 *
 * Replicas run on a Pitlane-owned bridge network (default `pitlane`) and are reached at their
 * container address, or, with `access: 'loopback'`, through a port published on 127.0.0.1 only.
 * Containers get the security baseline of `hardening.ts` (never privileged, no host namespaces,
 * `no-new-privileges`, capabilities dropped, limits always set) and a restart policy (`unless-stopped`).
 */
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type {
  BuildOptions,
  ContainerSpec,
  InfrastructureTarget,
  ManagedContainer,
  ReplicaState,
} from '../target.js';
import { hardenedHostConfig } from './hardening.js';
import { demultiplexLines, LineSplitter } from './log-lines.js';
import { buildWithBuildKitCli, findBuildKitCli, type BuildKitCli } from './buildkit-cli.js';

/** Configuration of the docker target. */
export interface DockerTargetOptions {
  /** dockerode client (socket path etc. are its concern). */
  docker: Docker;
  /** `network`: reach containers on the Pitlane network; `loopback`: publish on 127.0.0.1. */
  access: 'network' | 'loopback';
  /** Name of the Pitlane-owned bridge network. */
  networkName: string;
  /** Value of the `pitlane.instance` label, identifying this Pitlane installation's containers. */
  installationId: string;
  /** docker CLI for builds with secrets (BuildKit); found automatically when undefined (see buildkit-cli.ts). */
  dockerCli?: string;
  /** Longest an image build may take, in ms (default 1 hour); the build fails after it. */
  buildTimeoutMs?: number;
  /** Longest an image pull may take, in ms (default 15 minutes). */
  pullTimeoutMs?: number;
}

/**
 * Destroys `stream` with a timeout error after `ms`; returns the function that cancels the timer.
 * Streaming Engine API calls (build, pull) have no socket timeout: this bounds their wall-clock time.
 */
function streamDeadline(stream: NodeJS.ReadableStream, ms: number, what: string): () => void {
  const timer = setTimeout(() => {
    (stream as unknown as { destroy(error?: Error): void }).destroy(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`));
  }, ms);
  return () => clearTimeout(timer);
}

function sanitize(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
}

/** The docker infrastructure target. */
export class DockerTarget implements InfrastructureTarget {
  private networkReady: Promise<void> | undefined;
  private buildKitCli: Promise<BuildKitCli> | undefined;

  constructor(private readonly options: DockerTargetOptions) {}

  private get docker(): Docker {
    return this.options.docker;
  }

  async buildImage(context: Readable, options: BuildOptions, onLog: (line: string) => void): Promise<{ imageId: string }> {
    if (options.secrets && Object.keys(options.secrets).length > 0) {
      // Secret mounts need BuildKit's client session, which the docker CLI implements (buildkit-cli.ts).
      this.buildKitCli ??= findBuildKitCli(this.options.dockerCli ? [this.options.dockerCli] : undefined);
      const cli = await this.buildKitCli.catch((error: unknown) => {
        this.buildKitCli = undefined;
        throw error;
      });
      return buildWithBuildKitCli(cli, context, options, onLog, { timeoutMs: this.options.buildTimeoutMs });
    }
    const stream = await this.docker.buildImage(context as NodeJS.ReadableStream, {
      t: options.tag,
      dockerfile: options.dockerfile,
      buildargs: options.buildArgs,
      labels: options.labels,
      rm: true,
      forcerm: true,
    });
    let imageId: string | undefined;
    let failure: string | undefined;
    const splitter = new LineSplitter(onLog);
    const cancelDeadline = streamDeadline(stream, this.options.buildTimeoutMs ?? 3_600_000, 'the image build');
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } }) => {
          if (event.stream) splitter.push(event.stream);
          if (event.status) splitter.push(`${event.status}\n`);
          if (event.aux?.ID) imageId = event.aux.ID;
          if (event.error) {
            failure = event.errorDetail?.message ?? event.error;
            splitter.push(`ERROR: ${failure}\n`);
          }
        },
      );
    }).finally(cancelDeadline);
    splitter.flush();
    if (failure) throw new Error(failure);
    if (!imageId) imageId = (await this.docker.getImage(options.tag).inspect()).Id;
    return { imageId };
  }

  async ensureImage(reference: string, onLog: (line: string) => void): Promise<{ imageId: string }> {
    try {
      return { imageId: (await this.docker.getImage(reference).inspect()).Id };
    } catch {
      onLog(`image ${reference} is not present locally; pulling it`);
    }
    try {
      const stream = await this.docker.pull(reference);
      const cancelDeadline = streamDeadline(stream, this.options.pullTimeoutMs ?? 900_000, 'the pull');
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()), (event: { status?: string }) => {
          if (event.status) onLog(event.status);
        });
      }).finally(cancelDeadline);
    } catch (error) {
      throw new Error(`image ${reference} is not present and could not be pulled: ${(error as Error).message}`);
    }
    return { imageId: (await this.docker.getImage(reference).inspect()).Id };
  }

  async tagImage(imageId: string, tag: string): Promise<void> {
    const colon = tag.lastIndexOf(':');
    const repo = colon > tag.lastIndexOf('/') ? tag.slice(0, colon) : tag;
    const version = colon > tag.lastIndexOf('/') ? tag.slice(colon + 1) : 'latest';
    await this.docker.getImage(imageId).tag({ repo, tag: version });
  }

  async removeImageTag(tag: string): Promise<void> {
    try {
      await this.docker.getImage(tag).remove({ noprune: false });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) return;
      if (status === 409) return; // still used by a container (e.g. another version shares the image)
      throw error;
    }
  }

  private async ensureNetwork(): Promise<void> {
    if (this.options.access !== 'network') return;
    this.networkReady ??= (async () => {
      const existing = await this.docker.listNetworks({ filters: { name: [this.options.networkName] } });
      if (existing.some((n) => n.Name === this.options.networkName)) return;
      try {
        await this.docker.createNetwork({
          Name: this.options.networkName,
          Driver: 'bridge',
          Labels: { 'pitlane.managed': 'true' },
        });
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 409) throw error;
      }
    })();
    try {
      await this.networkReady;
    } catch (error) {
      this.networkReady = undefined;
      throw error;
    }
  }

  async startReplica(spec: ContainerSpec, replicaIndex: number, labels: Record<string, string>, restartOnFailure = true): Promise<string> {
    await this.ensureNetwork();
    const portKey = `${spec.port}/tcp`;
    const suffix = Math.random().toString(36).slice(2, 8);
    const container = await this.docker.createContainer({
      name: `pitlane-${sanitize(spec.jobName)}-${sanitize(spec.jobVersion)}-${replicaIndex}-${suffix}`,
      Image: spec.image,
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      Labels: {
        ...labels,
        'pitlane.managed': 'true',
        'pitlane.instance': this.options.installationId,
        'pitlane.job': spec.jobName,
        'pitlane.version': spec.jobVersion,
        'pitlane.deployment': spec.deploymentId,
        'pitlane.replica': String(replicaIndex),
      },
      ExposedPorts: { [portKey]: {} },
      HostConfig: {
        ...hardenedHostConfig({ memoryBytes: spec.memoryBytes, cpuCores: spec.cpuCores, pidsLimit: spec.pidsLimit }),
        RestartPolicy: { Name: restartOnFailure ? 'unless-stopped' : 'no' },
        NetworkMode: this.options.access === 'network' ? this.options.networkName : 'bridge',
        PortBindings: this.options.access === 'loopback' ? { [portKey]: [{ HostIp: '127.0.0.1', HostPort: '' }] } : undefined,
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      },
    });
    try {
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw error;
    }
    return container.id;
  }

  async enableRestarts(containerId: string): Promise<void> {
    await this.docker.getContainer(containerId).update({ RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } } as never);
  }

  async inspectReplica(containerId: string, port: number): Promise<ReplicaState> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(containerId).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        return { state: 'missing', host: null, port: null, exitCode: null, restartCount: 0 };
      }
      throw error;
    }
    const state = info.State.Status as ReplicaState['state'];
    let host: string | null = null;
    let hostPort: number | null = null;
    if (this.options.access === 'network') {
      const address = info.NetworkSettings.Networks?.[this.options.networkName]?.IPAddress;
      if (address) {
        host = address;
        hostPort = port;
      }
    } else {
      const binding = info.NetworkSettings.Ports?.[`${port}/tcp`]?.[0];
      if (binding?.HostPort) {
        host = '127.0.0.1';
        hostPort = Number(binding.HostPort);
      }
    }
    return {
      state,
      host,
      port: hostPort,
      exitCode: state === 'exited' || state === 'dead' || state === 'restarting' ? info.State.ExitCode : null,
      restartCount: info.RestartCount ?? 0,
    };
  }

  async containerLogs(containerId: string, tail: number): Promise<string[]> {
    try {
      const buffer = (await this.docker
        .getContainer(containerId)
        .logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
      return demultiplexLines(buffer);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return [];
      throw error;
    }
  }

  async followLogs(containerId: string, tail: number, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    const stream = (await this.docker
      .getContainer(containerId)
      .logs({ stdout: true, stderr: true, tail, follow: true })) as unknown as Readable;
    const splitter = new LineSplitter(onLine);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        (stream as Readable & { destroy(): void }).destroy();
        resolve();
      };
      signal.addEventListener('abort', stop, { once: true });
      const sink = {
        write: (chunk: Buffer) => {
          splitter.push(chunk.toString('utf8'));
          return true;
        },
      };
      this.docker.modem.demuxStream(stream, sink as never, sink as never);
      stream.on('end', () => {
        splitter.flush();
        signal.removeEventListener('abort', stop);
        resolve();
      });
      stream.on('error', () => resolve());
    });
  }

  async removeContainer(containerId: string, graceSeconds = 10): Promise<void> {
    const container = this.docker.getContainer(containerId);
    try {
      await container.update({ RestartPolicy: { Name: 'no' } } as never).catch(() => undefined);
      await container.stop({ t: graceSeconds }).catch(() => undefined);
      await container.remove({ force: true, v: true });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) return;
      throw error;
    }
  }

  async listManagedContainers(): Promise<ManagedContainer[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: ['pitlane.managed=true', `pitlane.instance=${this.options.installationId}`] },
    });
    return containers.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, state: c.State }));
  }
}
