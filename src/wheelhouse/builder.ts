/**
 * Building wheels in a throwaway builder container (seed 004's "factory").
 *
 * {@link buildWheels} stages a directory — the requirements file and any local source
 * directories under `/src`, every wheel of the wheelhouse under `/wheelhouse`, an empty `/out` —
 * copies it into a container of the builder image with `putArchive`, runs
 *
 *     python3 -m pip wheel --no-index --find-links /wheelhouse --find-links /usr/share/python-wheels \
 *       --wheel-dir /out -r /src/.pitlane-requirements.txt
 *
 * in `/src`, copies `/out` back with `getArchive`, and checks and stores each wheel. Wheels already
 * in the wheelhouse are reused (pip copies them to `/out`; the wheelhouse sees the same bytes).
 * Build dependencies (setuptools, wheel) come from Debian's `python3-setuptools-whl` and
 * `python3-wheel-whl` in `/usr/share/python-wheels`, or from the wheelhouse itself, so pip's
 * isolated builds work with no package index.
 *
 * The builder image `pitlane-wheel-builder:<hash>` is built once FROM the configured base
 * (default `python:3.11-slim`) with those packages, git (VCS requirements) and CA certificates.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import tarFs from 'tar-fs';
import { extractArchive, type ExtractLimits } from '../build/archive.js';
import { PitlaneError, type ErrorDetail } from '../errors.js';
import { hardenedHostConfig, LineSplitter, lineWritable } from '../infra/index.js';
import { isWheelFilename, parseWheelFilename } from './names.js';
import { copyWheelsForBuild, type Wheelhouse, type WheelRecord } from './store.js';

/** Default base of the builder image. */
export const DEFAULT_BUILDER_BASE_IMAGE = 'python:3.11-slim';
/** Debian packages added to the builder image by default. */
export const DEFAULT_BUILDER_APT_PACKAGES: readonly string[] = ['python3-setuptools-whl', 'python3-wheel-whl', 'git', 'ca-certificates'];
/** Where the requirements file is put in the builder container (the working directory is `/src`). */
export const BUILDER_REQUIREMENTS_PATH = '/src/.pitlane-requirements.txt';
/** Largest requirements text accepted. */
export const MAX_REQUIREMENTS_BYTES = 1024 * 1024;

/** The builder image's Dockerfile (legacy-builder compatible: no BuildKit syntax). */
export function builderDockerfile(baseImage: string, aptPackages: readonly string[]): string {
  const packages = [...aptPackages].sort();
  const lines = [`FROM ${baseImage}`];
  if (packages.length > 0) {
    lines.push(
      'RUN apt-get update \\',
      ` && apt-get install -y --no-install-recommends ${packages.join(' ')} \\`,
      ' && rm -rf /var/lib/apt/lists/*',
    );
  }
  lines.push(
    'ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1',
    'LABEL pitlane.managed="true" pitlane.role="wheel-builder"',
    'WORKDIR /src',
    '',
  );
  return lines.join('\n');
}

/** One run of the builder container. */
export interface BuilderRun {
  /** Tar stream unpacked at `/` before the command starts. */
  context: Readable;
  command: string[];
  workingDir: string;
  env: string[];
  /** Path copied back out of the container after the command ends. */
  outPath: string;
  /** Host directory `outPath` is extracted into (as `<outDir>/<basename(outPath)>`). */
  outDir: string;
  /** Labels of the container. */
  labels: Record<string, string>;
  onLine: (stream: 'stdout' | 'stderr' | 'system', line: string) => void;
  signal: AbortSignal;
  timeoutMs: number;
}

/** The engine side of a wheel build, replaceable in tests. */
export interface WheelBuildEngine {
  /** Runs the builder; resolves when the command ended and `outPath` was copied out. */
  run(run: BuilderRun): Promise<{ exitCode: number; timedOut: boolean; aborted: boolean }>;
  /** Removes builder containers a crashed process left behind. */
  removeLeftovers?(): Promise<void>;
}

/** Options of {@link DockerWheelBuildEngine}. */
export interface DockerWheelBuildEngineOptions {
  docker: Docker;
  /** Base of the builder image (default `python:3.11-slim`). */
  baseImage?: string;
  /** Debian packages added to the builder image (default {@link DEFAULT_BUILDER_APT_PACKAGES}). */
  aptPackages?: readonly string[];
  /** Installation id, put on builder containers as `pitlane.instance`. */
  installationId?: string;
  /** Network of the builder container (default `bridge`, so VCS and sdist URLs can be reached). */
  network?: string;
  /** Memory limit of the builder container, bytes (default 2 GiB). */
  memoryBytes?: number;
  /** CPU limit of the builder container, cores (default 2). */
  cpuCores?: number;
  /** Process limit of the builder container (default 1024). */
  pidsLimit?: number;
  /** Longest the builder image build may take, in ms (default 30 minutes). */
  imageBuildTimeoutMs?: number;
  /** Largest `/out` copied back (default 4 GiB, 10,000 entries). */
  outLimits?: ExtractLimits;
}

/** Runs builds in containers through dockerode (Engine API). */
export class DockerWheelBuildEngine implements WheelBuildEngine {
  private image: Promise<string> | undefined;
  readonly baseImage: string;
  readonly aptPackages: readonly string[];

  constructor(private readonly options: DockerWheelBuildEngineOptions) {
    this.baseImage = options.baseImage ?? DEFAULT_BUILDER_BASE_IMAGE;
    this.aptPackages = options.aptPackages ?? DEFAULT_BUILDER_APT_PACKAGES;
  }

  private get docker(): Docker {
    return this.options.docker;
  }

  /**
   * The builder image tag, built when missing (once per process at a time).
   * @throws PitlaneError 503 WHEEL_BUILDER_UNAVAILABLE when the base image is absent or the build fails.
   */
  ensureBuilderImage(onLog: (line: string) => void = () => undefined): Promise<string> {
    const attempt = (this.image ??= this.makeBuilderImage(onLog));
    attempt.catch(() => {
      if (this.image === attempt) this.image = undefined;
    });
    return attempt;
  }

  private async makeBuilderImage(onLog: (line: string) => void): Promise<string> {
    let baseId: string;
    try {
      baseId = (await this.docker.getImage(this.baseImage).inspect()).Id;
    } catch {
      throw new PitlaneError(503, 'WHEEL_BUILDER_UNAVAILABLE', `the wheel builder's base image ${this.baseImage} is not present on the engine; build or pull it first`, [
        { path: 'builder.base_image', message: 'image not found' },
      ]);
    }
    const dockerfile = builderDockerfile(this.baseImage, this.aptPackages);
    const tag = `pitlane-wheel-builder:${createHash('sha256').update(`${dockerfile}\n${baseId}`).digest('hex').slice(0, 12)}`;
    try {
      await this.docker.getImage(tag).inspect();
      return tag;
    } catch {
      onLog(`building the wheel builder image ${tag} from ${this.baseImage}`);
    }
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile);
    pack.finalize();
    const stream = await this.docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true, labels: { 'pitlane.managed': 'true' } });
    let failure: string | undefined;
    const splitter = new LineSplitter(onLog);
    const buildTimeoutMs = this.options.imageBuildTimeoutMs ?? 30 * 60 * 1000;
    const deadline = setTimeout(() => {
      (stream as unknown as { destroy(error?: Error): void }).destroy(new Error(`the builder image build did not finish within ${Math.round(buildTimeoutMs / 1000)} s`));
    }, buildTimeoutMs);
    await new Promise<void>((resolvePromise, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolvePromise()),
        (event: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (event.stream) splitter.push(event.stream);
          if (event.error) failure = event.errorDetail?.message ?? event.error;
        },
      );
    })
      .catch((error: Error) => {
        failure ??= error.message;
      })
      .finally(() => clearTimeout(deadline));
    splitter.flush();
    if (failure) {
      throw new PitlaneError(503, 'WHEEL_BUILDER_UNAVAILABLE', `the wheel builder image could not be built: ${failure}`, [{ path: 'builder', message: failure }]);
    }
    return tag;
  }

  async run(run: BuilderRun): Promise<{ exitCode: number; timedOut: boolean; aborted: boolean }> {
    const image = await this.ensureBuilderImage((line) => run.onLine('system', line));
    const labels: Record<string, string> = { 'pitlane.managed': 'true', ...run.labels };
    if (this.options.installationId) labels['pitlane.instance'] = this.options.installationId;
    const container = await this.docker.createContainer({
      Image: image,
      Cmd: run.command,
      WorkingDir: run.workingDir,
      Env: run.env,
      Labels: labels,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: {
        ...hardenedHostConfig({
          memoryBytes: this.options.memoryBytes ?? 2 * 1024 * 1024 * 1024,
          cpuCores: this.options.cpuCores ?? 2,
          pidsLimit: this.options.pidsLimit ?? 1024,
        }),
        NetworkMode: this.options.network ?? 'bridge',
        RestartPolicy: { Name: 'no' },
      },
    });
    let timedOut = false;
    let aborted = false;
    try {
      await container.putArchive(run.context as unknown as NodeJS.ReadableStream, { path: '/' });
      const attached = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
      const sink = (name: 'stdout' | 'stderr'): Writable => lineWritable((line) => run.onLine(name, line));
      const stdout = sink('stdout');
      const stderr = sink('stderr');
      this.docker.modem.demuxStream(attached, stdout, stderr);
      const outputDone = new Promise<void>((resolvePromise) => {
        const done = (): void => {
          stdout.end();
          stderr.end();
          resolvePromise();
        };
        attached.on('end', done);
        attached.on('close', done);
        attached.on('error', done);
      });
      await container.start();
      const kill = (): void => {
        void container.kill().catch(() => undefined);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, run.timeoutMs);
      const onAbort = (): void => {
        aborted = true;
        kill();
      };
      if (run.signal.aborted) onAbort();
      else run.signal.addEventListener('abort', onAbort, { once: true });
      let exitCode: number;
      try {
        exitCode = ((await container.wait()) as { StatusCode: number }).StatusCode;
      } finally {
        clearTimeout(timer);
        run.signal.removeEventListener('abort', onAbort);
      }
      await Promise.race([outputDone, new Promise((r) => setTimeout(r, 5000))]);
      attached.destroy();
      if (exitCode === 0 && !timedOut && !aborted) {
        const archive = (await container.getArchive({ path: run.outPath })) as unknown as Readable;
        await extractArchive(archive, run.outDir, this.options.outLimits ?? { maxBytes: 4 * 1024 * 1024 * 1024, maxEntries: 10_000 });
      }
      return { exitCode, timedOut, aborted };
    } finally {
      await container.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  async removeLeftovers(): Promise<void> {
    const filters = { label: ['pitlane.wheel-build', ...(this.options.installationId ? [`pitlane.instance=${this.options.installationId}`] : [])] };
    const containers = await this.docker.listContainers({ all: true, filters });
    for (const c of containers) await this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** What to build. */
export interface WheelBuildInput {
  /** requirements.txt text. Local packages are named relative to `/src` (`./mypkg`). */
  requirements: string;
  /** Host directories of local packages, each copied to `/src/<its base name>`. */
  localPaths?: string[];
  /** A tar or tar.gz of local packages, unpacked into `/src` (with the safe extractor). */
  sourceArchive?: Readable | Buffer;
  /** A directory of local packages already unpacked with the safe extractor; its contents are copied into `/src`. */
  sourceDir?: string;
}

/** Options of {@link buildWheels}. */
export interface WheelBuildOptions {
  /** Build id, put on the container label and the stored wheels. */
  buildId?: string;
  /** Receives every log line (pip's output and Pitlane's notes). */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
  /** Default 30 minutes. */
  timeoutMs?: number;
  /** Parent of the staging directory (default the OS temporary directory). */
  workDir?: string;
  /** Limits for unpacking `sourceArchive` (default 512 MiB, 100,000 entries). */
  sourceLimits?: ExtractLimits;
  /** A package index to fall back to (`--index-url`) instead of `--no-index`. */
  indexUrl?: string;
}

/** What a build stored. */
export interface WheelBuildResult {
  /** Wheels new to the wheelhouse. */
  added: WheelRecord[];
  /** Wheels pip used that the wheelhouse already had. */
  reused: WheelRecord[];
  /** Wheels pip produced that the wheelhouse refused. */
  rejected: { filename: string; code: string; message: string }[];
}

/** The meaningful lines of a requirements text (no blanks or comments). */
export function requirementLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/**
 * Checks a requirements text.
 * @throws PitlaneError 400 REQUEST_INVALID / 413 PAYLOAD_TOO_LARGE naming `requirements`.
 */
export function checkRequirements(text: unknown): string {
  if (typeof text !== 'string') throw new PitlaneError(400, 'REQUEST_INVALID', 'requirements must be the text of a requirements file', [{ path: 'requirements', message: 'not a string' }]);
  if (Buffer.byteLength(text) > MAX_REQUIREMENTS_BYTES) {
    throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the requirements text is larger than ${MAX_REQUIREMENTS_BYTES} bytes`, [{ path: 'requirements', message: 'too large' }]);
  }
  if (text.includes('\0')) throw new PitlaneError(400, 'REQUEST_INVALID', 'the requirements text contains a NUL byte', [{ path: 'requirements', message: 'NUL byte' }]);
  if (requirementLines(text).length === 0) {
    throw new PitlaneError(400, 'REQUEST_INVALID', 'the requirements text names no requirement', [{ path: 'requirements', message: 'empty' }]);
  }
  // Multipart text fields arrive with CRLF line ends (the HTML form encoding).
  const unix = text.replace(/\r\n?/g, '\n');
  return unix.endsWith('\n') ? unix : `${unix}\n`;
}

/**
 * Turns pip's output of a failed run into an error: 422 REQUIREMENT_UNSATISFIED when pip found no
 * distribution for a requirement (the wheelhouse cannot satisfy it), else 422 WHEEL_BUILD_FAILED;
 * the message quotes pip's `ERROR:` lines.
 */
export function pipFailure(lines: string[], exitCode: number): PitlaneError {
  const errors = lines.map((l) => l.trim()).filter((l) => l.startsWith('ERROR:'));
  const unsatisfied = [...new Set(errors.map((l) => /No matching distribution found for (.+)$/.exec(l)?.[1]?.trim()).filter((r): r is string => Boolean(r)))];
  const quoted = errors.length > 0 ? errors : lines.map((l) => l.trim()).filter((l) => l.startsWith('×') || l.startsWith('error:'));
  const tail = quoted.length > 0 ? quoted : lines.slice(-5).map((l) => l.trim()).filter(Boolean);
  const details: ErrorDetail[] = tail.slice(0, 20).map((message) => ({ path: 'requirements', message }));
  const pip = tail.join(' | ') || `pip exited with code ${exitCode}`;
  if (unsatisfied.length > 0) {
    return new PitlaneError(422, 'REQUIREMENT_UNSATISFIED', `the wheelhouse cannot satisfy ${unsatisfied.map((r) => `"${r}"`).join(', ')} (pip: ${pip})`, details);
  }
  return new PitlaneError(422, 'WHEEL_BUILD_FAILED', `pip could not build the wheels (exit code ${exitCode}): ${pip}`, details);
}

/**
 * Builds the wheels `input` needs in a throwaway builder container and stores them in `wheelhouse`.
 * @throws PitlaneError 400/413 for bad input, 422 REQUIREMENT_UNSATISFIED / WHEEL_BUILD_FAILED from
 *   pip, 504 WHEEL_BUILD_TIMEOUT, 499 WHEEL_BUILD_CANCELLED, 503 WHEEL_BUILDER_UNAVAILABLE.
 */
export async function buildWheels(input: WheelBuildInput, engine: WheelBuildEngine, wheelhouse: Wheelhouse, options: WheelBuildOptions = {}): Promise<WheelBuildResult> {
  const requirements = checkRequirements(input.requirements);
  const log = options.onLog ?? (() => undefined);
  const lines: string[] = [];
  const stage = await mkdtemp(join(options.workDir ?? tmpdir(), 'pitlane-wheel-build-'));
  try {
    const src = join(stage, 'context', 'src');
    const wheelsIn = join(stage, 'context', 'wheelhouse');
    await mkdir(src, { recursive: true });
    await mkdir(join(stage, 'context', 'out'), { recursive: true });
    const sources: string[] = [];
    if (input.sourceArchive) {
      const stream = Buffer.isBuffer(input.sourceArchive) ? Readable.from([input.sourceArchive]) : input.sourceArchive;
      const summary = await extractArchive(stream, src, options.sourceLimits ?? { maxBytes: 512 * 1024 * 1024, maxEntries: 100_000 });
      sources.push(`source archive (${summary.entries} entries)`);
    }
    if (input.sourceDir) {
      // Entry by entry: Node 24's cp refuses an existing destination directory with errorOnExist.
      for (const entry of await readdir(input.sourceDir)) {
        await cp(join(input.sourceDir, entry), join(src, entry), { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
      }
      sources.push('uploaded source archive');
    }
    for (const path of input.localPaths ?? []) {
      const absolute = resolve(path);
      const info = await stat(absolute).catch(() => undefined);
      if (!info?.isDirectory()) throw new PitlaneError(400, 'REQUEST_INVALID', `the local path ${path} is not a directory`, [{ path: 'localPaths', message: `${path}: not a directory` }]);
      const name = basename(absolute);
      const target = join(src, name);
      if (name.startsWith('.') || (await stat(target).catch(() => undefined))) {
        throw new PitlaneError(400, 'REQUEST_INVALID', `two sources would both be /src/${name}`, [{ path: 'localPaths', message: `${path}: name taken` }]);
      }
      await cp(absolute, target, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (from) => !['.git', '__pycache__', '.venv', 'node_modules'].includes(basename(from)),
      });
      sources.push(`/src/${name} (from ${absolute})`);
    }
    await writeFile(join(stage, 'context', BUILDER_REQUIREMENTS_PATH.slice(1)), requirements);
    const available = await copyWheelsForBuild(wheelhouse.dir, wheelsIn);
    const note = (line: string): void => {
      lines.push(line);
      log(`[pitlane] ${line}`);
    };
    note(`${available.length} wheel${available.length === 1 ? '' : 's'} from the wheelhouse available to pip`);
    for (const source of sources) note(`source: ${source}`);
    const command = [
      'python3', '-m', 'pip', 'wheel',
      ...(options.indexUrl ? ['--index-url', options.indexUrl] : ['--no-index']),
      '--find-links', '/wheelhouse',
      '--find-links', '/usr/share/python-wheels',
      '--wheel-dir', '/out',
      '--progress-bar', 'off',
      '-r', BUILDER_REQUIREMENTS_PATH,
    ];
    note(`running: ${command.join(' ')}`);
    const context = tarFs.pack(join(stage, 'context'), {
      map: (header) => {
        header.uid = 0;
        header.gid = 0;
        return header;
      },
    }) as unknown as Readable;
    const outDir = join(stage, 'result');
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) controller.abort();
    let outcome: { exitCode: number; timedOut: boolean; aborted: boolean };
    try {
      outcome = await engine.run({
        context,
        command,
        workingDir: '/src',
        env: ['PIP_DISABLE_PIP_VERSION_CHECK=1', 'PIP_NO_CACHE_DIR=1', 'PIP_ROOT_USER_ACTION=ignore', 'PIP_NO_INPUT=1', 'PYTHONDONTWRITEBYTECODE=1'],
        outPath: '/out',
        outDir,
        labels: { 'pitlane.wheel-build': options.buildId ?? 'adhoc' },
        onLine: (stream, line) => {
          lines.push(line);
          log(stream === 'system' ? `[pitlane] ${line}` : line);
        },
        signal: controller.signal,
        timeoutMs: options.timeoutMs ?? 30 * 60 * 1000,
      });
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      // An engine that failed before reading the whole context (e.g. no builder image) leaves
      // tar-fs reading files that the stage clean-up below is about to delete: stop it first.
      context.destroy();
    }
    if (outcome.aborted) throw new PitlaneError(499, 'WHEEL_BUILD_CANCELLED', 'the wheel build was cancelled');
    if (outcome.timedOut) {
      throw new PitlaneError(504, 'WHEEL_BUILD_TIMEOUT', `the wheel build did not finish within ${Math.round((options.timeoutMs ?? 30 * 60 * 1000) / 1000)} s`);
    }
    if (outcome.exitCode !== 0) throw pipFailure(lines, outcome.exitCode);

    const result: WheelBuildResult = { added: [], reused: [], rejected: [] };
    const produced = join(outDir, 'out');
    const files = (await readdir(produced).catch(() => [] as string[])).sort();
    for (const file of files) {
      if (!isWheelFilename(file)) {
        note(`ignoring ${file} in /out: not a wheel filename`);
        continue;
      }
      if (parseWheelFilename(file).project === 'unknown') {
        // What setuptools names a package whose metadata it could not read: never worth keeping.
        const message = `${file} has no real name or version: the build could not read the package's metadata (check its pyproject.toml or setup.py)`;
        result.rejected.push({ filename: file, code: 'WHEEL_METADATA_MISSING', message });
        note(`refused ${message}`);
        continue;
      }
      try {
        const stored = await wheelhouse.add(await readFile(join(produced, file)), file, { source: 'build', ...(options.buildId ? { buildId: options.buildId } : {}) });
        (stored.created ? result.added : result.reused).push(stored.wheel);
        note(`${stored.created ? 'stored' : 'already in the wheelhouse'}: ${file}`);
      } catch (error) {
        const code = (error as PitlaneError).code ?? 'INTERNAL';
        result.rejected.push({ filename: file, code, message: (error as Error).message });
        note(`refused ${file}: ${(error as Error).message}`);
      }
    }
    return result;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
