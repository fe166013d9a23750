import http from 'node:http';
import { HeaderMap, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from '@apollo/server';
import { createGraphiqlHandler } from './graphiql/serve.js';
import type { GraphQLContext } from './context.js';
import { encodedBody, type GraphQLExecutor } from './response-cache.js';
import { requestIdFrom, type Connection, type Logger } from '../ops/log.js';
import { handleAdmin, type AdminOptions } from './admin.js';
import { applyCors, type CorsOptions } from './cors.js';

/**
 * Plain `node:http` in front of Apollo Server: no framework between the
 * socket and the executor (the hot board is bound by per-request overhead,
 * and this adds none), and one server for HTTP and, later, WebSockets.
 */
export interface HttpServerOptions {
  /** Apollo Server, or the response cache in front of it. */
  apollo: GraphQLExecutor;
  /** `log` is the request's logger, bound to its request id. */
  createContext: (log: Logger) => GraphQLContext;
  /** Other paths (`/health`, `/metrics`...): a status code and a JSON body, or text with its content type. */
  endpoints: Record<string, Endpoint>;
  logger: Logger;
  /** The operators' API under `/admin/`. */
  admin: AdminOptions;
  /** Timeouts and the connection cap. */
  limits: HttpServerLimits;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Browser origins allowed to call `/graphql` and `/graphql/stream` (default: none). */
  cors?: CorsOptions;
  /** GraphQL over Server-Sent Events at `/graphql/stream` (src/api/sse-server.ts). */
  stream?: (req: http.IncomingMessage, res: http.ServerResponse, connection: Connection) => Promise<void>;
}

/** What one client may hold of the server: see the HTTP_* variables in src/config.ts. */
export interface HttpServerLimits {
  /**
   * How long a request's headers may take to arrive, counted from its first
   * byte, or from the connection's opening for its first request: Node.js
   * answers 408 and closes a connection that never sends a byte after this too.
   */
  headersTimeoutMs: number;
  /** How long a whole request (headers and body) may take to arrive; at least `headersTimeoutMs`. */
  requestTimeoutMs: number;
  /** How long a connection may sit idle between requests. */
  keepAliveTimeoutMs: number;
  /** Connections open at once, WebSockets included; one more is closed on arrival (the server's `drop` event). */
  maxConnections: number;
}

export type Endpoint = () => Promise<{ status: number; body: unknown } | { status: number; text: string; contentType: string }>;

const noCors: CorsOptions = { origins: { kind: 'list', origins: [] }, credentials: false };

export function createHttpServer({
  apollo,
  createContext,
  endpoints,
  admin,
  logger,
  limits,
  maxBodyBytes = 1024 * 1024,
  cors = noCors,
  stream,
}: HttpServerOptions): http.Server {
  // GraphiQL's page and assets (src/api/graphiql/serve.ts); undefined for every other request.
  const graphiql = createGraphiqlHandler();
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node.js looks for connections past those two timeouts (its default, 30 s, would let a
      // silent connection live up to 30 s past its timeout): a quarter of the headers timeout, at most 1 s.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.round(limits.headersTimeoutMs / 4))),
    },
    (req, res) => handleRequest(req, res),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  return server;

  function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    // A proxy's id when it sent a sane one, so one id follows the request through every log.
    const requestId = requestIdFrom(req.headers['x-request-id']);
    // Apollo's error reporting reads the same header: one id per request in every log line and answer.
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    // Built when first used: a stored answer logs nothing, and a child logger per request was a visible share of its CPU.
    let child: Logger | undefined;
    const log = () => (child ??= logger.child({ reqId: requestId }));
    if (logger.isLevelEnabled('debug')) {
      const started = performance.now();
      res.once('finish', () => log().debug({ method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'http request'));
    }
    // CORS first: a preflight is answered here, before Apollo's CSRF prevention could refuse it.
    if ((path === '/graphql' || path === '/graphql/stream') && applyCors(req, res, cors)) return;
    const endpoint = Object.hasOwn(endpoints, path) ? endpoints[path] : undefined;
    const handled =
      graphiql(req, res) ??
      (path === '/graphql'
        ? handleGraphQL(req, res, apollo, () => createContext(log()), maxBodyBytes)
        : path === '/graphql/stream' && stream
          ? stream(req, res, { id: requestId, log: log() })
          : endpoint
          ? endpoint().then((answer) => {
              if ('text' in answer) {
                res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.text);
              } else sendJson(res, answer.status, answer.body);
            })
          : path.startsWith('/admin/')
            ? handleAdmin(req, path, () => readBody(req, maxBodyBytes), admin).then(({ status, body }) => sendJson(res, status, body))
            : Promise.resolve(sendJson(res, 404, { error: `Not found: ${path}. GraphQL is at /graphql, GraphiQL at /graphiql.` })));
    handled.catch((error: unknown) => {
      log().error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.' }] });
      else res.destroy();
    });
  }
}

/** Connections open now (HTTP and upgraded WebSockets alike), for `/metrics`. */
export function openConnections(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

async function handleGraphQL(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  apollo: HttpServerOptions['apollo'],
  createContext: () => GraphQLContext,
  maxBodyBytes: number,
): Promise<void> {
  let raw: string | undefined;
  if (req.method === 'POST') {
    raw = await readBody(req, maxBodyBytes);
    if (raw === undefined) {
      return sendGraphQLError(res, 413, `Request body is larger than the limit of ${maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE');
    }
    // A repeated query, answered before its JSON is parsed (src/api/response-cache.ts).
    const stored = apollo.storedAnswer?.((name) => joined(req.headers[name]), raw);
    if (stored) return send(res, stored);
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  let body: unknown;
  if (raw !== undefined) {
    const contentType = headers.get('content-type') ?? '';
    // application/json, or any +json type (application/graphql-response+json).
    if (/^application\/json\b/i.test(contentType) || /\+json\b/i.test(contentType)) {
      if (!/charset=/i.test(contentType) || /charset="?utf-8"?/i.test(contentType)) {
        try {
          body = JSON.parse(raw);
        } catch (error) {
          return sendGraphQLError(res, 400, `Malformed JSON body: ${(error as Error).message}`, 'BAD_REQUEST');
        }
      } else {
        return sendGraphQLError(res, 415, 'Only UTF-8 JSON bodies are supported', 'UNSUPPORTED_MEDIA_TYPE');
      }
    } else {
      body = raw;
    }
  }
  const request: HTTPGraphQLRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    headers,
    search: new URL(req.url ?? '/', 'http://localhost').search,
    body,
  };
  const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context: async () => createContext() }, raw);
  await send(res, response);
}

async function send(res: http.ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    // Encoded here, once, into a buffer the socket writes as it is: given the string (a spliced answer is a rope
    // of parts), Node measures it, then copies it into a scratch area three times its length to encode it,
    // about a tenth of a cold board page's CPU (bench/cpu.ts: 2.34 -> 2.07 ms).
    res.end(encodedBody(response) ?? Buffer.from(response.body.string));
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** A header as the HeaderMap below holds it: repeated values joined. */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The body as text, or undefined when it passes `limit` bytes (reading stops there). */
function readBody(req: http.IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

function sendGraphQLError(res: http.ServerResponse, status: number, message: string, code: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}
