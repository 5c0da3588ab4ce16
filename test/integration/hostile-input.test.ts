/**
 * The hostile-input suite: well over 100 table-driven hostile requests against one real Pitlane
 * server (malformed JSON and HTTP, wrong types, huge bodies, archive traversal and symlink escapes,
 * tar and gzip bombs, bad multipart, hostile manifests and run specs, bad image references, git
 * transport and option injection, path traversal in URLs, bad ids and query parameters, overlong
 * headers). Every one must get a 4xx with the JSON error shape `{error:{code,message,details}}`:
 * never a 5xx, never a crash, never a file written outside the data directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PitlaneProcess } from './helpers/pitlane.js';

const NONCE = randomBytes(6).toString('hex');
/** Every escape attempt aims at a path with this prefix; none may exist afterwards. */
const ESCAPE = `/tmp/pitlane-escape-${NONCE}`;
/** A directory whose content must not change. */
const SENTINEL = mkdtempSync(join(tmpdir(), 'pitlane-hostile-sentinel-'));
writeFileSync(join(SENTINEL, 'keep.txt'), 'untouched\n');
/** The one host directory runs may mount from; it holds links leading elsewhere. */
const ALLOWED = mkdtempSync(join(tmpdir(), 'pitlane-hostile-allowed-'));
mkdirSync(join(ALLOWED, 'data'));
symlinkSync('/var/run/docker.sock', join(ALLOWED, 'sock'));
symlinkSync('/etc', join(ALLOWED, 'etc'));
symlinkSync('..', join(ALLOWED, 'up'));
symlinkSync(SENTINEL, join(ALLOWED, 'sentinel'));

const MAX_UPLOAD = 1024 * 1024;
const MAX_DOCKERFILE = 64 * 1024;
const server = new PitlaneProcess({
  PITLANE_RUN_HOST_PATHS: ALLOWED,
  PITLANE_TRUSTED_REGISTRIES: 'registry.example.com, *.trusted.example',
  PITLANE_MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
  PITLANE_MAX_DOCKERFILE_BYTES: String(MAX_DOCKERFILE),
  PITLANE_RUN_CONCURRENCY: '1',
});

// ---------------------------------------------------------------------------------------------
// Request helpers

interface Answer {
  status: number;
  text: string;
  json: any;
}

interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Admin token unless null (no token) or another string. */
  token?: string | null;
  /** Send the path byte for byte over TCP (an HTTP client would remove `..` segments). */
  verbatim?: boolean;
}

/** Sends one request with undici; the body goes as given. */
async function send(req: Req): Promise<Answer> {
  const token = req.token === undefined ? server.token : req.token;
  if (req.verbatim) {
    const headers = { host: '127.0.0.1', connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}), ...req.headers, 'content-length': String(req.body?.length ?? 0) };
    const head = `${req.method} ${req.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    return sendRaw(Buffer.concat([Buffer.from(head), Buffer.from(req.body ?? '')]));
  }
  const response = await request(`${server.url}${req.path}`, {
    method: req.method as 'GET',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...req.headers },
    body: req.body,
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, text, json };
}

/** Sends raw bytes over TCP (for requests undici refuses to make) and parses the answer. */
function sendRaw(raw: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      let json: unknown;
      try {
        json = JSON.parse(bodyText);
      } catch {
        json = undefined;
      }
      resolve({ status, text, json });
    });
    socket.setTimeout(10_000, () => socket.destroy());
    socket.end(raw);
  });
}

const json = (method: string, path: string, body: unknown, extra: Partial<Req> = {}): Req => ({
  method,
  path,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...extra,
});

/** A multipart/form-data body built by hand (so it can also be broken on purpose). */
function multipart(parts: { name: string; filename?: string; content: string | Buffer; type?: string }[], boundary = `----pitlane${NONCE}`): { body: Buffer; headers: Record<string, string> } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.filename !== undefined ? `Content-Type: ${part.type ?? 'application/octet-stream'}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const form = (method: string, path: string, parts: Parameters<typeof multipart>[0]): Req => ({ method, path, ...multipart(parts) });

// ---------------------------------------------------------------------------------------------
// Archive builders

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo'; content?: string; linkname?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const header = { name: entry.name, type, mode: 0o644, ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}), ...(type === 'character-device' || type === 'block-device' ? { devmajor: 1, devminor: 3 } : {}) };
    if (type === 'file') await new Promise<void>((resolve, reject) => pack.entry(header, entry.content ?? '', (e) => (e ? reject(e) : resolve())));
    else pack.entry(header);
  }
  pack.finalize();
  return collected;
}

const tgz = async (entries: Entry[]): Promise<Buffer> => gzipSync(await tarOf(entries));

/** A ustar header for one file of declared size `size`, with no body after it (a "declared size" bomb). */
function declaredSizeHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512, 0);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'ascii');
  header.write('0000000\0', 108, 'ascii');
  header.write('0000000\0', 116, 'ascii');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  header.write('00000000000\0', 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

/** gzip of a tar holding one file of `bytes` zero bytes, streamed (a compression bomb). */
async function gzipBomb(bytes: number): Promise<Buffer> {
  const header = declaredSizeHeader('zeros.bin', bytes);
  const zero = Buffer.alloc(1024 * 1024, 0);
  async function* body(): AsyncGenerator<Buffer> {
    yield header;
    for (let written = 0; written < bytes; written += zero.length) yield written + zero.length <= bytes ? zero : zero.subarray(0, bytes - written);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of Readable.from(body()).pipe(createGzip({ level: 9 }))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const escapes = (n: number): Entry[][] => [
  [{ name: `../../../../../../../../..${ESCAPE}-${n}-dotdot`, content: 'x' }],
  [{ name: `${ESCAPE}-${n}-absolute`, content: 'x' }],
  [{ name: 'out', type: 'symlink', linkname: `${ESCAPE}-${n}-dir` }, { name: 'out/file', content: 'x' }],
  [{ name: 'up', type: 'symlink', linkname: '../../../../../../../../..' }, { name: `up${ESCAPE}-${n}-through-link`, content: 'x' }],
  [{ name: 'a/b', type: 'symlink', linkname: '../..' }, { name: 'x', type: 'symlink', linkname: `a/b/../${ESCAPE.slice(1)}-${n}-chain` }],
  [{ name: 'sentinel', type: 'symlink', linkname: SENTINEL }, { name: 'sentinel/keep.txt', content: 'overwritten' }],
  [{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }],
  [{ name: 'null', type: 'character-device' }],
  [{ name: 'disk', type: 'block-device' }],
  [{ name: 'pipe', type: 'fifo' }],
  [{ name: 'dup', content: 'a' }, { name: 'dup', content: 'b' }],
  [{ name: 'file', content: 'a' }, { name: 'file/under', content: 'b' }],
];

// ---------------------------------------------------------------------------------------------
// The cases

const MANIFEST = { name: 'hostile', owner_email: 'owner@example.com', jobtype: 'docker-proxy', version: '1.0.0' };
const manifestWith = (patch: Record<string, unknown>): Record<string, unknown> => ({ ...MANIFEST, ...patch });
const deploy = (manifest: unknown, extra: Record<string, unknown> = {}): Req => json('POST', '/api/v1/deploy', { manifest, ...extra });
const run = (body: unknown): Req => json('POST', '/api/v1/runs', body);

interface Case {
  name: string;
  /** Builds the request (lazily: some need the run id made in beforeAll). */
  request: () => Req | Promise<Req> | 'raw';
  raw?: () => string | Buffer;
  /** The exact status expected, when the case is precise about it; otherwise any 4xx. */
  status?: number;
  /** The error detail path expected among the details. */
  path?: string;
}

let runId = '';
const cases: Case[] = [];
const add = (name: string, request: Case['request'], status?: number, path?: string): void => {
  cases.push({ name, request, ...(status !== undefined ? { status } : {}), ...(path !== undefined ? { path } : {}) });
};

// -- HTTP and JSON framing
add('deploy: malformed JSON', () => json('POST', '/api/v1/deploy', '{"manifest": {'), 400);
add('deploy: JSON list body', () => json('POST', '/api/v1/deploy', '[]'), 400);
add('deploy: JSON string body', () => json('POST', '/api/v1/deploy', '"manifest"'), 400);
add('deploy: JSON null body', () => json('POST', '/api/v1/deploy', 'null'), 400);
add('deploy: empty JSON body', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'application/json' }, body: '' }), 400);
add('deploy: text/plain body', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'text/plain' }, body: 'name: x' }), 400);
add('deploy: unknown content type', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'application/x-evil' }, body: 'x' }), 415);
add('deploy: JSON in UTF-16 charset', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'application/json; charset=utf-16' }, body: '{}' }));
add('deploy: body over the route limit', () => json('POST', '/api/v1/deploy', { manifest: MANIFEST, build_context: 'A'.repeat(3 * MAX_UPLOAD) }), 413);
add('deploy: deeply nested JSON', () => json('POST', '/api/v1/deploy', `{"manifest":${'['.repeat(20_000)}${']'.repeat(20_000)}}`));
add('deploy: __proto__ pollution attempt', () => json('POST', '/api/v1/deploy', '{"manifest":{"__proto__":{"admin":true},"name":"x"}}'), 400);
add('deploy: constructor.prototype pollution attempt', () => json('POST', '/api/v1/deploy', '{"manifest":{"constructor":{"prototype":{"admin":true}}}}'), 400);
add('deploy: manifest missing', () => json('POST', '/api/v1/deploy', {}), 400, 'manifest');
add('deploy: unknown top-level field', () => deploy(MANIFEST, { privileged: true }), 400);
add('deploy: manifest is a number', () => deploy(42), 400);
add('deploy: force is not a boolean', () => deploy(MANIFEST, { force: 'yes please' }), 400);
add('deploy: build_context is not base64', () => deploy(MANIFEST, { build_context: '<<not base64>>' }), 400, 'build_context');
add('deploy: build_context is a number', () => deploy(MANIFEST, { build_context: 12345 }), 400);
add('lint: body over the route limit', () => json('POST', '/api/v1/lint', { dockerfile: 'F'.repeat(4 * MAX_DOCKERFILE) }), 413);
add('runs/{id} DELETE: JSON body over the small default limit', () => json('DELETE', '/api/v1/runs/00000000-0000-0000-0000-000000000000', { pad: 'x'.repeat(100_000) }), 413);

// -- hostile manifests
add('manifest: YAML billion laughs', () =>
  deploy(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n'),
  ), 400);
add('manifest: YAML with a JavaScript tag', () => deploy('name: !!js/function "function(){ require(\'fs\').writeFileSync(\'/tmp/x\') }"\nowner_email: a@example.com\njobtype: docker-proxy\n'), 400);
add('manifest: YAML text over 1 MiB', () => deploy(`name: x\n${'# pad\n'.repeat(200_000)}`), 413, 'manifest');
add('manifest: YAML text over 1 MiB in a multipart file', () => form('POST', '/api/v1/deploy', [{ name: 'manifest', filename: 'job.yaml', content: `name: x\n${'# pad\n'.repeat(200_000)}` }]), 413);
add('manifest: YAML syntax error', () => deploy('name: [unclosed\n'), 400);
add('manifest: YAML with NUL bytes', () => deploy('name: a\u0000b\nowner_email: a@example.com\njobtype: docker-proxy\n'), 400);
add('manifest: uppercase name', () => deploy(manifestWith({ name: 'Hostile' })), 400, 'name');
add('manifest: name with a path', () => deploy(manifestWith({ name: '../../etc' })), 400, 'name');
add('manifest: 64-character name', () => deploy(manifestWith({ name: 'a'.repeat(64) })), 400, 'name');
add('manifest: bad e-mail', () => deploy(manifestWith({ owner_email: 'not an email' })), 400, 'owner_email');
add('manifest: unknown job type', () => deploy(manifestWith({ jobtype: 'bash' })), 400, 'jobtype');
add('manifest: version not semver', () => deploy(manifestWith({ version: '1.0' })), 400, 'version');
add('manifest: version with a path', () => deploy(manifestWith({ version: '1.0.0/../../x' })), 400, 'version');
add('manifest: unknown field', () => deploy(manifestWith({ privileged: true })), 400, 'privileged');
add('manifest: image with an uppercase repository', () => deploy(manifestWith({ image: 'registry.example.com/Evil/App:1' })), 400, 'image');
add('manifest: image with whitespace', () => deploy(manifestWith({ image: 'registry.example.com/app :1' })), 400, 'image');
add('manifest: image with a bad digest', () => deploy(manifestWith({ image: 'registry.example.com/app@sha256:abc' })), 400, 'image');
add('manifest: image with a newline', () => deploy(manifestWith({ image: 'registry.example.com/app\n:1' })), 400, 'image');
add('manifest: image with an option', () => deploy(manifestWith({ image: '--privileged' })), 400, 'image');
add('manifest: image from an untrusted registry', () => deploy(manifestWith({ image: 'busybox:latest' })), 403, 'image');
add('manifest: image from an untrusted registry host', () => deploy(manifestWith({ image: 'evil.example.com/app:1' })), 403, 'image');
add('manifest: image from a look-alike of a wildcard', () => deploy(manifestWith({ image: 'eviltrusted.example/app:1' })), 403, 'image');
add('manifest: git ext:: transport', () => deploy(manifestWith({ git: { remote: `ext::sh -c touch% ${ESCAPE}-ext` } })), 400, 'git.remote');
add('manifest: git ext:: without spaces', () => deploy(manifestWith({ git: { remote: `ext::touch${ESCAPE}-ext2` } })), 400, 'git.remote');
add('manifest: git fd:: transport', () => deploy(manifestWith({ git: { remote: 'fd::17' } })), 400, 'git.remote');
add('manifest: git remote as an option', () => deploy(manifestWith({ git: { remote: `--upload-pack=touch ${ESCAPE}-up` } })), 400, 'git.remote');
add('manifest: git remote -u option', () => deploy(manifestWith({ git: { remote: `-utouch${ESCAPE}-u` } })), 400, 'git.remote');
add('manifest: git ssh host as an option', () => deploy(manifestWith({ git: { remote: `ssh://-oProxyCommand=touch${ESCAPE}-ssh/repo` } })), 400, 'git.remote');
add('manifest: git scp user as an option', () => deploy(manifestWith({ git: { remote: `-oProxyCommand=x@host:repo` } })), 400, 'git.remote');
add('manifest: git remote with a newline', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo\n--upload-pack=x' } })), 400, 'git.remote');
add('manifest: git remote with an unsupported scheme', () => deploy(manifestWith({ git: { remote: 'gopher://example.com/repo' } })), 400, 'git.remote');
add('manifest: git branch as an option', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo.git', branch: `--upload-pack=touch ${ESCAPE}-branch` } })), 400, 'git.branch');
add('manifest: git branch -b', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo.git', branch: '-b' } })), 400, 'git.branch');
add('manifest: git branch with ..', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo.git', branch: 'a..b' } })), 400, 'git.branch');
add('manifest: git branch ending in .lock', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo.git', branch: 'x.lock' } })), 400, 'git.branch');
add('manifest: git branch with @{', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo.git', branch: 'main@{-1}' } })), 400, 'git.branch');
add('manifest: git directory escaping', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo.git', directory: '../../etc' } })), 400, 'git.directory');
add('manifest: git directory absolute', () => deploy(manifestWith({ git: { remote: 'https://example.com/repo.git', directory: '/etc' } })), 400, 'git.directory');
add('manifest: dockerfile_path escaping', () => deploy(manifestWith({ dockerfile_path: '../../../etc/passwd' })), 400, 'dockerfile_path');
add('manifest: runtime_env name with a dash', () => deploy(manifestWith({ runtime_env: { 'A-B': '1' } })), 400, 'runtime_env.A-B');
add('manifest: runtime_env name with =', () => deploy(manifestWith({ runtime_env: { 'A=B': '1' } })), 400, 'runtime_env.A=B');
add('manifest: runtime_env reserved name', () => deploy(manifestWith({ runtime_env: { AUTH_TOKEN: 'stolen' } })), 400, 'runtime_env.AUTH_TOKEN');
add('manifest: runtime_env value with NUL', () => deploy(manifestWith({ runtime_env: { OK: 'a\u0000b' } })), 400, 'runtime_env.OK');
add('manifest: runtime_env value an object', () => deploy(manifestWith({ runtime_env: { OK: { nested: true } } })), 400, 'runtime_env.OK');
add('manifest: build_args name starting with a digit', () => deploy(manifestWith({ build_args: { '1X': 'v' } })), 400, 'build_args.1X');
add('manifest: label key with a space', () => deploy(manifestWith({ labels: { 'team name': 'x' } })), 400, 'labels.team name');
add('manifest: label key in a reserved namespace', () => deploy(manifestWith({ labels: { 'pitlane.job': 'other' } })), 400, 'labels.pitlane.job');
add('manifest: label key with ..', () => deploy(manifestWith({ labels: { 'a..b': 'x' } })), 400, 'labels.a..b');
add('manifest: port 0', () => deploy(manifestWith({ jobtype_extra: { user_module_port: 0 } })), 400, 'jobtype_extra.user_module_port');
add('manifest: port 70000', () => deploy(manifestWith({ jobtype_extra: { user_module_port: 70_000 } })), 400, 'jobtype_extra.user_module_port');
add('manifest: port as text', () => deploy(manifestWith({ jobtype_extra: { user_module_port: '80' } })), 400, 'jobtype_extra.user_module_port');
add('manifest: fractional port', () => deploy(manifestWith({ jobtype_extra: { user_module_port: 80.5 } })), 400, 'jobtype_extra.user_module_port');
add('manifest: memory in millibytes', () => deploy(manifestWith({ resources: { memory_max: '512m' } })), 400, 'resources.memory_max');
add('manifest: negative memory', () => deploy(manifestWith({ resources: { memory_max: '-1Gi' } })), 400, 'resources.memory_max');
add('manifest: memory over the server maximum', () => deploy(manifestWith({ resources: { memory_max: '1Pi' } })), 400, 'resources.memory_max');
add('manifest: memory below Docker minimum', () => deploy(manifestWith({ resources: { memory_max: '1Ki' } })), 400, 'resources.memory_max');
add('manifest: CPU zero', () => deploy(manifestWith({ resources: { cpu_max: 0 } })), 400, 'resources.cpu_max');
add('manifest: CPU below Docker minimum', () => deploy(manifestWith({ resources: { cpu_max: '1m' } })), 400, 'resources.cpu_max');
add('manifest: CPU not a quantity', () => deploy(manifestWith({ resources: { cpu_max: 'lots' } })), 400, 'resources.cpu_max');
add('manifest: CPU over the server maximum', () => deploy(manifestWith({ resources: { cpu_max: 100_000 } })), 400, 'resources.cpu_max');
add('manifest: replicas 0', () => deploy(manifestWith({ replicas: 0 })), 400, 'replicas');
add('manifest: replicas 10000', () => deploy(manifestWith({ replicas: 10_000 })), 400, 'replicas');
add('manifest: negative timeout', () => deploy(manifestWith({ timeout_s: -1 })), 400, 'timeout_s');
add('manifest: public endpoint with a control character', () => deploy(manifestWith({ public_endpoints: ['/ok\u0007'] })), 400);
add('manifest: structure tests asking for privileged', () => deploy(manifestWith({ image: 'registry.example.com/app:1', structure_tests: { schemaVersion: '2.0.0', commandTests: [{ name: 'x', command: 'true' }], containerRunOptions: { privileged: true } } })), 400, 'structure_tests.containerRunOptions.privileged');
add('manifest: structure tests reading a server file', () => deploy(manifestWith({ image: 'registry.example.com/app:1', structure_tests: { schemaVersion: '2.0.0', commandTests: [{ name: 'x', command: 'true' }], containerRunOptions: { envFile: '/etc/shadow' } } })), 400, 'structure_tests.containerRunOptions.envFile');
add('manifest: structure tests mounting the Docker socket', () => deploy(manifestWith({ image: 'registry.example.com/app:1', structure_tests: { schemaVersion: '2.0.0', commandTests: [{ name: 'x', command: 'true' }], containerRunOptions: { bindMounts: ['/var/run/docker.sock:/var/run/docker.sock'] } } })), 400, 'structure_tests.containerRunOptions.bindMounts');
add('manifest: structure tests reading the server environment', () => deploy(manifestWith({ image: 'registry.example.com/app:1', structure_tests: { schemaVersion: '2.0.0', commandTests: [{ name: 'x', command: 'true' }], containerRunOptions: { envVars: ['PITLANE_ADMIN_TOKEN'] } } })), 400, 'structure_tests.containerRunOptions.envVars');
add('manifest: no source at all', () => deploy(MANIFEST), 400);

// -- archives on every upload path
escapes(1).forEach((entries, i) => add(`deploy base64 archive escape #${i}: ${entries.map((e) => e.name).join(', ')}`, async () => deploy(manifestWith({ name: `hostile-a${i}` }), { build_context: (await tgz(entries)).toString('base64') }), 400));
escapes(2).forEach((entries, i) => add(`run context escape #${i}: ${entries.map((e) => e.name).join(', ')}`, async () => run({ build_context: (await tgz([{ name: 'Dockerfile', content: 'FROM scratch\n' }, ...entries])).toString('base64') }), 400));
escapes(3).slice(0, 6).forEach((entries, i) =>
  add(`deploy multipart archive escape #${i}`, async () => form('POST', '/api/v1/deploy', [{ name: 'manifest', content: JSON.stringify(manifestWith({ name: `hostile-m${i}` })) }, { name: 'build_context', filename: 'ctx.tgz', content: await tgz(entries) }]), 400),
);
escapes(4).slice(0, 6).forEach((entries, i) =>
  add(`wheel build source escape #${i}`, async () => form('POST', '/api/v1/wheels/build', [{ name: 'requirements', content: './pkg\n' }, { name: 'source', filename: 'src.tgz', content: await tgz(entries) }]), 400),
);
escapes(5).slice(0, 4).forEach((entries, i) =>
  add(`run multipart context escape #${i}`, async () => form('POST', '/api/v1/runs', [{ name: 'context', filename: 'ctx.tgz', content: await tgz([{ name: 'Dockerfile', content: 'FROM scratch\n' }, ...entries]) }]), 400),
);
add('deploy: archive of random bytes', () => deploy(manifestWith({ name: 'hostile-r' }), { build_context: randomBytes(4096).toString('base64') }), 400);
add('deploy: gzip magic then garbage', () => deploy(manifestWith({ name: 'hostile-g' }), { build_context: Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(512)]).toString('base64') }), 400);
add('deploy: truncated archive', async () => deploy(manifestWith({ name: 'hostile-t' }), { build_context: (await tgz([{ name: 'Dockerfile', content: 'FROM scratch\n'.repeat(200) }])).subarray(0, 60).toString('base64') }), 400);
add('deploy: empty archive', async () => deploy(manifestWith({ name: 'hostile-e' }), { build_context: (await tgz([])).toString('base64') }), 400);
add('deploy: declared-size bomb (1 GiB header, no body)', () => deploy(manifestWith({ name: 'hostile-d' }), { build_context: gzipSync(declaredSizeHeader('big.bin', 1024 ** 3)).toString('base64') }), 413);
add('deploy: gzip bomb (513 MiB of zeros in under 1 MiB)', async () => form('POST', '/api/v1/deploy', [{ name: 'manifest', content: JSON.stringify(manifestWith({ name: 'hostile-bomb' })) }, { name: 'build_context', filename: 'bomb.tgz', content: await gzipBomb(513 * 1024 * 1024) }]), 413);
add('run: declared-size bomb in the context', () => run({ build_context: gzipSync(Buffer.concat([declaredSizeHeader('Dockerfile', 10), declaredSizeHeader('big.bin', 8 * 1024 ** 3 - 1)])).toString('base64') }));
add('wheel build: declared-size bomb in the source', () => form('POST', '/api/v1/wheels/build', [{ name: 'requirements', content: './pkg\n' }, { name: 'source', filename: 's.tgz', content: gzipSync(declaredSizeHeader('big.bin', 1024 ** 3)) }]), 413);

// -- bad multipart
add('deploy multipart: no manifest', async () => form('POST', '/api/v1/deploy', [{ name: 'build_context', filename: 'c.tgz', content: await tgz([{ name: 'Dockerfile', content: 'FROM scratch\n' }]) }]), 400, 'manifest');
add('deploy multipart: unknown field', () => form('POST', '/api/v1/deploy', [{ name: 'manifest', content: JSON.stringify(MANIFEST) }, { name: 'evil', content: '1' }]), 400, 'evil');
add('deploy multipart: unknown file field', () => form('POST', '/api/v1/deploy', [{ name: 'manifest', content: JSON.stringify(MANIFEST) }, { name: 'evil', filename: 'x', content: 'x' }]), 400, 'evil');
add('deploy multipart: file over the size limit', () => form('POST', '/api/v1/deploy', [{ name: 'manifest', content: JSON.stringify(manifestWith({ name: 'hostile-big' })) }, { name: 'build_context', filename: 'c.tgz', content: randomBytes(MAX_UPLOAD + 1024) }]), 413);
add('deploy multipart: too many fields', () => form('POST', '/api/v1/deploy', Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, content: 'x' }))));
add('deploy multipart: too many files', () => form('POST', '/api/v1/deploy', Array.from({ length: 4 }, (_, i) => ({ name: 'build_context', filename: `c${i}.tgz`, content: 'x' }))));
add('deploy multipart: truncated body', () => {
  const { body, headers } = multipart([{ name: 'manifest', content: JSON.stringify(MANIFEST) }]);
  return { method: 'POST', path: '/api/v1/deploy', headers, body: body.subarray(0, body.length - 20) };
}, 400);
add('deploy multipart: boundary missing from the content type', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'multipart/form-data' }, body: '--x\r\n\r\n' }));
add('deploy multipart: body that does not match the boundary', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'multipart/form-data; boundary=abc' }, body: 'this is not multipart at all' }), 400);
add('deploy multipart: empty boundary', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'multipart/form-data; boundary=' }, body: '--\r\n\r\n' }), 400);
add('deploy multipart: boundary over 256 characters', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': `multipart/form-data; boundary=${'b'.repeat(300)}` }, body: 'x' }), 400);
add('deploy multipart: malformed part header', () => ({ method: 'POST', path: '/api/v1/deploy', headers: { 'content-type': 'multipart/form-data; boundary=abc' }, body: '--abc\r\nContent-Disposition\r\n\r\nx\r\n--abc--\r\n' }), 400);
add('deploy multipart: hostile YAML manifest', () => form('POST', '/api/v1/deploy', [{ name: 'manifest', content: 'name: ../../x\nowner_email: a@example.com\njobtype: docker-proxy\ngit: {remote: "ext::sh"}\n' }]), 400);
add('run multipart: field JSON invalid', () => form('POST', '/api/v1/runs', [{ name: 'image', content: 'registry.example.com/app:1' }, { name: 'env', content: '{not json' }]), 400, 'env');
add('run multipart: no Dockerfile, context or image', () => form('POST', '/api/v1/runs', [{ name: 'command', content: 'true' }]), 400);
add('seed 002 /run: no file', () => form('POST', '/run', [{ name: 'other', content: 'x' }]), 400);
add('wheel upload: JSON instead of multipart', () => json('POST', '/api/v1/wheels', { file: 'x' }), 400);
add('wheel upload: traversal in the filename', () => form('POST', '/api/v1/wheels', [{ name: 'file', filename: `../../../..${ESCAPE}-wheel-1.0-py3-none-any.whl`, content: 'PK' }]), 400);
add('wheel upload: not a zip', () => form('POST', '/api/v1/wheels', [{ name: 'file', filename: 'evil-1.0-py3-none-any.whl', content: 'not a zip' }]), 400);
add('wheel upload: two files', () => form('POST', '/api/v1/wheels', [{ name: 'file', filename: 'a-1.0-py3-none-any.whl', content: 'x' }, { name: 'file', filename: 'b-1.0-py3-none-any.whl', content: 'x' }]), 400);

// -- runs
add('run: empty object', () => run({}), 400, 'image');
add('run: JSON list', () => run([]), 400);
add('run: unknown field', () => run({ image: 'registry.example.com/app:1', privileged: true }), 400, 'privileged');
add('run: uppercase image', () => run({ image: 'registry.example.com/BusyBox:1' }), 400, 'image');
add('run: image with a space', () => run({ image: 'registry.example.com/app :1' }), 400, 'image');
add('run: image is a list', () => run({ image: ['registry.example.com/app:1'] }), 400, 'image');
add('run: image as an option', () => run({ image: '--privileged' }), 400, 'image');
add('run: image from an untrusted registry', () => run({ image: 'busybox:latest' }), 403, 'image');
add('run: image and Dockerfile together', () => run({ image: 'registry.example.com/app:1', dockerfile: 'FROM scratch\n' }), 400, 'image');
add('run: empty command list', () => run({ image: 'registry.example.com/app:1', command: [] }), 400, 'command');
add('run: command of numbers', () => run({ image: 'registry.example.com/app:1', command: [1, 2] }), 400, 'command');
add('run: command with NUL', () => run({ image: 'registry.example.com/app:1', command: ['sh', 'a\u0000b'] }), 400, 'command.1');
add('run: env name with a dash', () => run({ image: 'registry.example.com/app:1', env: { 'A-B': '1' } }), 400, 'env.A-B');
add('run: env value an object', () => run({ image: 'registry.example.com/app:1', env: { A: { b: 1 } } }), 400, 'env.A');
add('run: env is a list', () => run({ image: 'registry.example.com/app:1', env: ['A=1'] }), 400, 'env');
add('run: build_args name with a space', () => run({ dockerfile: 'FROM scratch\n', build_args: { 'A B': '1' } }), 400, 'build_args.A B');
add('run: host path outside the allowed directory', () => run({ image: 'registry.example.com/app:1', volumes: ['/etc:/host-etc:ro'] }), 403, 'volumes.0');
add('run: the Docker socket', () => run({ image: 'registry.example.com/app:1', volumes: ['/var/run/docker.sock:/var/run/docker.sock'] }), 403, 'volumes.0');
add('run: the host root', () => run({ image: 'registry.example.com/app:1', volumes: ['/:/host'] }), 403, 'volumes.0');
add('run: lexical escape from the allowed directory', () => run({ image: 'registry.example.com/app:1', volumes: [`${ALLOWED}/../../etc:/x`] }), 403, 'volumes.0');
add('run: symlink to the Docker socket under the allowed directory', () => run({ image: 'registry.example.com/app:1', volumes: [`${ALLOWED}/sock:/var/run/docker.sock`] }), 403, 'volumes.0');
add('run: symlink to /etc under the allowed directory', () => run({ image: 'registry.example.com/app:1', volumes: [`${ALLOWED}/etc:/x`] }), 403, 'volumes.0');
add('run: symlink to the parent under the allowed directory', () => run({ image: 'registry.example.com/app:1', volumes: [`${ALLOWED}/up:/x`] }), 403, 'volumes.0');
add('run: symlink to the sentinel under the allowed directory', () => run({ image: 'registry.example.com/app:1', volumes: [`${ALLOWED}/sentinel:/x`] }), 403, 'volumes.0');
add('run: missing host path under the allowed directory', () => run({ image: 'registry.example.com/app:1', volumes: [`${ALLOWED}/missing:/x`] }), 400, 'volumes.0');
add('run: relative volume source', () => run({ image: 'registry.example.com/app:1', volumes: ['../../etc:/x'] }), 400, 'volumes.0');
add('run: relative volume target', () => run({ image: 'registry.example.com/app:1', volumes: ['named:relative'] }), 400, 'volumes.0');
add('run: bad volume mode', () => run({ image: 'registry.example.com/app:1', volumes: ['named:/x:rwx'] }), 400, 'volumes.0');
add('run: volume with a control character', () => run({ image: 'registry.example.com/app:1', volumes: ['named:/x\n'] }), 400, 'volumes.0');
add('run: volumes not a list', () => run({ image: 'registry.example.com/app:1', volumes: 'named:/x' }), 400, 'volumes');
add('run: timeout as text', () => run({ image: 'registry.example.com/app:1', timeout_s: 'soon' }), 400, 'timeout_s');
add('run: negative timeout', () => run({ image: 'registry.example.com/app:1', timeout_s: -5 }), 400, 'timeout_s');
add('run: timeout over the maximum', () => run({ image: 'registry.example.com/app:1', timeout_s: 1e12 }), 400, 'timeout_s');
add('run: timeout as a list', () => run({ image: 'registry.example.com/app:1', timeout_s: [5] }), 400, 'timeout_s');
add('run: memory over the maximum', () => run({ image: 'registry.example.com/app:1', resources: { memory_max: '1Pi' } }), 400, 'resources.memory_max');
add('run: memory as a list', () => run({ image: 'registry.example.com/app:1', resources: { memory_max: ['512Mi'] } }), 400, 'resources.memory_max');
add('run: CPU below the minimum', () => run({ image: 'registry.example.com/app:1', resources: { cpu_max: '1m' } }), 400, 'resources.cpu_max');
add('run: CPU an object', () => run({ image: 'registry.example.com/app:1', resources: { cpu_max: { cores: 1 } } }), 400, 'resources.cpu_max');
add('run: unknown resource', () => run({ image: 'registry.example.com/app:1', resources: { gpus: 8 } }), 400, 'resources.gpus');
add('run: host network', () => run({ image: 'registry.example.com/app:1', network: 'host' }), 400, 'network');
add('run: another container network', () => run({ image: 'registry.example.com/app:1', network: 'container:pitlane' }), 400, 'network');
add('run: results_dir /', () => run({ image: 'registry.example.com/app:1', results_dir: '/' }), 400, 'results_dir');
add('run: relative results_dir', () => run({ image: 'registry.example.com/app:1', results_dir: 'data' }), 400, 'results_dir');
add('run: relative working_dir', () => run({ image: 'registry.example.com/app:1', working_dir: 'tmp' }), 400, 'working_dir');
add('run: empty Dockerfile', () => run({ dockerfile: '   ' }), 400);
add('run: Dockerfile without FROM', () => run({ dockerfile: 'RUN echo hi\n' }), 400);
add('run: RUN --network=host in the Dockerfile', () => run({ dockerfile: 'FROM busybox:latest\nRUN --network=host true\n' }), 400, 'file');
add('run: RUN --security=insecure in the Dockerfile', () => run({ dockerfile: 'FROM busybox:latest\nRUN --security=insecure true\n' }), 400, 'file');
add('run: binary Dockerfile', () => run({ dockerfile: 'FROM scratch\n\u0000\u0001' }), 400);
add('run: Dockerfile is a number', () => run({ dockerfile: 42 }), 400, 'dockerfile');
add('run: Dockerfile over the limit', () => run({ dockerfile: `FROM scratch\n${'# pad\n'.repeat(MAX_DOCKERFILE / 4)}` }), 413);
add('run: build_context not base64', () => run({ build_context: '%%%' }), 400, 'build_context');
add('run: context without a Dockerfile', async () => run({ build_context: (await tgz([{ name: 'README', content: 'x' }])).toString('base64') }), 400, 'context');

// -- reads, ids, query parameters, URL traversal
add('run: unknown id', () => ({ method: 'GET', path: '/api/v1/runs/00000000-0000-0000-0000-000000000000' }), 404);
add('run: id with traversal', () => ({ method: 'GET', path: '/api/v1/runs/..%2F..%2Fpitlane.db' }), 404);
add('runs: limit 0', () => ({ method: 'GET', path: '/api/v1/runs?limit=0' }), 400);
add('runs: limit not a number', () => ({ method: 'GET', path: '/api/v1/runs?limit=all' }), 400);
add('runs: negative offset', () => ({ method: 'GET', path: '/api/v1/runs?offset=-1' }), 400);
add('runs: unknown status', () => ({ method: 'GET', path: '/api/v1/runs?status=pwned' }), 400);
add('runs: unknown query parameter', () => ({ method: 'GET', path: '/api/v1/runs?admin=true' }), 400);
add('run results: ../ traversal', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/../../../../etc/passwd`, verbatim: true }), 400);
add('run results: ../ traversal to the database', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/../../../pitlane.db`, verbatim: true }), 400);
add('run results: double-encoded malformed escape', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/%25E0%25A4%25A` }));
add('run results: double-encoded traversal', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/%252e%252e%252f%252e%252e%252fpitlane.db` }));
add('run results: encoded traversal', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, verbatim: true }), 400);
add('run results: encoded slashes', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/..%2f..%2f..%2fpitlane.db`, verbatim: true }), 400);
add('run results: NUL', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/a%00b` }), 400);
add('run results: absolute path', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results//etc/passwd` }), 404);
add('run results: malformed percent-encoding', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/results/%E0%A4%A` }), 400);
add('run logs: negative after', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/logs?after=-1` }), 400);
add('run logs: unknown format', () => ({ method: 'GET', path: `/api/v1/runs/${runId}/logs?format=xml` }), 400);
add('run cancel: unknown id', () => ({ method: 'DELETE', path: '/api/v1/runs/00000000-0000-0000-0000-000000000000' }), 404);
add('seed 002 /status: no id', () => ({ method: 'GET', path: '/status' }), 400);
add('seed 002 /status: unknown id', () => ({ method: 'GET', path: '/status?id=..%2F..%2Fetc' }), 404);
add('deployment: unknown id', () => ({ method: 'GET', path: '/api/v1/deploy/not-a-deployment' }), 404);
add('deployments: limit too high', () => ({ method: 'GET', path: '/api/v1/deploy?limit=100000' }), 400);
add('deployments: unknown status', () => ({ method: 'GET', path: '/api/v1/deploy?status=evil' }), 400);
add('deployment logs: after not a number', () => ({ method: 'GET', path: '/api/v1/deploy/x/logs?after=abc' }), 400);
add('job: unknown', () => ({ method: 'GET', path: '/api/v1/jobs/nope/1.0.0' }), 404);
add('job: traversal in the name', () => ({ method: 'GET', path: '/api/v1/jobs/..%2F..%2Fetc/1.0.0' }), 404);
add('job logs: negative tail', () => ({ method: 'GET', path: '/api/v1/jobs/nope/1.0.0/logs?tail=-1' }), 400);
add('job delete: unknown', () => ({ method: 'DELETE', path: '/api/v1/jobs/nope/1.0.0' }), 404);
add('lint: no Dockerfile', () => json('POST', '/api/v1/lint', {}), 400);
add('lint: Dockerfile is a number', () => json('POST', '/api/v1/lint', { dockerfile: 1 }), 400);
add('lint: unknown format', () => json('POST', '/api/v1/lint', { dockerfile: 'FROM scratch\n', format: 'html' }), 400);
add('lint: hostile config', () => json('POST', '/api/v1/lint', { dockerfile: 'FROM scratch\n', config: { failure_threshold: 'everything', ignored: 5 } }), 400);
add('lint: Dockerfile over the limit', () => json('POST', '/api/v1/lint', { dockerfile: 'F'.repeat(MAX_DOCKERFILE + 10) }), 413);
add('wheel build: no requirements', () => json('POST', '/api/v1/wheels/build', {}), 400, 'requirements');
add('wheel build: requirements a number', () => json('POST', '/api/v1/wheels/build', { requirements: 5 }), 400);
add('wheel build: unknown field', () => json('POST', '/api/v1/wheels/build', { requirements: 'x', index_url: 'http://evil' }), 400);
add('wheel: traversal in the filename', () => ({ method: 'GET', path: '/api/v1/wheels/..%2F..%2Fpitlane.db' }), 400);
add('wheel delete: traversal in the filename', () => ({ method: 'DELETE', path: '/api/v1/wheels/..%2F..%2Fpitlane.db' }));
add('wheel index: traversal in the file name', () => ({ method: 'GET', path: '/wheels/files/..%2F..%2Fpitlane.db', token: null }));
add('wheel index: traversal in the project', () => ({ method: 'GET', path: '/wheels/simple/..%2F..%2F/', token: null }), 404);
add('wheel build: unknown id', () => ({ method: 'GET', path: '/api/v1/wheels/builds/..%2F..%2Fx' }), 404);
add('image report: traversal in the reference', () => ({ method: 'GET', path: '/api/v1/images/..%2F..%2Fetc/report' }), 400);
add('image report: reference with a space', () => ({ method: 'GET', path: '/api/v1/images/a%20b/report' }), 400);
add('image report: reference with two tags', () => ({ method: 'GET', path: '/api/v1/images/app:1:2/report' }), 400);
add('image report: uppercase repository', () => ({ method: 'GET', path: '/api/v1/images/App/report' }), 400);
add('image report: truncated digest', () => ({ method: 'GET', path: '/api/v1/images/app@sha256:abc/report' }), 400);
add('image report: unknown image', () => ({ method: 'GET', path: '/api/v1/images/pitlane-no-such-image-here:1/report' }), 404);
add('image report: overlong reference', () => ({ method: 'GET', path: `/api/v1/images/${'a'.repeat(600)}/report` }));
add('gateway: unknown job', () => ({ method: 'POST', path: '/pub/job/nope/1.0.0/api/v1/perform', headers: { 'content-type': 'application/json' }, body: '{}' }), 404);
add('gateway: traversal after the version', () => ({ method: 'GET', path: '/pub/job/nope/1.0.0/api/v1/%2e%2e/%2e%2e/admin' }), 404);
add('gateway: traversal in the name', () => ({ method: 'GET', path: '/pub/job/..%2F..%2Fapi/1.0.0/x' }), 404);
add('gateway: bad version segment', () => ({ method: 'GET', path: '/pub/fatman/nope/..%2e/x' }), 404);
add('no route', () => ({ method: 'GET', path: '/api/v1/../../etc/passwd', verbatim: true }), 404);
add('gateway: verbatim .. segments', () => ({ method: 'GET', path: '/pub/job/nope/1.0.0/api/v1/../../../../api/v1/runs', verbatim: true }), 404);
add('method not allowed', () => ({ method: 'PATCH', path: '/api/v1/runs' }), 404);

// -- authentication and headers
add('no token', () => ({ method: 'GET', path: '/api/v1/runs', token: null }), 401);
add('a wrong token', () => ({ method: 'GET', path: '/api/v1/runs', token: 'pitlane_wrong' }), 401);
add('a huge token', () => ({ method: 'GET', path: '/api/v1/runs', token: 'x'.repeat(8000) }), 401);
add('a token with control characters', () => ({ method: 'GET', path: '/api/v1/runs', token: null, headers: { 'x-racetrack-auth': 'a\tb' } }), 401);
add('overlong header', () => 'raw');
cases[cases.length - 1]!.raw = () => `GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(100_000)}\r\n\r\n`;
add('request smuggling: Content-Length and Transfer-Encoding', () => 'raw', 400);
cases[cases.length - 1]!.raw = () => 'POST /api/v1/lint HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
add('malformed request line', () => 'raw', 400);
cases[cases.length - 1]!.raw = () => 'GET /api/v1/runs HTTP/9.9 EXTRA\r\n\r\n';
add('NUL byte in the path', () => 'raw', 400);
cases[cases.length - 1]!.raw = () => 'GET /api/v1/runs/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n';

// ---------------------------------------------------------------------------------------------

const statuses: { name: string; status: number }[] = [];

function sentinelDigest(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(SENTINEL).sort()) hash.update(`${name}\0${readFileSync(join(SENTINEL, name))}\0`);
  return hash.digest('hex');
}
const sentinelBefore = sentinelDigest();

beforeAll(async () => {
  await server.start();
  // A run to aim result-path traversal at: built FROM scratch (no registry), it fails at once.
  const made = await send(run({ dockerfile: 'FROM scratch\nCMD ["/nothing-here"]\n' }));
  expect(made.status, made.text).toBe(201);
  runId = made.json.id;
}, 120_000);

afterAll(async () => {
  await server.stop();
  rmSync(server.dataDir, { recursive: true, force: true });
  rmSync(ALLOWED, { recursive: true, force: true });
  rmSync(SENTINEL, { recursive: true, force: true });
});

describe('hostile input: every case gets a 4xx JSON error', () => {
  it('has at least 100 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const built = await c.request();
    const answer = built === 'raw' ? await sendRaw(c.raw!()) : await send(built);
    statuses.push({ name: c.name, status: answer.status });
    expect(answer.status, answer.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.text.slice(0, 500)).toBeLessThan(500);
    if (c.status !== undefined) expect(answer.status, answer.text.slice(0, 500)).toBe(c.status);
    expect(answer.json, answer.text.slice(0, 500)).toBeTypeOf('object');
    expect(typeof answer.json.error?.code, answer.text.slice(0, 500)).toBe('string');
    expect(typeof answer.json.error?.message).toBe('string');
    expect(Array.isArray(answer.json.error?.details)).toBe(true);
    if (c.path !== undefined) expect(answer.json.error.details.map((d: { path?: string }) => d.path), answer.text.slice(0, 500)).toContain(c.path);
  }, 120_000);

  it('leaves the server alive, logs no 5xx, and writes nothing outside the data directory', async () => {
    expect(statuses.length).toBe(cases.length);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
    const live = await send({ method: 'GET', path: '/live', token: null });
    expect(live.status).toBe(200);
    expect(server.child?.exitCode).toBeNull();
    expect(server.log).not.toContain('unhandled error');
    expect(readdirSync('/tmp').filter((name) => name.startsWith(`pitlane-escape-${NONCE}`))).toEqual([]);
    expect(existsSync(`${ESCAPE}-1-dir`)).toBe(false);
    expect(sentinelDigest()).toBe(sentinelBefore);
    expect(readFileSync(join(SENTINEL, 'keep.txt'), 'utf8')).toBe('untouched\n');
    // Nothing was queued: every deploy and wheel build above was refused before being stored.
    const deployments = await send({ method: 'GET', path: '/api/v1/deploy' });
    expect(deployments.json.deployments).toEqual([]);
    const builds = await send({ method: 'GET', path: '/api/v1/wheels/builds' });
    expect(builds.json.builds).toEqual([]);
  });
});
