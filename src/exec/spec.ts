/**
 * What `pitlane exec` runs, read from seed 003's environment conventions (pure, no I/O):
 *
 * | variable  | meaning                                                                     |
 * |-----------|-----------------------------------------------------------------------------|
 * | `IMAGE`   | required: the image to run                                                  |
 * | `COMMAND` | optional: a JSON array of strings, or a shell-style string split without a shell |
 * | `VOLUMES` | optional: a JSON list such as `["/host:/container", "/h:/c:ro", "name:/c"]` |
 * | `*_ENV`   | every variable whose name ends in `_ENV`, passed to the child under the same name |
 *
 * Command-line flags override the variables ({@link ExecOverrides}). Every error is a
 * {@link PitlaneError} (400, `EXEC_INPUT_INVALID`) whose message and detail path name the variable
 * or flag, and the entry index for VOLUMES.
 */
import { PitlaneError } from '../errors.js';
import { ShellSplitError, splitShellWords } from './shell-words.js';

/** One mount of the child container. */
export interface VolumeSpec {
  /** `bind`: `source` is an absolute host path; `volume`: `source` is a named volume. */
  type: 'bind' | 'volume';
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
  /** Normalised `SOURCE:TARGET[:ro]`, the form of HostConfig.Binds and `docker run -v`. */
  spec: string;
}

/** A fully validated container run. */
export interface ExecSpec {
  image: string;
  /** The command override; absent: the image's own CMD. */
  command?: string[];
  volumes: VolumeSpec[];
  /** The child's environment (name to value), sorted by name. */
  env: Record<string, string>;
}

/** Values given as command-line flags; each replaces its variable. */
export interface ExecOverrides {
  /** `--image`, replaces IMAGE. */
  image?: string;
  /** `--command`, replaces COMMAND (same two forms). */
  command?: string;
  /** `-v` flags; when any is given they replace VOLUMES. */
  volumes?: string[];
  /** `-e NAME=VALUE` (or `-e NAME`, taking NAME from the environment); added to the `*_ENV` variables, winning on equal names. */
  env?: string[];
}

/** Names of environment variables the way POSIX shells accept them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Docker's rule for volume names. */
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]+$/;
/** The suffix that marks a variable for the child. */
export const CHILD_ENV_SUFFIX = '_ENV';

function invalid(where: string, message: string): PitlaneError {
  return new PitlaneError(400, 'EXEC_INPUT_INVALID', `${where}: ${message}`, [{ path: where, message }]);
}

/** Reads seed 003's variables from `env` (no flags). */
export function parseExecEnvironment(env: Record<string, string | undefined>): ExecSpec {
  return resolveExecSpec(env, {});
}

/**
 * Reads the variables from `env` and applies the flag `overrides`.
 * @throws PitlaneError (400) naming the variable or flag at fault.
 */
export function resolveExecSpec(env: Record<string, string | undefined>, overrides: ExecOverrides): ExecSpec {
  const image = parseImage(overrides.image ?? env.IMAGE, overrides.image !== undefined ? '--image' : 'IMAGE');
  const commandSource = overrides.command !== undefined ? '--command' : 'COMMAND';
  const command = parseCommand(overrides.command ?? env.COMMAND, commandSource);
  const volumes =
    overrides.volumes !== undefined && overrides.volumes.length > 0
      ? checkVolumes(overrides.volumes.map((entry, index) => parseVolume(entry, `--volume #${index + 1}`)))
      : parseVolumes(env.VOLUMES, 'VOLUMES');
  const childEnv = childEnvironment(env);
  for (const entry of overrides.env ?? []) {
    const [name, value] = parseEnvFlag(entry, env);
    childEnv[name] = value;
  }
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(childEnv).sort()) sorted[name] = childEnv[name] as string;
  return { image, ...(command ? { command } : {}), volumes, env: sorted };
}

/** Validates the image reference (presence and no blanks; the engine judges the rest). */
export function parseImage(value: string | undefined, where = 'IMAGE'): string {
  const image = value?.trim() ?? '';
  if (image === '') {
    throw invalid(where, `the image to run is required (set ${where === 'IMAGE' ? 'IMAGE, e.g. IMAGE=busybox:latest, or pass --image' : '--image'})`);
  }
  if (/[\s\u0000-\u001f]/.test(image)) throw invalid(where, `"${image}" is not an image reference (it contains blanks)`);
  return image;
}

/**
 * Parses a command: a JSON array of strings (`["sh", "-c", "echo hi"]`) or a shell-style string
 * (`sh -c 'echo hi'`). A value that starts like a JSON array (`[` then `"` or `]`) must be valid
 * JSON; anything else, `[ -f /x ]` included, is split as shell words. Empty means no override.
 */
export function parseCommand(value: string | undefined, where = 'COMMAND'): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\[\s*["\]]/.test(trimmed)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw invalid(where, `looks like a JSON array but is not valid JSON (${(error as Error).message}); write ["prog", "arg", ...] or a plain string`);
    }
    if (!Array.isArray(parsed)) throw invalid(where, 'must be a JSON array of strings or a plain string');
    if (parsed.length === 0) throw invalid(where, 'is an empty JSON array; leave it unset to run the image\'s own command');
    parsed.forEach((item, index) => {
      if (typeof item !== 'string') throw invalid(where, `item ${index} of the JSON array is ${JSON.stringify(item)}, not a string`);
    });
    return parsed as string[];
  }
  let words: string[];
  try {
    // Split the value as given, so that positions in errors count from its first character.
    words = splitShellWords(value);
  } catch (error) {
    if (error instanceof ShellSplitError) throw new PitlaneError(400, 'EXEC_INPUT_INVALID', `${where}: ${error.message}`, [{ path: where, column: error.position, message: error.message }]);
    throw error;
  }
  return words;
}

/** Parses VOLUMES: a JSON list of `SOURCE:TARGET[:ro|rw]` strings; empty or unset means none. */
export function parseVolumes(value: string | undefined, where = 'VOLUMES'): VolumeSpec[] {
  if (value === undefined || value.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw invalid(where, `must be a JSON list such as ["/host:/container", "/h:/c:ro"] (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw invalid(where, 'must be a JSON list such as ["/host:/container", "/h:/c:ro"]');
  return checkVolumes(
    parsed.map((entry, index) => {
      if (typeof entry !== 'string') throw invalid(`${where}[${index}]`, `${JSON.stringify(entry)} is not a string of the form SOURCE:TARGET[:ro]`);
      return parseVolume(entry, `${where}[${index}]`);
    }),
    parsed.map((_, index) => `${where}[${index}]`),
  );
}

/** Parses one `SOURCE:TARGET[:ro|rw]` entry; `where` names it in errors. */
export function parseVolume(entry: string, where: string): VolumeSpec {
  const parts = entry.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw invalid(where, `"${entry}" is not of the form SOURCE:TARGET[:ro|rw] (host path or volume name, container path, optional mode)`);
  }
  const [source = '', target = '', mode] = parts;
  const names = ['source', 'container path', 'mode'];
  parts.forEach((part, index) => {
    if (part.trim() === '') throw invalid(where, `"${entry}" has an empty ${names[index]}`);
  });
  if (!target.startsWith('/')) throw invalid(where, `container path "${target}" in "${entry}" must be absolute (start with /)`);
  if (/^\/+$/.test(target)) throw invalid(where, `"${entry}" would mount over the container's root; choose a directory such as /data`);
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw invalid(where, `mode "${mode}" in "${entry}" must be ro or rw`);
  let type: VolumeSpec['type'];
  if (source.startsWith('/')) type = 'bind';
  else if (VOLUME_NAME.test(source)) type = 'volume';
  else {
    throw invalid(
      where,
      `source "${source}" in "${entry}" must be an absolute host path or a volume name (letters, digits, _ . -; at least 2 characters)`,
    );
  }
  const readOnly = mode === 'ro';
  return { type, source, target, readOnly, spec: `${source}:${target}${readOnly ? ':ro' : ''}` };
}

/** Refuses two mounts on the same container path. */
function checkVolumes(volumes: VolumeSpec[], names?: string[]): VolumeSpec[] {
  const seen = new Map<string, number>();
  volumes.forEach((volume, index) => {
    const key = volume.target.replace(/\/+$/, '');
    const earlier = seen.get(key);
    const name = (i: number): string => names?.[i] ?? `--volume #${i + 1}`;
    if (earlier !== undefined) throw invalid(name(index), `container path ${volume.target} is already mounted by ${name(earlier)}`);
    seen.set(key, index);
  });
  return volumes;
}

/**
 * The child's environment from the `*_ENV` convention: every variable whose name is a valid
 * environment name ending in `_ENV`, under the same name (`DB_NAME_ENV=analytics` stays
 * `DB_NAME_ENV`). Nothing else of the caller's environment reaches the child.
 */
export function childEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const child: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name.endsWith(CHILD_ENV_SUFFIX) && ENV_NAME.test(name)) child[name] = value;
  }
  return child;
}

/** Parses `-e NAME=VALUE`, or `-e NAME` which takes NAME's value from `env`. */
export function parseEnvFlag(entry: string, env: Record<string, string | undefined>): [string, string] {
  const equals = entry.indexOf('=');
  const name = equals < 0 ? entry : entry.slice(0, equals);
  const where = `--env ${name || entry}`;
  if (!ENV_NAME.test(name)) throw invalid(where, `"${name}" is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
  if (equals >= 0) return [name, entry.slice(equals + 1)];
  const value = env[name];
  if (value === undefined) throw invalid(where, `${name} is not set here; write -e ${name}=VALUE`);
  return [name, value];
}
