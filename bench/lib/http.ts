import http from 'node:http';

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

/**
 * One request on a connection of its own. A gateway busy opening thousands of
 * WebSockets can stall past its keep-alive timeout, and a reused connection
 * then races its own closing (ECONNRESET); the harness's few control requests
 * do not need keep-alive.
 */
export function httpRequest(url: string, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const options = { method: body === undefined ? 'GET' : 'POST', agent: false, headers: { 'content-type': 'application/json' } };
    const request = http.request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'] ?? 'application/json',
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}
