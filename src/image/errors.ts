/**
 * Error constructors of the image module. Every problem with the input (a corrupt, truncated or
 * unsafe archive, an invalid `.dive-ci` or structure-test file) becomes a {@link PitlaneError}
 * with a stable code, so the API answers 4xx with the reason instead of crashing.
 */
import { PitlaneError, type ErrorDetail } from '../errors.js';

/** Stable error codes raised by `src/image/`. */
export type ImageErrorCode =
  /** The archive is not a readable tar, or a JSON file in it does not parse (422). */
  | 'IMAGE_ARCHIVE_INVALID'
  /** The archive or a layer ends in the middle of an entry (422). */
  | 'IMAGE_ARCHIVE_TRUNCATED'
  /** A layer entry or archive member is absolute or contains `..` (422). */
  | 'IMAGE_ARCHIVE_UNSAFE_PATH'
  /** A configured limit (layers, entries, JSON size) was exceeded (422). */
  | 'IMAGE_ARCHIVE_TOO_LARGE'
  /** A layer uses a compression this Node cannot decode (zstd before Node 22.15) (422). */
  | 'IMAGE_LAYER_UNSUPPORTED'
  /** A layer's uncompressed sha256 differs from the config's `rootfs.diff_ids` (422, only with `verifyDigests`). */
  | 'IMAGE_LAYER_DIGEST_MISMATCH'
  /** The image stream itself failed (the engine aborted `docker save`, a read error) (502). */
  | 'IMAGE_SOURCE_FAILED'
  /** `.dive-ci` rules or the manifest's `image_checks` are invalid (400). */
  | 'IMAGE_CHECKS_INVALID'
  /** A container-structure-test file does not follow schema 2.0.0 (400). */
  | 'STRUCTURE_TESTS_INVALID';

/** A 422 error about the archive content. */
export function archiveError(code: ImageErrorCode, message: string, details: ErrorDetail[] = []): PitlaneError {
  return new PitlaneError(422, code, message, details);
}

/** A 400 error about a configuration the caller supplied. */
export function configError(code: ImageErrorCode, message: string, details: ErrorDetail[] = []): PitlaneError {
  return new PitlaneError(400, code, message, details);
}
