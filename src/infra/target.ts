/**
 * The infrastructure target interface: where job containers run. `docker` (the local engine) is
 * the default; `kubernetes` comes later. Deploy, gateway and reconciliation code only see this.
 */
import type { Readable } from 'node:stream';

/** Everything needed to (re)create one replica of a job version. Stored with the job, JSON. */
export interface ContainerSpec {
  jobName: string;
  jobVersion: string;
  deploymentId: string;
  /** Image id or reference to run. */
  image: string;
  /** Port the job's server listens on inside the container (seed 000: 7004). */
  port: number;
  /** Environment: the manifest's runtime_env plus Pitlane's injected variables. */
  env: Record<string, string>;
  /** Memory limit in bytes. */
  memoryBytes: number;
  /** CPU limit in cores (0.5 = half a core). */
  cpuCores: number;
  /** Maximum number of processes in the container. */
  pidsLimit: number;
}

/** Where the gateway reaches a replica, and its state. */
export interface ReplicaState {
  /** `missing` when the engine no longer knows the container. */
  state: 'created' | 'running' | 'restarting' | 'exited' | 'paused' | 'dead' | 'removing' | 'missing';
  host: string | null;
  port: number | null;
  exitCode: number | null;
  restartCount: number;
}

/** A container the target manages, as listed from the engine (labels rebuild state after a crash). */
export interface ManagedContainer {
  id: string;
  labels: Record<string, string>;
  state: string;
}

/** Options of an image build. */
export interface BuildOptions {
  /** Tag for the built image, e.g. `pitlane-job/sum-numbers:0.0.1`. */
  tag: string;
  /** Dockerfile path relative to the context root. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /**
   * Build secrets, key → value: reach the build only as BuildKit secret mounts
   * (`RUN --mount=type=secret,id=KEY`, file `/run/secrets/KEY`), never a layer, build argument or log line.
   */
  secrets?: Record<string, string>;
}

/** Operations Pitlane needs from an infrastructure target. Every method may throw on engine errors. */
export interface InfrastructureTarget {
  /** Builds an image from a tar stream of the build context; `onLog` gets each output line. Returns the image id. */
  buildImage(context: Readable, options: BuildOptions, onLog: (line: string) => void): Promise<{ imageId: string }>;
  /** Makes sure `reference` exists locally (pulling it if possible); returns its image id. */
  ensureImage(reference: string, onLog: (line: string) => void): Promise<{ imageId: string }>;
  /** Tags an existing image. */
  tagImage(imageId: string, tag: string): Promise<void>;
  /** Removes an image tag (the image itself goes when nothing else refers to it). Missing tags are ignored. */
  removeImageTag(tag: string): Promise<void>;
  /**
   * Creates and starts one replica; returns its container id. With `restartOnFailure: false` the
   * container is not restarted when it exits (used while a new deployment waits for readiness, so
   * a failing start is seen with its exit code); {@link enableRestarts} turns restarts on later.
   */
  startReplica(spec: ContainerSpec, replicaIndex: number, labels: Record<string, string>, restartOnFailure?: boolean): Promise<string>;
  /** Gives a running replica its restart policy (`unless-stopped`). */
  enableRestarts(containerId: string): Promise<void>;
  /** Current state and address of a replica. */
  inspectReplica(containerId: string, port: number): Promise<ReplicaState>;
  /** The last `tail` lines of a container's output (stdout and stderr together). */
  containerLogs(containerId: string, tail: number): Promise<string[]>;
  /** Streams a container's output lines until it stops or `signal` aborts. */
  followLogs(containerId: string, tail: number, onLine: (line: string) => void, signal: AbortSignal): Promise<void>;
  /** Stops (SIGTERM, then SIGKILL after `graceSeconds`) and removes a container; missing containers are ignored. */
  removeContainer(containerId: string, graceSeconds?: number): Promise<void>;
  /** Every container this target created for Pitlane (label `pitlane.managed=true`). */
  listManagedContainers(): Promise<ManagedContainer[]>;
}
