/**
 * The only part of the linter that touches the file system: reading a Dockerfile, noticing the
 * build context's `.dockerignore`, finding `.hadolint.yaml` the way hadolint does, and writing a
 * fixed file. Everything else in `src/dockerfile/` is pure.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PitlaneError } from '../errors.js';
import { mergeLintConfig, parseLintConfig, type LintConfig } from './config.js';
import { fixDockerfile, type FixResult } from './fix.js';
import { lintDockerfile } from './lint.js';
import type { LintResult } from './types.js';

/**
 * Candidate `.hadolint.yaml` locations in hadolint's search order (README "Configure"):
 * `$PWD/.hadolint.yaml`, `$XDG_CONFIG_HOME/hadolint.yaml`, `~/.config/hadolint.yaml`,
 * `~/.hadolint/hadolint.yaml`, `~/hadolint/config.yaml`, `~/.hadolint.yaml`, each also as `.yml`.
 *
 * @param cwd directory searched first.
 * @param env environment (for `XDG_CONFIG_HOME`), default `process.env`.
 * @param home home directory, default `os.homedir()`.
 */
export function hadolintConfigCandidates(cwd: string, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  const bases = [join(cwd, '.hadolint')];
  if (env.XDG_CONFIG_HOME) bases.push(join(env.XDG_CONFIG_HOME, 'hadolint'));
  bases.push(join(home, '.config', 'hadolint'), join(home, '.hadolint', 'hadolint'), join(home, 'hadolint', 'config'), join(home, '.hadolint'));
  return bases.flatMap((b) => [`${b}.yaml`, `${b}.yml`]);
}

/**
 * Loads the first `.hadolint.yaml` found (or the given file).
 *
 * @param options `configPath` to read a specific file (`--config`), `cwd` to search from.
 * @returns the parsed config and the path it came from; an empty config and `undefined` when none exists.
 * @throws PitlaneError 422 `LINT_CONFIG_INVALID` when the file is invalid (the message names the file);
 *         404 `LINT_CONFIG_NOT_FOUND` when `configPath` does not exist.
 */
export function loadLintConfig(options: { configPath?: string; cwd?: string } = {}): { config: LintConfig; path: string | undefined } {
  const candidates = options.configPath ? [resolve(options.configPath)] : hadolintConfigCandidates(options.cwd ?? process.cwd());
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      return { config: parseLintConfig(readFileSync(path, 'utf8')), path };
    } catch (e) {
      if (e instanceof PitlaneError) throw new PitlaneError(e.status, e.code, `${path}: ${e.message}`, e.details);
      throw e;
    }
  }
  if (options.configPath) throw new PitlaneError(404, 'LINT_CONFIG_NOT_FOUND', `Lint configuration ${options.configPath} does not exist`);
  return { config: {}, path: undefined };
}

/**
 * Lints a Dockerfile on disk. `hasDockerignore` is set from the build context (the Dockerfile's
 * directory unless `contextDir` is given): `<Dockerfile>.dockerignore` or `<context>/.dockerignore`.
 *
 * @throws PitlaneError 404 `DOCKERFILE_NOT_FOUND` when the file cannot be read.
 */
export function lintFile(path: string, config: LintConfig = {}, contextDir?: string): LintResult {
  const text = readText(path);
  const context = contextDir ?? dirname(resolve(path));
  const hasDockerignore = existsSync(`${resolve(path)}.dockerignore`) || existsSync(join(context, '.dockerignore'));
  return lintDockerfile(text, mergeLintConfig({ hasDockerignore }, config));
}

/**
 * Fixes a Dockerfile on disk; writes it back unless `dryRun` (for `--diff`).
 *
 * @returns the original text and the fix result.
 * @throws PitlaneError 404 `DOCKERFILE_NOT_FOUND` when the file cannot be read.
 */
export function fixFile(path: string, config: LintConfig = {}, dryRun = false): { before: string } & FixResult {
  const before = readText(path);
  const result = fixDockerfile(before, config);
  if (!dryRun && result.text !== before) writeFileSync(path, result.text);
  return { before, ...result };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new PitlaneError(404, 'DOCKERFILE_NOT_FOUND', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, [{ path, message: 'file not readable' }]);
  }
}
