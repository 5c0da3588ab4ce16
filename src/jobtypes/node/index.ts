/**
 * The `node` job type: the user gives a module exporting `perform(input)` (`.js`, `.mjs`, or `.ts`
 * compiled in the build stage); Pitlane adds its node:http wrapper (`wrappers/node/`) and a
 * generated multi-stage Dockerfile.
 *
 * `prepare` writes into the build context (Pitlane's private copy of the job directory):
 *   - `.pitlane/wrapper/`        the wrapper (plain .mjs, no dependencies)
 *   - `.pitlane/tsconfig.json`   TypeScript entrypoints only
 *   - `.pitlane/Dockerfile`      see dockerfile.ts
 *   - `.dockerignore`            written when missing; otherwise lines are appended so that
 *                                node_modules stays out and the files the build needs stay in.
 *
 * Dependencies: `npm ci --omit=dev` from package.json and its lockfile. Without a lockfile the
 * build uses `npm install --omit=dev` and the deployment gets a warning (not reproducible).
 * TypeScript: the job's own compiler when its package.json lists `typescript`, else
 * `typescript@5.9.3`; compiled without type checking unless `jobtype_extra.typecheck: true`
 * (syntax errors always fail the build).
 */
import { cp, lstat, mkdir, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerignoreMatcher } from '../../build/context.js';
import { PitlaneError } from '../../errors.js';
import type { JobManifest } from '../../manifest/types.js';
import { generatedImageLabels } from '../labels.js';
import type { JobTypeBuilder, JobTypeSettings, PreparedBuild } from '../types.js';
import { defaultNodeDockerignore, PATHS, renderNodeDockerfile, renderNodeTsconfig, supportsNoCheck, WRAPPER_PORT, type TypescriptBuild } from './dockerfile.js';
import { nodeBaseImage, nodeRuntimeImage, parseNodeOptions, type NodeOptions } from './options.js';
import { PINNED_TYPESCRIPT, readNodeProject, type NodeProject } from './project.js';

export { parseNodeOptions, nodeBaseImage, nodeRuntimeImage, contextRelativePath, DEFAULT_NODE_VERSION, DEFAULT_NODE_BASE_IMAGE, DEFAULT_NODE_RUNTIME_IMAGE, type NodeOptions } from './options.js';
export { renderNodeDockerfile, renderNodeTsconfig, defaultNodeDockerignore, runtimeEntrypoint, PATHS, JOB_UID, NODE_BINARY, WRAPPER_PORT, type NodeDockerfileInput, type NodeTsconfigInput, type TypescriptBuild } from './dockerfile.js';
export { analyseNodeProject, readNodeProject, stripJsonComments, PINNED_TYPESCRIPT, type NodeProject, type ProjectFiles } from './project.js';

/** Context-relative path of the generated Dockerfile. */
export const NODE_DOCKERFILE = `${PATHS.generatedDir}/Dockerfile`;

/** The wrapper shipped with Pitlane: `wrappers/node/` at the package root (from `src/` and from `dist/`). */
export const DEFAULT_NODE_WRAPPER_DIR = fileURLToPath(new URL('../../../wrappers/node/', import.meta.url));

/** Files of the wrapper copied into the image (what runs: no README). */
const WRAPPER_FILE = /\.(mjs|json)$/;

/** Where Pitlane's own files start in `.dockerignore` (a second prepare replaces the block). */
const DOCKERIGNORE_MARK = '# --- added by Pitlane (node job type) ---';

function invalidEntrypoint(message: string): PitlaneError {
  return new PitlaneError(422, 'JOBTYPE_EXTRA_INVALID', `jobtype_extra.entrypoint_path ${message}`, [{ path: 'jobtype_extra.entrypoint_path', message }]);
}

/** Checks that the entrypoint is a regular file inside the context (symlinks included). */
async function checkEntrypoint(contextDir: string, entrypointPath: string): Promise<void> {
  const file = join(contextDir, ...entrypointPath.split('/'));
  const info = await stat(file).catch(() => undefined);
  if (!info) {
    let hint = '';
    const alternatives = ['.ts', '.js', '.mjs'].map((ext) => entrypointPath.replace(/\.(ts|js|mjs)$/, ext)).filter((p) => p !== entrypointPath);
    for (const alt of alternatives) {
      if (await stat(join(contextDir, ...alt.split('/'))).catch(() => undefined)) {
        hint = ` (there is ${alt})`;
        break;
      }
    }
    throw invalidEntrypoint(`"${entrypointPath}" does not exist in the job directory${hint}`);
  }
  if (!info.isFile()) throw invalidEntrypoint(`"${entrypointPath}" is not a file`);
  const [real, root] = await Promise.all([realpath(file), realpath(contextDir)]);
  const rel = relative(root, real);
  if (rel.startsWith(`..${sep}`) || rel === '..') throw invalidEntrypoint(`"${entrypointPath}" is a link to a file outside the job directory`);
}

/** How to build TypeScript, and the warnings that go with the choice. */
function typescriptPlan(options: NodeOptions, project: NodeProject): { plan: TypescriptBuild | null; version: string | null; warnings: string[] } {
  if (options.entrypointKind !== 'ts') return { plan: null, version: null, warnings: [] };
  const warnings: string[] = [];
  const own = project.packageJson && project.typescript.listed;
  const version = own ? project.typescript.version : PINNED_TYPESCRIPT;
  const devDependencies = project.packageJson && (own || options.typecheck || project.tsconfig.extendsPackage);
  if (own && !supportsNoCheck(version) && !options.typecheck) {
    warnings.push(`typescript ${version} cannot compile without type checking (needs 5.6+): type errors will fail the build`);
  }
  if (!project.packageJson && project.tsconfig.extendsPackage) {
    warnings.push('tsconfig.json extends a package but there is no package.json to install it from: the build will fail');
  }
  return { plan: { compiler: own ? 'project' : 'pinned', devDependencies }, version, warnings };
}

/**
 * `.dockerignore`: Pitlane's default when missing; otherwise the job's, with lines appended so
 * that node_modules is ignored (dependencies come from the lockfile) and the files the build
 * copies are not.
 */
async function writeDockerignore(contextDir: string, needed: string[], hasPackageJson: boolean): Promise<void> {
  const path = join(contextDir, '.dockerignore');
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === undefined) {
    await writeFile(path, defaultNodeDockerignore());
    return;
  }
  const own = existing.split(DOCKERIGNORE_MARK)[0]!.replace(/\s*$/, '\n');
  const ignored = dockerignoreMatcher(own);
  const lines: string[] = [];
  // node_modules at any depth: an exception such as `!src` would bring src/node_modules back.
  if (hasPackageJson && !own.split(/\r?\n/).some((l) => l.trim() === '**/node_modules')) lines.push('**/node_modules');
  for (const file of needed) if (ignored(file)) lines.push(`!${file}`);
  if (lines.length === 0) {
    if (own !== existing) await writeFile(path, own);
    return;
  }
  await writeFile(path, `${own}\n${DOCKERIGNORE_MARK}\n${lines.join('\n')}\n`);
}

/** Copies the wrapper's files into `.pitlane/wrapper/`. */
async function copyWrapper(wrapperDir: string, target: string): Promise<void> {
  const info = await stat(join(wrapperDir, 'server.mjs')).catch(() => undefined);
  if (!info) throw new PitlaneError(500, 'WRAPPER_MISSING', `the node wrapper is missing from this Pitlane installation (${wrapperDir}server.mjs)`);
  await cp(wrapperDir, target, {
    recursive: true,
    filter: async (source) => {
      const s = await lstat(source);
      return s.isDirectory() ? !source.endsWith(`${sep}node_modules`) && !source.endsWith(`${sep}test`) : WRAPPER_FILE.test(source);
    },
  });
}

/** Options of {@link createNodeBuilder}. */
export interface NodeBuilderOptions {
  /** Directory holding the wrapper's `server.mjs` (default: `wrappers/node/` of this installation). */
  wrapperDir?: string;
}

/** A node job type builder; {@link nodeBuilder} is the default one. */
export function createNodeBuilder(builderOptions: NodeBuilderOptions = {}): JobTypeBuilder {
  const wrapperDir = builderOptions.wrapperDir ?? DEFAULT_NODE_WRAPPER_DIR;
  return {
    name: 'node',
    async prepare(manifest: JobManifest, contextDir: string, settings: JobTypeSettings): Promise<PreparedBuild> {
      const baseImages = settings.baseImages.node ?? {};
      const { options, warnings } = parseNodeOptions(manifest.jobtype_extra, baseImages);
      await checkEntrypoint(contextDir, options.entrypointPath);
      const { project, warnings: projectWarnings } = await readNodeProject(contextDir);
      warnings.push(...projectWarnings);
      const ts = typescriptPlan(options, project);
      warnings.push(...ts.warnings);

      const dependencyFiles = project.packageJson ? ['package.json', ...project.lockfiles, ...(project.npmrc ? ['.npmrc'] : [])] : [];
      const generated = join(contextDir, PATHS.generatedDir);
      await rm(generated, { recursive: true, force: true });
      await mkdir(generated, { recursive: true });
      await copyWrapper(wrapperDir, join(generated, 'wrapper'));

      const wrapperFiles = (await readdir(join(generated, 'wrapper'), { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => relative(contextDir, join(entry.parentPath, entry.name)).split(sep).join('/'));
      const needed = [...dependencyFiles, options.entrypointPath, ...wrapperFiles.sort()];
      if (ts.plan) {
        await writeFile(
          join(generated, 'tsconfig.json'),
          renderNodeTsconfig({ entrypointPath: options.entrypointPath, extendsJobTsconfig: project.tsconfig.present, typecheck: options.typecheck, typescriptVersion: ts.version }),
        );
        needed.push(`${PATHS.generatedDir}/tsconfig.json`);
        if (project.tsconfig.present) needed.push('tsconfig.json');
      }
      await writeDockerignore(contextDir, needed, project.packageJson);

      const dockerfile = renderNodeDockerfile({
        jobName: manifest.name,
        jobVersion: manifest.version,
        commit: settings.commit,
        baseImage: nodeBaseImage(options.nodeVersion, baseImages),
        runtimeImage: nodeRuntimeImage(options.nodeVersion, settings.baseImages['node-runtime']),
        entrypointPath: options.entrypointPath,
        dependencyFiles,
        lockfile: project.lockfiles.length > 0,
        typescript: ts.plan,
      });
      await writeFile(join(contextDir, NODE_DOCKERFILE), dockerfile);
      return {
        dockerfilePath: NODE_DOCKERFILE,
        port: WRAPPER_PORT,
        readinessPath: '/ready',
        warnings,
        imageLabels: generatedImageLabels('node', manifest.name, manifest.version, settings.commit),
      };
    },
  };
}

/** The node job type with the wrapper of this installation. */
export const nodeBuilder: JobTypeBuilder = createNodeBuilder();
