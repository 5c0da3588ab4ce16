/**
 * `POST /api/v1/lint`: lints a Dockerfile sent as text. Body `{dockerfile, config?, has_dockerignore?, format?}`
 * where `config` is a `.hadolint.yaml`-style object (or YAML text). Answers 200
 * `{findings, counts, failed, threshold, formatted?}`; `failed` follows the failure threshold
 * (default `error`, the threshold Pitlane's builds use).
 */
import type { FastifyInstance } from 'fastify';
import { PitlaneError } from '../errors.js';
import {
  exceedsThreshold,
  formatFindings,
  lintConfigFromObject,
  lintDockerfile,
  parseLintConfig,
  type FailureThreshold,
  type OutputFormat,
} from '../dockerfile/index.js';

/** Registers the lint route. */
export function registerLintRoutes(app: FastifyInstance, maxDockerfileBytes: number): void {
  app.post(
    '/api/v1/lint',
    {
      config: { auth: { authenticated: true } },
      schema: {
        description: 'Lint a Dockerfile with hadolint\'s DL rules and Pitlane\'s PL rules.',
        body: {
          type: 'object',
          required: ['dockerfile'],
          additionalProperties: false,
          properties: {
            dockerfile: { type: 'string', description: 'The Dockerfile text.' },
            config: { description: '.hadolint.yaml settings: an object or YAML text (ignored, trustedRegistries, override, failure-threshold, label-schema).' },
            has_dockerignore: { type: 'boolean', default: true, description: 'Whether the build context has a .dockerignore (PL1009).' },
            format: { type: 'string', enum: ['json', 'sarif', 'checkstyle', 'codeclimate', 'tty'], description: 'Also return the findings rendered in this format.' },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as { dockerfile: string; config?: unknown; has_dockerignore: boolean; format?: OutputFormat };
      if (Buffer.byteLength(body.dockerfile) > maxDockerfileBytes) {
        throw new PitlaneError(413, 'PAYLOAD_TOO_LARGE', `the Dockerfile is larger than ${maxDockerfileBytes} bytes`);
      }
      let config;
      try {
        config = typeof body.config === 'string' ? parseLintConfig(body.config) : lintConfigFromObject(body.config, 'config');
      } catch (error) {
        const e = error as PitlaneError;
        throw new PitlaneError(400, 'LINT_CONFIG_INVALID', e.message, e.details);
      }
      const result = lintDockerfile(body.dockerfile, { ...config, hasDockerignore: body.has_dockerignore });
      const threshold: FailureThreshold = config.failureThreshold ?? 'error';
      return {
        findings: result.findings,
        counts: result.counts,
        threshold,
        failed: exceedsThreshold(result.findings, threshold),
        ...(body.format ? { formatted: formatFindings(result, body.format, 'Dockerfile', { color: false }) } : {}),
      };
    },
  );
}
