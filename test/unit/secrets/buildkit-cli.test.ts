/** The docker CLI BuildKit path: argument building, environment, CLI detection (with stand-in CLIs), failures. */
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  buildFailureLine,
  buildKitArguments,
  buildWithBuildKitCli,
  cliEnvironment,
  findBuildKitCli,
  parseDockerVersion,
} from '../../../src/infra/docker/buildkit-cli.js';

/** Writes an executable shell script standing in for a docker CLI. */
function fakeCli(dir: string, name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('BuildKit through the docker CLI', () => {
  it('parses docker --version', () => {
    expect(parseDockerVersion('Docker version 20.10.24+dfsg1, build 297e128\n')).toEqual({ version: '20.10.24+dfsg1', major: 20, minor: 10 });
    expect(parseDockerVersion('Docker version 28.2.2, build e6534b4')).toEqual({ version: '28.2.2', major: 28, minor: 2 });
    expect(parseDockerVersion('podman version 4.3.1')).toBeUndefined();
  });

  it('puts secret file paths, never values, on the command line', () => {
    const args = buildKitArguments(
      { tag: 'pitlane-job/a:1.0.0', dockerfile: 'sub/Dockerfile', buildArgs: { A: '1' }, labels: { 'pitlane.job': 'a' } },
      { NPM_TOKEN: '/tmp/x/secret-0' },
      '/tmp/x/image-id',
    );
    expect(args).toEqual([
      'build', '--progress=plain', '--iidfile', '/tmp/x/image-id', '--file', 'sub/Dockerfile', '--tag', 'pitlane-job/a:1.0.0',
      '--build-arg', 'A=1', '--label', 'pitlane.job=a', '--secret', 'id=NPM_TOKEN,src=/tmp/x/secret-0', '-',
    ]);
  });

  it('gives the CLI only PATH, HOME, TMPDIR and DOCKER_* from the environment, with DOCKER_BUILDKIT=1', () => {
    const env = cliEnvironment({ PATH: '/bin', HOME: '/root', DOCKER_HOST: 'unix:///x.sock', PITLANE_SECRET_KEY: 'k', PITLANE_ADMIN_TOKEN: 't', OTHER: 'o' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', DOCKER_HOST: 'unix:///x.sock', DOCKER_BUILDKIT: '1' });
  });

  it('picks a CLI with built-in BuildKit (< 23) or with buildx, and explains when none qualifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-cli-'));
    const modern = fakeCli(dir, 'modern', 'case "$1" in --version) echo "Docker version 28.2.2, build x";; buildx) exit 1;; esac');
    const modernBuildx = fakeCli(dir, 'modern-buildx', 'case "$1" in --version) echo "Docker version 28.2.2, build x";; buildx) echo "github.com/docker/buildx v0.20";; esac');
    const old = fakeCli(dir, 'old', 'echo "Docker version 20.10.24+dfsg1, build 297e128"');
    const ancient = fakeCli(dir, 'ancient', 'echo "Docker version 18.06.1-ce, build e68fc7a"');
    const env = cliEnvironment();
    expect(await findBuildKitCli([modern, old], env)).toEqual({ command: old, version: '20.10.24+dfsg1', via: 'builtin' });
    expect(await findBuildKitCli([modernBuildx, old], env)).toEqual({ command: modernBuildx, version: '28.2.2', via: 'buildx' });
    const failure = findBuildKitCli([modern, ancient, join(dir, 'missing')], env);
    await expect(failure).rejects.toThrow(/set PITLANE_DOCKER_CLI/);
    await expect(findBuildKitCli([modern, ancient, join(dir, 'missing')], env)).rejects.toThrow(
      new RegExp(`${modern}: Docker 28.2.2 needs the buildx plugin.*${ancient}: Docker 18.06.1-ce is older than 18.09.*missing: not runnable`),
    );
  });

  it('picks the most telling line of a failed build', () => {
    expect(buildFailureLine(['#5 RUN x', '#5 0.2 boom', 'executor failed running [/bin/sh -c x]: exit code: 1', ''])).toBe('executor failed running [/bin/sh -c x]: exit code: 1');
    expect(buildFailureLine(['a', 'last words', ''])).toBe('last words');
    expect(buildFailureLine([])).toBe('no output');
  });

  it('streams the context on stdin, hands secrets over as 0600 files deleted afterwards, and redacts output and errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-cli-'));
    const work = mkdtempSync(join(tmpdir(), 'pitlane-cli-tmp-'));
    // Stands in for `docker build`: checks the secret file's mode, echoes its content (as a careless RUN step would),
    // counts stdin bytes and fails or writes an image id depending on the tag.
    const cli = fakeCli(
      dir,
      'docker',
      [
        'iid=""; tag=""; src=""',
        'while [ $# -gt 0 ]; do case "$1" in --iidfile) iid="$2"; shift;; --tag) tag="$2"; shift;; --secret) src="${2#*src=}"; shift;; esac; shift; done',
        'echo "mode $(stat -c %a "$src")"',
        'echo "#5 0.3 $(cat "$src")" >&2',
        'echo "context bytes $(wc -c)"',
        '[ "$DOCKER_BUILDKIT" = 1 ] || exit 9',
        'if [ "$tag" = fail ]; then echo "ERROR: failed to solve: leaked $(cat "$src")" >&2; exit 1; fi',
        'echo sha256:0123 > "$iid"',
      ].join('\n'),
    );
    const lines: string[] = [];
    const value = 'sup3r-s3cret-value';
    const options = { tag: 'ok', dockerfile: 'Dockerfile', buildArgs: {}, labels: {}, secrets: { TOKEN: value } };
    const env = { ...cliEnvironment(), TMPDIR: work };
    const result = await buildWithBuildKitCli({ command: cli, version: '20.10', via: 'builtin' }, Readable.from([Buffer.alloc(1000)]), options, (l) => lines.push(l), { env });
    expect(result).toEqual({ imageId: 'sha256:0123' });
    expect(lines).toContain('mode 600');
    expect(lines).toContain('#5 0.3 ***');
    expect(lines.some((l) => /context bytes\s+1000/.test(l))).toBe(true);
    expect(lines.join('\n')).not.toContain(value);

    const failed = buildWithBuildKitCli({ command: cli, version: '20.10', via: 'builtin' }, Readable.from([Buffer.alloc(10)]), { ...options, tag: 'fail' }, () => undefined, { env });
    await expect(failed).rejects.toThrow('docker build (BuildKit) exited with code 1: ERROR: failed to solve: leaked ***');
    // The temporary secret files are gone after success and failure alike.
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('pitlane-build-') && readdirSync(join(tmpdir(), f)).length > 0)).toEqual([]);
  });

  it('kills a build that exceeds its timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitlane-cli-'));
    const cli = fakeCli(dir, 'docker', 'cat > /dev/null; sleep 30');
    const started = Date.now();
    await expect(
      buildWithBuildKitCli({ command: cli, version: '20.10', via: 'builtin' }, Readable.from([Buffer.alloc(1)]), { tag: 't', dockerfile: 'D', buildArgs: {}, labels: {}, secrets: { K: 'v' } }, () => undefined, { timeoutMs: 300 }),
    ).rejects.toThrow('did not finish within 0 s');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
