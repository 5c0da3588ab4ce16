/**
 * Small re-implementations of Go standard-library and go-humanize behaviour that dive and
 * container-structure-test expose in their output and configuration (pure logic):
 * `os.FileMode` and its `String()`, `archive/tar` `FileInfo().Mode()`, `humanize.Bytes`,
 * `humanize.ParseBytes`, and Go `regexp` pattern translation.
 */

/** Go `os.FileMode` type bits. */
export const GoMode = {
  Dir: 2 ** 31,
  Append: 2 ** 30,
  Exclusive: 2 ** 29,
  Temporary: 2 ** 28,
  Symlink: 2 ** 27,
  Device: 2 ** 26,
  NamedPipe: 2 ** 25,
  Socket: 2 ** 24,
  Setuid: 2 ** 23,
  Setgid: 2 ** 22,
  CharDevice: 2 ** 21,
  Sticky: 2 ** 20,
  Irregular: 2 ** 19,
} as const;

/**
 * Go's `tar.Header.FileInfo().Mode()`: permission bits, setuid/setgid/sticky, and type bits from
 * both the mode's `S_IFMT` bits and the tar type flag (e.g. 53 `'5'` -> directory).
 */
export function goFileModeFromTar(mode: number, typeflag: number): number {
  let m = mode & 0o777;
  if (mode & 0o4000) m += GoMode.Setuid;
  if (mode & 0o2000) m += GoMode.Setgid;
  if (mode & 0o1000) m += GoMode.Sticky;
  let type = 0;
  switch (mode & 0o170000) {
    case 0o040000:
      type = GoMode.Dir;
      break;
    case 0o010000:
      type = GoMode.NamedPipe;
      break;
    case 0o120000:
      type = GoMode.Symlink;
      break;
    case 0o060000:
      type = GoMode.Device;
      break;
    case 0o020000:
      type = GoMode.Device + GoMode.CharDevice;
      break;
    case 0o140000:
      type = GoMode.Socket;
      break;
  }
  switch (typeflag) {
    case 0x32:
      type = GoMode.Symlink;
      break;
    case 0x33:
      type = GoMode.Device + GoMode.CharDevice;
      break;
    case 0x34:
      type = GoMode.Device;
      break;
    case 0x35:
      type = GoMode.Dir;
      break;
    case 0x36:
      type = GoMode.NamedPipe;
      break;
  }
  return m + type;
}

/** Converts a Unix `st_mode` (type bits `S_IFMT` plus permissions, e.g. `0o100755`) to a Go `os.FileMode`. */
export function goFileModeFromUnix(stMode: number): number {
  const typeflag = { 0o040000: 0x35, 0o120000: 0x32, 0o020000: 0x33, 0o060000: 0x34, 0o010000: 0x36 }[stMode & 0o170000] ?? 0x30;
  return goFileModeFromTar(stMode, typeflag);
}

/** Go's `os.FileMode.String()`, e.g. `drwxr-xr-x`, `-rw-r--r--`, `Lrwxrwxrwx`, `dtrwxrwxrwx`, `urwxr-xr-x`. */
export function goFileModeString(fileMode: number): string {
  const letters = 'dalTLDpSugct?';
  let out = '';
  for (let i = 0; i < letters.length; i++) {
    if (Math.floor(fileMode / 2 ** (31 - i)) % 2 === 1) out += letters[i];
  }
  if (out === '') out = '-';
  const rwx = 'rwxrwxrwx';
  for (let i = 0; i < 9; i++) out += fileMode & (1 << (8 - i)) ? rwx[i] : '-';
  return out;
}

/** go-humanize `Bytes` (SI units, base 1000): `82854982` -> `83 MB`, `7000` -> `7.0 kB`, `9` -> `9 B`. */
export function humanizeBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (bytes < 10) return `${bytes} B`;
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(bytes) / Math.log(1000));
  const val = Math.floor((bytes / 1000 ** e) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${sizes[e]}` : `${val.toFixed(0)} ${sizes[e]}`;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1e18,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

/**
 * go-humanize `ParseBytes`: a decimal number (commas allowed) and an optional unit, case-insensitive,
 * SI (`20MB` = 20,000,000, `20Mb` too) or IEC (`20MiB` = 20,971,520). Returns `null` when unparseable.
 */
export function parseHumanBytes(text: string): number | null {
  let i = 0;
  while (i < text.length && /[0-9.,]/.test(text[i]!)) i++;
  const num = text.slice(0, i).replace(/,/g, '');
  if (!/^(\d+\.?\d*|\.\d+)$/.test(num)) return null;
  const unit = BYTE_UNITS[text.slice(i).trim().toLowerCase()];
  if (unit === undefined) return null;
  return Math.trunc(Number(num) * unit);
}

/**
 * Compiles a Go (RE2) pattern as a JavaScript `RegExp`. Leading inline flags `(?i)`, `(?s)`,
 * `(?m)` become JS flags; `\A` and `\z` become start/end-of-input assertions. Throws `SyntaxError` when the
 * pattern is not valid (or uses Go-only syntax such as `(?U)` or `\C`).
 */
export function compileGoRegex(pattern: string): RegExp {
  let flags = '';
  let body = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') throw new SyntaxError(`unsupported Go regexp flag (?U) in '${pattern}'`);
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(lead[0].length);
  }
  body = body.replace(/\\A/g, '(?<![\\s\\S])').replace(/\\z/g, '(?![\\s\\S])');
  return new RegExp(body, flags);
}
