/**
 * The gateway's in-memory routing table: job name → versions → replicas. Rebuilt from the store
 * whenever deployments or reconciliation change something, so the hot path never touches the
 * database.
 */
import type { JobRecord, ReplicaRecord } from '../store/index.js';
import type { JobManifest } from '../manifest/types.js';
import { resolveVersion, type VersionResolution } from './versions.js';

/** One replica the gateway may forward to. */
export interface RouteReplica {
  containerId: string;
  host: string | null;
  port: number | null;
  /** False when the replica's container is not running, or a forward to it just failed to connect. */
  ready: boolean;
}

/** One job version as the gateway sees it. */
export interface RouteVersion {
  name: string;
  version: string;
  jobtype: string;
  status: string;
  statusReason: string | null;
  /** Per-call timeout in milliseconds (manifest `timeout_s`). */
  timeoutMs: number;
  replicas: RouteReplica[];
  /** Round-robin cursor. */
  next: number;
}

/** Source of the data the table is built from. */
export interface RoutingSource {
  list(): Promise<JobRecord[]>;
  allReplicas(): Promise<ReplicaRecord[]>;
}

export class RoutingTable {
  private jobs = new Map<string, Map<string, RouteVersion>>();
  /** Containers known not to be running (from reconciliation or a failed connect). */
  private readonly down = new Set<string>();
  /** Memoised resolutions (name + spec), cleared on every reload. */
  private resolved = new Map<string, { resolution: VersionResolution; route?: RouteVersion } | undefined>();

  constructor(private readonly source: RoutingSource) {}

  /** Reloads the table from the store. */
  async reload(): Promise<void> {
    const [jobs, replicas] = await Promise.all([this.source.list(), this.source.allReplicas()]);
    const next = new Map<string, Map<string, RouteVersion>>();
    for (const job of jobs) {
      const manifest = job.manifest as JobManifest;
      const previous = this.jobs.get(job.name)?.get(job.version);
      const versions = next.get(job.name) ?? new Map<string, RouteVersion>();
      versions.set(job.version, {
        name: job.name,
        version: job.version,
        jobtype: job.jobtype,
        status: job.status,
        statusReason: job.statusReason,
        timeoutMs: Math.round((manifest.timeout_s ?? 60) * 1000),
        replicas: replicas
          .filter((r) => r.jobName === job.name && r.jobVersion === job.version)
          .sort((a, b) => a.replicaIndex - b.replicaIndex)
          .map((r) => ({
            containerId: r.containerId,
            host: r.host,
            port: r.port,
            ready: r.host !== null && r.port !== null && !this.down.has(r.containerId),
          })),
        next: previous?.next ?? 0,
      });
      next.set(job.name, versions);
    }
    this.jobs = next;
    this.resolved = new Map();
  }

  /**
   * Records whether a replica's container is running. Not running replicas get no traffic until
   * they are seen running again.
   */
  setReplicaRunning(containerId: string, running: boolean): void {
    if (running) this.down.delete(containerId);
    else this.down.add(containerId);
    for (const versions of this.jobs.values()) {
      for (const route of versions.values()) {
        for (const replica of route.replicas) {
          if (replica.containerId === containerId) replica.ready = running && replica.host !== null && replica.port !== null;
        }
      }
    }
  }

  /** True when a job of this name exists. */
  hasJob(name: string): boolean {
    return this.jobs.has(name);
  }

  /** Resolves `spec` for job `name`; undefined when there is no such job. */
  resolve(name: string, spec: string): { resolution: VersionResolution; route?: RouteVersion } | undefined {
    const key = `${name}\u0000${spec}`;
    if (this.resolved.has(key)) return this.resolved.get(key);
    const answer = this.resolveUncached(name, spec);
    if (this.resolved.size > 10_000) this.resolved.clear();
    this.resolved.set(key, answer);
    return answer;
  }

  private resolveUncached(name: string, spec: string): { resolution: VersionResolution; route?: RouteVersion } | undefined {
    const versions = this.jobs.get(name);
    if (!versions) return undefined;
    const resolution = resolveVersion(
      spec,
      [...versions.values()].map((v) => ({ version: v.version, serving: true })),
    );
    return { resolution, route: resolution.ok ? versions.get(resolution.version) : undefined };
  }

  /** Picks the next ready replica of `route` (round robin), or undefined when none is ready. */
  pickReplica(route: RouteVersion): RouteReplica | undefined {
    const count = route.replicas.length;
    for (let i = 0; i < count; i += 1) {
      const replica = route.replicas[(route.next + i) % count];
      if (replica && replica.ready && replica.host && replica.port) {
        route.next = (route.next + i + 1) % count;
        return replica;
      }
    }
    return undefined;
  }
}
