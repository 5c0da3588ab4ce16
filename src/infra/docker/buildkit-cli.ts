/**
 * Image builds with BuildKit secret mounts, through the `docker` CLI.
 *
 * The Engine API's BuildKit path (`POST /build?version=2`) needs a gRPC session over which the
 * client serves secrets and the context; the docker CLI implements that session. So builds that
 * need secrets spawn `docker build` (argv array, never a shell) with `DOCKER_BUILDKIT=1`, the build
 * context as a tar on stdin, and each secret as `--secret id=KEY,src=FILE`, FILE being a 0600 file
 * in a fresh 0700 directory that is deleted as soon as the build ends. The values therefore reach
 * only `RUN --mount=type=secret,id=KEY` steps (at `/run/secrets/KEY`); they are in no layer, no
 * build argument and no image history entry. Every output line and error is redacted of the
 * values before it leaves this module.
 *
 * A usable CLI is Docker 18.09 to 22.x (BuildKit built in, as Debian 12's docker.io 20.10) or 23+
 * with the buildx plugin; {@link findBuildKitCli} picks one.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { redactingLines, redactSecrets } from '../../secrets/redact.js';
import type { BuildOptions } from '../target.js';
import { LineSplitter } from './log-lines.js';

/** A docker CLI able to build with BuildKit. */
export interface BuildKitCli {
  /** Command or path to run, e.g. `/usr/bin/docker`. */
  command: string;
  /** The client version, e.g. `20.10.24+dfsg1`. */
  version: string;
  /** `builtin`: the CLI's own BuildKit client (< 23); `buildx`: the buildx plugin. */
  via: 'builtin' | 'buildx';
}

/** CLIs tried when none is configured: the one on PATH, then the usual package locations. */
export const DEFAULT_CLI_CANDIDATES = ['docker', '/usr/bin/docker', '/usr/local/bin/docker'];

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 15_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => resolve({ ok: !error, stdout: String(stdout), stderr: String(stderr) }));
  });
}

/**
 * Parses `docker --version` output (`Docker version 20.10.24+dfsg1, build 297e128`). Pure.
 * @returns the version text and its major and minor numbers, or undefined when unrecognised.
 */
export function parseDockerVersion(text: string): { version: string; major: number; minor: number } | undefined {
  const match = /Docker version (\d+)\.(\d+)[^\s,]*/.exec(text);
  if (!match) return undefined;
  return { version: match[0].slice('Docker version '.length), major: Number(match[1]), minor: Number(match[2]) };
}

/**
 * Finds a docker CLI that can build with BuildKit secrets.
 * @param candidates commands to try in order (one, when the admin configured PITLANE_DOCKER_CLI).
 * @param env environment for the probes (PATH, DOCKER_HOST...).
 * @throws Error listing each candidate and why it does not qualify.
 */
export async function findBuildKitCli(candidates: readonly string[] = DEFAULT_CLI_CANDIDATES, env: NodeJS.ProcessEnv = cliEnvironment()): Promise<BuildKitCli> {
  const reasons: string[] = [];
  for (const command of [...new Set(candidates)]) {
    const probe = await run(command, ['--version'], env);
    const parsed = parseDockerVersion(probe.stdout);
    if (!probe.ok || !parsed) {
      reasons.push(`${command}: not runnable${probe.stderr.trim() ? ` (${probe.stderr.trim().split('\n')[0]})` : ''}`);
      continue;
    }
    if (parsed.major < 18 || (parsed.major === 18 && parsed.minor < 9)) {
      reasons.push(`${command}: Docker ${parsed.version} is older than 18.09 (no BuildKit)`);
      continue;
    }
    if (parsed.major < 23) return { command, version: parsed.version, via: 'builtin' };
    if ((await run(command, ['buildx', 'version'], env)).ok) return { command, version: parsed.version, via: 'buildx' };
    reasons.push(`${command}: Docker ${parsed.version} needs the buildx plugin for BuildKit builds, and it is missing`);
  }
  throw new Error(
    `build secrets need a docker CLI that builds with BuildKit (Docker 18.09 to 22.x, or 23+ with the buildx plugin); set PITLANE_DOCKER_CLI to one. Tried: ${reasons.join('; ')}`,
  );
}

/**
 * The environment of the docker CLI child: only PATH, HOME, TMPDIR and the `DOCKER_*` client
 * settings (DOCKER_HOST, DOCKER_CONFIG, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY, DOCKER_CONTEXT)
 * of `env`, plus DOCKER_BUILDKIT=1; nothing else of Pitlane's environment (PITLANE_SECRET_KEY...). Pure.
 */
export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'DOCKER_CONTEXT']) {
    if (env[name] !== undefined) kept[name] = env[name];
  }
  kept.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  kept.DOCKER_BUILDKIT = '1';
  return kept;
}

/**
 * The `docker build` arguments of a BuildKit build reading its context from stdin. Pure.
 * @param secretFiles secret key → path of the file holding its value.
 * @param iidFile where the CLI writes the image id.
 */
export function buildKitArguments(options: Omit<BuildOptions, 'secrets'>, secretFiles: Record<string, string>, iidFile: string): string[] {
  const args = ['build', '--progress=plain', '--iidfile', iidFile, '--file', options.dockerfile, '--tag', options.tag];
  for (const [key, value] of Object.entries(options.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.labels)) args.push('--label', `${key}=${value}`);
  for (const [key, path] of Object.entries(secretFiles)) args.push('--secret', `id=${key},src=${path}`);
  args.push('-');
  return args;
}

/** The most telling line of a failed build's output (BuildKit's `error:`/`failed to solve` line, else the last). Pure. */
export function buildFailureLine(lines: readonly string[]): string {
  const telling = [...lines].reverse().find((line) => /^(error|ERROR)\b|failed to solve|executor failed|did not complete successfully/.test(line));
  return (telling ?? [...lines].reverse().find((line) => line.trim() !== '') ?? 'no output').trim();
}

/**
 * Builds an image with BuildKit through `cli`, the context tar streamed to its stdin.
 * @param options.secrets key → value; written to 0600 files for the duration of the build only.
 * @param onLog each output line, with secret values replaced by `***`.
 * @param settings.env the CLI's environment (default {@link cliEnvironment}); settings.timeoutMs the
 *   longest the build may take, in ms (default 1 hour), after which the CLI is killed.
 * @returns the image id (`sha256:...`).
 * @throws Error (redacted) when the CLI fails or exits non-zero.
 */
export async function buildWithBuildKitCli(
  cli: BuildKitCli,
  context: Readable,
  options: BuildOptions,
  onLog: (line: string) => void,
  settings: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ imageId: string }> {
  const env = settings.env ?? cliEnvironment();
  const timeoutMs = settings.timeoutMs ?? 3_600_000;
  const secrets = options.secrets ?? {};
  const values = Object.values(secrets);
  const log = redactingLines(values, onLog);
  const dir = await mkdtemp(join(tmpdir(), 'pitlane-build-'));
  try {
    const secretFiles: Record<string, string> = {};
    for (const [index, [key, value]] of Object.entries(secrets).entries()) {
      const path = join(dir, `secret-${index}`);
      await writeFile(path, value, { mode: 0o600, flag: 'wx' });
      secretFiles[key] = path;
    }
    const iidFile = join(dir, 'image-id');
    const tail: string[] = [];
    const remember = (line: string): void => {
      log(line);
      tail.push(line);
      if (tail.length > 50) tail.shift();
    };
    const child = spawn(cli.command, buildKitArguments(options, secretFiles, iidFile), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      const splitter = new LineSplitter(remember);
      const decoder = new StringDecoder('utf8');
      stream.on('data', (chunk: Buffer) => splitter.push(decoder.write(chunk)));
      stream.on('end', () => {
        splitter.push(decoder.end());
        splitter.flush();
      });
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      // Its own children may still hold the pipes open; stop waiting for them.
      child.stdout.destroy();
      child.stderr.destroy();
    }, timeoutMs);
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    }).finally(() => clearTimeout(timer));
    // The CLI may stop reading stdin early (a failing build); that is reported by its exit code.
    await pipeline(context, child.stdin).catch(() => undefined);
    const code = await exited.catch((error: Error) => {
      throw new Error(redactSecrets(`cannot run ${cli.command}: ${error.message}`, values));
    });
    if (timedOut) throw new Error(`docker build (BuildKit) did not finish within ${Math.round(timeoutMs / 1000)} s`);
    if (code !== 0) throw new Error(redactSecrets(`docker build (BuildKit) exited with code ${code}: ${buildFailureLine(tail)}`, values));
    const imageId = (await readFile(iidFile, 'utf8').catch(() => '')).trim();
    if (!imageId) throw new Error('docker build (BuildKit) wrote no image id');
    return { imageId };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
