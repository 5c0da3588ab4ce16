/**
 * Text helpers shared by the parser, the rules and the fixer: line tables, the logical
 * (continuation-joined) text of an instruction with a map back to file offsets, image references.
 */

/** Offsets of the first character of every line; line breaks are `\r\n`, `\n` or `\r` (as LSP TextDocument). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return starts;
}

/** 0-based line index holding `offset` (binary search over {@link lineStarts}). */
export function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Text with a per-character map to offsets in the file it was cut from. */
export interface MappedText {
  /** The joined text. */
  text: string;
  /** `map[i]` is the file offset of `text[i]`; `map[text.length]` is the end offset. */
  map: number[];
}

/**
 * Joins an instruction's argument text the way BuildKit reads it: an escape character (`\` or
 * the `# escape=` one) followed by optional blanks and a line break continues the line; comment
 * lines and empty lines inside a continuation are dropped. Once the first logical line ends, the
 * rest (here-document bodies) is copied verbatim when `keepRest` is set.
 *
 * @param text the whole Dockerfile.
 * @param from first offset to read.
 * @param to offset to stop at (exclusive).
 * @param escape the escape character.
 * @param keepRest copy text after the first logical line as-is (heredoc bodies); otherwise stop there.
 */
export function joinContinuations(text: string, from: number, to: number, escape: string, keepRest: boolean): MappedText {
  let out = '';
  const map: number[] = [];
  let i = from;
  const esc = escape.charCodeAt(0);
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === esc) {
      let j = i + 1;
      while (j < to && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j++;
      const isBreak = j >= to || text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13;
      if (isBreak) {
        if (j < to && text.charCodeAt(j) === 13) j++;
        if (j < to && text.charCodeAt(j) === 10) j++;
        i = j;
        // Skip comment lines and empty lines that sit inside the continuation.
        for (;;) {
          let k = i;
          while (k < to && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k++;
          if (k < to && text.charCodeAt(k) === 35) {
            while (k < to && text.charCodeAt(k) !== 10 && text.charCodeAt(k) !== 13) k++;
            if (k < to && text.charCodeAt(k) === 13) k++;
            if (k < to && text.charCodeAt(k) === 10) k++;
            i = k;
            continue;
          }
          if (k < to && (text.charCodeAt(k) === 10 || text.charCodeAt(k) === 13)) {
            if (text.charCodeAt(k) === 13) k++;
            if (k < to && text.charCodeAt(k) === 10) k++;
            i = k;
            continue;
          }
          break;
        }
        continue;
      }
      out += text[i];
      map.push(i);
      i++;
      continue;
    }
    if (c === 10 || c === 13) {
      if (!keepRest) break;
      // Rest of the instruction (heredoc bodies) verbatim, with \r\n normalised to \n.
      while (i < to) {
        if (text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10) {
          i++;
          continue;
        }
        out += text.charCodeAt(i) === 13 ? '\n' : text[i];
        map.push(i);
        i++;
      }
      break;
    }
    out += text[i];
    map.push(i);
    i++;
  }
  map.push(Math.min(i, to));
  return { text: out, map };
}

/** A parsed image reference `[registry/]name[:tag][@digest]`. */
export interface ImageRef {
  /** Registry host (contains `.` or `:`, or is `localhost`), when given. */
  registry?: string;
  /** Repository path without registry, e.g. `library/ubuntu` or `ubuntu`. */
  name: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference; variables are kept as text. Returns undefined for an empty string. */
export function parseImageRef(ref: string): ImageRef | undefined {
  let rest = ref.trim();
  if (rest === '') return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const out: ImageRef = { name: rest };
  if (registry !== undefined) out.registry = registry;
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** Removes one pair of surrounding single or double quotes (hadolint's `dropQuotes` drops all of them around). */
export function dropQuotes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === '"' || s[a] === "'")) a++;
  while (b > a && (s[b - 1] === '"' || s[b - 1] === "'")) b--;
  return s.slice(a, b);
}
