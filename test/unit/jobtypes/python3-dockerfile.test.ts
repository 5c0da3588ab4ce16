import { describe, expect, it } from 'vitest';
import { lintDockerfile } from '../../../src/dockerfile/index.js';
import { isBuildOnlyPackage, MAX_DIRECTORY_COPIES, renderPython3Dockerfile, selectCodeEntries, type CodeEntries, type Python3DockerfileInput } from '../../../src/jobtypes/python3/index.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

function input(over: Partial<Python3DockerfileInput> = {}): Python3DockerfileInput {
  return {
    jobName: 'adder',
    jobVersion: '1.0.0',
    commit: null,
    baseImage: 'python:3.11-slim',
    entrypointPath: 'adder.py',
    entrypointClass: null,
    requirementFiles: [],
    checkRequirements: true,
    wheelhouse: false,
    buildPackages: [],
    runtimePackages: [],
    ...over,
  };
}

/** Instruction lines (continuations joined) grouped by stage name. */
function stages(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  for (const line of logical) {
    const m = /^FROM \S+ AS (\S+)$/.exec(line);
    if (m) out.set(m[1]!, (current = []));
    current.push(line.replace(/\s+/g, ' ').trim());
  }
  return out;
}

describe('renderPython3Dockerfile: shape', () => {
  it('without requirements and without a code selection: a source stage that drops Pitlane\'s files, and a slim runtime stage', () => {
    const text = renderPython3Dockerfile(input());
    const s = stages(text);
    expect([...s.keys()]).toEqual(['source', 'runtime']);
    expect(s.get('source')).toEqual(['FROM python:3.11-slim AS source', 'COPY . /srv/job/', 'RUN rm -rf /srv/job/.pitlane /srv/job/.dockerignore']);
    const runtime = s.get('runtime')!;
    expect(runtime[0]).toBe('FROM python:3.11-slim AS runtime');
    expect(runtime).toContain('ARG DEBIAN_FRONTEND=noninteractive');
    expect(runtime).toContain('USER 10001:10001');
    expect(runtime).toContain('EXPOSE 7000');
    expect(runtime).toContain('STOPSIGNAL SIGTERM');
    expect(runtime).toContain('CMD ["python", "-m", "pitlane_wrapper", "adder.py"]');
    expect(runtime).toContain('LABEL pitlane.job="adder" pitlane.version="1.0.0" pitlane.jobtype="python3" pitlane.managed="true"');
    expect(runtime.at(-1)).toBe('COPY --from=source --chown=10001:10001 /srv/job/ /srv/job/');
    expect(text).not.toMatch(/^ENV DEBIAN_FRONTEND/m);
    expect(text).not.toContain('venv');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('with a code selection: no source stage and no RUN after the runtime\'s metadata; one COPY per directory, then the files, last', () => {
    const text = renderPython3Dockerfile(input({ code: { directories: ['lib', 'models'], files: ['adder.py', 'job.yaml'] } }));
    const s = stages(text);
    expect([...s.keys()]).toEqual(['runtime']);
    expect(text).not.toContain('rm -rf');
    expect(text).toContain('# Stages: runtime (slim, non-root).');
    const runtime = s.get('runtime')!;
    expect(runtime.slice(-3)).toEqual([
      'COPY --chown=10001:10001 lib/ /srv/job/lib/',
      'COPY --chown=10001:10001 models/ /srv/job/models/',
      'COPY --chown=10001:10001 adder.py job.yaml /srv/job/',
    ]);
    // Only COPY steps after the labels: a code-only change runs no container.
    const afterLabel = runtime.slice(runtime.findIndex((l) => l.startsWith('LABEL ')) + 1);
    expect(afterLabel.every((l) => l.startsWith('COPY --chown=10001:10001 '))).toBe(true);
    expect(renderPython3Dockerfile(input({ code: { directories: ['src'], files: [] } })).trimEnd().split('\n').at(-1)).toBe('COPY --chown=10001:10001 src/ /srv/job/src/');
  });

  it('the runtime stage starts with what no job changes (shared cached layers), the job\'s parts after STOPSIGNAL', () => {
    const runtime = stages(renderPython3Dockerfile(input({ requirementFiles: ['requirements.txt'], code: { directories: [], files: ['adder.py'] } }))).get('runtime')!;
    const stop = runtime.indexOf('STOPSIGNAL SIGTERM');
    expect(runtime.slice(0, stop + 1).map((l) => l.split(' ')[0])).toEqual(['FROM', 'ARG', 'RUN', 'ENV', 'COPY', 'WORKDIR', 'USER', 'EXPOSE', 'STOPSIGNAL']);
    expect(runtime.slice(0, stop + 1).join('\n')).not.toMatch(/adder/);
    expect(runtime.slice(stop + 1).map((l) => l.split(' ')[0])).toEqual(['COPY', 'CMD', 'LABEL', 'COPY']);
  });

  it('with requirements: the build stage installs from the requirements file alone, before any code is copied', () => {
    const text = renderPython3Dockerfile(input({ requirementFiles: ['requirements.txt', 'req/base.txt'] }));
    const build = stages(text).get('build')!;
    expect(build).toEqual([
      'FROM python:3.11-slim AS build',
      'ARG DEBIAN_FRONTEND=noninteractive',
      'RUN python -m venv --without-pip /opt/pitlane/venv',
      'COPY requirements.txt /opt/pitlane/requirements/requirements.txt',
      'COPY req/base.txt /opt/pitlane/requirements/req/base.txt',
      'RUN pip --python /opt/pitlane/venv/bin/python install --no-cache-dir -r /opt/pitlane/requirements/requirements.txt && pip --python /opt/pitlane/venv/bin/python check',
    ]);
    expect(build.some((l) => l.startsWith('COPY .'))).toBe(false);
    const runtime = stages(text).get('runtime')!;
    expect(runtime).toContain('COPY --from=build /opt/pitlane/venv/ /opt/pitlane/venv/');
    expect(runtime).toContain('ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/opt/pitlane/wrapper PATH=/opt/pitlane/venv/bin:$PATH');
    // The dependency layers come before the code in build order: nothing after the code COPY.
    expect(runtime.indexOf('COPY --from=build /opt/pitlane/venv/ /opt/pitlane/venv/')).toBeLessThan(runtime.length - 1);
  });

  it('with a wheelhouse: copies .pitlane/wheels and installs with --no-index --find-links', () => {
    const build = stages(renderPython3Dockerfile(input({ requirementFiles: ['requirements.txt'], wheelhouse: true, checkRequirements: false }))).get('build')!;
    expect(build).toContain('COPY .pitlane/wheels/ /opt/pitlane/wheels/');
    expect(build.at(-1)).toBe(
      'RUN pip --python /opt/pitlane/venv/bin/python install --no-cache-dir --no-index --find-links /opt/pitlane/wheels -r /opt/pitlane/requirements/requirements.txt',
    );
    expect(build.indexOf('COPY .pitlane/wheels/ /opt/pitlane/wheels/')).toBeLessThan(build.indexOf('COPY requirements.txt /opt/pitlane/requirements/requirements.txt'));
  });

  it('system dependencies: apt with --no-install-recommends and list clean-up in one RUN; build tools only in the build stage', () => {
    const text = renderPython3Dockerfile(
      input({ requirementFiles: ['requirements.txt'], buildPackages: ['build-essential', 'libpq-dev', 'libpq5'], runtimePackages: ['libpq5'] }),
    );
    const s = stages(text);
    expect(s.get('build')).toContain('RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev libpq5 && rm -rf /var/lib/apt/lists/*');
    expect(s.get('runtime')).toContain('RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*');
    expect(s.get('runtime')!.join('\n')).not.toMatch(/build-essential|libpq-dev/);
    // Unpinned packages carry a DL3008 pragma with the reason; pinned ones do not need it.
    expect(text).toContain('# hadolint ignore=DL3008\nRUN apt-get update');
    expect(renderPython3Dockerfile(input({ runtimePackages: ['curl=7.88.1-10+deb12u5'] }))).not.toContain('hadolint ignore');
  });

  it('labels carry the commit; CMD names the class when given', () => {
    const runtime = stages(renderPython3Dockerfile(input({ commit: SHA, entrypointClass: 'AdderModel', entrypointPath: 'src/models/adder.py' }))).get('runtime')!;
    expect(runtime).toContain(
      `LABEL pitlane.job="adder" pitlane.version="1.0.0" pitlane.jobtype="python3" pitlane.managed="true" pitlane.git-commit="${SHA}" org.opencontainers.image.revision="${SHA}"`,
    );
    expect(runtime).toContain('CMD ["python", "-m", "pitlane_wrapper", "src/models/adder.py", "AdderModel"]');
  });

  it('uses the given base image in every stage', () => {
    const text = renderPython3Dockerfile(input({ baseImage: 'registry.example.com:5000/python:3.12-slim', requirementFiles: ['r.txt'] }));
    expect(text.match(/^FROM .*/gm)).toEqual([
      'FROM registry.example.com:5000/python:3.12-slim AS build',
      'FROM registry.example.com:5000/python:3.12-slim AS source',
      'FROM registry.example.com:5000/python:3.12-slim AS runtime',
    ]);
  });
});

describe('selectCodeEntries', () => {
  const file = (name: string) => ({ name, kind: 'file' as const });
  const dir = (name: string) => ({ name, kind: 'directory' as const });

  it('sorts directories and files apart', () => {
    expect(selectCodeEntries([file('job.yaml'), dir('src'), file('.env.example'), dir('.config'), file('adder.py')], false)).toEqual({
      directories: ['.config', 'src'],
      files: ['.env.example', 'adder.py', 'job.yaml'],
    });
  });

  it('falls back to the whole directory (null) when a selection could differ from what COPY . sends', () => {
    expect(selectCodeEntries([file('adder.py')], true)).toBeNull(); // `!` exceptions in .dockerignore
    expect(selectCodeEntries([file('adder.py'), { name: 'link', kind: 'other' }], false)).toBeNull(); // symlink, socket...
    for (const odd of ['my file.py', 'a*b', 'q?.py', '[x].py', 'dollar$', "quote'", '-flag', 'back\\slash', 'é.py']) {
      expect(selectCodeEntries([file(odd)], false)).toBeNull();
    }
    const dirs = Array.from({ length: MAX_DIRECTORY_COPIES + 1 }, (_, i) => dir(`d${i}`));
    expect(selectCodeEntries(dirs, false)).toBeNull();
    expect(selectCodeEntries(dirs.slice(1), false)?.directories).toHaveLength(MAX_DIRECTORY_COPIES);
  });
});

describe('isBuildOnlyPackage', () => {
  it('spots compilers, build tools and -dev packages, pinned or not', () => {
    expect(['build-essential', 'gcc', 'g++', 'libpq-dev', 'python3-dev=3.11.2-1+b1', 'make', 'pkg-config'].every(isBuildOnlyPackage)).toBe(true);
    expect(['libpq5', 'curl', 'libxml2', 'ca-certificates', 'git', 'libdevil1c2'].some(isBuildOnlyPackage)).toBe(false);
  });
});

describe('renderPython3Dockerfile: zero lint findings for every option combination', () => {
  const requirementSets = [[], ['requirements.txt'], ['requirements.txt', 'requirements/base.txt', 'constraints.txt']];
  const dependencySets = [
    [],
    ['libpq5'],
    ['build-essential', 'libpq-dev'],
    ['libpq5', 'build-essential', 'python3-dev'],
    ['curl=7.88.1-10+deb12u5'],
    ['curl=7.88.1-10+deb12u5', 'libxml2', 'gcc=4:12.2.0-3'],
  ];
  const bases = ['python:3.11-slim', 'registry.example.com:5000/library/python:3.12-slim', 'python:3.11-slim@sha256:' + 'a'.repeat(64)];
  const codes: Array<CodeEntries | null> = [null, { directories: ['.config', 'src'], files: ['adder.py', 'job.yaml'] }];
  const cases: Python3DockerfileInput[] = [];
  for (const requirementFiles of requirementSets)
    for (const wheelhouse of [false, true])
      for (const deps of dependencySets)
        for (const commit of [null, SHA])
          for (const entrypointClass of [null, 'AdderModel'])
            for (const checkRequirements of [true, false])
              for (const baseImage of bases)
                for (const code of codes)
                for (const [entrypointPath, jobVersion] of [
                  ['adder.py', '1.0.0'],
                  ['src/pkg/job_v2.py', '2.0.0-beta.1+build.5'],
                ] as const) {
                  cases.push(
                    input({
                      requirementFiles,
                      wheelhouse,
                      buildPackages: requirementFiles.length > 0 ? deps : [],
                      runtimePackages: deps.filter((d) => !isBuildOnlyPackage(d)),
                      commit,
                      entrypointClass,
                      checkRequirements,
                      baseImage,
                      entrypointPath,
                      jobVersion,
                      code,
                    }),
                  );
                }

  it(`lints ${cases.length} generated Dockerfiles with zero findings (hasDockerignore: true)`, () => {
    expect(cases.length).toBe(3 * 2 * 6 * 2 * 2 * 2 * 3 * 2 * 2);
    const failures: string[] = [];
    for (const c of cases) {
      const text = renderPython3Dockerfile(c);
      const result = lintDockerfile(text, { hasDockerignore: true });
      expect(result.parsed).toBe(true);
      if (result.findings.length > 0) failures.push(`${JSON.stringify(c)}\n${result.findings.map((f) => `  ${f.code} line ${f.line}: ${f.message}`).join('\n')}`);
    }
    expect(failures.slice(0, 3).join('\n\n')).toBe('');
  });

  it('the only rule silenced by a pragma is DL3008, for unpinned Debian packages from system_dependencies', () => {
    const codes = new Set<string>();
    for (const c of cases.filter((x) => x.baseImage === bases[0] && x.entrypointPath === 'adder.py')) {
      const { findings } = lintDockerfile(renderPython3Dockerfile(c), { hasDockerignore: true, disableIgnorePragma: true });
      for (const f of findings) codes.add(f.code);
      const unpinned = [...c.buildPackages, ...c.runtimePackages].some((p) => !p.includes('='));
      expect(findings.length > 0).toBe(unpinned);
    }
    expect([...codes]).toEqual(['DL3008']);
  });
});
