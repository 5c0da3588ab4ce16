/**
 * Turns zod issues into the error details of the API error contract.
 */
import type { z } from 'zod';
import type { ErrorDetail } from '../errors.js';
import { unknownFieldMessage } from './did-you-mean.js';
import { KNOWN_FIELDS } from './schema.js';

/** Dotted path of zod path segments (`['labels', 'team']` → `labels.team`). */
export function dottedPath(segments: readonly PropertyKey[]): string {
  return segments.map((segment) => String(segment)).join('.');
}

/**
 * Maps zod issues to error details, one detail per problem.
 *
 * Unknown fields become one detail each, at `parent.field`, with a did-you-mean hint; invalid
 * record keys (`runtime_env.1BAD`) carry the key rule's message; everything else keeps the
 * schema's own message, which states the rule.
 *
 * @param issues `error.issues` of a failed `safeParse`.
 * @returns details with `path` set (omitted only for top-level problems). Never throws.
 */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const path = dottedPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = KNOWN_FIELDS[path] ?? [];
      for (const key of issue.keys) {
        details.push({ path: path === '' ? key : `${path}.${key}`, message: unknownFieldMessage(key, known) });
      }
    } else if (issue.code === 'invalid_key') {
      details.push({ path, message: issue.issues[0]?.message ?? issue.message });
    } else {
      details.push(path === '' ? { message: issue.message } : { path, message: issue.message });
    }
  }
  return details;
}
