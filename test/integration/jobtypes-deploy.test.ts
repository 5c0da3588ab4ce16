/**
 * The python3 and node job types end to end through a real server: `pitlane init` scaffolds,
 * deploys, calls through the gateway (stdin input), the wrapper contract behind the gateway,
 * Racetrack's adder sample, and bad input failing at the right step.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PitlaneProcess, REPO_ROOT, removeJobContainers } from './helpers/pitlane.js';

const JOBS = ['native-libs', 'greeter', 'init-py', 'init-node', 'init-dp', 'adder', 'adder-node', 'bad-py'];
const server = new PitlaneProcess({ PITLANE_READY_TIMEOUT_S: '30' });
const work = mkdtempSync(join(tmpdir(), 'pitlane-jobtypes-'));

beforeAll(async () => {
  await removeJobContainers(JOBS);
  await server.start();
});
afterAll(async () => {
  await server.stop();
  await removeJobContainers(JOBS);
  rmSync(work, { recursive: true, force: true });
});

describe('pitlane init + deploy + call', () => {
  for (const [jobtype, name] of [['python3', 'init-py'], ['node', 'init-node'], ['docker-proxy', 'init-dp']] as const) {
    it(`scaffolds a ${jobtype} job that deploys and answers 42`, async () => {
      const dir = join(work, name);
      const init = await server.cli(['init', jobtype, dir]);
      expect(init.code, init.stderr).toBe(0);
      const again = await server.cli(['init', jobtype, dir]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('not overwriting');
      const deployed = await server.cli(['deploy', dir]);
      expect(deployed.code, deployed.stderr).toBe(0);
      const called = await server.cli(['call', name], { input: '{"numbers": [40, 2]}' });
      expect(called.stdout.trim()).toBe('42');
    });
  }
});

describe('the wrapper contract behind the gateway', () => {
  it("serves Racetrack's adder sample (python3) with parameters, live, ready, metrics, docs and errors", async () => {
    const deployed = await server.cli(['deploy', 'examples/adder']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const base = '/pub/job/adder/latest';
    expect((await server.api('POST', `${base}/api/v1/perform`, { numbers: [40, 2] })).body).toBe(42);
    const typeError = await server.api('POST', `${base}/api/v1/perform`, { wrong: 1 });
    expect(typeError.status).toBe(400);
    expect(typeError.body.type).toBe('TypeError');
    expect((await server.api('GET', `${base}/api/v1/parameters`)).body).toEqual([{ name: 'numbers', type: 'list[float]' }]);
    const live = await server.api('GET', `${base}/live`);
    expect(live.body.live).toBe(true);
    expect(Number(live.body.deployment_timestamp)).toBeGreaterThan(1_700_000_000);
    expect((await server.api('GET', `${base}/ready`)).status).toBe(200);
    const metrics = await server.api('GET', `${base}/metrics`);
    expect(String(metrics.body)).toMatch(/perform/);
    const docs = await server.api('GET', `${base}/docs/openapi.json`);
    expect(JSON.stringify(docs.body)).toContain('40');
  });

  it('serves the TypeScript adder (node) the same way', async () => {
    const deployed = await server.cli(['deploy', 'examples/adder-node']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const base = '/pub/job/adder-node/latest';
    expect((await server.api('POST', `${base}/api/v1/perform`, { numbers: [40, 2] })).body).toBe(42);
    expect((await server.api('POST', `${base}/api/v1/perform`, [1, 2])).status).toBe(400);
    expect((await server.api('GET', `${base}/live`)).body.live).toBe(true);
    expect((await server.api('GET', `${base}/health`)).status).toBe(200);
  });
});

describe('the wheelhouse', () => {
  it('builds a python3 job whose requirements resolve only from the wheelhouse (no PyPI here)', async () => {
    const uploaded = await server.cli(['wheels', 'upload', join(REPO_ROOT, 'test/fixtures/wheels/Pitlane.Greet-0.1.0-py3-none-any.whl')]);
    expect(uploaded.code, uploaded.stderr).toBe(0);
    const listed = JSON.parse((await server.cli(['wheels', 'list', '--json'])).stdout);
    expect(JSON.stringify(listed)).toContain('Pitlane.Greet-0.1.0-py3-none-any.whl');
    const dir = join(work, 'greeter');
    mkdirSync(dir);
    writeFileSync(join(dir, 'job.yaml'), 'name: greeter\nowner_email: a@example.com\njobtype: python3\nversion: 1.0.0\njobtype_extra:\n  entrypoint_path: job.py\n  requirements_path: requirements.txt\n');
    writeFileSync(join(dir, 'requirements.txt'), 'pitlane-greet==0.1.0\n');
    writeFileSync(join(dir, 'job.py'), 'from pitlane_greet import greet\n\n\nclass Greeter:\n    def perform(self, name: str) -> str:\n        return greet(name)\n');
    const deployed = await server.cli(['deploy', dir]);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect((await server.api('POST', '/pub/job/greeter/latest/api/v1/perform', { name: 'pit' })).body).toBe('Hello, pit!');
    const index = await server.api('GET', '/wheels/simple/pitlane-greet/', undefined, null);
    expect(index.status).toBe(200);
    expect(String(index.body)).toContain('Pitlane.Greet-0.1.0-py3-none-any.whl#sha256=');
  });

  it('fails a python3 deployment whose requirement the wheelhouse cannot satisfy, at the build step', async () => {
    const dir = join(work, 'greeter-missing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'job.yaml'), 'name: greeter\nowner_email: a@example.com\njobtype: python3\nversion: 2.0.0\njobtype_extra:\n  entrypoint_path: job.py\n  requirements_path: requirements.txt\n');
    writeFileSync(join(dir, 'requirements.txt'), 'no-such-package-anywhere==9.9\n');
    writeFileSync(join(dir, 'job.py'), 'class Greeter:\n    def perform(self) -> int:\n        return 1\n');
    const deployed = await server.cli(['deploy', dir]);
    expect(deployed.code).toBe(1);
    expect(deployed.stderr).toMatch(/no-such-package-anywhere/);
    expect(deployed.stderr).toMatch(/build failed/);
  });
});

describe('the native runtime image (seed 004)', () => {
  it('runs a python3 job on pitlane/python-runtime with libpq, libxml2, libxslt, libjpeg, zlib, cairo and pango', async () => {
    const dir = join(work, 'native-libs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'job.yaml'), 'name: native-libs\nowner_email: a@example.com\njobtype: python3\nversion: 1.0.0\njobtype_extra:\n  entrypoint_path: job.py\n  base_image: native\n');
    writeFileSync(
      join(dir, 'job.py'),
      'import ctypes.util\n\n\nclass Libs:\n    def perform(self) -> dict:\n        return {name: ctypes.util.find_library(name) is not None for name in ["pq", "xml2", "xslt", "jpeg", "z", "cairo", "pango-1.0"]}\n',
    );
    const deployed = await server.cli(['deploy', dir]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const found = (await server.api('POST', '/pub/job/native-libs/latest/api/v1/perform', {})).body;
    expect(found).toEqual({ pq: true, xml2: true, xslt: true, jpeg: true, z: true, cairo: true, 'pango-1.0': true });
  });
});

describe('bad input fails at the right step', () => {
  const python3Job = (files: Record<string, string>, extra: Record<string, unknown> = { entrypoint_path: 'job.py' }): string => {
    const dir = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(dir, 'job.yaml'), `name: bad-py\nowner_email: a@example.com\njobtype: python3\nversion: 0.0.${Math.floor(Math.random() * 1e6)}\njobtype_extra: ${JSON.stringify(extra)}\n`);
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
    return dir;
  };

  it('a missing entrypoint file fails the deployment naming jobtype_extra.entrypoint_path', async () => {
    const result = await server.cli(['deploy', python3Job({ 'other.py': 'class A:\n    def perform(self):\n        return 1\n' })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/entrypoint_path/);
  });

  it('several classes and no entrypoint_class fails naming jobtype_extra.entrypoint_class', async () => {
    const result = await server.cli(['deploy', python3Job({ 'job.py': 'class A:\n    def perform(self):\n        return 1\n\nclass B:\n    def perform(self):\n        return 2\n' })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/entrypoint_class/);
  });

  it("a syntax error in the user's code fails the deployment with Python's message", async () => {
    const result = await server.cli(['deploy', python3Job({ 'job.py': 'class A:\n    def perform(self:\n        return 1\n' })]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SyntaxError|syntax/i);
  });

  it('a perform that raises answers 500 with the error and its type', async () => {
    const dir = python3Job({ 'job.py': 'class A:\n    def perform(self):\n        raise RuntimeError("boom")\n' });
    const deployed = await server.cli(['deploy', dir]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const answer = await server.api('POST', '/pub/job/bad-py/latest/api/v1/perform', {});
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ error: expect.stringContaining('boom'), type: 'RuntimeError' });
  });
});
