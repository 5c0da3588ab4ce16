/**
 * Keeping secret values out of text that gets stored or shown: build logs, error messages (pure).
 */

/** What a secret value is replaced with. */
export const REDACTED = '***';

/**
 * Replaces every occurrence of each value in `text` with `***`, longest values first (so a value
 * containing another is hidden whole). Each line (of 4 characters or more) of a multi-line value
 * is hidden too, because logs are split into lines before they are stored. Empty values are
 * ignored. Pure.
 * @param values the secret values (plain text).
 */
export function redactSecrets(text: string, values: readonly string[]): string {
  const needles = secretNeedles(values);
  let result = text;
  for (const needle of needles) {
    if (result.includes(needle)) result = result.split(needle).join(REDACTED);
  }
  return result;
}

/** The strings {@link redactSecrets} hides for `values`: each value and each of its lines of 4 or more characters, longest first, without duplicates. */
export function secretNeedles(values: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const value of values) {
    if (value === '') continue;
    needles.add(value);
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r?\n|\r/)) if (line.trim().length >= 4) needles.add(line);
    }
  }
  return [...needles].sort((a, b) => b.length - a.length);
}

/**
 * Wraps a line consumer so that every line passes through {@link redactSecrets} first.
 * With no values the consumer is returned unchanged.
 */
export function redactingLines(values: readonly string[], onLine: (line: string) => void): (line: string) => void {
  if (values.every((v) => v === '')) return onLine;
  return (line) => onLine(redactSecrets(line, values));
}
