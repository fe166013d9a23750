import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OddsReader, type HistoryQuery } from '../../src/db/odds-reader.js';
import { HistoryCache } from '../../src/read/history-cache.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { historyQuery } from '../graphql/queries.js';

describe('odds history from memory', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded');
  });
  afterAll(() => test?.drop());

  it('answers every page, filter and window edge exactly as the database does', { timeout: 60_000 }, async () => {
    const reader = new OddsReader(test.db.prisma);
    // Windows of 5 snapshots (an event has 18): pages inside them, across their edge, and past the whole history.
    const history = new HistoryCache({ reader, maxBytes: 64 * 1024 * 1024, minWindow: 5 });
    const all = await reader.history({ eventId: 2, first: 200 });
    const middle = new Date(all[Math.floor(all.length / 2)]!.capturedAt);
    const queries: HistoryQuery[] = [];
    for (const eventId of [2, 3]) {
      for (const first of [0, 1, 3, 5, 6, 40]) {
        for (const bookmakerId of [undefined, all[0]!.bookmakerId]) {
          for (const marketKey of [undefined, '1x2', 'btts', 'no-such-market']) {
            queries.push({ eventId, first, bookmakerId, marketKey });
            queries.push({ eventId, first, bookmakerId, marketKey, since: middle });
            queries.push({ eventId, first, bookmakerId, marketKey, until: middle });
          }
        }
      }
    }
    for (const query of queries) expect(await history.history(query), JSON.stringify(query)).toEqual(await reader.history(query));
    // Some came from memory, some could not.
    expect(history.stats().hits).toBeGreaterThan(queries.length / 3);
    expect(history.stats().misses).toBeGreaterThan(0);
  });

  it('is empty for an event without history, without asking again', async () => {
    let reads = 0;
    const reader = new OddsReader(test.db.prisma);
    const counting = { history: (query: HistoryQuery) => (reads++, reader.history(query)) };
    const history = new HistoryCache({ reader: counting, maxBytes: 1024 * 1024 });
    expect(await history.history({ eventId: 999_999, first: 20 })).toEqual([]);
    expect(await history.history({ eventId: 999_999, first: 100, bookmakerId: 1 })).toEqual([]);
    expect(reads).toBe(1);
  });
});

describe('odds history through the gateway while the worker writes', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ kind: anyKind, cache: true });
  });
  afterAll(() => t?.close());

  it('holds each new snapshot of an event as soon as it is published, answered from memory in between', { timeout: 120_000 }, async () => {
    type History = { data: { oddsHistory: Array<{ id: string }> } };
    type Health = { parts: { history: { hits: number }; responses: { hits: number } } };
    const health = async () => ((await (await fetch(`${t.gateway.url}/health`)).json()) as Health).parts;
    const ids = Array.from({ length: 40 }, (_, i) => String(i + 1));
    const page = async (eventId: string, first = 20) => (await t.query<History>(historyQuery, { eventId, first })).data.oddsHistory.map((s) => s.id);
    const direct = async (eventId: string, first = 20) => (await t.gateway.reader.history({ eventId: Number(eventId), first })).map((s) => s.nodeId);
    const heads = new Map<string, string | undefined>();
    for (const id of ids) heads.set(id, (await page(id))[0]);
    const before = await health();
    const worker = t.simulatedWorker({ changesPerSecond: 50, seed: 5 });
    let changedEvents = 0;
    for (let cycle = 0; cycle < 3; cycle++) {
      await worker.runCycle();
      for (const id of ids) {
        const answer = await page(id);
        expect(answer, `event ${id} after cycle ${cycle}`).toEqual(await direct(id));
        // Asked again: the same answer, from the response cache.
        expect(await page(id)).toEqual(answer);
        // Another page of it: not a stored response, but the window in memory.
        expect(await page(id, 5)).toEqual(await direct(id, 5));
        if (answer[0] !== heads.get(id)) changedEvents++;
        heads.set(id, answer[0]);
      }
    }
    const after = await health();
    // The test proves something only if new snapshots landed in these events' history.
    expect(changedEvents).toBeGreaterThan(0);
    expect(after.responses.hits - before.responses.hits).toBeGreaterThanOrEqual(3 * ids.length);
    expect(after.history.hits - before.history.hits).toBeGreaterThan(0);
  });
});
