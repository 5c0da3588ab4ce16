/**
 * Route options for endpoints that take JSON or multipart/form-data: multipart bodies are read in
 * the handler (`request.parts()`), so the JSON-schema validation is given an empty object for them.
 */
import type { FastifyRequest } from 'fastify';
import { PitlaneError } from '../errors.js';

/** Spread into a route's options: `{ ...multipartAware, schema: {...} }`. */
export const multipartAware = {
  preValidation: async (request: FastifyRequest): Promise<void> => {
    if (request.isMultipart()) request.body = {};
  },
};

/** Messages busboy gives a body that is not valid multipart (it raises plain errors without a status). */
const MALFORMED_MULTIPART =
  /^(Unexpected end of multipart data|(Part|Preamble) terminated early due to unexpected end of multipart data|Multipart: Boundary not found|Boundary required|The needle cannot|Unsupported Content-Type|Missing Content-Type)/;

/**
 * The 400 for an error raised while parsing a multipart body that is not valid multipart
 * (truncated, no boundary, malformed part headers), or undefined for any other error.
 */
export function malformedMultipart(error: Error & { statusCode?: number }): PitlaneError | undefined {
  if (error.statusCode !== undefined || !MALFORMED_MULTIPART.test(error.message)) return undefined;
  return new PitlaneError(400, 'MULTIPART_INVALID', `the multipart/form-data body is malformed: ${error.message}`, [{ path: 'body', message: error.message }]);
}
