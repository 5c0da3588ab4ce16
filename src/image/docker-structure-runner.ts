/**
 * I/O: a {@link StructureTestRunner} backed by the Docker engine through dockerode, behaving like
 * container-structure-test's docker driver (`pkg/drivers/docker_driver.go`): every command test
 * runs in a fresh container with the entrypoint overridden (`Entrypoint: []`), setup commands run
 * in their own containers committed as the new base image, files are read through the archive API
 * (`GET /containers/{id}/archive`, i.e. `docker cp`) from a created-but-never-started container.
 */
import { readFile as readHostFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { TarScanner, type TarHeader } from './tar-scanner.js';
import type { ContainerRunOptions } from './structure-schema.js';
import type { CommandOutcome, CommandSpec, FileStat, ImageConfigView, StructureTestRunner } from './structure-run.js';

/** Options of {@link DockerStructureTestRunner}. */
export interface DockerStructureRunnerOptions {
  /** Longest a single command (setup, test, teardown) may run, in milliseconds (default 120,000); it is killed after. */
  commandTimeoutMs?: number;
  /** Largest file `readFile` returns, in bytes (default 32 MiB). */
  maxFileBytes?: number;
  /** Environment used for `containerRunOptions.envVars` pass-through (default `process.env`). */
  hostEnv?: NodeJS.ProcessEnv;
  /** Labels put on every container and image this runner creates (default `{ "pitlane.structure-test": "1" }`). */
  labels?: Record<string, string>;
  /**
   * HostConfig every container this runner creates starts from (the server passes its hardened
   * baseline with limits). Absent: Docker's defaults, as `container-structure-test` has.
   */
  hostConfig?: Record<string, unknown>;
  /**
   * Whether `containerRunOptions` may reach the host: `privileged`, `capabilities`, `bindMounts`,
   * `envFile` (a file on this machine) and `envVars` (this process's environment). Default true
   * (the CLI on the user's own machine); the server sets false and such tests fail.
   */
  allowHostAccess?: boolean;
}

/** The `containerRunOptions` fields that reach the host, set in `ro` (empty when none). */
export function hostAccessOptions(ro: ContainerRunOptions | null): string[] {
  if (!ro) return [];
  return [
    ...(ro.privileged ? ['privileged'] : []),
    ...(ro.capabilities.length > 0 ? ['capabilities'] : []),
    ...(ro.bindMounts.length > 0 ? ['bindMounts'] : []),
    ...(ro.envFile ? ['envFile'] : []),
    ...(ro.envVars.length > 0 ? ['envVars'] : []),
  ];
}

const NOOP_CMD = ['/pitlane-structure-test-noop'];

/** Runs structure tests against image `image` (a reference or id) on the engine `docker`. Call `close()` when done. */
export class DockerStructureTestRunner implements StructureTestRunner {
  private fsContainer: Promise<Docker.Container> | null = null;
  private readonly timeoutMs: number;
  private readonly maxFileBytes: number;
  private readonly labels: Record<string, string>;

  constructor(
    private readonly docker: Docker,
    private readonly image: string,
    private readonly options: DockerStructureRunnerOptions = {},
  ) {
    this.timeoutMs = options.commandTimeoutMs ?? 120_000;
    this.maxFileBytes = options.maxFileBytes ?? 32 * 1024 * 1024;
    this.labels = options.labels ?? { 'pitlane.structure-test': '1' };
  }

  /** Runs setup commands (committing each), the test command, then teardown commands; removes what it created. */
  async runCommand(spec: CommandSpec): Promise<CommandOutcome> {
    const temporaryImages: string[] = [];
    let base = this.image;
    const env = await this.containerEnv(spec);
    try {
      for (const cmd of spec.setup) {
        const r = await this.runOnce(base, cmd, env, spec.runOptions, true);
        if (r.exitCode !== 0) {
          throw new Error(`setup command ${JSON.stringify(cmd)} exited with code ${r.exitCode}: ${r.stderr.trim().slice(0, 500)}`);
        }
        base = r.imageId!;
        temporaryImages.push(base);
      }
      const out = await this.runOnce(base, spec.argv, env, spec.runOptions, false);
      for (const cmd of spec.teardown) {
        await this.runOnce(base, cmd, env, spec.runOptions, false).catch(() => undefined);
      }
      return { stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode };
    } finally {
      for (const id of temporaryImages.reverse()) {
        await this.docker
          .getImage(id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
  }

  /** Stats `path` in the image (a symlink is not followed); `null` when it does not exist. */
  async statFile(path: string): Promise<FileStat | null> {
    const entry = await this.firstArchiveEntry(path, false);
    if (entry === null) return null;
    return statOf(entry.header);
  }

  /** Reads the regular file at `path`, following symlinks (8 hops at most); `null` when it does not exist. */
  async readFile(path: string): Promise<Buffer | null> {
    let current = path;
    for (let hops = 0; hops < 8; hops++) {
      const entry = await this.firstArchiveEntry(current, true);
      if (entry === null) return null;
      const h = entry.header;
      if (h.type === 'symlink') {
        current = h.linkname.startsWith('/') ? h.linkname : `${current.replace(/\/[^/]*$/, '')}/${h.linkname}`;
        continue;
      }
      if (h.type === 'directory') throw new Error(`${path} is a directory`);
      if (h.type !== 'file' && h.type !== 'hardlink') throw new Error(`${path} is not a regular file (${h.type})`);
      return entry.body ?? Buffer.alloc(0);
    }
    throw new Error(`${path}: too many levels of symbolic links`);
  }

  /** The image's config from `docker image inspect`. */
  async getImageConfig(): Promise<ImageConfigView> {
    const info = (await this.docker.getImage(this.image).inspect()) as {
      Config?: {
        Env?: string[] | null;
        Entrypoint?: string[] | string | null;
        Cmd?: string[] | string | null;
        WorkingDir?: string;
        User?: string;
        Labels?: Record<string, string> | null;
        ExposedPorts?: Record<string, object> | null;
        Volumes?: Record<string, object> | null;
      };
    };
    const c = info.Config ?? {};
    const list = (v: string[] | string | null | undefined): string[] | null => (v === null || v === undefined ? null : Array.isArray(v) ? v : [v]);
    return {
      env: c.Env ?? [],
      entrypoint: list(c.Entrypoint),
      cmd: list(c.Cmd),
      workdir: c.WorkingDir ?? '',
      user: c.User ?? '',
      labels: c.Labels ?? {},
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      volumes: Object.keys(c.Volumes ?? {}),
    };
  }

  /** Removes the container used for file tests. */
  async close(): Promise<void> {
    const c = this.fsContainer;
    this.fsContainer = null;
    if (c) {
      await c.then((x) => x.remove({ force: true })).catch(() => undefined);
    }
  }

  private async containerEnv(spec: CommandSpec): Promise<string[]> {
    const env: string[] = [];
    const ro = spec.runOptions;
    const refused = this.options.allowHostAccess === false ? hostAccessOptions(ro) : [];
    if (refused.length > 0) throw new Error(`containerRunOptions ${refused.join(', ')} are not allowed here`);
    if (ro?.envFile) {
      const text = await readHostFile(ro.envFile, 'utf8');
      for (const line of text.split(/\r?\n/)) {
        const t = line.trim();
        if (t === '' || t.startsWith('#')) continue;
        env.push(t.includes('=') ? t : `${t}=${(this.options.hostEnv ?? process.env)[t] ?? ''}`);
      }
    }
    for (const name of ro?.envVars ?? []) {
      const v = (this.options.hostEnv ?? process.env)[name];
      if (v !== undefined) env.push(`${name}=${v}`);
    }
    for (const { key, value } of spec.env) env.push(`${key}=${value}`);
    return env;
  }

  private async runOnce(
    image: string,
    argv: string[],
    env: string[],
    ro: ContainerRunOptions | null,
    commit: boolean,
  ): Promise<CommandOutcome & { imageId?: string }> {
    const tty = ro?.allocateTty ?? false;
    const container = await this.docker.createContainer({
      Image: image,
      Entrypoint: [],
      Cmd: argv,
      Env: env,
      Tty: tty,
      ...(ro?.user ? { User: ro.user } : {}),
      Labels: this.labels,
      HostConfig: this.options.hostConfig
        ? { ...this.options.hostConfig }
        : {
            Privileged: ro?.privileged ?? false,
            ...(ro?.capabilities.length ? { CapAdd: ro.capabilities } : {}),
            ...(ro?.bindMounts.length ? { Binds: ro.bindMounts } : {}),
          },
    });
    try {
      const waiting = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
      await container.start();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          container.kill().catch(() => undefined);
          reject(new Error(`command ${JSON.stringify(argv)} timed out after ${this.timeoutMs} ms`));
        }, this.timeoutMs);
      });
      let status: { StatusCode: number };
      try {
        status = await Promise.race([waiting, timedOut]);
      } finally {
        clearTimeout(timer);
      }
      const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      const { stdout, stderr } = tty ? { stdout: Buffer.from(logs).toString('utf8'), stderr: '' } : demux(Buffer.from(logs));
      let imageId: string | undefined;
      if (commit) {
        const res = (await container.commit({})) as { Id: string };
        imageId = res.Id;
      }
      return { stdout, stderr, exitCode: status.StatusCode, ...(imageId ? { imageId } : {}) };
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  private filesContainer(): Promise<Docker.Container> {
    if (this.fsContainer === null) {
      this.fsContainer = this.docker.createContainer({
        Image: this.image,
        Entrypoint: [],
        Cmd: NOOP_CMD,
        Labels: this.labels,
        ...(this.options.hostConfig ? { HostConfig: { ...this.options.hostConfig } } : {}),
      });
      this.fsContainer.catch(() => (this.fsContainer = null));
    }
    return this.fsContainer;
  }

  private async firstArchiveEntry(path: string, withBody: boolean): Promise<{ header: TarHeader; body: Buffer | null } | null> {
    const container = await this.filesContainer();
    let stream: NodeJS.ReadableStream;
    try {
      stream = await container.getArchive({ path });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw err;
    }
    let header: TarHeader | null = null;
    let done = false;
    const chunks: Buffer[] = [];
    const maxBytes = this.maxFileBytes;
    const scanner = new TarScanner(
      {
        onEntry(h) {
          if (header !== null) {
            done = true;
            return null;
          }
          header = h;
          if (!withBody || h.type !== 'file' || h.size === 0) {
            done = true;
            return null;
          }
          if (h.size > maxBytes) throw new Error(`${path} is ${h.size} bytes, more than the ${maxBytes} bytes a file content test reads`);
          return {
            write(chunk) {
              chunks.push(Buffer.from(chunk));
            },
            end() {
              done = true;
            },
          };
        },
      },
      { label: `docker archive of ${path}` },
    );
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        scanner.write(chunk);
        if (done) break;
      }
    } finally {
      (stream as unknown as { destroy?: () => void }).destroy?.();
    }
    if (header === null) return null;
    return { header, body: chunks.length > 0 ? Buffer.concat(chunks) : null };
  }
}

/** Creates a {@link DockerStructureTestRunner}. */
export function createDockerStructureTestRunner(docker: Docker, image: string, options: DockerStructureRunnerOptions = {}): DockerStructureTestRunner {
  return new DockerStructureTestRunner(docker, image, options);
}

function statOf(h: TarHeader): FileStat {
  const type: FileStat['type'] =
    h.type === 'file' || h.type === 'hardlink'
      ? 'file'
      : h.type === 'directory'
        ? 'directory'
        : h.type === 'symlink'
          ? 'symlink'
          : h.type === 'char-device'
            ? 'char-device'
            : h.type === 'block-device'
              ? 'block-device'
              : h.type === 'fifo'
                ? 'fifo'
                : 'other';
  return { type, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, size: h.realSize };
}

/** Splits Docker's multiplexed log stream (8-byte frame headers: stream id, 3 zero bytes, big-endian length). */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let pos = 0;
  while (pos + 8 <= buf.length) {
    const kind = buf[pos]!;
    const len = buf.readUInt32BE(pos + 4);
    const payload = buf.subarray(pos + 8, Math.min(buf.length, pos + 8 + len));
    if (kind === 2) err.push(payload);
    else out.push(payload);
    pos += 8 + len;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
