/**
 * Answers for requests Node's HTTP parser refuses before any route sees them (overlong headers,
 * malformed request lines, conflicting `Content-Length`/`Transfer-Encoding`, request timeouts):
 * the same JSON error shape as every other API error, then the connection is closed.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The status, code and message for a parser error (pure).
 * @param errorCode Node's `error.code`, e.g. `HPE_HEADER_OVERFLOW` → 431, `ERR_HTTP_REQUEST_TIMEOUT` → 408, anything else → 400.
 */
export function clientErrorAnswer(errorCode: string | undefined): { status: number; code: string; message: string } {
  if (errorCode === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'HEADERS_TOO_LARGE', message: 'the request headers are larger than the server accepts' };
  if (errorCode === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' };
  return { status: 400, code: 'BAD_HTTP_REQUEST', message: `the request is not valid HTTP${errorCode ? ` (${errorCode})` : ''}` };
}

/**
 * fastify's `clientErrorHandler`: writes `{error:{code,message,details:[]}}` with the status of
 * {@link clientErrorAnswer} when the socket can still be written, and closes it.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = clientErrorAnswer(error.code);
  const body = JSON.stringify({ error: { code: answer.code, message: answer.message, details: [] } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * fastify's `frameworkErrors`: errors its router raises before a route runs (a malformed
 * percent-encoding in the URL, a path parameter over the length limit) answered in the JSON error
 * shape with their own 4xx status (400, 414).
 */
export function frameworkErrorHandler(error: Error & { statusCode?: number; code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const code = error.code === 'FST_ERR_BAD_URL' ? 'URL_INVALID' : error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URL_TOO_LONG' : (error.code ?? 'BAD_REQUEST');
  void reply.status(status).send({ error: { code, message: error.message, details: [{ path: 'url', message: error.message }] } });
}
