/**
 * The Docker side of one-shot runs: create a locked-down container, stream its output with
 * timestamps, wait for it, stop it, copy its results out, remove it. Engine API 1.41 via dockerode.
 */
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { hardenedHostConfig, lineWritable } from '../infra/index.js';
import type { RunSpec } from './spec.js';

/** One line of container output. `time` is ISO 8601 with nanoseconds (9 fraction digits, sortable as text). */
export interface OutputLine {
  stream: 'stdout' | 'stderr';
  time: string;
  line: string;
}

/** State of a run container. */
export interface RunContainerState {
  status: 'created' | 'running' | 'exited' | 'dead' | 'missing' | string;
  exitCode: number | null;
  oomKilled: boolean;
}

/** Normalises an RFC 3339 timestamp to exactly 9 fraction digits so text order is time order. */
export function normaliseTimestamp(timestamp: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(timestamp);
  if (!match) return timestamp;
  return `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}${match[3] === 'Z' ? 'Z' : match[3]}`;
}

/** Splits `"<timestamp> <text>"` as the Engine API prints with `timestamps=true`. */
export function splitTimestamp(line: string): { time: string; text: string } {
  const space = line.indexOf(' ');
  if (space > 0 && /^\d{4}-\d{2}-\d{2}T/.test(line)) return { time: normaliseTimestamp(line.slice(0, space)), text: line.slice(space + 1) };
  return { time: normaliseTimestamp(new Date().toISOString()), text: line };
}

/** Docker operations of the run executor. */
export class RunEngine {
  constructor(
    private readonly docker: Docker,
    private readonly installationId: string,
  ) {}

  /**
   * Creates (does not start) the run's container. The results directory is a bind mount of
   * `resultsHostDir` when given (Pitlane on the engine's host: no copy afterwards), else an
   * anonymous volume copied out when the run ends.
   * @returns the container id.
   */
  async create(runId: string, spec: RunSpec, image: string, resultsHostDir: string | null = null): Promise<string> {
    const mounts: Docker.MountSettings[] = [
      (resultsHostDir
        ? { Type: 'bind', Source: resultsHostDir, Target: spec.resultsDir, ReadOnly: false }
        : { Type: 'volume', Target: spec.resultsDir, ReadOnly: false }) as Docker.MountSettings,
      ...spec.volumes.map(
        (v) => ({ Type: v.type, Source: v.source, Target: v.target, ReadOnly: v.readOnly }) as Docker.MountSettings,
      ),
    ];
    const name = `pitlane-run-${runId}`;
    // A container of this name is a leftover of an attempt that crashed before recording it.
    await this.docker.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
    const container = await this.docker.createContainer({
      name,
      Image: image,
      Cmd: spec.command ?? undefined,
      Entrypoint: spec.entrypoint ?? undefined,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: spec.workingDir ?? undefined,
      Labels: { 'pitlane.managed': 'true', 'pitlane.instance': this.installationId, 'pitlane.run': runId },
      HostConfig: {
        ...hardenedHostConfig({ memoryBytes: spec.memoryBytes, cpuCores: spec.cpuCores, pidsLimit: spec.pidsLimit }),
        NetworkMode: spec.network,
        Mounts: mounts,
        RestartPolicy: { Name: 'no' },
        LogConfig: { Type: 'json-file', Config: {} },
      },
    });
    return container.id;
  }

  /** Starts a created container. */
  async start(containerId: string): Promise<void> {
    await this.docker.getContainer(containerId).start();
  }

  /** State of the container (`missing` when the engine does not know it). */
  async inspect(containerId: string): Promise<RunContainerState> {
    try {
      const info = await this.docker.getContainer(containerId).inspect();
      return { status: info.State.Status, exitCode: info.State.Running ? null : info.State.ExitCode, oomKilled: info.State.OOMKilled };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return { status: 'missing', exitCode: null, oomKilled: false };
      throw error;
    }
  }

  /** Waits until the container is not running; resolves its exit code. */
  async wait(containerId: string): Promise<number> {
    const result = (await this.docker.getContainer(containerId).wait({ condition: 'not-running' })) as { StatusCode: number };
    return result.StatusCode;
  }

  /**
   * Streams the container's output (after `since`, an ISO time, when given) line by line until the
   * container stops or `signal` aborts.
   */
  async followOutput(containerId: string, since: string | undefined, onLine: (line: OutputLine) => void, signal: AbortSignal): Promise<void> {
    const sinceSeconds = since ? (Date.parse(since) / 1000).toFixed(3) : undefined;
    const stream = (await this.docker.getContainer(containerId).logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(sinceSeconds ? { since: sinceSeconds as unknown as number } : {}),
    })) as unknown as Readable;
    const sink = (name: 'stdout' | 'stderr'): Writable => {
      return lineWritable((raw) => {
        const { time, text } = splitTimestamp(raw);
        if (since && time <= since) return;
        onLine({ stream: name, time, line: text });
      });
    };
    const stdout = sink('stdout');
    const stderr = sink('stderr');
    this.docker.modem.demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stdout.end();
        stderr.end();
        resolve();
      };
      signal.addEventListener('abort', () => {
        stream.destroy();
        done();
      }, { once: true });
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  }

  /** Stops the container: SIGTERM, then SIGKILL after `graceSeconds`. */
  async stop(containerId: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(containerId).stop({ t: graceSeconds });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 304 && status !== 404) throw error;
    }
  }

  /** A tar stream of `path` inside the container (Engine API "archive"), or undefined when it does not exist. */
  async copyOut(containerId: string, path: string): Promise<Readable | undefined> {
    try {
      return (await this.docker.getContainer(containerId).getArchive({ path })) as unknown as Readable;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  /** Removes the container and its anonymous volumes; a missing one is fine. */
  async remove(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) throw error;
    }
  }

  /** Every run container of this installation, with its run id. */
  async listRunContainers(): Promise<{ id: string; runId: string; state: string }[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: ['pitlane.run', `pitlane.instance=${this.installationId}`] },
    });
    return containers.map((c) => ({ id: c.Id, runId: c.Labels['pitlane.run'] ?? '', state: c.State }));
  }
}
