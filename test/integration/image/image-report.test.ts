import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyzeImageArchive,
  createDockerStructureTestRunner,
  evaluateImageChecks,
  formatImageReport,
  parseStructureTests,
  runStructureTests,
  type ImageReport,
} from '../../../src/image/index.js';
import { buildImage, dockerClient, ensureBusyboxBase, removeImages } from './docker-helpers.js';

const docker = dockerClient();
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const WASTEFUL = `pitlane-test/image-report-wasteful:${suffix}`;
const LEAN = `pitlane-test/image-report-lean:${suffix}`;
const KB = 1024;

// The course's task-1 habits (one RUN per step, clean-up in a later layer) against task 2 (one layer).
const wastefulDockerfile = (base: string) => `FROM ${base}
RUN dd if=/dev/urandom of=/opt/data.bin bs=1k count=300
RUN dd if=/dev/urandom of=/opt/cache.bin bs=1k count=200
RUN mkdir -p /opt/build && dd if=/dev/urandom of=/opt/build/obj.o bs=1k count=100
RUN rm /opt/cache.bin
RUN rm -rf /opt/build
RUN chmod 600 /opt/data.bin
`;
const leanDockerfile = (base: string) => `FROM ${base}
ENV APP_HOME=/app GREETING="hello pitlane"
LABEL org.opencontainers.image.version="1.4" team=platform
RUN dd if=/dev/urandom of=/opt/data.bin bs=1k count=300 \\
 && dd if=/dev/urandom of=/opt/cache.bin bs=1k count=200 \\
 && rm /opt/cache.bin && chmod 600 /opt/data.bin \\
 && mkdir -p /app && echo "hello pitlane" > /etc/motd
WORKDIR /app
EXPOSE 8080
CMD ["/bin/sh", "-c", "echo serving"]
`;

async function reportOf(ref: string): Promise<ImageReport> {
  const stream = (await docker.getImage(ref).get()) as unknown as Readable;
  return analyzeImageArchive(stream);
}

let wasteful: ImageReport;
let lean: ImageReport;

beforeAll(async () => {
  const base = await ensureBusyboxBase(docker);
  await buildImage(docker, WASTEFUL, wastefulDockerfile(base));
  await buildImage(docker, LEAN, leanDockerfile(base));
  [wasteful, lean] = await Promise.all([reportOf(WASTEFUL), reportOf(LEAN)]);
});

afterAll(async () => {
  await removeImages(docker, [WASTEFUL, LEAN]);
});

describe('image report from the engine (docker save stream via dockerode image.get())', () => {
  it('shows wasted bytes for the wasteful Dockerfile that the lean one does not have', () => {
    expect(wasteful.wasted_bytes).toBeGreaterThan(lean.wasted_bytes);
    expect(lean.wasted_bytes).toBe(0);
    expect(lean.reclaimable_bytes).toBe(0);
    // dive: data.bin twice (300 KiB each: dd, then chmod), cache.bin once + its whiteout (0)
    expect(wasteful.inefficient_files).toEqual(
      expect.arrayContaining([
        { path: '/opt/data.bin', count: 2, size_bytes: 600 * KB },
        { path: '/opt/cache.bin', count: 2, size_bytes: 200 * KB },
      ]),
    );
    expect(wasteful.wasted_bytes).toBe(800 * KB);
    // Pitlane: the superseded data.bin copy, cache.bin, and the rm -rf'd obj.o (which dive misses), each once
    expect(wasteful.reclaimable_bytes).toBe((300 + 200 + 100) * KB);
    expect(wasteful.inefficient_files.map((f) => f.path)).not.toContain('/opt/build/obj.o');
    expect(wasteful.efficiency).toBeLessThan(lean.efficiency);
  });

  it('reports per-layer digests, sizes, instructions and changes', () => {
    expect(wasteful.layout).toBe('legacy'); // the 20.10 engine writes the legacy layout
    expect(wasteful.image.repo_tags).toEqual([WASTEFUL]);
    const user = wasteful.layers.slice(-6);
    expect(user.map((l) => l.instruction)).toEqual([
      'RUN dd if=/dev/urandom of=/opt/data.bin bs=1k count=300',
      'RUN dd if=/dev/urandom of=/opt/cache.bin bs=1k count=200',
      'RUN mkdir -p /opt/build && dd if=/dev/urandom of=/opt/build/obj.o bs=1k count=100',
      'RUN rm /opt/cache.bin',
      'RUN rm -rf /opt/build',
      'RUN chmod 600 /opt/data.bin',
    ]);
    expect(user.map((l) => [l.files_added, l.files_modified, l.files_removed])).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
      [0, 1, 0],
    ]);
    expect(user[0]!.size_bytes).toBe(300 * KB);
    expect(wasteful.layers.every((l) => /^sha256:[0-9a-f]{64}$/.test(l.digest ?? ''))).toBe(true);
    expect(wasteful.user_size_bytes).toBe(wasteful.size_bytes - wasteful.layers[0]!.size_bytes);
    expect(formatImageReport(wasteful)).toContain('/opt/data.bin');
  });

  it('gates like dive --ci: the wasteful image fails highest-user-wasted-percent, the lean one passes', () => {
    expect(evaluateImageChecks(wasteful, { 'highest-wasted-bytes': '500KB' }).pass).toBe(false);
    expect(evaluateImageChecks(lean, { 'highest-wasted-bytes': '500KB' }).pass).toBe(true);
  });

  it('reads the same figures from a docker save archive file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pitlane-image-'));
    try {
      const file = join(dir, 'image.tar');
      await pipeline((await docker.getImage(WASTEFUL).get()) as unknown as Readable, createWriteStream(file));
      const fromFile = await analyzeImageArchive(createReadStream(file), { verifyDigests: true });
      expect(fromFile.efficiency).toBe(wasteful.efficiency);
      expect(fromFile.wasted_bytes).toBe(wasteful.wasted_bytes);
      expect(fromFile.notes).toContain('layer digests verified against rootfs.diff_ids');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('structure tests with the Docker runner', () => {
  const config = parseStructureTests(`
schemaVersion: "2.0.0"
globalEnvVars:
  - key: EXTRA
    value: "$APP_HOME/extra"
commandTests:
  - name: "shell works"
    command: "sh"
    args: ["-c", "echo out $EXTRA; echo err >&2; exit 3"]
    expectedOutput: ["^out /app/extra\\n$"]
    expectedError: ["err"]
    exitCode: 3
  - name: "setup is committed"
    setup: [["sh", "-c", "echo prepared > /tmp/marker"]]
    command: "cat"
    args: ["/tmp/marker"]
    expectedOutput: ["prepared"]
  - name: "entrypoint overridden"
    command: "pwd"
    expectedOutput: ["/app"]
fileExistenceTests:
  - name: "busybox"
    path: "/bin/busybox"
    permissions: "-rwxr-xr-x"
    uid: 0
    gid: 0
    isExecutableBy: "other"
  - name: "data is private"
    path: "/opt/data.bin"
    permissions: "-rw-------"
  - name: "tmp is sticky"
    path: "/tmp"
    permissions: "dtrwxrwxrwx"
  - name: "sh is a link"
    path: "/bin/sh"
    permissions: "Lrwxrwxrwx"
  - name: "no cache"
    path: "/opt/cache.bin"
    shouldExist: false
fileContentTests:
  - name: "motd"
    path: "/etc/motd"
    expectedContents: ["hello pitlane"]
    excludedContents: ["(?i)error"]
metadataTest:
  envVars:
    - key: APP_HOME
      value: /app
    - key: GREETING
      value: "^hello"
      isRegex: true
  unboundEnvVars: [{key: SECRET}]
  labels:
    - key: org.opencontainers.image.version
      value: '^\\d+\\.\\d+$'
      isRegex: true
  exposedPorts: ["8080"]
  unexposedPorts: ["22"]
  cmd: ["/bin/sh", "-c", "echo serving"]
  workdir: /app
`);

  it('passes on the lean image', async () => {
    const runner = createDockerStructureTestRunner(docker, LEAN);
    try {
      const report = await runStructureTests(config, runner);
      const failures = report.results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.errors.join('; ')}`);
      expect(failures).toEqual([]);
      expect(report).toMatchObject({ pass: true, total: 10, passed: 10 });
      expect(report.results[0]).toMatchObject({ stdout: 'out /app/extra\n', stderr: 'err\n', exit_code: 3 });
    } finally {
      await runner.close();
    }
  });

  it('fails on the wasteful image and says why', async () => {
    const runner = createDockerStructureTestRunner(docker, WASTEFUL);
    try {
      const report = await runStructureTests(config, runner);
      expect(report.pass).toBe(false);
      const errors = Object.fromEntries(report.results.map((r) => [r.name, r.errors]));
      expect(errors['File Content Test: motd']![0]).toMatch(/^Failed to open \/etc\/motd/);
      expect(errors['Metadata Test']).toEqual(expect.arrayContaining(['variable APP_HOME not found in image env', 'Port 8080 not found in config']));
      expect(errors['File Existence Test: busybox']).toEqual([]);
    } finally {
      await runner.close();
    }
  });
});
