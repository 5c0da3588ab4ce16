/**
 * Mapping every error the API can meet to DESIGN.md's JSON error shape. Client errors keep their
 * 4xx status and name the field; anything unexpected is a 500 with no stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isPitlaneError, type ErrorDetail } from '../errors.js';
import { malformedMultipart } from './multipart.js';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function validationDetails(issues: ValidationIssue[], context: string | undefined): ErrorDetail[] {
  return issues.map((issue) => {
    const base = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const missing = issue.params?.missingProperty;
    const extra = issue.params?.additionalProperty;
    const path = [base, typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : ''].filter(Boolean).join('.');
    return {
      path: path ? `${context ?? 'body'}.${path}` : context ?? 'body',
      message: typeof extra === 'string' ? `unknown field "${extra}"` : issue.message ?? 'invalid',
    };
  });
}

/** Fastify error handler producing `{error:{code,message,details}}`. */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isPitlaneError(error)) {
    void reply.status(error.status).send(error.toJSON());
    return;
  }
  const malformed = malformedMultipart(error);
  if (malformed) {
    void reply.status(400).send(malformed.toJSON());
    return;
  }
  if (error.validation) {
    const details = validationDetails(error.validation as ValidationIssue[], error.validationContext);
    void reply.status(400).send({ error: { code: 'REQUEST_INVALID', message: `invalid request: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details } });
    return;
  }
  const status = error.statusCode ?? 500;
  if (status === 413 || error.code === 'FST_REQ_FILE_TOO_LARGE' || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    void reply.status(413).send({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the server accepts', details: [] } });
    return;
  }
  if (status >= 400 && status < 500) {
    void reply.status(status).send({ error: { code: error.code ?? 'BAD_REQUEST', message: error.message, details: [] } });
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.status(500).send({ error: { code: 'INTERNAL', message: `internal error (request ${request.id}); see the server log`, details: [] } });
}
