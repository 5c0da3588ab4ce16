'use strict';
// echo: the trivial job the gateway benchmark calls, so that it measures Pitlane, not the job.
//
// Answers every request on 0.0.0.0:7004, any path:
//   - POST/PUT/PATCH with a body: the body back, byte for byte, with the request's content-type
//     (application/json when none was sent);
//   - anything else (and POST with an empty body): the fixed JSON {"ok":true,"job":"echo"}.
// HTTP keep-alive stays on, with an idle timeout longer than a proxy's usual pool timeout, so the
// gateway's pooled connections are not closed under it. No npm dependencies (node:http only).
const http = require('node:http');

const PORT = Number(process.env.PORT || 7004);
const FIXED = Buffer.from('{"ok":true,"job":"echo"}');

function reply(res, body, type) {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    return reply(res, FIXED, 'application/json');
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (body.length === 0) return reply(res, FIXED, 'application/json');
    reply(res, body, req.headers['content-type'] || 'application/json');
  });
});

server.keepAliveTimeout = 65_000; // idle keep-alive sockets stay open 65 s
server.headersTimeout = 66_000; // must exceed keepAliveTimeout
server.listen(PORT, '0.0.0.0', () => {
  console.log(`echo listening on 0.0.0.0:${PORT}`);
});

// As PID 1 in a container, Node ignores SIGTERM unless it handles it: stop promptly.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    if (server.closeIdleConnections) server.closeIdleConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
