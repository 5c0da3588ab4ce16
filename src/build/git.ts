/**
 * Fetching a job's source from git: a shallow, single-branch clone with the system `git`, spawned
 * with an argv array (never a shell), positional arguments after `--`, only the `file`, `http`,
 * `https` and `ssh` transports (`ext::`, `fd::` and every other remote helper refused by git
 * itself through `GIT_ALLOW_PROTOCOL` and `protocol.*.allow`), no prompts, and a wall-clock time
 * limit that kills git. The remote and branch were validated by the manifest (no leading `-`).
 * The cloned tree must then meet the archive extractor's rules: no symlink leading outside it.
 */
import { spawn } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { PitlaneError } from '../errors.js';
import { findUnsafeTreeEntry } from './archive.js';

/** What to clone. `branch` null means the remote's default branch. */
export interface GitSource {
  remote: string;
  branch: string | null;
  /** Subdirectory of the repository that is the build context (`.` for the root). */
  directory: string;
}

/** Transports git may use (`GIT_ALLOW_PROTOCOL`): everything else, `ext` and `fd` included, is refused. */
export const GIT_ALLOWED_PROTOCOLS = ['file', 'http', 'https', 'ssh'] as const;

/**
 * The environment git runs with: the caller's, plus the protections (pure).
 * `GIT_ALLOW_PROTOCOL` allows only {@link GIT_ALLOWED_PROTOCOLS}; `GIT_PROTOCOL_FROM_USER=0`
 * refuses "user"-level protocols; `GIT_TERMINAL_PROMPT=0` and ssh `BatchMode` never wait for a
 * password.
 */
export function gitEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    GIT_ALLOW_PROTOCOL: GIT_ALLOWED_PROTOCOLS.join(':'),
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_SSH_COMMAND: base.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
  };
}

/**
 * The argv of the clone (pure): `-c` protections, then options, then `--`, then the remote and
 * the destination, so no value can be taken for an option.
 * @param remote URL, scp-like address or absolute path (already resolved).
 */
export function cloneArguments(remote: string, destination: string, branch: string | null): string[] {
  return [
    '-c', 'protocol.ext.allow=never',
    '-c', 'protocol.fd.allow=never',
    '-c', 'core.hooksPath=/dev/null',
    'clone',
    '--depth', '1',
    '--single-branch',
    '--no-tags',
    '--no-local',
    '--no-recurse-submodules',
    ...(branch ? ['--branch', branch] : []),
    '--',
    remote,
    destination,
  ];
}

/** Outcome of {@link runGit}. */
export interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs `git ARGS...` (argv array, no shell) with {@link gitEnvironment} in its own process group;
 * when it runs longer than `timeoutMs` of wall-clock time the whole group (git and the transport
 * helpers it started, such as `git-remote-https` or `ssh`) is killed with SIGKILL. Output is kept
 * up to 64 KiB per stream.
 * @param cwd working directory of git.
 */
export function runGit(args: string[], options: { cwd?: string; timeoutMs: number }): Promise<GitResult> {
  return new Promise((resolvePromise) => {
    const child = spawn('git', args, { cwd: options.cwd, env: gitEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], shell: false, detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (result: GitResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(result);
    };
    const keep = (current: string, chunk: Buffer): string => (current.length > 65_536 ? current : current + chunk.toString('utf8'));
    child.stdout.on('data', (chunk: Buffer) => (stdout = keep(stdout, chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = keep(stderr, chunk)));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    child.on('error', (error) => finish({ code: null, stdout, stderr: `${stderr}${error.message}`, timedOut }));
    // After a kill, a helper that escaped the group could hold the pipes open: do not wait for them.
    child.on('exit', (code) => {
      if (timedOut) finish({ code, stdout, stderr, timedOut });
    });
    child.on('close', (code) => finish({ code, stdout, stderr, timedOut }));
  });
}

/**
 * Clones `source` into `destination` (which must not exist) and returns the absolute path of the
 * build context directory inside it and the commit hash.
 * @param timeoutMs wall-clock time git may take (default 5 minutes); it is killed after.
 * @throws PitlaneError 422 GIT_CLONE_FAILED with git's message (or the time limit), 422
 *   GIT_SOURCE_UNSAFE when the tree holds a symlink leading outside it, 400 when `git.directory`
 *   leads outside the repository, 422 GIT_DIRECTORY_MISSING when it does not exist.
 */
export async function cloneSource(source: GitSource, destination: string, timeoutMs = 300_000): Promise<{ contextDir: string; commit: string }> {
  const remote = /^\/|^\.\.?\//.test(source.remote) ? resolve(source.remote) : source.remote;
  const started = Date.now();
  const clone = await runGit(cloneArguments(remote, destination, source.branch), { timeoutMs });
  if (clone.code !== 0) {
    const message = clone.timedOut
      ? `git did not finish within ${Math.round(timeoutMs / 1000)} s`
      : clone.stderr.trim().split('\n').filter((line) => line.trim() !== '').slice(-3).join(' ') || `git exited with code ${String(clone.code)}`;
    throw new PitlaneError(422, 'GIT_CLONE_FAILED', `git clone of ${source.remote} failed: ${message}`, [{ path: 'git.remote', message }]);
  }
  const revParse = await runGit(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: destination, timeoutMs: Math.max(5_000, timeoutMs - (Date.now() - started)) });
  const commit = revParse.stdout.trim();
  if (revParse.code !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) {
    throw new PitlaneError(422, 'GIT_CLONE_FAILED', `git clone of ${source.remote} gave no commit: ${revParse.stderr.trim()}`, [{ path: 'git.remote', message: 'no commit checked out' }]);
  }
  const unsafe = await findUnsafeTreeEntry(destination);
  if (unsafe) {
    throw new PitlaneError(422, 'GIT_SOURCE_UNSAFE', `the repository holds "${unsafe.path}": ${unsafe.reason}`, [{ path: 'git.remote', message: `${unsafe.path}: ${unsafe.reason}` }]);
  }
  const contextDir = resolve(destination, source.directory || '.');
  const realRoot = await realpath(destination);
  const realContext = await realpath(contextDir).catch(() => undefined);
  const fromRoot = relative(destination, contextDir);
  if (fromRoot.startsWith('..') || (realContext !== undefined && realContext !== realRoot && !realContext.startsWith(`${realRoot}${sep}`))) {
    throw new PitlaneError(400, 'MANIFEST_INVALID', 'git.directory escapes the repository', [{ path: 'git.directory', message: 'must stay inside the repository' }]);
  }
  const info = realContext ? await stat(realContext).catch(() => undefined) : undefined;
  if (!info?.isDirectory()) {
    throw new PitlaneError(422, 'GIT_DIRECTORY_MISSING', `directory "${source.directory}" does not exist in ${source.remote}`, [
      { path: 'git.directory', message: `no such directory at commit ${commit.slice(0, 12)}` },
    ]);
  }
  return { contextDir: join(contextDir), commit };
}
