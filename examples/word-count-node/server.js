'use strict';
// word-count-node: a docker-proxy job in Node.js, with no npm dependencies (node:http only).
//
//   POST /perform  {"text": "hello big world"}  ->  {"words": 3, "characters": 15}
//   GET / and GET /health                      ->  {"status": "ok", "job": "word-count-node"}
//
// Words are runs of non-whitespace; characters are Unicode code points (so "é" or "😀" count 1).
// Bad input gets 400 (or 413 over 1 MiB) with {"error": "..."}.
const http = require('node:http');

const PORT = Number(process.env.PORT || 7004);
const MAX_BODY = 1024 * 1024;

function countWords(text) {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/u).length;
}

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

function perform(req, res) {
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (tooLarge) return send(res, 413, { error: `request body over ${MAX_BODY} bytes` });
    let input;
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { error: 'request body is not valid JSON' });
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return send(res, 400, { error: 'expected a JSON object such as {"text": "..."}' });
    }
    if (typeof input.text !== 'string') {
      return send(res, 400, { error: '"text" must be a string' });
    }
    send(res, 200, { words: countWords(input.text), characters: Array.from(input.text).length });
  });
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/perform') {
    if (req.method === 'POST') return perform(req, res);
    res.setHeader('allow', 'POST');
    return send(res, 405, { error: 'use POST /perform' });
  }
  if ((path === '/' || path === '/health') && (req.method === 'GET' || req.method === 'HEAD')) {
    return send(res, 200, { status: 'ok', job: 'word-count-node' });
  }
  send(res, 404, { error: `no route ${req.method} ${path}` });
});

server.listen(PORT, '0.0.0.0', () => {
  console.log(`word-count-node listening on 0.0.0.0:${PORT}`);
});

// As PID 1 in a container, Node ignores SIGTERM unless it handles it: stop promptly.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
