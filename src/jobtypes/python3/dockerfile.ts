/**
 * The generated Dockerfile of a python3 job (pure: text in, text out).
 *
 * Shape (the practices of seed 001; every variant lints with zero findings):
 *
 * - `build` stage (only when there is a requirements file): the system dependencies (build tools
 *   and headers included), a virtualenv without pip, then the wheelhouse and the requirements file
 *   ALONE (and the files it includes) copied and installed into it by the base image's pip with
 *   `--no-cache-dir`, from the wheelhouse with `--no-index --find-links` when there is one. A
 *   code-only change never reaches this stage, so its layers come from the cache. The wheels reach
 *   this stage only: the runtime stage never copies `.pitlane/wheels/`.
 * - runtime stage: the same slim base, a numeric non-root user, only the runtime system
 *   dependencies (no compilers), the wrapper, `STOPSIGNAL SIGTERM`, `EXPOSE 7000` (all of which
 *   depend on nothing of the job, so every job on the same base shares these cached layers), the
 *   virtualenv, `CMD` in JSON form, labels with job, version and commit; the code last.
 * - The code: the job directory's top-level entries that `.dockerignore` keeps, minus Pitlane's
 *   `.pitlane/` and `.dockerignore`, copied straight into the runtime stage (one `COPY` per
 *   top-level directory, then one for the top-level files), so a code-only change re-runs these
 *   COPY steps and nothing else, and no step has to delete the generated files again. When that
 *   selection cannot be written safely (a `!` exception in the job's `.dockerignore`, a symlink or
 *   an unusual name at the top level, more than {@link MAX_DIRECTORY_COPIES} directories), a
 *   `source` stage copies the whole directory and removes `.pitlane/` and `.dockerignore` instead.
 *
 * `ARG DEBIAN_FRONTEND=noninteractive` (never ENV), `--no-install-recommends` and apt list
 * clean-up in the same RUN. The legacy builder is enough (no BuildKit syntax), so the file builds
 * on any engine.
 */

import { generatedImageLabels, labelInstruction } from '../labels.js';

/** Everything the generator needs. */
export interface Python3DockerfileInput {
  /** Job name and version (labels, header comment). */
  jobName: string;
  jobVersion: string;
  /** Source commit for labels, or null. */
  commit: string | null;
  /** Base image for every stage, e.g. `python:3.11-slim`. */
  baseImage: string;
  /** Entrypoint path relative to the context root (POSIX). */
  entrypointPath: string;
  /** Class to serve, or null (the wrapper picks the only class). */
  entrypointClass: string | null;
  /** Requirement files to copy, relative to the context root; the first is the one installed. Empty: no build stage. */
  requirementFiles: string[];
  /** `pip check` after installing. */
  checkRequirements: boolean;
  /** True when `.pitlane/wheels/` holds the wheelhouse: install with `--no-index --find-links`. */
  wheelhouse: boolean;
  /** Packages installed in the build stage (all system dependencies). */
  buildPackages: string[];
  /** Packages installed in the runtime stage (system dependencies that are not build tools). */
  runtimePackages: string[];
  /**
   * The job's code as top-level entries of the context (see {@link selectCodeEntries}), or null (or
   * absent) to copy the whole directory through a `source` stage that removes Pitlane's files.
   */
  code?: CodeEntries | null;
}

/** The top-level entries of the job directory that the runtime stage copies, names only. */
export interface CodeEntries {
  /** Directories, each copied by its own `COPY dir/ /srv/job/dir/` (sorted). */
  directories: string[];
  /** Files, copied together by one `COPY` (sorted). */
  files: string[];
}

/**
 * More top-level directories than this and the code goes through a `source` stage instead (one
 * COPY per directory costs one build step each on a code change; the source stage costs two).
 */
export const MAX_DIRECTORY_COPIES = 4;

/** A top-level name that can go into a COPY instruction as it is (no wildcard, quote, space or `$`). */
export const PLAIN_NAME = /^\.?[A-Za-z0-9_+@,=~][A-Za-z0-9._+@,=~-]*$/;

/**
 * Chooses how the code is copied, from the top-level entries of the context that `.dockerignore`
 * keeps (Pitlane's `.pitlane/` and `.dockerignore` already left out). Pure.
 * @param entries name and kind of each kept top-level entry.
 * @param exceptions the job's `.dockerignore` has `!` exception patterns (files below an ignored
 *   directory may still be sent, which a per-entry selection would miss).
 * @returns the selection, or null for the whole-directory `source` stage.
 */
export function selectCodeEntries(entries: Array<{ name: string; kind: 'file' | 'directory' | 'other' }>, exceptions: boolean): CodeEntries | null {
  if (exceptions) return null;
  const directories: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    if (e.kind === 'other' || !PLAIN_NAME.test(e.name) || e.name === '.' || e.name === '..') return null;
    (e.kind === 'directory' ? directories : files).push(e.name);
  }
  if (directories.length > MAX_DIRECTORY_COPIES) return null;
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return { directories: directories.sort(byName), files: files.sort(byName) };
}

/** Where things live in the image. */
export const PATHS = {
  venv: '/opt/pitlane/venv',
  wrapper: '/opt/pitlane/wrapper',
  wheels: '/opt/pitlane/wheels',
  requirements: '/opt/pitlane/requirements',
  job: '/srv/job',
  /** Context-relative directory of Pitlane's generated files. */
  generatedDir: '.pitlane',
} as const;

/** The numeric user and group the job runs as. */
export const JOB_UID = 10001;
/** The wrapper's port. */
export const WRAPPER_PORT = 7000;

/**
 * Compilers, build tools and development headers: installed in the build stage only. The same
 * family the linter's PL1012 reports in a final stage.
 */
const BUILD_TOOL =
  /^(gcc(-\d+)?|g\+\+(-\d+)?|gcc-c\+\+|cc|c\+\+|clang(-\d+)?|llvm(-\d+)?|make|cmake|build-essential|build-base|autoconf|automake|libtool|pkg-config|pkgconf|golang(-go)?|go|rustc|cargo|gfortran|nasm|yasm|ninja-build|ninja|meson|bison|flex|maven|gradle|openjdk-\d+-jdk(-headless)?|default-jdk|musl-dev|linux-headers|.+-dev|.+-devel)$/;

/** True when a Debian package (`name` or `name=version`) is a build tool or a `-dev` package. */
export function isBuildOnlyPackage(pkg: string): boolean {
  return BUILD_TOOL.test(pkg.replace(/=.*$/, ''));
}

/** `RUN apt-get ...` for a package list, with an ignore pragma for DL3008 when some are unpinned. */
function aptRun(packages: string[]): string[] {
  const lines: string[] = [];
  const unpinned = packages.filter((p) => !p.includes('='));
  if (unpinned.length > 0) {
    lines.push('# Debian packages from jobtype_extra.system_dependencies; unpinned ones follow the base image\'s release.');
    lines.push('# hadolint ignore=DL3008');
  }
  lines.push('RUN apt-get update \\');
  lines.push(` && apt-get install -y --no-install-recommends ${packages.join(' ')} \\`);
  lines.push(' && rm -rf /var/lib/apt/lists/*');
  return lines;
}

/** The Dockerfile text (ends with a newline). */
export function renderPython3Dockerfile(input: Python3DockerfileInput): string {
  const out: string[] = [];
  const push = (...lines: string[]): void => {
    out.push(...lines);
  };
  const hasBuild = input.requirementFiles.length > 0;

  push(
    `# Generated by Pitlane (python3 job type) for ${input.jobName} ${input.jobVersion}; regenerated on every deploy.`,
    `# Stages: ${hasBuild ? 'build (dependencies only) -> ' : ''}${(input.code ?? null) === null ? 'source (the job directory) -> ' : ''}runtime (slim, non-root).`,
  );

  if (hasBuild) {
    push('', `FROM ${input.baseImage} AS build`, 'ARG DEBIAN_FRONTEND=noninteractive');
    if (input.buildPackages.length > 0) push(...aptRun(input.buildPackages));
    push('# A virtualenv without pip: the base image\'s pip installs into it (`pip --python`), so the runtime gets only the packages.');
    push(`RUN python -m venv --without-pip ${PATHS.venv}`);
    if (input.wheelhouse) push(`COPY ${PATHS.generatedDir}/wheels/ ${PATHS.wheels}/`);
    push('# The requirements file alone: a code-only change keeps the cached install below.');
    for (const file of input.requirementFiles) push(`COPY ${file} ${PATHS.requirements}/${file}`);
    const index = input.wheelhouse ? ` --no-index --find-links ${PATHS.wheels}` : '';
    const pip = `pip --python ${PATHS.venv}/bin/python`;
    const install = `${pip} install --no-cache-dir${index} -r ${PATHS.requirements}/${input.requirementFiles[0]}`;
    push(input.checkRequirements ? `RUN ${install} \\\n && ${pip} check` : `RUN ${install}`);
  }

  const code = input.code ?? null;
  if (code === null) {
    push(
      '',
      '# The whole job directory, then Pitlane\'s generated files (wrapper, wheels, Dockerfile) out again.',
      `FROM ${input.baseImage} AS source`,
      `COPY . ${PATHS.job}/`,
      `RUN rm -rf ${PATHS.job}/${PATHS.generatedDir} ${PATHS.job}/.dockerignore`,
    );
  }

  push(
    '',
    `FROM ${input.baseImage} AS runtime`,
    'ARG DEBIAN_FRONTEND=noninteractive',
    `RUN groupadd --gid ${JOB_UID} job \\`,
    ` && useradd --no-log-init -l --uid ${JOB_UID} --gid job --home-dir /home/job --create-home --shell /usr/sbin/nologin job \\`,
    ` && install -d -o ${JOB_UID} -g ${JOB_UID} ${PATHS.job}`,
  );
  if (input.runtimePackages.length > 0) push(...aptRun(input.runtimePackages));
  const env = [`PYTHONUNBUFFERED=1`, `PYTHONDONTWRITEBYTECODE=1`, `PYTHONPATH=${PATHS.wrapper}`];
  if (hasBuild) env.push(`PATH=${PATHS.venv}/bin:$PATH`);
  push(`ENV ${env.join(' ')}`);
  push('# Nothing of the job up to STOPSIGNAL: these layers are shared by every job on this base.');
  push(`COPY ${PATHS.generatedDir}/wrapper/ ${PATHS.wrapper}/`);
  push(`WORKDIR ${PATHS.job}`);
  push(`USER ${JOB_UID}:${JOB_UID}`);
  push(`EXPOSE ${WRAPPER_PORT}`);
  push('STOPSIGNAL SIGTERM');
  if (hasBuild) push(`COPY --from=build ${PATHS.venv}/ ${PATHS.venv}/`);
  const cmd = ['python', '-m', 'pitlane_wrapper', input.entrypointPath];
  if (input.entrypointClass) cmd.push(input.entrypointClass);
  push(`CMD ${JSON.stringify(cmd).replace(/","/g, '", "')}`);
  push(labelInstruction(generatedImageLabels('python3', input.jobName, input.jobVersion, input.commit)));
  const chown = `--chown=${JOB_UID}:${JOB_UID}`;
  if (code === null) {
    push('# The code last: a code-only change rebuilds this layer and nothing else.');
    push(`COPY --from=source ${chown} ${PATHS.job}/ ${PATHS.job}/`);
  } else {
    push('# The code last (the job directory without .pitlane/ and .dockerignore): a code-only change re-runs only these COPY steps.');
    for (const dir of code.directories) push(`COPY ${chown} ${dir}/ ${PATHS.job}/${dir}/`);
    if (code.files.length > 0) push(`COPY ${chown} ${code.files.join(' ')} ${PATHS.job}/`);
  }
  return `${out.join('\n')}\n`;
}
