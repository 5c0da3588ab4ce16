/**
 * Matching layers to the image config's `history` (pure logic), as dive does in
 * `dive/image/docker/image_archive.go ToImage`: history entries flagged `empty_layer`
 * (ENV, CMD, LABEL...) are skipped, the others are taken in order, one per layer;
 * a layer without a matching entry gets `(missing)`.
 */
import type { ImageConfigJson } from './archive-layout.js';

/** The history entry matched to one layer. */
export interface LayerHistory {
  /** Index into `history`, `null` when no entry matched. */
  historyIndex: number | null;
  /** Raw `created_by`, `null` when no entry matched. */
  createdBy: string | null;
  /** `created` timestamp, `null` when absent. */
  created: string | null;
  /** dive's `Command`: `created_by` without a leading `/bin/sh -c `, or `(missing)`. */
  command: string;
  /** Cleaned Dockerfile instruction, `null` when no entry matched. */
  instruction: string | null;
}

/** Matches `layerCount` layers (bottom to top) to `history`, with dive's exact loop. */
export function matchLayerHistory(history: ImageConfigJson['history'], layerCount: number): LayerHistory[] {
  const h = Array.isArray(history) ? history : [];
  const out: LayerHistory[] = [];
  let histIdx = 0;
  for (let idx = 0; idx < layerCount; idx++) {
    let matched: number | null = null;
    for (let next = histIdx; next < h.length; next++) {
      if (!h[next]?.empty_layer) {
        histIdx = next;
        break;
      }
    }
    if (histIdx < h.length && !h[histIdx]?.empty_layer) {
      matched = histIdx;
      histIdx++;
    }
    const entry = matched === null ? undefined : h[matched];
    const createdBy = typeof entry?.created_by === 'string' ? entry.created_by : matched === null ? null : '';
    out.push({
      historyIndex: matched,
      createdBy,
      created: typeof entry?.created === 'string' ? entry.created : null,
      command: createdBy === null ? '(missing)' : createdBy.startsWith('/bin/sh -c ') ? createdBy.slice('/bin/sh -c '.length) : createdBy,
      instruction: createdBy === null ? null : instructionFromCreatedBy(createdBy),
    });
  }
  return out;
}

/**
 * Turns a history `created_by` into the Dockerfile instruction it came from:
 * `/bin/sh -c #(nop) COPY file:ab.. in / ` -> `COPY file:ab.. in /`;
 * `/bin/sh -c apt-get update` -> `RUN apt-get update`;
 * `|2 A=1 B=2 /bin/sh -c make` (legacy builder with build args) -> `RUN make`;
 * BuildKit's `RUN /bin/sh -c make # buildkit` -> `RUN make`.
 */
export function instructionFromCreatedBy(createdBy: string): string {
  let s = createdBy.trim().replace(/\s*# buildkit$/, '');
  const nop = /^\/bin\/sh -c #\(nop\)\s*([\s\S]*)$/.exec(s);
  if (nop) return nop[1]!.trim();
  s = s.replace(/^\|\d+(?: \S+=\S*)* (?=\/bin\/sh -c )/, '');
  const sh = /^\/bin\/sh -c ([\s\S]*)$/.exec(s);
  if (sh) return `RUN ${sh[1]!.trim()}`;
  const bk = /^RUN (?:\|\d+(?: \S+=\S*)* )?\/bin\/sh -c ([\s\S]*)$/.exec(s);
  if (bk) return `RUN ${bk[1]!.trim()}`;
  return s;
}
