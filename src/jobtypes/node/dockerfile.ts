/**
 * The generated files of a node job (pure: data in, text out): the Dockerfile, the tsconfig the
 * build stage compiles with, and the `.dockerignore`.
 *
 * Dockerfile shape (the practices of seed 001; every variant lints with zero findings):
 *
 * - `deps` stage (only with a package.json): package.json, the lockfile and `.npmrc` ALONE, then
 *   `npm ci --omit=dev` (`npm install --omit=dev` without a lockfile) and the npm cache removed in
 *   the same layer. A code-only change never reaches this stage, so its layer comes from the cache.
 * - `build` stage (TypeScript entrypoints): TypeScript from the job's own lockfile when its
 *   package.json lists it (`npm ci` with dev dependencies), else `typescript@5.9.3` installed
 *   globally in a layer that depends on nothing of the job; then the job directory and `tsc`,
 *   which writes plain JavaScript (and source maps) next to the sources; then the dev
 *   dependencies, Pitlane's `.pitlane/`, `.dockerignore` and `.npmrc` are removed.
 * - `source` stage (JavaScript entrypoints): the job directory minus `.pitlane/`, `.dockerignore`
 *   and `.npmrc`.
 * - `runtime` stage: by default a slim Debian base (`debian:bookworm-slim`) with a `node` user
 *   (UID/GID 1000, as in the official node images) and only the `node` binary copied from the node
 *   image (the `node` stage): no npm, npx, corepack, yarn or C headers, which the wrapper and the
 *   job never run (`npm ci` ran in the deps stage). When the runtime image is configured to be the
 *   node image itself, the runtime stage is that image as it is. Then `NODE_ENV=production`,
 *   `EXPOSE 7000`, `STOPSIGNAL SIGTERM`, a numeric non-root `USER` and the wrapper (nothing of the
 *   job: every node job on the same images shares these cached layers), `CMD` in JSON form and the
 *   labels with job, version and commit, then the production node_modules and, last, the code
 *   (root-owned, world-readable), so a code-only rebuild re-runs only the code COPY. No compilers,
 *   no npm cache, no dev dependencies.
 *
 * No BuildKit syntax (no cache mounts, no `--chmod`): the engine may use the legacy builder, so
 * the npm cache is cleaned in the layer that filled it instead.
 */
import { posix } from 'node:path';
import { generatedImageLabels, labelInstruction } from '../labels.js';
import { PINNED_TYPESCRIPT } from './project.js';

/** Where things live in the image. */
export const PATHS = {
  app: '/app',
  /**
   * The dependency stage's directory. Not `/app`: the legacy builder takes the newest cached layer
   * that matches, so stages starting with the same instructions could lead it into another stage's
   * chain and miss the `npm ci --omit=dev` layer.
   */
  deps: '/deps',
  wrapper: '/opt/pitlane/wrapper',
  /** Context-relative directory of Pitlane's generated files. */
  generatedDir: '.pitlane',
} as const;

/** Where the node images keep the `node` binary (the official images and scripts/setup/node-base-image.sh). */
export const NODE_BINARY = '/usr/local/bin/node';

/** The numeric user and group the job runs as (the `node` user of the official images). */
export const JOB_UID = 1000;
/** The wrapper's port. */
export const WRAPPER_PORT = 7000;

/** How the build stage gets its TypeScript compiler. */
export interface TypescriptBuild {
  /** `project`: the job's own typescript from its dependencies; `pinned`: `typescript@5.9.3` installed globally. */
  compiler: 'project' | 'pinned';
  /** Install the job's whole dependency tree, dev dependencies included, before compiling (own compiler, type checking, a tsconfig extending a package). */
  devDependencies: boolean;
}

/** Everything the Dockerfile generator needs. */
export interface NodeDockerfileInput {
  /** Job name and version (labels, header comment). */
  jobName: string;
  jobVersion: string;
  /** Source commit for labels, or null. */
  commit: string | null;
  /** The node image of the build stages and of the `node` binary, e.g. `node:24-slim`. */
  baseImage: string;
  /**
   * The runtime stage's base, e.g. `debian:bookworm-slim` (glibc, like the official node images),
   * which gets only the `node` binary (`/usr/local/bin/node`) of {@link baseImage}; null, absent or
   * equal to {@link baseImage}: the runtime stage is {@link baseImage} itself.
   */
  runtimeImage?: string | null;
  /** Entrypoint path relative to the context root (POSIX), as given (`adder.ts`). */
  entrypointPath: string;
  /** Files copied for the dependency installs (`package.json`, lockfiles, `.npmrc`); empty when there is no package.json. */
  dependencyFiles: string[];
  /** A lockfile is among {@link dependencyFiles}: `npm ci`, else `npm install`. */
  lockfile: boolean;
  /** The TypeScript build, or null for a JavaScript entrypoint. */
  typescript: TypescriptBuild | null;
}

/** The module the wrapper loads at run time: the entrypoint, with `.ts` compiled to `.js`. */
export function runtimeEntrypoint(entrypointPath: string): string {
  return entrypointPath.endsWith('.ts') ? `${entrypointPath.slice(0, -3)}.js` : entrypointPath;
}

function run(commands: string[]): string {
  return `RUN ${commands.join(' \\\n && ')}`;
}

/** The Dockerfile text. */
export function renderNodeDockerfile(input: NodeDockerfileInput): string {
  const out: string[] = [];
  const push = (...lines: string[]): void => {
    out.push(...lines);
  };
  const hasDeps = input.dependencyFiles.length > 0;
  const npmrc = input.dependencyFiles.includes('.npmrc');
  const ts = input.typescript;
  const codeStage = ts ? 'build' : 'source';
  const runtimeImage = input.runtimeImage && input.runtimeImage !== input.baseImage ? input.runtimeImage : null;
  const stages = [
    hasDeps ? 'deps (production dependencies from package.json and the lockfile alone)' : null,
    ts ? 'build (TypeScript -> JavaScript)' : 'source (the job directory)',
    runtimeImage ? 'node (its binary only)' : null,
    'runtime (slim, non-root)',
  ].filter(Boolean);

  push(`# Generated by Pitlane (node job type) for ${input.jobName} ${input.jobVersion}; regenerated on every deploy.`, `# Stages: ${stages.join(' -> ')}.`);

  const copyDeps = `COPY ${input.dependencyFiles.join(' ')} ./`;
  const clean = 'npm cache clean --force';
  if (hasDeps) {
    push('', `FROM ${input.baseImage} AS deps`, `WORKDIR ${PATHS.deps}`);
    push(`# ${input.lockfile ? 'package.json and the lockfile' : 'package.json'} alone: a code-only change keeps the cached install below.`);
    push(copyDeps);
    push(run([`${input.lockfile ? 'npm ci' : 'npm install'} --omit=dev --no-audit --no-fund`, clean, 'mkdir -p node_modules']));
  }

  const cleanup = ['rm -rf', ...(ts?.devDependencies ? ['node_modules'] : []), PATHS.generatedDir, '.dockerignore', ...(npmrc ? ['.npmrc'] : [])].join(' ');
  if (ts) {
    push('', `FROM ${input.baseImage} AS build`, `WORKDIR ${PATHS.app}`);
    if (ts.compiler === 'pinned') {
      push(run([`npm install --global --no-audit --no-fund typescript@${PINNED_TYPESCRIPT}`, clean]));
    }
    if (ts.devDependencies && hasDeps) {
      push(copyDeps);
      push(run([`${input.lockfile ? 'npm ci' : 'npm install'} --no-audit --no-fund`, clean]));
    }
    push(`COPY . .`);
    push('# JavaScript and source maps next to the sources; then only what runs stays.');
    const tsc = ts.compiler === 'pinned' ? 'tsc' : './node_modules/.bin/tsc';
    push(run([`${tsc} --project ${PATHS.generatedDir}/tsconfig.json`, cleanup, 'chmod -R a+rX .']));
  } else {
    push('', `FROM ${input.baseImage} AS source`, `WORKDIR ${PATHS.app}`, 'COPY . .', run([cleanup, 'chmod -R a+rX .']));
  }

  if (runtimeImage) {
    push('', '# The node image, for its `node` binary only.', `FROM ${input.baseImage} AS node`);
    push(
      '',
      `FROM ${runtimeImage} AS runtime`,
      `RUN groupadd --gid ${JOB_UID} node \\`,
      ` && useradd --no-log-init --uid ${JOB_UID} --gid node --home-dir /home/node --create-home --shell /bin/bash node`,
      '# Node.js alone: no npm, npx, corepack or headers in the runtime image.',
      `COPY --from=node ${NODE_BINARY} ${NODE_BINARY}`,
    );
  } else {
    push('', `FROM ${input.baseImage} AS runtime`);
  }
  // Nothing of the job up to the wrapper: every node job on the same images shares these layers;
  // then the job's metadata, its dependencies and its code, so a code-only rebuild re-runs only
  // the last COPY (each legacy-builder step costs a container).
  push('ENV NODE_ENV=production', `WORKDIR ${PATHS.app}`);
  push(`EXPOSE ${WRAPPER_PORT}`);
  push('STOPSIGNAL SIGTERM');
  push(`USER ${JOB_UID}:${JOB_UID}`);
  push(`COPY ${PATHS.generatedDir}/wrapper/ ${PATHS.wrapper}/`);
  const cmd = ['node', ...(ts ? ['--enable-source-maps'] : []), `${PATHS.wrapper}/server.mjs`, posix.join(PATHS.app, runtimeEntrypoint(input.entrypointPath))];
  push(`CMD ${JSON.stringify(cmd).replace(/","/g, '", "')}`);
  push(labelInstruction(generatedImageLabels('node', input.jobName, input.jobVersion, input.commit)));
  if (hasDeps) push(`COPY --from=deps ${PATHS.deps}/node_modules/ ./node_modules/`);
  push('# The code last: a code-only change re-runs this COPY and nothing else here.');
  push(`COPY --from=${codeStage} ${PATHS.app}/ ./`);
  return `${out.join('\n')}\n`;
}

/** Everything the build stage's tsconfig depends on. */
export interface NodeTsconfigInput {
  /** Entrypoint path relative to the context root (POSIX). */
  entrypointPath: string;
  /** The job has a `tsconfig.json` at the context root: extend it (its emit options count). */
  extendsJobTsconfig: boolean;
  /** Type errors fail the build; otherwise only syntax errors do (`noCheck`). */
  typecheck: boolean;
  /** The compiler's version, when known (features: `noCheck` needs 5.6, `rewriteRelativeImportExtensions` 5.7). */
  typescriptVersion: string | null;
}

function versionAtLeast(version: string | null, major: number, minor: number): boolean {
  if (version === null) return true;
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return true;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/** True when the compiler can skip type checking (`noCheck`, TypeScript 5.6+). */
export function supportsNoCheck(version: string | null): boolean {
  return versionAtLeast(version, 5, 6);
}

/**
 * `.pitlane/tsconfig.json`: compiles the entrypoint and what it imports to JavaScript in place
 * (`outDir` = `rootDir` = the context root), as Node ESM/CommonJS by package.json's `type`
 * (`module: NodeNext`), with source maps. The job's own tsconfig.json is extended, so its emit
 * options (target, decorators, JSX...) apply; the options that decide where and whether files are
 * written are Pitlane's.
 */
export function renderNodeTsconfig(input: NodeTsconfigInput): string {
  const noCheck = !input.typecheck && supportsNoCheck(input.typescriptVersion);
  const rewrite = versionAtLeast(input.typescriptVersion, 5, 7);
  const options: Record<string, unknown> = {};
  if (!input.extendsJobTsconfig) {
    Object.assign(options, { target: 'ES2022', strict: true, esModuleInterop: true, resolveJsonModule: true, skipLibCheck: true });
  }
  Object.assign(options, {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    rootDir: '..',
    outDir: '..',
    noEmit: false,
    emitDeclarationOnly: false,
    declaration: false,
    declarationMap: false,
    composite: false,
    incremental: false,
    allowJs: false,
    sourceMap: true,
    inlineSourceMap: false,
    noEmitOnError: !noCheck,
  });
  if (rewrite) Object.assign(options, { allowImportingTsExtensions: true, rewriteRelativeImportExtensions: true });
  else options.allowImportingTsExtensions = false;
  // Without type checking the declarations of the libraries only cost time: no @types packages,
  // and the ES library without the DOM (whose 30,000 lines made tsc take seconds, not a fraction).
  if (noCheck) Object.assign(options, { noCheck: true, types: [], lib: ['es2022'], skipLibCheck: true });

  const config: Record<string, unknown> = {};
  if (input.extendsJobTsconfig) config.extends = '../tsconfig.json';
  config.compilerOptions = options;
  config.files = [`../${input.entrypointPath}`];
  config.include = [];
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The `.dockerignore` written when the job directory has none. */
export function defaultNodeDockerignore(): string {
  return [
    '# Written by Pitlane (node job type): the job directory had no .dockerignore.',
    '.git',
    '**/node_modules',
    'npm-debug.log*',
    '.npm',
    '*.tsbuildinfo',
    '.env',
    '.env.*',
    '',
  ].join('\n');
}
