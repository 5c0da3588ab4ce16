/**
 * Kubernetes-style resource quantities: memory (`512Mi`, `1G`, `1073741824`) and CPU (`0.5`, `500m`).
 */
import { PitlaneError } from '../errors.js';

const MEMORY_SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

const MEMORY_RE = /^(\d+(?:\.\d+)?|\.\d+)([A-Za-z]*)$/;
const CPU_RE = /^(?:(\d+(?:\.\d*)?|\.\d+)|(\d+)m)$/;

function quantityError(kind: string, input: unknown, rule: string): PitlaneError {
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return new PitlaneError(400, 'INVALID_QUANTITY', `invalid ${kind} quantity ${shown}: ${rule}`);
}

/**
 * Parses a Kubernetes memory quantity into bytes.
 *
 * Accepted: a plain number of bytes (`1073741824`), decimal suffixes `k`, `M`, `G`, `T`, `P`
 * (powers of 1000) and binary suffixes `Ki`, `Mi`, `Gi`, `Ti`, `Pi` (powers of 1024). A fractional
 * number is allowed before a suffix (`1.5Gi`); the result is rounded up to a whole byte, as Kubernetes does.
 *
 * @param s the quantity, e.g. `512Mi` (→ 536870912) or `1G` (→ 1000000000). No spaces, no sign.
 * @returns the size in bytes: a non-negative safe integer.
 * @throws PitlaneError 400 `INVALID_QUANTITY` when `s` is not such a quantity (including `m`,
 *   which means milli-bytes in Kubernetes and is almost always a typo for `Mi`), or exceeds 2^53 - 1 bytes.
 */
export function parseQuantityBytes(s: string): number {
  const rule = 'expected a whole number of bytes or a number with a suffix Ki, Mi, Gi, Ti (binary) or k, M, G, T (decimal), e.g. 512Mi';
  if (typeof s !== 'string') throw quantityError('memory', s, rule);
  const match = MEMORY_RE.exec(s);
  if (!match) throw quantityError('memory', s, rule);
  const [, digits = '', suffix = ''] = match;
  const factor = MEMORY_SUFFIXES[suffix];
  if (factor === undefined) {
    const hint = suffix === 'm' ? ` (\`m\` means milli; did you mean ${digits}Mi?)` : '';
    throw quantityError('memory', s, `unknown suffix "${suffix}"${hint}; ${rule}`);
  }
  if (suffix === '' && !/^\d+$/.test(digits)) throw quantityError('memory', s, `a plain number of bytes must be a whole number; ${rule}`);
  const bytes = Math.ceil(Number(digits) * factor - 1e-6);
  if (!Number.isSafeInteger(bytes)) throw quantityError('memory', s, 'the value is too large');
  return Math.max(bytes, 0);
}

/**
 * Parses a Kubernetes CPU quantity into cores.
 *
 * @param s cores as a number (`2`, `0.5`) or a string: decimal cores (`"0.5"`, `"2"`) or whole
 *   millicores with the `m` suffix (`"500m"` → 0.5).
 * @returns the number of cores, a finite non-negative number (e.g. 0.25 for `250m`).
 * @throws PitlaneError 400 `INVALID_QUANTITY` for anything else: negative or non-finite numbers,
 *   other suffixes, spaces, empty strings.
 */
export function parseCpuCores(s: string | number): number {
  const rule = 'expected a number of cores such as 0.5 or 2, or millicores such as 500m';
  if (typeof s === 'number') {
    if (!Number.isFinite(s) || s < 0) throw quantityError('CPU', s, rule);
    return s;
  }
  if (typeof s !== 'string') throw quantityError('CPU', s, rule);
  const match = CPU_RE.exec(s);
  if (!match) throw quantityError('CPU', s, rule);
  const [, cores, millicores] = match;
  const value = cores !== undefined ? Number(cores) : Number(millicores) / 1000;
  if (!Number.isFinite(value)) throw quantityError('CPU', s, 'the value is too large');
  return value;
}
