/**
 * Names of Python distributions and wheels: PEP 427 wheel filenames, PEP 503 project-name
 * normalisation and PEP 440 version normalisation. Pure functions, no I/O.
 */
import { PitlaneError } from '../errors.js';

/** The parts of a PEP 427 wheel filename `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`. */
export interface WheelFilename {
  /** The filename itself. */
  filename: string;
  /** Distribution name as written in the filename (e.g. `Pitlane_Greet`). */
  distribution: string;
  /** PEP 503-normalised project name (e.g. `pitlane-greet`). */
  project: string;
  /** Version as written in the filename (`-` escaped as `_`). */
  version: string;
  /** Build tag (starts with a digit), or null. */
  build: string | null;
  /** Python tags (`py2.py3` -> `['py2', 'py3']`). */
  pythonTags: string[];
  /** ABI tags. */
  abiTags: string[];
  /** Platform tags. */
  platformTags: string[];
  /** Every expanded tag triple, e.g. `['py2-none-any', 'py3-none-any']`. */
  tags: string[];
}

const DISTRIBUTION = /^[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9_.!+]*$/;
const BUILD = /^[0-9][A-Za-z0-9_.]*$/;
const TAG_SET = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;
/** Longest accepted wheel filename (a single path component on every file system). */
export const MAX_WHEEL_FILENAME_LENGTH = 255;

function invalid(filename: string, message: string): PitlaneError {
  return new PitlaneError(400, 'WHEEL_FILENAME_INVALID', `"${filename.slice(0, 300)}" is not a wheel filename: ${message}`, [
    { path: 'filename', message },
  ]);
}

/**
 * Parses a wheel filename (PEP 427). Only the safe character set is accepted, so a parsed name
 * is also safe as a single path component (no `/`, `\`, NUL, leading dot, `..`).
 * @throws PitlaneError 400 WHEEL_FILENAME_INVALID naming what is wrong.
 */
export function parseWheelFilename(filename: string): WheelFilename {
  if (typeof filename !== 'string' || filename.length === 0) throw invalid(String(filename), 'the filename is empty');
  if (filename.length > MAX_WHEEL_FILENAME_LENGTH) throw invalid(filename, `longer than ${MAX_WHEEL_FILENAME_LENGTH} characters`);
  if (/[/\\\0]/.test(filename)) throw invalid(filename, 'a filename cannot contain "/", "\\" or NUL');
  if (!filename.endsWith('.whl')) throw invalid(filename, 'it must end with ".whl"');
  const stem = filename.slice(0, -4);
  const parts = stem.split('-');
  if (parts.length !== 5 && parts.length !== 6) {
    throw invalid(filename, 'expected {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl (5 or 6 parts separated by "-")');
  }
  const [distribution = '', version = ''] = parts;
  const build = parts.length === 6 ? (parts[2] ?? '') : null;
  const [pythonTag = '', abiTag = '', platformTag = ''] = parts.slice(-3);
  if (!DISTRIBUTION.test(distribution)) throw invalid(filename, `the name "${distribution}" may only hold letters, digits, "_" and "." and must start and end with a letter or digit`);
  if (!VERSION.test(version)) throw invalid(filename, `the version "${version}" may only hold letters, digits, "_", ".", "!" and "+"`);
  if (build !== null && !BUILD.test(build)) throw invalid(filename, `the build tag "${build}" must start with a digit`);
  for (const [label, tag] of [['python', pythonTag], ['abi', abiTag], ['platform', platformTag]] as const) {
    if (!TAG_SET.test(tag)) throw invalid(filename, `the ${label} tag "${tag}" may only hold letters, digits and "_" (sets joined by ".")`);
  }
  const pythonTags = pythonTag.split('.');
  const abiTags = abiTag.split('.');
  const platformTags = platformTag.split('.');
  const tags: string[] = [];
  for (const py of pythonTags) for (const abi of abiTags) for (const platform of platformTags) tags.push(`${py}-${abi}-${platform}`);
  return { filename, distribution, project: normalizeProjectName(distribution), version, build, pythonTags, abiTags, platformTags, tags };
}

/** True when `filename` is a valid wheel filename (see {@link parseWheelFilename}). */
export function isWheelFilename(filename: string): boolean {
  try {
    parseWheelFilename(filename);
    return true;
  } catch {
    return false;
  }
}

/** PEP 503 normalisation: runs of `-`, `_`, `.` become one `-`, lowercase. */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** True when `name` is a valid project name (PEP 508: letters, digits, `-_.`, alphanumeric at both ends). */
export function isValidProjectName(name: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name);
}

// The version pattern of PEP 440 (as in `packaging.version.VERSION_PATTERN`).
const PEP440 = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

/** A parsed PEP 440 version. */
interface ParsedVersion {
  epoch: number;
  release: number[];
  pre: string | null;
  post: string | null;
  dev: string | null;
  local: string | null;
}

function parseVersion(text: string): ParsedVersion | null {
  const match = PEP440.exec(text);
  if (!match?.groups) return null;
  const g = match.groups;
  const number = (value: string | undefined): string => String(BigInt(value ?? '0'));
  let pre: string | null = null;
  if (g.pre_l) {
    const label = g.pre_l.toLowerCase();
    const short = label === 'alpha' ? 'a' : label === 'beta' ? 'b' : label === 'c' || label === 'pre' || label === 'preview' ? 'rc' : label;
    pre = `${short}${number(g.pre_n)}`;
  }
  const post = g.post ? number(g.post_n1 ?? g.post_n2) : null;
  const dev = g.dev ? number(g.dev_n) : null;
  return {
    epoch: Number(g.epoch ?? '0'),
    release: (g.release ?? '0').split('.').map((n) => Number(BigInt(n))),
    pre,
    post,
    dev,
    local: g.local ? g.local.toLowerCase().replace(/[-_]/g, '.') : null,
  };
}

function formatVersion(v: ParsedVersion, release: number[]): string {
  let out = v.epoch !== 0 ? `${v.epoch}!` : '';
  out += release.join('.');
  if (v.pre) out += v.pre;
  if (v.post !== null) out += `.post${v.post}`;
  if (v.dev !== null) out += `.dev${v.dev}`;
  if (v.local) out += `+${v.local}`;
  return out;
}

/**
 * The PEP 440 normalised form of a version (`1.0-1` -> `1.0.post1`, `1.0ALPHA2` -> `1.0a2`,
 * `v1.0_dev` -> `1.0.dev0`), or null when it is not a PEP 440 version.
 */
export function normalizeVersion(text: string): string | null {
  const parsed = parseVersion(text);
  return parsed ? formatVersion(parsed, parsed.release) : null;
}

/**
 * True when two versions are equal in PEP 440's sense (`1.0` equals `1.0.0`); versions that are not
 * PEP 440 compare as lowercase text with `_` read as `-` (how a wheel filename escapes `-`).
 */
export function versionsEqual(a: string, b: string): boolean {
  const pa = parseVersion(a.replace(/_/g, '-'));
  const pb = parseVersion(b.replace(/_/g, '-'));
  if (pa && pb) {
    const strip = (release: number[]): number[] => {
      const out = [...release];
      while (out.length > 1 && out[out.length - 1] === 0) out.pop();
      return out;
    };
    return formatVersion(pa, strip(pa.release)) === formatVersion(pb, strip(pb.release));
  }
  return a.replace(/_/g, '-').toLowerCase() === b.replace(/_/g, '-').toLowerCase();
}
