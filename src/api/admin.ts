import type http from 'node:http';
import { invalidationTarget, type InvalidationTarget } from '../read/invalidation.js';
import { bearerToken, sameSecret } from './secrets.js';

export interface AdminOptions {
  /** `ADMIN_TOKEN`; unset turns the admin API off. */
  token: string | undefined;
  /** Drops a target from every instance's cache; resolves with what it dropped here. */
  invalidate: (target: InvalidationTarget) => Promise<{ keys: number; kinds: string[]; dropped: number; fleet: boolean }>;
}

/**
 * `POST /admin/invalidate` with `Authorization: Bearer <ADMIN_TOKEN>` and a
 * JSON body naming one target: `{"event": 42}`, `{"competition": 3}`,
 * `{"bookmaker": "northbet"}` or `{"kind": "EventOdds"}`.
 */
export async function handleAdmin(req: http.IncomingMessage, path: string, body: () => Promise<string | undefined>, options: AdminOptions): Promise<{ status: number; body: unknown }> {
  if (!options.token) return { status: 404, body: { error: 'The admin API is off: set ADMIN_TOKEN to turn it on.' } };
  const given = bearerToken(req.headers.authorization);
  if (given === undefined || !sameSecret(given, options.token)) {
    return { status: 401, body: { error: 'Missing or wrong token: send Authorization: Bearer <ADMIN_TOKEN>.' } };
  }
  if (path !== '/admin/invalidate' || req.method !== 'POST') {
    return { status: 404, body: { error: 'Not found. The admin API has POST /admin/invalidate.' } };
  }
  const raw = await body();
  let json: unknown;
  try {
    json = JSON.parse(raw ?? '');
  } catch {
    return { status: 400, body: { error: 'The body must be JSON, e.g. {"event": 42}.' } };
  }
  const target = invalidationTarget.safeParse(json);
  if (!target.success) {
    return {
      status: 400,
      body: { error: 'Name one target: {"event": id}, {"competition": id}, {"bookmaker": key} or {"kind": "EventOdds"|"Event"|...}.' },
    };
  }
  return { status: 200, body: { invalidated: target.data, ...(await options.invalidate(target.data)) } };
}
