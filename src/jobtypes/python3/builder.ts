/**
 * The python3 job type: checks the job's source against its `jobtype_extra`, then writes Pitlane's
 * files into the (private) build context under `.pitlane/`: the wrapper, the wheelhouse's wheels
 * when there is one, and the generated Dockerfile; plus a `.dockerignore` when the context has none.
 */
import { constants } from 'node:fs';
import { access, copyFile, cp, link, lstat, mkdir, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerignoreMatcher } from '../../build/context.js';
import { PitlaneError } from '../../errors.js';
import type { JobManifest } from '../../manifest/types.js';
import { generatedImageLabels } from '../labels.js';
import type { JobTypeBuilder, JobTypeSettings, PreparedBuild } from '../types.js';
import { isBuildOnlyPackage, PATHS, renderPython3Dockerfile, selectCodeEntries, WRAPPER_PORT, type CodeEntries } from './dockerfile.js';
import { contextRelativePath, parsePython3Options, type Python3Options } from './options.js';
import { scanRequirements, scanTopLevelClasses } from './source-scan.js';

/** Context-relative path of the generated Dockerfile. */
export const PYTHON3_DOCKERFILE = `${PATHS.generatedDir}/Dockerfile`;

/**
 * The `.dockerignore` written when the job has none: VCS data, virtualenvs and caches. Nothing that
 * could be the job's own code (no `build/`, `dist/` or `env/`).
 */
export const DEFAULT_DOCKERIGNORE = `# Written by Pitlane (python3 job type) because the job directory had no .dockerignore.
.git
.hg
.svn
**/__pycache__
**/*.py[cod]
.venv
venv
.tox
.nox
.pytest_cache
.mypy_cache
.ruff_cache
.coverage
htmlcov
*.egg-info
`;

/** Lines appended to a job's own `.dockerignore` when it would leave out Pitlane's `.pitlane/` directory. */
const REINCLUDE = `\n# Added by Pitlane: its generated files (wrapper, wheels, Dockerfile) must reach the build.\n!${PATHS.generatedDir}\n!${PATHS.generatedDir}/**\n`;

/** Base image of a python version when the configuration names none. */
export function defaultPythonImage(version: string): string {
  return `python:${version}-slim`;
}

/** The wrapper shipped with Pitlane (`wrappers/python3/` at the package root). */
export function defaultWrapperDir(): string {
  return fileURLToPath(new URL('../../../wrappers/python3/', import.meta.url));
}

/** Options of {@link createPython3Builder}. */
export interface Python3BuilderOptions {
  /** Directory holding `pitlane_wrapper/` (and `racetrack_job_wrapper/`); default {@link defaultWrapperDir}. */
  wrapperDir?: string;
}

/** Builds the python3 job type. */
export function createPython3Builder(builderOptions: Python3BuilderOptions = {}): JobTypeBuilder {
  return {
    name: 'python3',
    prepare: (manifest, contextDir, settings) => preparePython3(manifest, contextDir, settings, builderOptions.wrapperDir ?? defaultWrapperDir()),
  };
}

/** The python3 job type with the wrapper shipped with Pitlane. */
export const python3Builder: JobTypeBuilder = createPython3Builder();

function fail(code: string, field: string, message: string, line?: number): never {
  const detail = line === undefined ? { path: `jobtype_extra.${field}`, message } : { path: `jobtype_extra.${field}`, line, message };
  throw new PitlaneError(422, code, message, [detail]);
}

/** Resolves a context-relative file, which must exist, be a regular file and stay inside the context (symlinks included). */
async function contextFile(root: string, rel: string, field: string, what: string, code: string): Promise<string> {
  const abs = join(root, ...rel.split('/'));
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    fail(code, field, `${what} \`${rel}\` does not exist in the job directory`);
  }
  if (real !== root && !real.startsWith(root + sep)) fail(code, field, `${what} \`${rel}\` is a link that leads outside the job directory`);
  const s = await stat(real);
  if (!s.isFile()) fail(code, field, `${what} \`${rel}\` is not a regular file`);
  return real;
}

/** The requirements file and every file it includes (`-r`, `-c`), context-relative, the given file first. */
async function requirementFiles(root: string, first: string, excluded: (p: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string, from: { file: string; line: number } | null): Promise<void> => {
    if (out.includes(rel)) return;
    if (out.length >= 20) fail('REQUIREMENTS_INVALID', 'requirements_path', 'the requirements files include more than 20 other files');
    const where = from ? ` (included from ${from.file}, line ${from.line})` : '';
    const abs = await contextFile(root, rel, 'requirements_path', `requirements file${where}`, 'REQUIREMENTS_NOT_FOUND');
    if (excluded(rel)) fail('REQUIREMENTS_NOT_FOUND', 'requirements_path', `requirements file \`${rel}\`${where} is excluded by .dockerignore, so the build cannot see it`);
    out.push(rel);
    const scan = scanRequirements(await readFile(abs, 'utf8'));
    const local = scan.localPaths[0];
    if (local) {
      fail(
        'REQUIREMENTS_INVALID',
        'requirements_path',
        `${rel}, line ${local.line}: \`${local.text}\` installs from a local path, but dependencies are installed from the requirements file alone (so a code change keeps them cached); build a wheel of it into the wheelhouse, or vendor it as a package in the job directory`,
        local.line,
      );
    }
    for (const inc of scan.includes) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(inc.path)) {
        fail('REQUIREMENTS_INVALID', 'requirements_path', `${rel}, line ${inc.line}: including a requirements file from a URL (\`${inc.path}\`) is not supported`, inc.line);
      }
      const target = contextRelativePath(posix.join(posix.dirname(rel), inc.path));
      if ('error' in target) fail('REQUIREMENTS_INVALID', 'requirements_path', `${rel}, line ${inc.line}: included file \`${inc.path}\` ${target.error}`, inc.line);
      await visit(target.path, { file: rel, line: inc.line });
    }
  };
  await visit(first, null);
  return out;
}

/** Every `*.whl` below `dir` (recursively), sorted by file name. */
async function findWheels(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 6) return;
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith('.whl')) out.push(p);
    }
  };
  await walk(dir, 0);
  return out.sort((a, b) => a.split(sep).pop()!.localeCompare(b.split(sep).pop()!));
}

/** Hard-links a file (cheap, same file system), falling back to a copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The job's code as the top-level entries of the context that the build will see (what
 * `.dockerignore` keeps, without Pitlane's `.pitlane/` and `.dockerignore`), or null when the
 * Dockerfile must copy the whole directory and remove Pitlane's files instead (see
 * {@link selectCodeEntries}).
 */
async function codeEntries(root: string, dockerignore: string, ownIgnore: string | null): Promise<CodeEntries | null> {
  const ignored = dockerignoreMatcher(dockerignore);
  const exceptions = ownIgnore !== null && ownIgnore.split(/\r?\n/).some((line) => line.trim().startsWith('!'));
  const entries: Array<{ name: string; kind: 'file' | 'directory' | 'other' }> = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (e.name === PATHS.generatedDir || e.name === '.dockerignore' || ignored(e.name)) continue;
    entries.push({ name: e.name, kind: e.isDirectory() ? 'directory' : e.isFile() ? 'file' : 'other' });
  }
  return selectCodeEntries(entries, exceptions);
}

/**
 * Checks the source and writes `.pitlane/` into `contextDir`.
 * @throws PitlaneError 422 naming the `jobtype_extra` field: invalid settings, missing entrypoint
 *   or requirements file, several classes and no `entrypoint_class`, local-path requirements,
 *   files excluded by the job's `.dockerignore`.
 */
export async function preparePython3(manifest: JobManifest, contextDir: string, settings: JobTypeSettings, wrapperDir: string): Promise<PreparedBuild> {
  const { options, warnings } = parsePython3Options(manifest.jobtype_extra);
  const port = manifest.runtime_env?.['PORT'];
  if (port !== undefined && port !== String(WRAPPER_PORT)) {
    throw new PitlaneError(422, 'RUNTIME_ENV_INVALID', `runtime_env.PORT=${port} would move the python3 wrapper off port ${WRAPPER_PORT}, where Pitlane reaches it`, [
      { path: 'runtime_env.PORT', message: `the python3 wrapper listens on PORT; leave it unset (or ${WRAPPER_PORT})` },
    ]);
  }
  const root = await realpath(contextDir);

  // .dockerignore: the job's own, or ours.
  const dockerignorePath = join(root, '.dockerignore');
  const ownIgnore = (await exists(dockerignorePath)) ? await readFile(dockerignorePath, 'utf8') : null;
  const excluded = dockerignoreMatcher(ownIgnore ?? DEFAULT_DOCKERIGNORE);

  // The entrypoint file and its classes.
  const entry = await contextFile(root, options.entrypointPath, 'entrypoint_path', 'entrypoint file', 'ENTRYPOINT_NOT_FOUND');
  if (excluded(options.entrypointPath)) fail('ENTRYPOINT_NOT_FOUND', 'entrypoint_path', `entrypoint file \`${options.entrypointPath}\` is excluded by .dockerignore, so the image would not contain it`);
  const classes = scanTopLevelClasses(await readFile(entry, 'utf8'));
  if (options.entrypointClass === null) {
    if (classes.length === 0) {
      fail('ENTRYPOINT_CLASS_MISSING', 'entrypoint_path', `${options.entrypointPath} defines no class; define one class with a perform method, or name the class to serve in jobtype_extra.entrypoint_class`);
    }
    if (classes.length > 1) {
      const list = classes.map((c) => `${c.name} (line ${c.line})`).join(', ');
      fail('ENTRYPOINT_CLASS_AMBIGUOUS', 'entrypoint_class', `${options.entrypointPath} defines ${classes.length} classes: ${list}; say which one serves the job in jobtype_extra.entrypoint_class`);
    }
    warnings.push(`entrypoint_class auto-detected as ${classes[0]!.name}`);
  } else if (!classes.some((c) => c.name === options.entrypointClass)) {
    const defined = classes.length > 0 ? ` (it defines ${classes.map((c) => c.name).join(', ')})` : '';
    warnings.push(`entrypoint_class ${options.entrypointClass} is not defined at the top level of ${options.entrypointPath}${defined}; the job fails to start unless the module imports it`);
  }

  // Requirements and the files they include.
  const reqFiles = options.requirementsPath ? await requirementFiles(root, options.requirementsPath, excluded) : [];

  // System dependencies: build tools and headers in the build stage only.
  const buildOnly = options.systemDependencies.filter(isBuildOnlyPackage);
  const runtimePackages = options.systemDependencies.filter((p) => !isBuildOnlyPackage(p));
  if (buildOnly.length > 0) {
    warnings.push(
      reqFiles.length > 0
        ? `system_dependencies ${buildOnly.join(', ')} are build tools or headers: installed in the build stage only, not in the runtime image (list the runtime libraries too, e.g. libpq5 for libpq-dev)`
        : `system_dependencies ${buildOnly.join(', ')} are build tools or headers and there is no requirements_path to build: they are not installed`,
    );
  }

  // The base image.
  const configured =
    options.baseImage === 'native'
      ? (settings.baseImages['python3-native']?.[options.pythonVersion] ?? `pitlane/python-runtime:${options.pythonVersion}`)
      : settings.baseImages['python3']?.[options.pythonVersion];
  const baseImage = configured ?? defaultPythonImage(options.pythonVersion);
  if (!configured && options.pythonVersion !== '3.11') {
    warnings.push(`python_version ${options.pythonVersion} has no configured base image; using ${baseImage}, which the engine must have or be able to pull`);
  }

  // Pitlane's files.
  const gen = join(root, PATHS.generatedDir);
  if (await exists(gen)) {
    const s = await lstat(gen);
    if (!s.isSymbolicLink() && s.isDirectory() && (await readdir(gen)).length > 0) {
      warnings.push(`the job directory had a ${PATHS.generatedDir}/ directory; Pitlane replaced it with its generated files`);
    }
    await rm(gen, { recursive: true, force: true });
  }
  await mkdir(join(gen, 'wrapper'), { recursive: true });
  for (const pkg of ['pitlane_wrapper', 'racetrack_job_wrapper']) {
    await cp(join(wrapperDir, pkg), join(gen, 'wrapper', pkg), {
      recursive: true,
      filter: (src) => !src.includes(`${sep}__pycache__`) && !src.endsWith('.pyc'),
    });
  }

  let wheelhouse = false;
  if (reqFiles.length > 0 && settings.wheelhouseDir) {
    const wheels = await findWheels(settings.wheelhouseDir);
    if (wheels.length > 0) {
      await mkdir(join(gen, 'wheels'), { recursive: true });
      const seen = new Set<string>();
      for (const w of wheels) {
        const name = w.split(sep).pop()!;
        if (seen.has(name)) continue;
        seen.add(name);
        await linkOrCopy(w, join(gen, 'wheels', name));
      }
      wheelhouse = true;
    } else {
      warnings.push(`the wheelhouse ${settings.wheelhouseDir} has no wheels; requirements are installed from the package index`);
    }
  }

  // .dockerignore: ours when the job has none; the job's own with Pitlane's files re-included.
  let finalIgnore = ownIgnore ?? DEFAULT_DOCKERIGNORE;
  if (ownIgnore === null) await writeFile(dockerignorePath, DEFAULT_DOCKERIGNORE);
  else if (dockerignoreMatcher(ownIgnore)(`${PATHS.generatedDir}/wrapper/pitlane_wrapper/server.py`) || dockerignoreMatcher(ownIgnore)(`${PATHS.generatedDir}/wheels/x.whl`)) {
    finalIgnore = ownIgnore + (ownIgnore.endsWith('\n') ? '' : '\n') + REINCLUDE;
    await writeFile(dockerignorePath, finalIgnore);
  }

  const dockerfile = renderPython3Dockerfile({
    jobName: manifest.name,
    jobVersion: manifest.version,
    commit: settings.commit,
    baseImage,
    entrypointPath: options.entrypointPath,
    entrypointClass: options.entrypointClass,
    requirementFiles: reqFiles,
    checkRequirements: options.checkRequirements,
    wheelhouse,
    buildPackages: reqFiles.length > 0 ? options.systemDependencies : [],
    runtimePackages,
    code: await codeEntries(root, finalIgnore, ownIgnore),
  });
  await writeFile(join(root, PYTHON3_DOCKERFILE), dockerfile);

  return {
    dockerfilePath: PYTHON3_DOCKERFILE,
    port: WRAPPER_PORT,
    readinessPath: '/ready',
    warnings,
    imageLabels: generatedImageLabels('python3', manifest.name, manifest.version, settings.commit),
  };
}

/** The options a manifest's `jobtype_extra` gives (throws like {@link preparePython3}). */
export function python3Options(manifest: Pick<JobManifest, 'jobtype_extra'>): Python3Options {
  return parsePython3Options(manifest.jobtype_extra).options;
}
