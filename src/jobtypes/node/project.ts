/**
 * What a node job's directory holds that shapes its build: `package.json` and its lockfile,
 * `.npmrc`, `tsconfig.json`, the TypeScript version it asks for. The parsing is pure
 * ({@link analyseNodeProject} takes file texts); {@link readNodeProject} reads them from disk.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import type { ErrorDetail } from '../../errors.js';
import { PitlaneError } from '../../errors.js';

/** The TypeScript Pitlane installs in the build stage when the job's package.json does not list one. */
export const PINNED_TYPESCRIPT = '5.9.3';

/** The npm lockfiles, in the order npm prefers them. */
export const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json'] as const;

/** Facts about the job directory. */
export interface NodeProject {
  /** A `package.json` exists. */
  packageJson: boolean;
  /** The lockfiles present (`npm-shrinkwrap.json`, `package-lock.json`); empty without package.json. */
  lockfiles: string[];
  /** A project `.npmrc` exists (registry, scopes): copied next to package.json for the installs, never into the image. */
  npmrc: boolean;
  /** `"type": "module"` in package.json. */
  esm: boolean;
  /** TypeScript listed in `dependencies` or `devDependencies`, with the version the lockfile (or else the range) gives. */
  typescript: { listed: boolean; version: string | null };
  /** The job's `tsconfig.json`, when there is one. */
  tsconfig: { present: boolean; extendsPackage: boolean };
  /** Files of other package managers that Pitlane does not use (`yarn.lock`, `pnpm-lock.yaml`). */
  foreignLockfiles: string[];
}

/** Texts of the files {@link analyseNodeProject} looks at, by context-relative name (absent: undefined). */
export type ProjectFiles = Partial<Record<'package.json' | 'package-lock.json' | 'npm-shrinkwrap.json' | '.npmrc' | 'tsconfig.json' | 'yarn.lock' | 'pnpm-lock.yaml', string>>;

/** Reads the files {@link analyseNodeProject} needs from the job directory. */
export async function readProjectFiles(dir: string): Promise<ProjectFiles> {
  const names = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc', 'tsconfig.json', 'yarn.lock', 'pnpm-lock.yaml'] as const;
  const files: ProjectFiles = {};
  await Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
      if (text !== undefined) files[name] = text;
    }),
  );
  return files;
}

/** Reads and analyses the job directory. @throws PitlaneError 422 as {@link analyseNodeProject}. */
export async function readNodeProject(dir: string): Promise<{ project: NodeProject; warnings: string[] }> {
  return analyseNodeProject(await readProjectFiles(dir));
}

function jsonError(file: string, text: string, error: unknown): PitlaneError {
  const message = (error as Error).message;
  const detail: ErrorDetail = { path: file, message: `is not valid JSON: ${message}` };
  const position = /position (\d+)/.exec(message);
  if (position) {
    const before = text.slice(0, Number(position[1]));
    detail.line = before.split('\n').length;
    detail.column = before.length - before.lastIndexOf('\n');
  }
  return new PitlaneError(422, 'PACKAGE_JSON_INVALID', `${file} is not valid JSON: ${message}`, [detail]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Dependency specs that point at the job's own files or folders, which the dependency stage does not have. */
const LOCAL_SPEC = /^(file:|link:|portal:|\.{1,2}\/|\/|~\/)/;

/**
 * Removes comments and trailing commas from JSONC (tsconfig.json's format), keeping strings intact.
 * Pure: exported for tests.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else {
      out += c;
      i += 1;
    }
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

/** The TypeScript version a lockfile pins (lockfileVersion 1, 2 or 3), or null. */
function lockedTypescript(lockText: string | undefined): string | null {
  if (lockText === undefined) return null;
  try {
    const lock = JSON.parse(lockText) as Record<string, unknown>;
    const packages = isRecord(lock.packages) ? lock.packages : {};
    const entry = packages['node_modules/typescript'];
    if (isRecord(entry) && typeof entry.version === 'string') return entry.version;
    const deps = isRecord(lock.dependencies) ? lock.dependencies : {};
    const old = deps.typescript;
    if (isRecord(old) && typeof old.version === 'string') return old.version;
  } catch {
    // A broken lockfile is npm ci's to report, with its own message.
  }
  return null;
}

/**
 * Analyses the job directory's files.
 * @returns the facts plus warnings (no lockfile, other package managers' lockfiles).
 * @throws PitlaneError 422 `PACKAGE_JSON_INVALID` when package.json is not a JSON object, uses npm
 *   workspaces, or depends on local paths the dependency stage cannot see.
 */
export function analyseNodeProject(files: ProjectFiles): { project: NodeProject; warnings: string[] } {
  const warnings: string[] = [];
  const foreignLockfiles = (['yarn.lock', 'pnpm-lock.yaml'] as const).filter((f) => files[f] !== undefined);
  const tsconfig = { present: files['tsconfig.json'] !== undefined, extendsPackage: false };
  if (files['tsconfig.json'] !== undefined) {
    try {
      const parsed = JSON.parse(stripJsonComments(files['tsconfig.json'])) as unknown;
      const ext = isRecord(parsed) ? parsed.extends : undefined;
      const list = Array.isArray(ext) ? ext : ext === undefined ? [] : [ext];
      tsconfig.extendsPackage = list.some((e) => typeof e === 'string' && !e.startsWith('.') && !e.startsWith('/'));
    } catch {
      // tsc reports a broken tsconfig.json with line and column in the build log.
    }
  }

  const text = files['package.json'];
  if (text === undefined) {
    if (files['package-lock.json'] !== undefined || files['npm-shrinkwrap.json'] !== undefined) {
      warnings.push('a lockfile without package.json: no dependencies are installed');
    }
    return {
      project: { packageJson: false, lockfiles: [], npmrc: files['.npmrc'] !== undefined, esm: false, typescript: { listed: false, version: null }, tsconfig, foreignLockfiles },
      warnings,
    };
  }

  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch (error) {
    throw jsonError('package.json', text, error);
  }
  if (!isRecord(pkg)) throw new PitlaneError(422, 'PACKAGE_JSON_INVALID', 'package.json must be a JSON object', [{ path: 'package.json', message: 'must be a JSON object' }]);

  const problems: ErrorDetail[] = [];
  if (pkg.workspaces !== undefined) {
    problems.push({ path: 'package.json workspaces', message: 'npm workspaces are not supported by the node job type: deploy the workspace package\'s own directory (git.directory) with its own lockfile' });
  }
  const sections = ['dependencies', 'devDependencies', 'optionalDependencies'] as const;
  for (const section of sections) {
    const deps = pkg[section];
    if (deps === undefined) continue;
    if (!isRecord(deps)) {
      problems.push({ path: `package.json ${section}`, message: 'must be an object of package names to versions' });
      continue;
    }
    for (const [name, spec] of Object.entries(deps)) {
      if (typeof spec === 'string' && LOCAL_SPEC.test(spec.trim())) {
        problems.push({ path: `package.json ${section}.${name}`, message: `"${spec}" points at a local path, which the dependency install (package.json and the lockfile alone) cannot see; publish it or vendor it as code` });
      }
    }
  }
  if (problems.length > 0) {
    throw new PitlaneError(422, 'PACKAGE_JSON_INVALID', `package.json cannot be installed by the node job type: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  }

  const lockfiles = LOCKFILES.filter((f) => files[f] !== undefined);
  if (lockfiles.length === 0) {
    warnings.push(
      'package.json has no package-lock.json: dependencies are resolved at build time with `npm install --omit=dev` (not reproducible, slower); run `npm install --package-lock-only` and commit the lockfile to get `npm ci`',
    );
  }
  if (foreignLockfiles.length > 0) {
    warnings.push(`${foreignLockfiles.join(' and ')} ignored: the node job type installs with npm${lockfiles.length > 0 ? ` from ${lockfiles[0]}` : ''}`);
  }

  const depRecord = (section: 'dependencies' | 'devDependencies'): Record<string, unknown> => (isRecord(pkg[section]) ? (pkg[section] as Record<string, unknown>) : {});
  const range = depRecord('dependencies').typescript ?? depRecord('devDependencies').typescript;
  let typescript: NodeProject['typescript'] = { listed: false, version: null };
  if (range !== undefined) {
    let version = lockedTypescript(files[lockfiles[0] ?? 'package-lock.json']);
    if (version === null && typeof range === 'string') {
      try {
        version = semver.minVersion(range, { loose: true })?.version ?? null;
      } catch {
        version = null; // "latest", a tag or a URL: assume a current TypeScript
      }
    }
    typescript = { listed: true, version };
  }

  return {
    project: { packageJson: true, lockfiles, npmrc: files['.npmrc'] !== undefined, esm: pkg.type === 'module', typescript, tsconfig, foreignLockfiles },
    warnings,
  };
}
