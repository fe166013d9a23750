// The ceiling: a bare node:http server that answers every request with the
// hot board's exact response bytes and headers, captured from the gateway.
// Nothing a GraphQL gateway does can be faster on this machine's loopback.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const [bodyFile, contentType] = [process.env.CEILING_BODY_FILE, process.env.CEILING_CONTENT_TYPE];
if (!bodyFile || !contentType) throw new Error('CEILING_BODY_FILE and CEILING_CONTENT_TYPE must be set');
const body = readFileSync(bodyFile);

const server = http.createServer((req, res) => {
  // Drain the request body as the gateway must, then replay.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`ceiling ready at http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
});
