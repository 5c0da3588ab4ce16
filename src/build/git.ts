/**
 * Fetching a job's source from git: a shallow, single-branch clone with the system `git`
 * (through simple-git), with a time limit and no option injection (the remote and branch are
 * validated by the manifest and passed after `--`).
 */
import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { simpleGit } from 'simple-git';
import { PitlaneError } from '../errors.js';

/** What to clone. `branch` null means the remote's default branch. */
export interface GitSource {
  remote: string;
  branch: string | null;
  /** Subdirectory of the repository that is the build context (`.` for the root). */
  directory: string;
}

/**
 * Clones `source` into `destination` (which must not exist) and returns the absolute path of the
 * build context directory inside it and the commit hash.
 * @param timeoutMs how long git may run without output before it is killed.
 * @throws PitlaneError 422 GIT_CLONE_FAILED with git's message; 422 when the directory is missing.
 */
export async function cloneSource(
  source: GitSource,
  destination: string,
  timeoutMs = 120_000,
): Promise<{ contextDir: string; commit: string }> {
  const git = simpleGit({ timeout: { block: timeoutMs } });
  const options = ['--depth', '1', '--single-branch', '--no-tags'];
  if (source.branch) options.push('--branch', source.branch);
  const remote = /^\/|^\.\.?\//.test(source.remote) ? resolve(source.remote) : source.remote;
  try {
    await git.clone(remote, destination, options);
  } catch (error) {
    const message = (error as Error).message.trim().split('\n').slice(-3).join(' ');
    throw new PitlaneError(422, 'GIT_CLONE_FAILED', `git clone of ${source.remote} failed: ${message}`, [
      { path: 'git.remote', message },
    ]);
  }
  const commit = (await simpleGit(destination).revparse(['HEAD'])).trim();
  const contextDir = resolve(destination, source.directory || '.');
  const fromRoot = relative(destination, contextDir);
  if (fromRoot.startsWith('..')) {
    throw new PitlaneError(400, 'MANIFEST_INVALID', 'git.directory escapes the repository', [
      { path: 'git.directory', message: 'must stay inside the repository' },
    ]);
  }
  const info = await stat(contextDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new PitlaneError(422, 'GIT_DIRECTORY_MISSING', `directory "${source.directory}" does not exist in ${source.remote}`, [
      { path: 'git.directory', message: `no such directory at commit ${commit.slice(0, 12)}` },
    ]);
  }
  return { contextDir: join(contextDir), commit };
}
