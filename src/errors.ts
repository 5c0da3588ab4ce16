/**
 * Errors that cross module boundaries and become API responses.
 *
 * Every error the API returns has the JSON shape of DESIGN.md's "API errors" contract:
 * `{ "error": { "code": "MANIFEST_INVALID", "message": "...", "details": [...] } }`.
 */

/** One precise problem, pointing at a field path (`resources.memory_max`) or a line of a file. */
export interface ErrorDetail {
  /** Dotted field path, e.g. `git.remote` or `labels.team`; absent when the problem is not about one field. */
  path?: string;
  /** 1-based line in the source file (manifest YAML, Dockerfile) when known. */
  line?: number;
  /** 1-based column when known. */
  column?: number;
  /** Human-readable statement of the rule that was broken. */
  message: string;
}

/**
 * An error with an HTTP status and a stable machine-readable code.
 * Thrown by pure modules and I/O modules alike; the API turns it into a JSON response.
 */
export class PitlaneError extends Error {
  /**
   * @param status HTTP status the API answers with (400, 401, 403, 404, 409, 413, 422, 502, 503, 504).
   * @param code stable upper-snake-case code, e.g. `MANIFEST_INVALID`, `JOB_NOT_FOUND`.
   * @param message one-sentence summary.
   * @param details the individual problems, each naming its field or line.
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'PitlaneError';
  }

  /** The JSON body of DESIGN.md's error contract. */
  toJSON(): { error: { code: string; message: string; details: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** True when `value` is a {@link PitlaneError} (also across duplicated module instances). */
export function isPitlaneError(value: unknown): value is PitlaneError {
  return value instanceof PitlaneError || (value instanceof Error && value.name === 'PitlaneError' && 'status' in value);
}
