import type http from 'node:http';
import type { CorsOrigins } from '../config.js';

export interface CorsOptions {
  origins: CorsOrigins;
  /** Let browsers send cookies and read the answer (`Access-Control-Allow-Credentials: true`); never with `any`. */
  credentials: boolean;
}

// A browser may cache a preflight this long (seconds); Chromium caps it at 2 hours.
const preflightMaxAgeSeconds = 600;
const localhostOrigin = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

export function originAllowed(origins: CorsOrigins, origin: string): boolean {
  if (origins.kind === 'any') return true;
  if (origins.kind === 'localhost') return localhostOrigin.test(origin);
  return origins.origins.includes(origin);
}

/**
 * Adds the CORS headers an allowed origin's request needs, and answers a
 * preflight (`OPTIONS` with `Access-Control-Request-Method`) itself: it must
 * never reach Apollo, whose CSRF prevention would refuse it (it carries no
 * `content-type`). Returns true when it answered the request.
 */
export function applyCors(req: http.IncomingMessage, res: http.ServerResponse, { origins, credentials }: CorsOptions): boolean {
  const origin = req.headers.origin;
  // The answer depends on the Origin header: shared caches must key on it.
  if (origins.kind !== 'any') res.appendHeader('vary', 'Origin');
  const allowed = origin !== undefined && originAllowed(origins, origin);
  if (allowed) {
    res.setHeader('access-control-allow-origin', origins.kind === 'any' ? '*' : origin);
    if (credentials) res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('access-control-expose-headers', 'x-request-id');
  }
  if (req.method !== 'OPTIONS') return false;
  const preflight = origin !== undefined && req.headers['access-control-request-method'] !== undefined;
  if (preflight && !allowed) {
    res.statusCode = 403;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: `Origin ${origin} is not allowed to call this API from a browser (CORS_ORIGINS).` }));
    return true;
  }
  if (preflight) {
    res.appendHeader('vary', ['Access-Control-Request-Method', 'Access-Control-Request-Headers']);
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    // Whatever headers the client means to send: the origin check is the gate, not the header names.
    const requested = req.headers['access-control-request-headers'];
    if (requested) res.setHeader('access-control-allow-headers', requested);
    res.setHeader('access-control-max-age', String(preflightMaxAgeSeconds));
  }
  res.setHeader('allow', 'GET, POST, OPTIONS');
  res.statusCode = 204;
  res.end();
  return true;
}
