import type { FeedAdapter, FeedBatch } from '../feed-record.js';
import { defaultMaxResponseBytes, fetchJsonWithin } from './bounded-json.js';

export interface OddsApiOptions {
  /** The API key (`ODDS_API_KEY`), sent as `apiKey`. */
  apiKey: string;
  /** The Odds API sport keys to poll, each with the competition (its key in this database) its events belong to. */
  sports: ReadonlyArray<{ sport: string; competition: string }>;
  /** The service's base URL (default `https://api.the-odds-api.com`; tests point it at a local server). */
  baseUrl?: string;
  /** Bookmaker regions, comma-separated (default `eu`). */
  regions?: string;
  /** How often to poll, in milliseconds (default 60 s): every poll of every sport costs quota. */
  intervalMs?: number;
  /** Give up on one request after this long, in milliseconds (default 10 s). */
  timeoutMs?: number;
  /** Refuse an answer larger than this, in bytes (default 10 MiB). */
  maxResponseBytes?: number;
  now?: () => number;
}

/** What `/v4/sports/{sport}/odds` answers (with `oddsFormat=decimal&dateFormat=iso`), the parts this adapter reads. */
interface OddsApiEvent {
  id: string;
  sport_key: string;
  commence_time: string;
  home_team: string;
  away_team: string;
  bookmakers: Array<{
    key: string;
    title: string;
    last_update: string;
    markets: Array<{ key: string; last_update?: string; outcomes: Array<{ name: string; price: number; point?: number }> }>;
  }>;
}

/** This adapter's cursor: when it last polled, so a restarted worker does not spend quota early. */
interface Cursor {
  polledAt: number;
}

/**
 * The Odds API v4 (`GET /v4/sports/{sport}/odds`), polled every
 * `intervalMs`: one feed record per (event, bookmaker), captured at the
 * bookmaker's `last_update`, so a bookmaker whose prices did not change is
 * stored once however often it is polled. `h2h` becomes `1x2` (with a draw)
 * or `moneyline`, `totals` `over_under` and `spreads` `handicap`, with
 * `point` as the line (the home team's, for spreads); other markets are left
 * out. Each record carries a fixture (so the worker creates the event in the
 * sport's competition) and the bookmaker's title (so it creates the
 * bookmaker). The API keeps no position: the cursor only remembers when
 * this adapter last asked.
 */
export class OddsApiFeed implements FeedAdapter {
  readonly name = 'the-odds-api';
  readonly #options: OddsApiOptions;
  readonly #now: () => number;

  constructor(options: OddsApiOptions) {
    if (options.sports.length === 0) throw new Error('The Odds API feed needs at least one sport to poll');
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async poll(cursor: string | null): Promise<FeedBatch> {
    const now = this.#now();
    const polledAt = cursor === null ? undefined : (JSON.parse(cursor) as Cursor).polledAt;
    if (polledAt !== undefined && now - polledAt < (this.#options.intervalMs ?? 60_000)) return { records: [], cursor };
    const records: unknown[] = [];
    for (const { sport, competition } of this.#options.sports) {
      for (const event of await this.#fetch(sport)) records.push(...toFeedRecords(event, competition));
    }
    return { records, cursor: JSON.stringify({ polledAt: now } satisfies Cursor) };
  }

  async #fetch(sport: string): Promise<OddsApiEvent[]> {
    const { apiKey, baseUrl = 'https://api.the-odds-api.com', regions = 'eu' } = this.#options;
    const url = new URL(`/v4/sports/${encodeURIComponent(sport)}/odds`, baseUrl);
    const query = { apiKey, regions, markets: 'h2h,spreads,totals', oddsFormat: 'decimal', dateFormat: 'iso' };
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const answer = await fetchJsonWithin(url, {
      maxBytes: this.#options.maxResponseBytes ?? defaultMaxResponseBytes,
      timeoutMs: this.#options.timeoutMs ?? 10_000,
    });
    const remaining = answer.headers.get('x-requests-remaining');
    if (answer.status === 401) throw new Error(`The Odds API refused the key (401): check ODDS_API_KEY`);
    if (answer.status === 429) throw new Error(`The Odds API says the quota or rate limit is used up (429); ${remaining ?? '?'} requests remaining`);
    if (answer.status !== 200) throw new Error(`The Odds API answered ${answer.status} for sport ${JSON.stringify(sport)}`);
    if (!Array.isArray(answer.body)) throw new Error(`The Odds API sent no array of events for sport ${JSON.stringify(sport)}`);
    return answer.body as OddsApiEvent[];
  }
}

/** One feed record per bookmaker of `event`. Shapes the API does not promise are passed on for the worker's check to reject with a reason. */
export function toFeedRecords(event: OddsApiEvent, competition: string): unknown[] {
  const fixture = { competition, home: event.home_team, away: event.away_team, kickoffAt: event.commence_time };
  return (Array.isArray(event.bookmakers) ? event.bookmakers : []).map((bookmaker) => ({
    event: `oddsapi:${event.id}`,
    fixture,
    bookmaker: bookmaker.key,
    bookmakerName: bookmaker.title,
    capturedAt: bookmaker.last_update,
    markets: (Array.isArray(bookmaker.markets) ? bookmaker.markets : []).flatMap((market) => toMarkets(market, event)),
  }));
}

type ApiMarket = OddsApiEvent['bookmakers'][number]['markets'][number];

function toMarkets(market: ApiMarket, event: OddsApiEvent): unknown[] {
  const outcomes = Array.isArray(market.outcomes) ? market.outcomes : [];
  const side = (name: string) => (name === event.home_team ? 'home' : name === event.away_team ? 'away' : undefined);
  const outcome = (key: string | undefined, o: ApiMarket['outcomes'][number]) => ({ key, name: o.name, price: o.price });
  switch (market.key) {
    case 'h2h': {
      const threeWay = outcomes.some((o) => o.name === 'Draw');
      const keyOf = (o: ApiMarket['outcomes'][number]) => (o.name === 'Draw' ? 'draw' : side(o.name));
      return [{ key: threeWay ? '1x2' : 'moneyline', name: threeWay ? 'Match result' : 'Winner', line: null, outcomes: outcomes.map((o) => outcome(keyOf(o), o)) }];
    }
    case 'totals': {
      // One market per line, should a bookmaker offer several.
      const lines = [...new Set(outcomes.map((o) => o.point))];
      return lines.map((line) => ({
        key: 'over_under',
        name: `Total over/under ${line}`,
        line: line ?? null,
        outcomes: outcomes.filter((o) => o.point === line).map((o) => outcome(o.name.toLowerCase(), o)),
      }));
    }
    case 'spreads': {
      const line = outcomes.find((o) => o.name === event.home_team)?.point;
      const ordered = [...outcomes].sort((a, b) => (side(a.name) === 'home' ? -1 : side(b.name) === 'home' ? 1 : 0));
      return [{ key: 'handicap', name: `Handicap ${line}`, line: line ?? null, outcomes: ordered.map((o) => outcome(side(o.name), o)) }];
    }
    default:
      return [];
  }
}
