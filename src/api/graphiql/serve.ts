import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { defaultGraphiqlDir, graphiqlAssetsPath } from './paths.js';

/**
 * Serves the GraphiQL bundle (src/api/graphiql/build.ts): the page at `/graphiql`,
 * its content-hashed assets under `/graphiql/assets/`, and the page again as
 * the landing page of a browser's GET of `/graphql` (one that accepts
 * text/html and carries no `query`; GraphQL over HTTP GET is left to Apollo).
 *
 * Returns a request handler that answers GraphiQL's requests and returns
 * undefined for every other one, so the HTTP server can fall through to its
 * own routes.
 */
export type GraphiqlHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | undefined;

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The browser enforces what the bundle promises: scripts, styles, fonts,
 * workers and connections from this origin only (Monaco sets inline styles,
 * fonts and icons come as data: URLs).
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Asset names as esbuild writes them: `<name>-<hash>.<ext>`, no directories. */
const assetName = /^[\w.-]+$/;

export function createGraphiqlHandler(dir: string = defaultGraphiqlDir): GraphiqlHandler {
  return (req, res) => {
    // GraphQL's own requests, the hot path, need no URL parsed to tell they are none of GraphiQL's.
    if (req.method === 'POST' && req.url === '/graphql') return undefined;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isPage = url.pathname === '/graphiql' || url.pathname === '/graphiql/';
    const isAsset = url.pathname.startsWith(`${graphiqlAssetsPath}/`);
    const isLanding = url.pathname === '/graphql' && req.method === 'GET' && !url.searchParams.has('query') && acceptsHtml(req);
    if (!isPage && !isAsset && !isLanding) return undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return Promise.resolve(sendText(res, 405, `${req.method} is not allowed on ${url.pathname}: GraphiQL answers GET and HEAD.\n`));
    }
    return isAsset ? serveAsset(dir, url.pathname.slice(graphiqlAssetsPath.length + 1), req, res) : servePage(dir, req, res);
  };
}

async function servePage(dir: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const html = await readIfExists(path.join(dir, 'index.html'));
  if (!html) return notBuilt(res, dir);
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  // The page names the current hashed assets, so it must never be served stale.
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('content-security-policy', contentSecurityPolicy);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-length', html.length);
  res.end(req.method === 'HEAD' ? undefined : html);
}

async function serveAsset(dir: string, name: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const type = contentTypes[path.extname(name)];
  const file = type && assetName.test(name) && !name.startsWith('.') ? path.join(dir, 'assets', name) : undefined;
  // The build wrote a gzipped copy of every asset (about a third of the size); browsers take it.
  const gzipped = file && acceptsGzip(req) ? await readIfExists(`${file}.gz`) : undefined;
  const body = gzipped ?? (file ? await readIfExists(file) : undefined);
  if (!body) {
    if (!(await readIfExists(path.join(dir, 'index.html')))) return notBuilt(res, dir);
    return sendText(res, 404, `No GraphiQL asset ${JSON.stringify(name)}; reload /graphiql for the current ones.\n`);
  }
  res.statusCode = 200;
  res.setHeader('content-type', type!);
  if (gzipped) res.setHeader('content-encoding', 'gzip');
  res.setHeader('vary', 'accept-encoding');
  // Names carry a hash of their contents: a changed file gets a new name.
  res.setHeader('cache-control', 'public, max-age=31536000, immutable');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notBuilt(res: http.ServerResponse, dir: string): void {
  sendText(
    res,
    503,
    `The GraphiQL page is not built (nothing in ${dir}).\n` +
      'Build it with `npm run build` (npm start, npm run gateway and npm test build it first), then reload.\n',
  );
}

/** True unless the client does not name gzip or refuses it (`gzip;q=0`). */
function acceptsGzip(req: http.IncomingMessage): boolean {
  return /\bgzip\b(?!\s*;\s*q=0(?:\.0*)?(?![.\d]))/i.test(req.headers['accept-encoding'] ?? '');
}

/** True when the client asks for HTML, as a browser's navigation does (`text/html,...`). */
function acceptsHtml(req: http.IncomingMessage): boolean {
  return /\btext\/html\b/i.test(req.headers.accept ?? '');
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(text);
}
