import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ResponseCacheStats } from '../../src/api/response-cache.js';
import { canonicalJson } from '../../src/api/response-cache.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { boardQuery, historyQuery } from './queries.js';
import { anyKind } from '../support/databases.js';

interface BoardAnswer {
  data: { events: { edges: Array<{ node: { id: string; odds: Array<{ capturedAt: string; bookmaker: { id: string } }> } }> } };
}

/**
 * A POST on a connection of its own: the worker's PGlite writes (PGlite runs when
 * there is no PostgreSQL) share this process's event loop and can stall it past the server's keep-alive timeout,
 * which makes a reused connection race its own closing (ECONNRESET).
 */
function onNewConnection<T>(url: string, body?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const options = { method: body ? 'POST' : 'GET', agent: false, headers: { 'content-type': 'application/json' } };
    const request = http.request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body && JSON.stringify(body));
  });
}

describe('the response cache', () => {
  let t: TestGateway;
  const responseStats = async () =>
    (await onNewConnection<{ parts: { responses: ResponseCacheStats } }>(`${t.gateway.url}/health`)).parts.responses;

  beforeAll(async () => {
    t = await startTestGateway({ kind: anyKind, cache: true });
  });
  afterAll(() => t.close());

  it('stores a board answer on its second sight and answers it with the same bytes after, whatever the variables order', async () => {
    const post = (variables: object) =>
      fetch(`${t.gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: boardQuery, variables }),
      }).then((r) => r.text());
    const before = await responseStats();
    const first = await post({ first: 7, filter: { hasOdds: true, sport: 'football' } });
    const afterFirst = await responseStats();
    const second = await post({ filter: { sport: 'football', hasOdds: true }, first: 7 });
    const third = await post({ first: 7, filter: { sport: 'football', hasOdds: true } });
    const after = await responseStats();
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(JSON.parse(first)).not.toHaveProperty('errors');
    // A one-off is not stored: the first sight passes by, the second is stored, the third is a hit.
    expect(afterFirst.stored - before.stored).toBe(0);
    expect(afterFirst.firstSights - before.firstSights).toBe(1);
    expect(after.stored - before.stored).toBe(1);
    expect(after.hits - before.hits).toBe(1);
  });

  it('never answers a stored board to a simple-content-type POST that Apollo\'s CSRF prevention refuses, and does with the preflight header', async () => {
    const body = JSON.stringify({ query: boardQuery, variables: { first: 3, filter: { hasOdds: true } } });
    const post = async (headers: Record<string, string>) => {
      const response = await fetch(`${t.gateway.url}/graphql`, { method: 'POST', headers, body });
      return { status: response.status, text: await response.text() };
    };
    const good = await post({ 'content-type': 'application/json' });
    expect(await post({ 'content-type': 'application/json' })).toEqual(good);
    const before = await responseStats();
    // A form or `fetch` with no-cors may send text/plain without a preflight; the parameter makes the HTTP layer parse it as JSON.
    const simple = 'text/plain; charset=utf-8; x=+json';
    const refused = await post({ 'content-type': simple });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Cross-Site Request Forgery');
    const preflighted = await post({ 'content-type': simple, 'apollo-require-preflight': 'true' });
    expect(preflighted).toEqual(good);
    const after = await responseStats();
    expect(after.hits - before.hits).toBe(1);
  });

  it('answers a repeated POST by its raw bytes before parsing it, with the bytes and headers of the executed answer', async () => {
    const body = JSON.stringify({ query: boardQuery, variables: { first: 4, filter: { hasOdds: true } } });
    const post = async () => {
      const response = await fetch(`${t.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== 'x-request-id' && name !== 'date'));
      return { status: response.status, headers, text: await response.text() };
    };
    const before = await responseStats();
    const executed = await post();
    await post(); // stored, and its raw request remembered
    const raw = await post();
    const after = await responseStats();
    expect(after.rawHits - before.rawHits).toBe(1);
    expect(raw).toEqual(executed);
  });

  it('keys a raw request by its CSRF verdict: the same body and content type without the preflight header is refused', async () => {
    const body = JSON.stringify({ query: boardQuery, variables: { first: 5, filter: { hasOdds: true } } });
    const simple = 'text/plain; x=+json';
    const post = async (headers: Record<string, string>) => (await fetch(`${t.gateway.url}/graphql`, { method: 'POST', headers, body })).status;
    for (let i = 0; i < 3; i++) expect(await post({ 'content-type': simple, 'apollo-require-preflight': 'true' })).toBe(200);
    expect(await post({ 'content-type': simple })).toBe(400);
  });

  it('never stores an answer read straight from the database (a page before the board\'s window)', async () => {
    const before = await responseStats();
    const variables = { first: 5, filter: { kickoffFrom: '2000-01-01T00:00:00.000Z' } };
    await t.query(boardQuery, variables);
    await t.query(boardQuery, variables);
    const after = await responseStats();
    expect(after.misses - before.misses).toBe(2);
    expect(after.stored).toBe(before.stored);
    expect(after.hits).toBe(before.hits);
  });

  it('stores a history answer (read from memory, tagged with the event\'s odds)', async () => {
    const before = await responseStats();
    const first = await t.query(historyQuery, { eventId: '1', first: 5 });
    await t.query(historyQuery, { eventId: '1', first: 5 });
    const second = await t.query(historyQuery, { eventId: '1', first: 5 });
    const after = await responseStats();
    expect(second).toEqual(first);
    expect(after.stored - before.stored).toBe(1);
    expect(after.hits - before.hits).toBe(1);
  });

  it('keys objects by their sorted keys, so the same variables give the same key', () => {
    expect(canonicalJson({ b: [1, { d: 2, c: null }], a: 'x', skipped: undefined })).toBe('{"a":"x","b":[1,{"c":null,"d":2}]}');
  });

  it('never serves odds older than the last update published before the request', async () => {
    // What each (event, bookmaker) last published, recorded at the moment of publishing.
    // The gateway heard each change first (it listened first), so this runs once the change is applied.
    const published = new Map<string, number>();
    t.bus.onChange((change) => {
      for (const { eventId, bookmakerId, snapshot } of change.entries.flatMap((entry) => entry.odds)) {
        published.set(`${eventId}|${bookmakerId}`, Date.parse(snapshot.capturedAt));
      }
    });
    const worker = t.simulatedWorker({ changesPerSecond: 50, seed: 3 });
    const before = await responseStats();
    const stale: string[] = [];
    let checkedPairs = 0;
    let writing = true;
    const readLoop = async () => {
      while (writing) {
        const expected = new Map(published); // what was published before this request was sent
        const answer = await onNewConnection<BoardAnswer>(`${t.gateway.url}/graphql`, { query: boardQuery, variables: { first: 50 } });
        for (const { node } of answer.data.events.edges) {
          for (const snapshot of node.odds) {
            const floor = expected.get(`${node.id}|${snapshot.bookmaker.id}`);
            if (floor === undefined) continue;
            checkedPairs++;
            if (Date.parse(snapshot.capturedAt) < floor) {
              stale.push(`event ${node.id} bookmaker ${snapshot.bookmaker.id}: served ${snapshot.capturedAt}, published ${new Date(floor).toISOString()}`);
            }
          }
        }
      }
    };
    const readers = [readLoop(), readLoop()];
    try {
      for (let cycle = 0; cycle < 12; cycle++) {
        await worker.runCycle();
        // Between changes, until an answer was stored and served again from the response cache.
        const served = async () => {
          const stats = await responseStats();
          return stats.hits + stats.shared;
        };
        const afterChange = await served();
        await vi.waitUntil(async () => (await served()) > afterChange, { timeout: 10_000, interval: 20 });
      }
    } finally {
      writing = false;
      await Promise.all(readers);
    }
    const after = await responseStats();

    expect(stale).toEqual([]);
    // The test proves something only if updates landed on the board and the cache served some answers.
    expect(worker.totals.published).toBeGreaterThan(12);
    expect(checkedPairs).toBeGreaterThan(100);
    expect(after.hits + after.shared - before.hits - before.shared).toBeGreaterThan(0);
    expect(after.stale + after.misses - before.stale - before.misses).toBeGreaterThan(1);
  }, 120_000);
});
