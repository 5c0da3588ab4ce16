/**
 * "Did you mean ...?" hints for misspelt field names.
 */

/**
 * Levenshtein edit distance between two strings (insertions, deletions and substitutions each cost 1).
 *
 * @param a first string.
 * @param b second string.
 * @returns the number of single-character edits turning `a` into `b` (0 when equal). Never throws.
 */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known name closest to `unknown`, if one is close enough to be a plausible typo.
 *
 * "Close" means a case-insensitive Levenshtein distance of at most 2, or one name being a prefix
 * of the other with at least 3 characters in common (`owner` → `owner_email`, `memory` → `memory_max`).
 * Typos win over truncations, which win over over-long names; then the smallest distance, then the
 * earliest in `known`.
 *
 * @param unknown the name that was not recognised (e.g. `owner_emial`).
 * @param known the names accepted at that position.
 * @returns the suggested known name, or `undefined` when none is close. Never throws.
 */
export function closestName(unknown: string, known: readonly string[]): string | undefined {
  const needle = unknown.toLowerCase();
  let best: { name: string; tier: number; distance: number } | undefined;
  for (const name of known) {
    const candidate = name.toLowerCase();
    const distance = levenshtein(needle, candidate);
    if (distance >= Math.max(needle.length, candidate.length)) continue; // nothing in common at all
    const prefixOk = Math.min(needle.length, candidate.length) >= 3;
    // Tiers: a small typo, then a truncated name (`owner` → `owner_email`), then an over-long one (`dockerfile` → `docker`).
    const tier = distance <= 2 ? 0 : prefixOk && candidate.startsWith(needle) ? 1 : prefixOk && needle.startsWith(candidate) ? 2 : undefined;
    if (tier === undefined) continue;
    if (best === undefined || tier < best.tier || (tier === best.tier && distance < best.distance)) best = { name, tier, distance };
  }
  return best?.name;
}

/**
 * The message for a field that the schema does not know at a closed level.
 *
 * @param unknown the unrecognised field name.
 * @param known the fields accepted at that level.
 * @returns e.g. `unknown field "owner_emial"; did you mean "owner_email"?`, or, without a close
 *   match, `unknown field "foo"; known fields: name, owner_email, ...`.
 */
export function unknownFieldMessage(unknown: string, known: readonly string[]): string {
  const suggestion = closestName(unknown, known);
  if (suggestion !== undefined) return `unknown field ${JSON.stringify(unknown)}; did you mean ${JSON.stringify(suggestion)}?`;
  return `unknown field ${JSON.stringify(unknown)}; known fields: ${known.join(', ')}`;
}
