import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChangesFeedOptions {
  /** Records the feed produces in all, numbered 1..total. */
  total: number;
  /** How many it produces per second, from the first request on. */
  perSecond: number;
  /** Who the records are about: record n names events[n % events.length] and bookmakers[n % bookmakers.length]. */
  events: string[];
  bookmakers: string[];
  /** capturedAt of record n is `firstCapture + n` seconds: unique per record, so each is one snapshot. */
  firstCapture: number;
}

export interface ServedAnswer {
  since: string | null;
  /** Sequence numbers served in this answer (empty for none). */
  first: number;
  last: number;
}

/**
 * A feed of numbered changes in the HTTP JSON format that serves from
 * "now" when no `since` is sent: a worker that forgets its cursor loses
 * whatever was produced while it was away. It remembers every answer, so a
 * test can count what was served twice.
 */
export class ChangesFeedServer {
  readonly answers: ServedAnswer[] = [];
  #server: http.Server | undefined;
  #startedAt: number | undefined;

  constructor(private readonly options: ChangesFeedOptions) {}

  /** Records produced so far. */
  head(): number {
    if (this.#startedAt === undefined) return 0;
    return Math.min(this.options.total, Math.floor(((Date.now() - this.#startedAt) / 1000) * this.options.perSecond));
  }

  record(n: number): object {
    const { events, bookmakers, firstCapture } = this.options;
    return {
      event: events[n % events.length],
      bookmaker: bookmakers[n % bookmakers.length],
      capturedAt: new Date(firstCapture + n * 1000).toISOString(),
      markets: [{ key: 'btts', name: 'Both teams to score', outcomes: [{ key: 'yes', name: 'Yes', price: 1.5 + (n % 100) / 100 }, { key: 'no', name: 'No', price: 2.4 }] }],
    };
  }

  /** How many times each record was served, for records served more than once. */
  servedTwice(): Map<number, number> {
    const times = new Map<number, number>();
    for (const { first, last } of this.answers) for (let n = first; n <= last; n++) times.set(n, (times.get(n) ?? 0) + 1);
    return new Map([...times].filter(([, count]) => count > 1));
  }

  async start(): Promise<string> {
    this.#server = http.createServer((req, res) => {
      this.#startedAt ??= Date.now();
      const params = new URL(req.url!, 'http://feed').searchParams;
      const since = params.get('since');
      const limit = Number(params.get('limit') ?? 1000);
      const head = this.head();
      // No cursor: the feed answers from now on, as a live feed does.
      const after = since === null ? head : Number(since);
      const last = Math.min(head, after + limit);
      this.answers.push({ since, first: after + 1, last });
      const records = [];
      for (let n = after + 1; n <= last; n++) records.push(this.record(n));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ records, cursor: String(last) }));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/odds`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
