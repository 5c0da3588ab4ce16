/**
 * `GET /api/v1/images/{ref}/report`: the image report of an image on the engine (`ref` URL-encoded,
 * e.g. `pitlane-job%2Fsum-numbers%3A0.0.1`, or an image id). `?format=dive` gives dive's export shape.
 */
import type { FastifyInstance } from 'fastify';
import { PitlaneError } from '../errors.js';
import type { ImageChecker } from '../deploy/index.js';
import { toDiveExport } from '../image/index.js';
import { imageRefProblem } from '../manifest/index.js';

/** Registers the image routes. */
export function registerImageRoutes(app: FastifyInstance, checker: ImageChecker): void {
  app.get(
    '/api/v1/images/:ref/report',
    {
      config: { auth: { scope: 'read_job' } },
      schema: {
        description: "Image report: layers, dive's efficiency, wasted bytes and wasted user percent, reclaimable bytes, top inefficient files.",
        params: { type: 'object', required: ['ref'], properties: { ref: { type: 'string', maxLength: 512 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['pitlane', 'dive'], default: 'pitlane' } } },
      },
    },
    async (request) => {
      const { ref } = request.params as { ref: string };
      const { format } = request.query as { format: 'pitlane' | 'dive' };
      // A reference by Docker's grammar (the manifest's rule) or an image id (`sha256:<hex>` or a hex prefix).
      const problem = /^(sha256:)?[a-f0-9]{12,64}$/.test(ref) ? undefined : imageRefProblem(ref);
      if (problem !== undefined) throw new PitlaneError(400, 'IMAGE_REFERENCE_INVALID', `"${ref}" is not an image reference or id: ${problem}`, [{ path: 'ref', message: problem }]);
      let report;
      try {
        report = await checker.report(ref);
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status === 404) throw new PitlaneError(404, 'IMAGE_NOT_FOUND', `no image "${ref}" on the engine`);
        if (status === 400) throw new PitlaneError(400, 'IMAGE_REFERENCE_INVALID', `the engine refused "${ref}": ${(error as Error).message}`, [{ path: 'ref', message: 'refused by the engine' }]);
        throw error;
      }
      return format === 'dive' ? toDiveExport(report) : report;
    },
  );
}
