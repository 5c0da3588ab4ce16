/**
 * The CLI config file, `$XDG_CONFIG_HOME/pitlane/config.json` (see {@link configFilePath} in
 * client.ts). Its shape:
 *
 *   {"url": "http://127.0.0.1:7300", "token": "pitlane_...",
 *    "servers": {"http://127.0.0.1:7300": {"token": "pitlane_..."}, "https://other": {"token": "..."}}}
 *
 * `url`/`token` are the default server and its token (the original format, still read as is);
 * `servers` keeps one token per server URL so that logging in to a second server does not forget
 * the first. Other fields are kept untouched. The file holds credentials: it is written with mode
 * 0600 in a directory with mode 0700, atomically (temporary file, then rename).
 *
 * The merge functions are pure; {@link readConfigFile} and {@link writeConfigFile} do the I/O.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The config file's content. Unknown fields are preserved by every function here. */
export interface CliConfig {
  /** Default server URL. */
  url?: string;
  /** Token for the default server (or, in files without `servers`, for any server). */
  token?: string;
  /** Tokens per normalised server URL. */
  servers?: Record<string, { token?: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

/**
 * The form of a server URL used as a key: scheme and host lower-cased, default port dropped, no
 * trailing slash, path kept (a server behind a path prefix), query and fragment dropped. A string
 * that is not an absolute URL comes back with only its trailing slashes removed. Pure.
 */
export function normaliseServerUrl(url: string): string {
  const trimmed = url.trim();
  try {
    const parsed = new URL(trimmed);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.replace(/\/+$/, '');
  } catch {
    return trimmed.replace(/\/+$/, '');
  }
}

/**
 * The stored token for server `url` (any spelling; compared normalised), or undefined. Files in
 * the original `{"url","token"}` format (no `servers`) give their `token` for every server, as
 * before; files with `servers` give the per-server token, or the top-level `token` only when `url`
 * is the file's default server, so a token never goes to a server it was not issued by. Pure.
 */
export function storedToken(config: CliConfig, url: string): string | undefined {
  const key = normaliseServerUrl(url);
  const servers = config.servers;
  if (servers === undefined || servers === null || typeof servers !== 'object') return typeof config.token === 'string' ? config.token : undefined;
  const entry = servers[key];
  if (entry && typeof entry.token === 'string' && entry.token !== '') return entry.token;
  if (typeof config.url === 'string' && normaliseServerUrl(config.url) === key && typeof config.token === 'string') return config.token;
  return undefined;
}

/**
 * A copy of `config` where `url` is the default server with `token`, also recorded under
 * `servers[url]`. Other servers' entries and unknown fields are kept. Pure.
 */
export function withServerToken(config: CliConfig, url: string, token: string): CliConfig {
  const key = normaliseServerUrl(url);
  const servers = { ...(isRecord(config.servers) ? config.servers : {}) };
  servers[key] = { ...(isRecord(servers[key]) ? servers[key] : {}), token };
  return { ...config, url: key, token, servers };
}

/**
 * A copy of `config` without the token of server `url`: its `servers` entry loses `token` (and is
 * removed when nothing else is left in it), and the top-level `token` goes too when `url` is the
 * default server (or the file has no `servers`, where that token served every URL). `url` stays,
 * so the next `pitlane login` targets the same server. Pure.
 */
export function withoutServerToken(config: CliConfig, url: string): CliConfig {
  const key = normaliseServerUrl(url);
  const next: CliConfig = { ...config };
  if (isRecord(config.servers)) {
    const servers = { ...config.servers };
    const entry = servers[key];
    if (isRecord(entry)) {
      const { token: _dropped, ...rest } = entry;
      if (Object.keys(rest).length === 0) delete servers[key];
      else servers[key] = rest;
    }
    next.servers = servers;
  }
  const isDefault = typeof config.url !== 'string' || normaliseServerUrl(config.url) === key;
  if (isDefault || !isRecord(config.servers)) delete next.token;
  return next;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the config file at `path`: `{}` when it does not exist.
 * @throws Error naming the file when it exists but is not a JSON object (it is never overwritten
 *   then: the user fixes or removes it).
 */
export function readConfigFile(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new Error(`the config file ${path} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
  if (!isRecord(parsed)) throw new Error(`the config file ${path} must hold a JSON object; fix or remove it`);
  return parsed as CliConfig;
}

/**
 * Writes `config` to `path` as indented JSON with mode 0600, atomically: a temporary file (created
 * 0600) in the same directory, then a rename, so the file never exists with wider permissions or
 * half-written. The directory is created with mode 0700 when missing, and set to 0700 when it
 * exists (it is Pitlane's own directory, e.g. `~/.config/pitlane`).
 * @throws Error from the file system (e.g. EACCES).
 */
export function writeConfigFile(path: string, config: CliConfig): void {
  const directory = dirname(path);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  chmodSync(directory, 0o700);
  const temporary = join(directory, `.config.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
