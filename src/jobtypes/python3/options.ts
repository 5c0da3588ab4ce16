/**
 * Validation of the python3 job type's `jobtype_extra` (pure: no file access).
 *
 * Keys (Racetrack's python3 keys, racetrack.md 2.5, plus Pitlane's `system_dependencies`):
 * `entrypoint_path` (required), `entrypoint_class`, `requirements_path`, `python_version`
 * (default `3.11`), `system_dependencies` (Debian package names), `check_requirements` (default true).
 */
import { posix } from 'node:path';
import type { ErrorDetail } from '../../errors.js';
import { PitlaneError } from '../../errors.js';

/** The python3 job type's settings after validation and defaulting. */
export interface Python3Options {
  /** Context-relative POSIX path of the entrypoint file, normalised (`src/adder.py`). */
  entrypointPath: string;
  /** Class to serve, or null to let the wrapper use the only class the file defines. */
  entrypointClass: string | null;
  /** Context-relative POSIX path of the pip requirements file, or null. */
  requirementsPath: string | null;
  /** `major.minor`, e.g. `3.11`. */
  pythonVersion: string;
  /** Debian packages (`name` or `name=version`), in the order given, without duplicates. */
  systemDependencies: string[];
  /** Run `pip check` after installing the requirements (Racetrack's `check_requirements`, default true). */
  checkRequirements: boolean;
  /**
   * `slim` (default): `python:<version>-slim`; `native`: Pitlane's runtime image with the native
   * libraries popular packages need (seed 004: libpq, libxml2/libxslt, libjpeg, zlib, cairo, pango),
   * `pitlane/python-runtime:<version>`, made by scripts/setup/base-images.sh.
   */
  baseImage: 'slim' | 'native';
}

/** The python version used when `python_version` is not given (Racetrack's default too). */
export const DEFAULT_PYTHON_VERSION = '3.11';

/** Keys this job type reads. */
const KNOWN = new Set(['entrypoint_path', 'entrypoint_class', 'requirements_path', 'python_version', 'system_dependencies', 'check_requirements', 'user_module_port', 'base_image']);
/** Racetrack python3 keys Pitlane accepts but does not act on. */
const IGNORED_RACETRACK = new Set(['debian_version', 'debian_backports', 'memray_profiler', 'home_page', 'max_concurrency', 'max_concurrency_queue']);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Debian package name (policy 5.6.1), optionally `=version` (policy 5.6.12). */
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;

/**
 * Normalises a context-relative path: POSIX separators, no `.` segments, no leading `./`.
 * Returns an error message instead when the path is absolute or leaves the context.
 */
export function contextRelativePath(value: string): { path: string } | { error: string } {
  if (value.includes('\0')) return { error: 'must not contain NUL characters' };
  const slashed = value.replace(/\\/g, '/').trim();
  if (slashed === '') return { error: 'must not be empty' };
  if (slashed.startsWith('/') || /^[A-Za-z]:\//.test(slashed)) return { error: 'must be a path relative to the job directory, not an absolute path' };
  const normal = posix.normalize(slashed);
  if (normal === '..' || normal.startsWith('../')) return { error: 'must stay inside the job directory (no `..` escaping it)' };
  if (normal === '.' || normal.endsWith('/')) return { error: 'must name a file, not a directory' };
  if (normal === '.pitlane' || normal.startsWith('.pitlane/')) return { error: 'must not be under `.pitlane/` (Pitlane writes its generated files there)' };
  const odd = /[^A-Za-z0-9._/+@,=-]/.exec(normal);
  if (odd) return { error: `contains ${JSON.stringify(odd[0])}: use letters, digits and . _ - + @ , = / in file paths (the path goes into the generated Dockerfile)` };
  return { path: normal };
}

/**
 * Validates `jobtype_extra` for the python3 job type.
 * @returns the options plus warnings (ignored keys, unusual values).
 * @throws PitlaneError 422 `JOBTYPE_EXTRA_INVALID` listing every problem, each naming its field
 *   (`jobtype_extra.entrypoint_path`, ...).
 */
export function parsePython3Options(extra: Record<string, unknown>): { options: Python3Options; warnings: string[] } {
  const problems: ErrorDetail[] = [];
  const warnings: string[] = [];
  const bad = (key: string, message: string): void => {
    problems.push({ path: `jobtype_extra.${key}`, message });
  };

  // entrypoint_path
  let entrypointPath = '';
  const ep = extra.entrypoint_path;
  if (ep === undefined || ep === null || ep === '') bad('entrypoint_path', 'is required: the Python file that defines the class with the perform method, e.g. `adder.py`');
  else if (typeof ep !== 'string') bad('entrypoint_path', `must be a string, not ${describe(ep)}`);
  else {
    const r = contextRelativePath(ep);
    if ('error' in r) bad('entrypoint_path', r.error);
    else if (!r.path.endsWith('.py')) bad('entrypoint_path', `must be a Python file ending in \`.py\`, not \`${r.path}\``);
    else entrypointPath = r.path;
  }

  // entrypoint_class
  let entrypointClass: string | null = null;
  const ec = extra.entrypoint_class;
  if (ec !== undefined && ec !== null && ec !== '') {
    if (typeof ec !== 'string') bad('entrypoint_class', `must be a string, not ${describe(ec)}`);
    else if (!IDENTIFIER.test(ec.trim())) bad('entrypoint_class', `must be a Python class name (letters, digits and _, not starting with a digit), not \`${ec}\``);
    else entrypointClass = ec.trim();
  }

  // requirements_path
  let requirementsPath: string | null = null;
  const rp = extra.requirements_path;
  if (rp !== undefined && rp !== null && rp !== '') {
    if (typeof rp !== 'string') bad('requirements_path', `must be a string, not ${describe(rp)}`);
    else {
      const r = contextRelativePath(rp);
      if ('error' in r) bad('requirements_path', r.error);
      else requirementsPath = r.path;
    }
  }

  // python_version
  let pythonVersion = DEFAULT_PYTHON_VERSION;
  const pv = extra.python_version;
  if (pv !== undefined && pv !== null && pv !== '') {
    let text: string | undefined;
    if (typeof pv === 'string') text = pv.trim();
    else if (typeof pv === 'number' && Number.isFinite(pv)) {
      text = String(pv);
      // YAML reads `3.10` as the number 3.1: refuse the guess.
      if (text === '3.1') {
        bad('python_version', `was read as the number ${text}; quote it (\`python_version: '${text}0'\`) so YAML keeps it a string`);
        text = undefined;
      }
    } else bad('python_version', `must be a string such as '3.11', not ${describe(pv)}`);
    if (text !== undefined) {
      const m = /^3\.(\d{1,2})$/.exec(text);
      if (!m) bad('python_version', `must be a Python 3 version as major.minor, such as '3.11', not \`${text}\``);
      else if (Number(m[1]) < 8) bad('python_version', `${text} is too old: the wrapper needs Python 3.8 or newer`);
      else pythonVersion = text;
    }
  }

  // system_dependencies
  const systemDependencies: string[] = [];
  const sd = extra.system_dependencies;
  if (sd !== undefined && sd !== null) {
    if (!Array.isArray(sd)) bad('system_dependencies', `must be a list of Debian package names, not ${describe(sd)}`);
    else {
      sd.forEach((item, i) => {
        if (typeof item !== 'string') bad(`system_dependencies[${i}]`, `must be a Debian package name (a string), not ${describe(item)}`);
        else if (!DEBIAN_PACKAGE.test(item.trim())) {
          bad(`system_dependencies[${i}]`, `\`${item}\` is not a Debian package name (lower-case letters, digits, + - .; optionally =version)`);
        } else if (!systemDependencies.includes(item.trim())) systemDependencies.push(item.trim());
      });
    }
  }

  // check_requirements
  let checkRequirements = true;
  const cr = extra.check_requirements;
  if (cr !== undefined && cr !== null) {
    if (typeof cr !== 'boolean') bad('check_requirements', `must be true or false, not ${describe(cr)}`);
    else checkRequirements = cr;
  }

  let baseImage: Python3Options['baseImage'] = 'slim';
  const bi = extra.base_image;
  if (bi !== undefined && bi !== null) {
    if (bi !== 'slim' && bi !== 'native') bad('base_image', `must be "slim" or "native", not ${describe(bi)}`);
    else baseImage = bi;
  }

  for (const key of Object.keys(extra)) {
    if (KNOWN.has(key)) continue;
    if (IGNORED_RACETRACK.has(key)) warnings.push(`jobtype_extra.${key} is a Racetrack python3 setting Pitlane does not support; it is ignored`);
    else warnings.push(`jobtype_extra.${key} is not a python3 setting; it is ignored`);
  }

  if (problems.length > 0) {
    throw new PitlaneError(422, 'JOBTYPE_EXTRA_INVALID', `jobtype_extra is not valid for the python3 job type: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  }
  return { options: { entrypointPath, entrypointClass, requirementsPath, pythonVersion, systemDependencies, checkRequirements, baseImage }, warnings };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
