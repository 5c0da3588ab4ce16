/**
 * Route options for endpoints that take JSON or multipart/form-data: multipart bodies are read in
 * the handler (`request.parts()`), so the JSON-schema validation is given an empty object for them.
 */
import type { FastifyRequest } from 'fastify';

/** Spread into a route's options: `{ ...multipartAware, schema: {...} }`. */
export const multipartAware = {
  preValidation: async (request: FastifyRequest): Promise<void> => {
    if (request.isMultipart()) request.body = {};
  },
};
