import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OddsApiEvent } from '../../src/ingest/feeds/odds-api-records.js';

/** One request the imitation answered, at the test's clock. */
export interface ServedRequest {
  at: number;
  path: string;
  query: Record<string, string>;
  status: number;
  /** Credits it cost (`x-requests-last`). */
  cost: number;
  /** The events an odds answer carried. */
  eventIds: string[];
}

export interface OddsApiServerOptions {
  /** Every event the service knows, with its bookmakers' odds. */
  events: () => readonly OddsApiEvent[];
  /** The test's clock: what is in play, finished or listed depends on it. */
  now: () => number;
  /** The key's credits until the service's own reset. */
  quota: number;
  /** A match is over (gone from every list) this long after kick-off (default 2 h). */
  matchMs?: number;
}

/**
 * The Odds API v4 as the adapter sees it, on a local port: `/v4/sports`
 * and `/v4/sports/{sport}/events` free, `/v4/sports/{sport}/odds` costing
 * markets x regions when it answers any event (an empty answer is free),
 * each answer with `x-requests-remaining`, `-used` and `-last`; 401 with
 * nothing remaining once the credits are spent, and `tooMany` 429s with
 * `Retry-After` when a test asks for a storm.
 */
export async function startOddsApiServer(options: OddsApiServerOptions) {
  const matchMs = options.matchMs ?? 2 * 3_600_000;
  const state = { used: 0, tooMany: 0, retryAfter: '30' as string | null, requests: [] as ServedRequest[] };
  const listed = (sport: string) =>
    options.events().filter((e) => e.sport_key === sport && Date.parse(e.commence_time) + matchMs > options.now());
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://odds-api');
    const answer = (status: number, body: unknown, cost = 0, eventIds: string[] = []) => {
      state.used += cost;
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-requests-remaining', String(options.quota - state.used));
      res.setHeader('x-requests-used', String(state.used));
      res.setHeader('x-requests-last', String(cost));
      state.requests.push({ at: options.now(), path: url.pathname, query: Object.fromEntries(url.searchParams), status, cost, eventIds });
      res.end(JSON.stringify(body));
    };
    if (url.searchParams.get('apiKey') !== 'test-key') return answer(401, { message: 'API key is not valid', error_code: 'INVALID_KEY' });
    if (state.tooMany > 0) {
      state.tooMany--;
      if (state.retryAfter !== null) res.setHeader('retry-after', state.retryAfter);
      return answer(429, { message: 'Requests too frequent', error_code: 'EXCEEDED_FREQ_LIMIT' });
    }
    if (url.pathname === '/v4/sports') return answer(200, [...new Set(options.events().map((e) => e.sport_key))].map((key) => ({ key, active: true })));
    const [, sport, endpoint] = /^\/v4\/sports\/([\w-]+)\/(events|odds)$/.exec(url.pathname) ?? [];
    if (!sport) return answer(404, { message: 'Unknown path' });
    if (endpoint === 'events') return answer(200, listed(sport).map(({ bookmakers: _, ...event }) => event));
    const wanted = url.searchParams.get('eventIds')?.split(',');
    const events = listed(sport).filter((e) => !wanted || wanted.includes(e.id));
    const cost = events.length === 0 ? 0 : url.searchParams.get('markets')!.split(',').length * url.searchParams.get('regions')!.split(',').length;
    if (state.used + cost > options.quota) return answer(401, { message: 'Usage quota has been reached', error_code: 'OUT_OF_USAGE_CREDITS' });
    return answer(200, events, cost, events.map((e) => e.id));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    /** Paid odds requests answered. */
    oddsRequests: () => state.requests.filter((r) => r.path.endsWith('/odds') && r.status === 200),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** A match of `sport` kicking off at `kickoffAt`, with one bookmaker's h2h prices. */
export function match(sport: string, id: string, kickoffAt: number): OddsApiEvent {
  return {
    id,
    sport_key: sport,
    commence_time: new Date(kickoffAt).toISOString(),
    home_team: `Home ${id}`,
    away_team: `Away ${id}`,
    bookmakers: [
      {
        key: 'unibet_eu',
        title: 'Unibet',
        last_update: new Date(kickoffAt - 86_400_000).toISOString(),
        markets: [
          {
            key: 'h2h',
            outcomes: [
              { name: `Home ${id}`, price: 2.1 },
              { name: `Away ${id}`, price: 3.4 },
              { name: 'Draw', price: 3.2 },
            ],
          },
        ],
      },
    ],
  };
}
