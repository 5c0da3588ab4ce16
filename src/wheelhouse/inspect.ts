/**
 * Checking that a wheel is what its filename says (PEP 427 / the binary distribution format):
 * a readable ZIP whose one `{name}-{version}.dist-info` directory holds `METADATA` (Name and
 * Version equal to the filename's after PEP 503 / PEP 440 normalisation), `WHEEL` (Wheel-Version
 * 1.x, Tag lines covering the filename's tags) and `RECORD` (every listed file present with the
 * listed hash and size). Every entry's CRC is checked.
 *
 * Errors: 400 WHEEL_FILENAME_INVALID (filename), 400 WHEEL_CORRUPT (not a readable ZIP),
 * 413 WHEEL_TOO_LARGE (limits), 422 WHEEL_INVALID (a required file missing or malformed),
 * 422 WHEEL_MISMATCH (the contents contradict the filename), each naming the field.
 */
import { createHash } from 'node:crypto';
import { PitlaneError, type ErrorDetail } from '../errors.js';
import { normalizeProjectName, parseWheelFilename, versionsEqual, type WheelFilename } from './names.js';
import { DEFAULT_ZIP_LIMITS, ZipArchive, ZipError, ZipLimitError, type ZipLimits } from './zip.js';

/** What the wheelhouse knows about a checked wheel. */
export interface WheelInfo extends WheelFilename {
  /** `Name` from METADATA, as the author wrote it. */
  metadataName: string;
  /** `Version` from METADATA. */
  metadataVersion: string;
  /** `Requires-Python` from METADATA, or null. */
  requiresPython: string | null;
  /** `Summary` from METADATA, or null. */
  summary: string | null;
  /** `Root-Is-Purelib` from WHEEL. */
  pure: boolean;
  /** Size of the file in bytes. */
  size: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
}

/** Parses RFC 822-style headers (METADATA, WHEEL) up to the first blank line; repeated keys keep every value. */
export function parseHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { key: string; values: string[] } | undefined;
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (raw === '') break;
    if ((raw.startsWith(' ') || raw.startsWith('\t')) && last) {
      const values = last.values;
      values[values.length - 1] = `${values[values.length - 1] ?? ''}\n${raw.trim()}`;
      continue;
    }
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const key = raw.slice(0, colon).trim().toLowerCase();
    const value = raw.slice(colon + 1).trim();
    const values = headers.get(key) ?? [];
    values.push(value);
    headers.set(key, values);
    last = { key, values };
  }
  return headers;
}

/** Splits one CSV line of RECORD (`path,hash,size`, paths quoted when they hold commas or quotes). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

const mismatch = (path: string, message: string): PitlaneError =>
  new PitlaneError(422, 'WHEEL_MISMATCH', `the wheel's contents contradict its filename: ${message}`, [{ path, message }]);
const invalid = (path: string, message: string): PitlaneError => new PitlaneError(422, 'WHEEL_INVALID', `the wheel is not valid: ${message}`, [{ path, message }]);

/** True when an entry name is a safe relative path (what pip would install). */
function safeEntryName(name: string): boolean {
  if (name.includes('\0') || name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  return !name.split('/').includes('..');
}

/**
 * Checks the wheel in `data` against `filename`.
 * @returns what the wheelhouse stores about it.
 * @throws PitlaneError (see the module comment).
 */
export async function inspectWheel(data: Buffer, filename: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<WheelInfo> {
  const parsed = parseWheelFilename(filename);
  let archive: ZipArchive;
  try {
    archive = ZipArchive.open(data, limits);
  } catch (error) {
    throw zipFailure(error);
  }
  const unsafe = archive.entries.find((e) => !safeEntryName(e.name));
  if (unsafe) throw invalid(unsafe.name, `the entry "${unsafe.name}" is not a safe relative path`);

  // The one top-level *.dist-info directory.
  const distInfoDirs = [...new Set(archive.entries.map((e) => e.name.split('/')[0] ?? '').filter((top) => top.endsWith('.dist-info')))];
  if (distInfoDirs.length === 0) throw invalid('dist-info', 'there is no {name}-{version}.dist-info directory');
  if (distInfoDirs.length > 1) throw invalid('dist-info', `there are several .dist-info directories (${distInfoDirs.join(', ')})`);
  const distInfo = distInfoDirs[0] as string;
  const distInfoStem = distInfo.slice(0, -'.dist-info'.length);
  const dash = distInfoStem.lastIndexOf('-');
  if (dash <= 0) throw invalid('dist-info', `"${distInfo}" is not named {name}-{version}.dist-info`);
  const distInfoName = distInfoStem.slice(0, dash);
  const distInfoVersion = distInfoStem.slice(dash + 1);
  if (normalizeProjectName(distInfoName) !== parsed.project) {
    throw mismatch('dist-info', `the directory "${distInfo}" is for "${distInfoName}" but the filename says "${parsed.distribution}"`);
  }
  if (!versionsEqual(distInfoVersion, parsed.version)) {
    throw mismatch('dist-info', `the directory "${distInfo}" is for version "${distInfoVersion}" but the filename says "${parsed.version}"`);
  }

  const required = async (file: string): Promise<string> => {
    const entry = archive.entry(`${distInfo}/${file}`);
    if (!entry) throw invalid(file, `${distInfo}/${file} is missing`);
    try {
      return (await archive.read(entry)).toString('utf8');
    } catch (error) {
      throw zipFailure(error);
    }
  };

  const metadata = parseHeaders(await required('METADATA'));
  const metadataName = metadata.get('name')?.[0];
  const metadataVersion = metadata.get('version')?.[0];
  if (!metadataName) throw invalid('METADATA.Name', 'METADATA has no Name');
  if (!metadataVersion) throw invalid('METADATA.Version', 'METADATA has no Version');
  if (normalizeProjectName(metadataName) !== parsed.project) {
    throw mismatch('METADATA.Name', `METADATA names the project "${metadataName}" but the filename says "${parsed.distribution}"`);
  }
  if (!versionsEqual(metadataVersion, parsed.version)) {
    throw mismatch('METADATA.Version', `METADATA gives version "${metadataVersion}" but the filename says "${parsed.version}"`);
  }

  const wheel = parseHeaders(await required('WHEEL'));
  const wheelVersion = wheel.get('wheel-version')?.[0];
  if (!wheelVersion) throw invalid('WHEEL.Wheel-Version', 'WHEEL has no Wheel-Version');
  if (!/^1\.\d+$/.test(wheelVersion)) throw invalid('WHEEL.Wheel-Version', `Wheel-Version ${wheelVersion} is not supported (1.x is)`);
  const declaredTags = new Set((wheel.get('tag') ?? []).map((t) => t.toLowerCase()));
  if (declaredTags.size > 0) {
    const missing = parsed.tags.filter((t) => !declaredTags.has(t.toLowerCase()));
    if (missing.length > 0) {
      throw mismatch('WHEEL.Tag', `the filename's tag${missing.length === 1 ? '' : 's'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not among WHEEL's Tag lines (${[...declaredTags].join(', ')})`);
    }
  }
  const pure = (wheel.get('root-is-purelib')?.[0] ?? 'false').toLowerCase() === 'true';

  // Every entry's data is read (CRC check); RECORD's hashes and sizes are checked on the way.
  const recordText = await required('RECORD');
  const record = new Map<string, { hash: string; size: string }>();
  for (const line of recordText.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') continue;
    const [path = '', hash = '', size = ''] = parseCsvLine(line);
    record.set(path, { hash, size });
  }
  const problems: ErrorDetail[] = [];
  const present = new Set<string>();
  for (const entry of archive.entries) {
    let content: Buffer;
    try {
      content = await archive.read(entry);
    } catch (error) {
      throw zipFailure(error);
    }
    if (entry.isDirectory) continue;
    present.add(entry.name);
    const listed = record.get(entry.name);
    if (!listed || !listed.hash) continue;
    const eq = listed.hash.indexOf('=');
    const algorithm = listed.hash.slice(0, eq).toLowerCase();
    if (eq <= 0 || !['sha256', 'sha384', 'sha512'].includes(algorithm)) continue;
    const actual = createHash(algorithm).update(content).digest('base64url');
    if (actual !== listed.hash.slice(eq + 1).replace(/=+$/, '')) problems.push({ path: `RECORD:${entry.name}`, message: `the ${algorithm} of ${entry.name} is not the one RECORD lists` });
    else if (listed.size && Number(listed.size) !== content.length) problems.push({ path: `RECORD:${entry.name}`, message: `${entry.name} is ${content.length} bytes but RECORD says ${listed.size}` });
  }
  for (const path of record.keys()) {
    if (!present.has(path)) problems.push({ path: `RECORD:${path}`, message: `RECORD lists ${path} but the wheel does not contain it` });
  }
  if (problems.length > 0) {
    throw new PitlaneError(422, 'WHEEL_MISMATCH', `the wheel's files contradict its RECORD: ${problems[0]?.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, problems.slice(0, 50));
  }

  return {
    ...parsed,
    metadataName,
    metadataVersion,
    requiresPython: metadata.get('requires-python')?.[0] ?? null,
    summary: metadata.get('summary')?.[0] ?? null,
    pure,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}

function zipFailure(error: unknown): PitlaneError {
  if (error instanceof ZipLimitError) return new PitlaneError(413, 'WHEEL_TOO_LARGE', `the wheel is too large: ${error.message}`, [{ path: 'file', message: error.message }]);
  if (error instanceof ZipError) {
    const where = error.entry ? ` (entry "${error.entry}")` : '';
    return new PitlaneError(400, 'WHEEL_CORRUPT', `the wheel is not a readable ZIP archive: ${error.message}${where}`, [{ path: error.entry ? `file:${error.entry}` : 'file', message: error.message }]);
  }
  throw error;
}
