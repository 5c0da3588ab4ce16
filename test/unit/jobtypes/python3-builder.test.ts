import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDockerignore } from '../../../src/build/context.js';
import { lintDockerfile } from '../../../src/dockerfile/index.js';
import { isPitlaneError, type PitlaneError } from '../../../src/errors.js';
import { DEFAULT_DOCKERIGNORE, PYTHON3_DOCKERFILE, python3Builder } from '../../../src/jobtypes/python3/index.js';
import type { JobTypeSettings } from '../../../src/jobtypes/types.js';
import type { JobManifest } from '../../../src/manifest/types.js';
import { validateManifest } from '../../../src/manifest/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SETTINGS: JobTypeSettings = { baseImages: {}, wheelhouseDir: null, commit: null };
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pitlane-py3-'));
  dirs.push(d);
  return d;
}

/** A job directory with the given files (path → content). */
function jobDir(files: Record<string, string>): string {
  const d = tempDir();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(d, path)), { recursive: true });
    writeFileSync(join(d, path), content);
  }
  return d;
}

function manifest(extra: Record<string, unknown>): JobManifest {
  // The normalised manifest the server would build (defaults from the manifest module).
  return validateManifest({ name: 'adder', version: '1.0.0', owner_email: 'nobody@example.com', jobtype: 'python3', jobtype_extra: extra }).manifest;
}

const ADDER = 'class AdderModel:\n    def perform(self, numbers: list[float]) -> float:\n        return sum(numbers)\n';

async function rejection(promise: Promise<unknown>): Promise<PitlaneError> {
  try {
    await promise;
  } catch (e) {
    if (isPitlaneError(e)) return e;
    throw e;
  }
  throw new Error('expected a PitlaneError');
}

describe('python3Builder.prepare', () => {
  it('writes the wrapper, the Dockerfile and a .dockerignore; returns port 7000 and /ready', async () => {
    const dir = jobDir({ 'adder.py': ADDER, 'job.yaml': 'name: adder\n' });
    const prepared = await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), dir, SETTINGS);
    expect(python3Builder.name).toBe('python3');
    expect(prepared).toEqual({
      dockerfilePath: '.pitlane/Dockerfile',
      port: 7000,
      readinessPath: '/ready',
      warnings: ['entrypoint_class auto-detected as AdderModel'],
      // The Dockerfile sets the pipeline's labels itself (one LABEL before the code), so the build API adds none after it.
      imageLabels: { 'pitlane.job': 'adder', 'pitlane.version': '1.0.0', 'pitlane.jobtype': 'python3', 'pitlane.managed': 'true' },
    });
    expect(readFileSync(join(dir, '.dockerignore'), 'utf8')).toBe(DEFAULT_DOCKERIGNORE);
    const wrapperFiles = readdirSync(join(dir, '.pitlane/wrapper/pitlane_wrapper')).sort();
    expect(wrapperFiles).toEqual(readdirSync(join(REPO, 'wrappers/python3/pitlane_wrapper')).filter((f) => f.endsWith('.py')).sort());
    expect(existsSync(join(dir, '.pitlane/wrapper/racetrack_job_wrapper/call.py'))).toBe(true);
    const dockerfile = readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8');
    expect(dockerfile).toContain('FROM python:3.11-slim AS runtime');
    expect(dockerfile).toContain('CMD ["python", "-m", "pitlane_wrapper", "adder.py"]');
    expect(lintDockerfile(dockerfile, { hasDockerignore: true }).findings).toEqual([]);
    // The build context sends everything the Dockerfile copies.
    const ignored = loadDockerignore(dir, PYTHON3_DOCKERFILE);
    expect(['adder.py', '.pitlane/Dockerfile', '.pitlane/wrapper/pitlane_wrapper/server.py'].filter(ignored)).toEqual([]);
  });

  it('keeps the job\'s own .dockerignore, re-including .pitlane/ when it would be left out', async () => {
    const dir = jobDir({ 'adder.py': ADDER, '.dockerignore': '.*\n!.dockerignore\n*.md' });
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), dir, SETTINGS);
    const text = readFileSync(join(dir, '.dockerignore'), 'utf8');
    expect(text.startsWith('.*\n!.dockerignore\n*.md\n')).toBe(true);
    const ignored = loadDockerignore(dir, PYTHON3_DOCKERFILE);
    expect(ignored('.pitlane/wrapper/pitlane_wrapper/server.py')).toBe(false);
    expect(ignored('README.md')).toBe(true);
    expect(ignored('.env')).toBe(true);

    const untouched = jobDir({ 'adder.py': ADDER, '.dockerignore': '*.md\n' });
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), untouched, SETTINGS);
    expect(readFileSync(join(untouched, '.dockerignore'), 'utf8')).toBe('*.md\n');
  });

  it('entrypoint file missing: 422 ENTRYPOINT_NOT_FOUND naming jobtype_extra.entrypoint_path', async () => {
    const e = await rejection(python3Builder.prepare(manifest({ entrypoint_path: 'missing.py' }), jobDir({ 'adder.py': ADDER }), SETTINGS));
    expect(e.status).toBe(422);
    expect(e.code).toBe('ENTRYPOINT_NOT_FOUND');
    expect(e.details).toEqual([{ path: 'jobtype_extra.entrypoint_path', message: 'entrypoint file `missing.py` does not exist in the job directory' }]);
  });

  it('invalid jobtype_extra: 422 before touching the directory', async () => {
    const dir = jobDir({ 'adder.py': ADDER });
    const e = await rejection(python3Builder.prepare(manifest({}), dir, SETTINGS));
    expect(e.code).toBe('JOBTYPE_EXTRA_INVALID');
    expect(e.details[0]!.path).toBe('jobtype_extra.entrypoint_path');
    expect(existsSync(join(dir, '.pitlane'))).toBe(false);
  });

  it('entrypoint is a directory, an escaping link, or excluded by .dockerignore: 422', async () => {
    const outside = jobDir({ 'evil.py': ADDER });
    const dir = jobDir({ 'pkg/mod.py/x': '', 'adder.py': ADDER, 'secret.py': ADDER, '.dockerignore': 'secret.py\n' });
    symlinkSync(join(outside, 'evil.py'), join(dir, 'link.py'));
    const msg = async (path: string): Promise<string> => (await rejection(python3Builder.prepare(manifest({ entrypoint_path: path }), dir, SETTINGS))).details[0]!.message;
    expect(await msg('pkg/mod.py')).toContain('is not a regular file');
    expect(await msg('link.py')).toContain('leads outside the job directory');
    expect(await msg('secret.py')).toContain('excluded by .dockerignore');
  });

  it('several classes and no entrypoint_class: 422 ENTRYPOINT_CLASS_AMBIGUOUS naming jobtype_extra.entrypoint_class', async () => {
    const dir = jobDir({ 'job.py': readFileSync(join(REPO, 'test/fixtures/python3/two-classes/job.py'), 'utf8') });
    const e = await rejection(python3Builder.prepare(manifest({ entrypoint_path: 'job.py' }), dir, SETTINGS));
    expect(e.code).toBe('ENTRYPOINT_CLASS_AMBIGUOUS');
    expect(e.details).toEqual([
      { path: 'jobtype_extra.entrypoint_class', message: 'job.py defines 2 classes: First (line 1), Second (line 6); say which one serves the job in jobtype_extra.entrypoint_class' },
    ]);
    // Naming the class resolves it, and the Dockerfile passes it to the wrapper.
    const ok = await python3Builder.prepare(manifest({ entrypoint_path: 'job.py', entrypoint_class: 'Second' }), dir, SETTINGS);
    expect(ok.warnings).toEqual([]);
    expect(readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8')).toContain('CMD ["python", "-m", "pitlane_wrapper", "job.py", "Second"]');
  });

  it('no class at all: 422 ENTRYPOINT_CLASS_MISSING; an entrypoint_class the file does not define: a warning', async () => {
    const dir = jobDir({ 'job.py': 'def perform(x):\n    return x\n', 'imports.py': 'from job import Model\n' });
    const e = await rejection(python3Builder.prepare(manifest({ entrypoint_path: 'job.py' }), dir, SETTINGS));
    expect(e.code).toBe('ENTRYPOINT_CLASS_MISSING');
    expect(e.details[0]!.path).toBe('jobtype_extra.entrypoint_path');
    const { warnings } = await python3Builder.prepare(manifest({ entrypoint_path: 'imports.py', entrypoint_class: 'Model' }), dir, SETTINGS);
    expect(warnings).toEqual(['entrypoint_class Model is not defined at the top level of imports.py; the job fails to start unless the module imports it']);
  });

  it('requirements: the file and the files it includes are copied alone, in their directories', async () => {
    const dir = jobDir({
      'adder.py': ADDER,
      'requirements.txt': '-r requirements/base.txt\n-c constraints.txt\nflask==3.0.3\n',
      'requirements/base.txt': '-r common.txt\nrequests==2.32.3\n',
      'requirements/common.txt': 'idna==3.7\n',
      'constraints.txt': 'urllib3<3\n',
    });
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py', requirements_path: 'requirements.txt' }), dir, SETTINGS);
    const dockerfile = readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8');
    expect(dockerfile.match(/^COPY (?!\.|--).*/gm)).toEqual([
      'COPY requirements.txt /opt/pitlane/requirements/requirements.txt',
      'COPY requirements/base.txt /opt/pitlane/requirements/requirements/base.txt',
      'COPY requirements/common.txt /opt/pitlane/requirements/requirements/common.txt',
      'COPY constraints.txt /opt/pitlane/requirements/constraints.txt',
    ]);
    expect(dockerfile).toContain('pip --python /opt/pitlane/venv/bin/python install --no-cache-dir -r /opt/pitlane/requirements/requirements.txt');
    expect(lintDockerfile(dockerfile, { hasDockerignore: true }).findings).toEqual([]);
  });

  it('requirements problems: 422 naming jobtype_extra.requirements_path (and the line)', async () => {
    const dir = jobDir({ 'adder.py': ADDER, 'local.txt': 'flask==3.0.3\n-e ./libs/mine\n', 'inc.txt': '-r missing.txt\n', 'url.txt': '-r https://example.com/r.txt\n' });
    const detail = async (path: string): Promise<{ code: string; detail: unknown }> => {
      const e = await rejection(python3Builder.prepare(manifest({ entrypoint_path: 'adder.py', requirements_path: path }), dir, SETTINGS));
      return { code: e.code, detail: e.details[0] };
    };
    expect(await detail('nope.txt')).toEqual({
      code: 'REQUIREMENTS_NOT_FOUND',
      detail: { path: 'jobtype_extra.requirements_path', message: 'requirements file `nope.txt` does not exist in the job directory' },
    });
    expect(await detail('local.txt')).toEqual({
      code: 'REQUIREMENTS_INVALID',
      detail: { path: 'jobtype_extra.requirements_path', line: 2, message: expect.stringContaining('local.txt, line 2: `-e ./libs/mine` installs from a local path') },
    });
    expect(await detail('inc.txt')).toEqual({
      code: 'REQUIREMENTS_NOT_FOUND',
      detail: { path: 'jobtype_extra.requirements_path', message: 'requirements file (included from inc.txt, line 1) `missing.txt` does not exist in the job directory' },
    });
    expect((await detail('url.txt')).code).toBe('REQUIREMENTS_INVALID');
  });

  it('wheelhouse: copies every wheel into .pitlane/wheels and installs with --no-index; no wheels, no wheelhouse', async () => {
    const wheelhouse = jobDir({ 'a/pkg_a-1.0-py3-none-any.whl': 'A', 'b/pkg_b-2.0-py3-none-any.whl': 'B', 'notes.txt': 'x' });
    const dir = jobDir({ 'adder.py': ADDER, 'requirements.txt': 'pkg-a==1.0\n' });
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py', requirements_path: 'requirements.txt' }), dir, { ...SETTINGS, wheelhouseDir: wheelhouse });
    expect(readdirSync(join(dir, '.pitlane/wheels')).sort()).toEqual(['pkg_a-1.0-py3-none-any.whl', 'pkg_b-2.0-py3-none-any.whl']);
    expect(readFileSync(join(dir, '.pitlane/wheels/pkg_b-2.0-py3-none-any.whl'), 'utf8')).toBe('B');
    const dockerfile = readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8');
    expect(dockerfile).toContain('COPY .pitlane/wheels/ /opt/pitlane/wheels/');
    expect(dockerfile).toContain('install --no-cache-dir --no-index --find-links /opt/pitlane/wheels -r /opt/pitlane/requirements/requirements.txt');
    // The wheels stay out of the runtime image: the code is copied entry by entry, without .pitlane/.
    expect(dockerfile.trimEnd().split('\n').at(-1)).toBe('COPY --chown=10001:10001 adder.py requirements.txt /srv/job/');
    expect(dockerfile.match(/^COPY .*/gm)!.filter((l) => l.includes('.pitlane'))).toEqual(['COPY .pitlane/wheels/ /opt/pitlane/wheels/', 'COPY .pitlane/wrapper/ /opt/pitlane/wrapper/']);
    expect(dockerfile).not.toContain('rm -rf');

    const empty = tempDir();
    const dir2 = jobDir({ 'adder.py': ADDER, 'requirements.txt': 'pkg-a==1.0\n' });
    const { warnings } = await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py', requirements_path: 'requirements.txt' }), dir2, { ...SETTINGS, wheelhouseDir: empty });
    expect(warnings).toContain(`the wheelhouse ${empty} has no wheels; requirements are installed from the package index`);
    expect(readFileSync(join(dir2, PYTHON3_DOCKERFILE), 'utf8')).not.toContain('--no-index');

    // Without requirements the wheelhouse is not used at all.
    const dir3 = jobDir({ 'adder.py': ADDER });
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), dir3, { ...SETTINGS, wheelhouseDir: wheelhouse });
    expect(existsSync(join(dir3, '.pitlane/wheels'))).toBe(false);
  });

  it('base image from settings.baseImages.python3[python_version], python:<v>-slim otherwise', async () => {
    const dir = jobDir({ 'adder.py': ADDER });
    const settings = { ...SETTINGS, baseImages: { python3: { '3.11': 'mirror.example.com/python:3.11-slim-bookworm' } } };
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), dir, settings);
    expect(readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8')).toContain('FROM mirror.example.com/python:3.11-slim-bookworm AS runtime');
    const { warnings } = await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py', python_version: '3.12' }), dir, settings);
    expect(readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8')).toContain('FROM python:3.12-slim AS runtime');
    expect(warnings).toContain('python_version 3.12 has no configured base image; using python:3.12-slim, which the engine must have or be able to pull');
  });

  it('system_dependencies: build tools stay in the build stage, with a warning; labels carry the commit', async () => {
    const dir = jobDir({ 'adder.py': ADDER, 'requirements.txt': 'psycopg2==2.9.9\n' });
    const { warnings } = await python3Builder.prepare(
      manifest({ entrypoint_path: 'adder.py', requirements_path: 'requirements.txt', system_dependencies: ['build-essential', 'libpq-dev', 'libpq5'] }),
      dir,
      { ...SETTINGS, commit: 'f'.repeat(40) },
    );
    expect(warnings).toContain(
      'system_dependencies build-essential, libpq-dev are build tools or headers: installed in the build stage only, not in the runtime image (list the runtime libraries too, e.g. libpq5 for libpq-dev)',
    );
    const dockerfile = readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toContain('apt-get install -y --no-install-recommends libpq5 \\');
    expect(runtime).not.toContain('build-essential');
    expect(runtime).toContain(`pitlane.git-commit="${'f'.repeat(40)}"`);
  });

  it('the code: the top-level entries .dockerignore keeps, copied without .pitlane/ and .dockerignore; the whole directory when that could differ', async () => {
    const code = (dockerfile: string): string[] => dockerfile.split('\n').filter((l) => /^COPY --chown=10001:10001 /.test(l));
    const dir = jobDir({ 'adder.py': ADDER, 'job.yaml': 'name: adder\n', 'lib/util.py': 'X = 1\n', 'lib/__pycache__/util.cpython-311.pyc': 'x', '.git/HEAD': 'ref\n', 'venv/bin/python': '' });
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), dir, SETTINGS);
    const dockerfile = readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8');
    expect(code(dockerfile)).toEqual(['COPY --chown=10001:10001 lib/ /srv/job/lib/', 'COPY --chown=10001:10001 adder.py job.yaml /srv/job/']);
    expect(dockerfile).not.toMatch(/AS source|rm -rf/);
    expect(lintDockerfile(dockerfile, { hasDockerignore: true }).findings).toEqual([]);

    // The job's own .dockerignore decides; `!` exceptions, symlinks and odd names: the whole directory.
    const own = jobDir({ 'adder.py': ADDER, 'docs/a.md': '', '.dockerignore': 'docs\n' });
    await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), own, SETTINGS);
    expect(code(readFileSync(join(own, PYTHON3_DOCKERFILE), 'utf8'))).toEqual(['COPY --chown=10001:10001 adder.py /srv/job/']);
    for (const [extra, make] of [
      ['exception', (d: string) => writeFileSync(join(d, '.dockerignore'), 'docs\n!docs/keep.md\n')],
      ['symlink', (d: string) => symlinkSync('adder.py', join(d, 'alias.py'))],
      ['odd name', (d: string) => writeFileSync(join(d, 'my notes.txt'), '')],
    ] as const) {
      const d = jobDir({ 'adder.py': ADDER, 'docs/keep.md': '' });
      make(d);
      await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), d, SETTINGS);
      const text = readFileSync(join(d, PYTHON3_DOCKERFILE), 'utf8');
      expect(text, extra).toContain('RUN rm -rf /srv/job/.pitlane /srv/job/.dockerignore');
      expect(code(text), extra).toEqual([]);
      expect(text, extra).toContain('COPY --from=source --chown=10001:10001 /srv/job/ /srv/job/');
    }
  });

  it('runtime_env.PORT other than 7000 is refused (the wrapper would listen elsewhere)', async () => {
    const dir = jobDir({ 'adder.py': ADDER });
    const m = { ...manifest({ entrypoint_path: 'adder.py' }), runtime_env: { PORT: '8080' } };
    const e = await rejection(python3Builder.prepare(m, dir, SETTINGS));
    expect(e.code).toBe('RUNTIME_ENV_INVALID');
    expect(e.details[0]!.path).toBe('runtime_env.PORT');
    await python3Builder.prepare({ ...m, runtime_env: { PORT: '7000' } }, dir, SETTINGS);
  });

  it('replaces a .pitlane/ directory the job brought, saying so', async () => {
    const dir = jobDir({ 'adder.py': ADDER, '.pitlane/old.txt': 'x' });
    const { warnings } = await python3Builder.prepare(manifest({ entrypoint_path: 'adder.py' }), dir, SETTINGS);
    expect(existsSync(join(dir, '.pitlane/old.txt'))).toBe(false);
    expect(warnings).toContain('the job directory had a .pitlane/ directory; Pitlane replaced it with its generated files');
  });

  it('every option combination through prepare lints with zero findings', async () => {
    const wheelhouse = jobDir({ 'w/pkg_a-1.0-py3-none-any.whl': 'A' });
    let count = 0;
    for (const requirements of [null, 'requirements.txt'])
      for (const wheels of [null, wheelhouse])
        for (const deps of [[], ['libpq5'], ['build-essential', 'libpq-dev', 'libpq5'], ['curl=7.88.1-10+deb12u5']])
          for (const cls of [null, 'AdderModel'])
            for (const check of [true, false])
              for (const commit of [null, 'a'.repeat(40)]) {
                const dir = jobDir({ 'adder.py': ADDER, 'requirements.txt': '-r more.txt\nflask==3.0.3\n', 'more.txt': 'idna==3.7\n' });
                await python3Builder.prepare(
                  manifest({ entrypoint_path: 'adder.py', entrypoint_class: cls, requirements_path: requirements, system_dependencies: deps, check_requirements: check }),
                  dir,
                  { baseImages: {}, wheelhouseDir: wheels, commit },
                );
                const findings = lintDockerfile(readFileSync(join(dir, PYTHON3_DOCKERFILE), 'utf8'), { hasDockerignore: existsSync(join(dir, '.dockerignore')) }).findings;
                expect(findings, JSON.stringify({ requirements, wheels, deps, cls, check, commit })).toEqual([]);
                count++;
              }
    expect(count).toBe(128);
  });
});
