/**
 * Git clones with the real `git`: argv with `--` before the positional arguments, only the allowed
 * transports (git itself refuses `ext::` even if validation were bypassed), a wall-clock kill, and
 * a tree whose symlinks must stay inside it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneArguments, cloneSource, gitEnvironment, GIT_ALLOWED_PROTOCOLS } from '../../../src/build/index.js';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';

const work = mkdtempSync(join(tmpdir(), 'pitlane-git-'));

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'ignore' });
}

/** A repository at `dir` with `files` (name → content, or `{ link }` for a symlink), committed on main. */
function repo(dir: string, files: Record<string, string | { link: string }>): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q');
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    if (typeof content === 'string') writeFileSync(path, content);
    else symlinkSync(content.link, path);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'init');
  return dir;
}

async function cloneError(...args: Parameters<typeof cloneSource>): Promise<PitlaneError> {
  const error = await cloneSource(...args).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPitlaneError(error), String(error)).toBe(true);
  return error as PitlaneError;
}

let hanging: Server;
let hangingPort = 0;
const hangingSockets: import('node:net').Socket[] = [];

beforeAll(async () => {
  // Accepts connections and never answers: a git server that hangs.
  hanging = createServer((socket) => void hangingSockets.push(socket));
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  hangingPort = (hanging.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of hangingSockets) socket.destroy();
  await new Promise((resolve) => hanging.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

describe('cloneArguments and gitEnvironment', () => {
  it('puts -- before the remote and the destination, and every option before it', () => {
    const args = cloneArguments('--upload-pack=touch /tmp/x', '/dest', '--evil');
    const dashes = args.indexOf('--');
    expect(dashes).toBeGreaterThan(0);
    expect(args.slice(dashes + 1)).toEqual(['--upload-pack=touch /tmp/x', '/dest']);
    expect(args.slice(0, dashes)).toContain('--branch');
    expect(args).toContain('protocol.ext.allow=never');
    expect(args).toContain('--no-recurse-submodules');
  });

  it('allows only file, http, https and ssh, and never prompts', () => {
    const env = gitEnvironment({ PATH: '/usr/bin' });
    expect(env.GIT_ALLOW_PROTOCOL).toBe(GIT_ALLOWED_PROTOCOLS.join(':'));
    expect(env.GIT_ALLOW_PROTOCOL?.split(':')).not.toContain('ext');
    expect(env.GIT_PROTOCOL_FROM_USER).toBe('0');
    expect(env.GIT_TERMINAL_PROMPT).toBe('0');
    expect(env.GIT_SSH_COMMAND).toContain('BatchMode=yes');
  });
});

describe('cloneSource', () => {
  it('clones a branch and a subdirectory from a file:// remote and returns the commit', async () => {
    const source = repo(join(work, 'ok'), { 'jobs/sum/Dockerfile': 'FROM scratch\n', 'jobs/sum/inner-link': { link: 'Dockerfile' } });
    const cloned = await cloneSource({ remote: `file://${source}`, branch: 'main', directory: 'jobs/sum' }, join(work, 'ok-clone'));
    expect(cloned.contextDir).toBe(join(work, 'ok-clone', 'jobs/sum'));
    expect(cloned.commit).toMatch(/^[0-9a-f]{40}$/);
    const local = await cloneSource({ remote: source, branch: null, directory: '.' }, join(work, 'ok-clone-path'));
    expect(local.commit).toBe(cloned.commit);
  });

  it('refuses a repository holding a symlink that leads outside it (422 naming git.remote)', async () => {
    const source = repo(join(work, 'evil-link'), { Dockerfile: { link: '/proc/self/environ' } });
    const error = await cloneError({ remote: source, branch: null, directory: '.' }, join(work, 'evil-link-clone'));
    expect(error.status).toBe(422);
    expect(error.code).toBe('GIT_SOURCE_UNSAFE');
    expect(error.details[0]?.path).toBe('git.remote');
    const relative = repo(join(work, 'evil-rel'), { 'a/Dockerfile': { link: '../../../../../../etc/passwd' } });
    expect((await cloneError({ remote: relative, branch: null, directory: 'a' }, join(work, 'evil-rel-clone'))).code).toBe('GIT_SOURCE_UNSAFE');
  });

  it('refuses a git.directory that is a symlink out of the repository', async () => {
    const source = repo(join(work, 'evil-dir'), { 'ctx/Dockerfile': 'FROM scratch\n', up: { link: '.' } });
    // `up` stays inside (it is the root itself), so the tree is safe; a directory above the root is not reachable.
    const cloned = await cloneSource({ remote: source, branch: null, directory: 'up/ctx' }, join(work, 'evil-dir-clone'));
    expect(cloned.contextDir.endsWith('up/ctx')).toBe(true);
    expect((await cloneError({ remote: source, branch: null, directory: '../..' }, join(work, 'evil-dir-clone-2'))).details[0]?.path).toBe('git.directory');
  });

  it('lets git itself refuse ext:: and fd:: transports, running nothing', async () => {
    const marker = join(work, 'ext-ran');
    for (const remote of [`ext::sh -c touch% ${marker}`, 'fd::0']) {
      const error = await cloneError({ remote, branch: null, directory: '.' }, join(work, `ext-clone-${remote.length}`));
      expect(error.code).toBe('GIT_CLONE_FAILED');
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('does not take an option-looking branch as an option', async () => {
    const source = repo(join(work, 'opt'), { Dockerfile: 'FROM scratch\n' });
    const marker = join(work, 'upload-pack-ran');
    const error = await cloneError({ remote: source, branch: `--upload-pack=touch ${marker}`, directory: '.' }, join(work, 'opt-clone'));
    expect(error.code).toBe('GIT_CLONE_FAILED');
    expect(existsSync(marker)).toBe(false);
  });

  it('kills git when the wall-clock time limit passes', async () => {
    const started = Date.now();
    const error = await cloneError({ remote: `http://127.0.0.1:${hangingPort}/repo.git`, branch: null, directory: '.' }, join(work, 'hang-clone'), 800);
    expect(error.code).toBe('GIT_CLONE_FAILED');
    expect(error.message).toContain('did not finish within');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a missing directory as 422 naming git.directory', async () => {
    const source = repo(join(work, 'nodir'), { Dockerfile: 'FROM scratch\n' });
    const error = await cloneError({ remote: source, branch: null, directory: 'missing' }, join(work, 'nodir-clone'));
    expect(error.status).toBe(422);
    expect(error.details[0]?.path).toBe('git.directory');
  });
});
