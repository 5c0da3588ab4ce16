/**
 * Unified diff of two texts (for `pitlane lint --fix --diff`), line-based with Myers' O(ND)
 * algorithm and three lines of context, in the format `diff -u` / `git diff` print.
 */

type Op = { kind: ' ' | '-' | '+'; line: string; a: number; b: number };

function splitLines(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === '') return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith('\n');
  const body = finalNewline ? text.slice(0, -1) : text;
  return { lines: body.split('\n'), finalNewline };
}

/** Myers diff: the edit script turning `a` into `b`. */
function myers(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1]! < v[max + k + 1]!) ? v[max + k + 1]! : v[max + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Backtrack.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[max + k - 1]! < vd[max + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[max + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1]!, a: x - 1, b: y - 1 });
      x--;
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push({ kind: '+', line: b[y - 1]!, a: x, b: y - 1 });
    else ops.push({ kind: '-', line: a[x - 1]!, a: x - 1, b: y });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: ' ', line: a[x - 1]!, a: x - 1, b: y - 1 });
    x--;
    y--;
  }
  return ops.reverse();
}

/**
 * Renders a unified diff.
 *
 * @param before original text.
 * @param after changed text.
 * @param fileName shown as `a/<fileName>` and `b/<fileName>`.
 * @param context lines of context around changes (default 3).
 * @returns the diff, ending with a newline; the empty string when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, fileName: string, context = 3): string {
  if (before === after) return '';
  const A = splitLines(before);
  const B = splitLines(after);
  // Compare with a marker on the last line when the final newline differs, so the change shows.
  const a = A.lines.slice();
  const b = B.lines.slice();
  if (!A.finalNewline && a.length) a[a.length - 1] += '\u0000nonl';
  if (!B.finalNewline && b.length) b[b.length - 1] += '\u0000nonl';
  const ops = myers(a, b);
  const out: string[] = [`--- a/${fileName}`, `+++ b/${fileName}`];
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i]!.kind === ' ') i++;
    if (i >= ops.length) break;
    let start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are within 2*context of each other.
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next]!.kind === ' ') next++;
      if (next < ops.length && next - end <= 2 * context) {
        end = next;
        continue;
      }
      end = Math.min(ops.length, end + context);
      break;
    }
    const hunk = ops.slice(start, end);
    const aStart = hunk.find((o) => o.kind !== '+')?.a ?? hunk[0]!.a;
    const bStart = hunk.find((o) => o.kind !== '-')?.b ?? hunk[0]!.b;
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aLen === 0 ? aStart : aStart + 1},${aLen} +${bLen === 0 ? bStart : bStart + 1},${bLen} @@`);
    for (const o of hunk) {
      const noNl = o.line.endsWith('\u0000nonl');
      out.push(o.kind + (noNl ? o.line.slice(0, -5) : o.line));
      if (noNl) out.push('\\ No newline at end of file');
    }
    i = end;
    start = end;
  }
  return out.join('\n') + '\n';
}
