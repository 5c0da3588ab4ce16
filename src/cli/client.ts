/**
 * The HTTP client the CLI uses to talk to a Pitlane server. The server URL comes from
 * `PITLANE_URL` (default `http://127.0.0.1:7300`), the token from `PITLANE_TOKEN`, or else from
 * the config file `$XDG_CONFIG_HOME/pitlane/config.json` (`{"url": ..., "token": ...}`, plus the
 * per-server tokens `pitlane login` stores under `servers`: see config-file.ts).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { storedToken, type CliConfig } from './config-file.js';

/** Where the CLI finds the server. */
export interface ClientSettings {
  url: string;
  token: string | undefined;
}

/** Path of the CLI config file. */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'pitlane', 'config.json');
}

/** Resolves the server URL and token from the environment and the config file. */
export function clientSettings(env: NodeJS.ProcessEnv): ClientSettings {
  let file: CliConfig = {};
  try {
    file = (JSON.parse(readFileSync(configFilePath(env), 'utf8')) ?? {}) as typeof file;
  } catch {
    file = {};
  }
  const url = (env.PITLANE_URL || file.url || 'http://127.0.0.1:7300').replace(/\/+$/, '');
  return { url, token: env.PITLANE_TOKEN || storedToken(file, url) };
}

/** An error answer from the server, with DESIGN.md's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path?: string; line?: number; message: string }[],
  ) {
    super(message);
  }
}

/** Thin JSON client over undici. */
export class PitlaneClient {
  constructor(readonly settings: ClientSettings) {}

  /** Headers carrying the token. */
  authHeaders(): Record<string, string> {
    return this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {};
  }

  /**
   * Sends a request and returns the raw response (for streams and gateway calls). Uses node:http
   * (not undici) so that CLI commands start fast. A `FormData` body is sent as multipart/form-data.
   * @throws Error when the server cannot be reached.
   */
  async raw(method: string, path: string, options: { body?: string | Buffer | FormDataLike; headers?: Record<string, string> } = {}): Promise<RawResponse> {
    let body = options.body;
    const headers: Record<string, string> = { ...this.authHeaders(), ...options.headers };
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      const encoded = await encodeMultipart(body);
      body = encoded.body;
      headers['content-type'] = encoded.contentType;
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const url = new URL(`${this.settings.url}${path}`);
    // node:https only when needed (its TLS stack costs start-up time). Over plain HTTP an empty
    // servername spares Node's agent its first-use TLS server-name guess (an IP-address regular
    // expression that costs several ms of CPU at start-up); it is unused without TLS.
    const https = url.protocol === 'https:';
    const send = https ? (await import('node:https')).request : httpRequest;
    const requestOptions = https ? { method, headers } : ({ method, headers, servername: '' } as { method: string; headers: Record<string, string> });
    return new Promise<RawResponse>((resolve, reject) => {
      const req = send(url, requestOptions, (res) => resolve(wrapResponse(res)));
      req.on('error', (error) =>
        reject(new Error(`cannot reach Pitlane at ${this.settings.url} (${error.message}); is \`pitlane serve\` running? Set PITLANE_URL otherwise`)),
      );
      req.end(body);
    });
  }

  /**
   * Sends a JSON request and parses the JSON answer.
   * @throws ApiError for 4xx/5xx answers.
   */
  async json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.raw(method, path, {
      body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    });
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (response.statusCode >= 400) throw toApiError(response.statusCode, parsed);
    return parsed as T;
  }
}

/** A FormData as built by any implementation (global or undici's). */
export interface FormDataLike {
  entries(): IterableIterator<[string, unknown]>;
}

/** A response: status, headers and a body stream with undici-style helpers. */
export interface RawResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage & { text(): Promise<string>; json(): Promise<unknown>; dump(): Promise<void> };
}

function wrapResponse(res: IncomingMessage): RawResponse {
  const body = Object.assign(res, {
    async text(): Promise<string> {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    async json(): Promise<unknown> {
      return JSON.parse(await body.text());
    },
    async dump(): Promise<void> {
      res.resume();
      await new Promise<void>((resolve) => (res.readableEnded ? resolve() : res.once('end', () => resolve())));
    },
  });
  return { statusCode: res.statusCode ?? 0, headers: res.headers, body };
}

/** Serialises a FormData to a multipart body with the platform's own encoder (the fetch Response). */
async function encodeMultipart(form: FormDataLike): Promise<{ body: Buffer; contentType: string }> {
  const native = new FormData();
  for (const [key, value] of form.entries()) {
    if (typeof value === 'string') native.append(key, value);
    else native.append(key, value as Blob, (value as File).name ?? 'blob');
  }
  const response = new Response(native);
  return { body: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? 'multipart/form-data' };
}

/** Turns an error answer into an {@link ApiError}. */
export function toApiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: string; message?: string; details?: ApiError['details'] } } | undefined)?.error;
  if (error) return new ApiError(status, error.code ?? 'ERROR', error.message ?? `HTTP ${status}`, error.details ?? []);
  return new ApiError(status, 'ERROR', typeof body === 'string' && body ? body.slice(0, 500) : `HTTP ${status}`, []);
}
