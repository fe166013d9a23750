import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const board = `{ events(first: 20) { nodes { id home odds { bookmaker { key } markets { key outcomes { key price } } } } } }`;
const history = `query ($id: ID!) { oddsHistory(eventId: $id, bookmaker: "sharpline", first: 5) { capturedAt } }`;

/** Makes the gateway's own database refuse connections (and drops the ones it has), as if its server stopped. */
async function setDatabaseReachable(url: string, reachable: boolean): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS ${reachable}`);
    if (!reachable) await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  } finally {
    await admin.end();
  }
}

// Needs PostgreSQL (TEST_DATABASE_URL; CI requires it).
describe.skipIf(!postgresUrl)('a gateway whose database stops, on PostgreSQL', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: 'postgres', cache: true, config: { breakerFirstProbeMs: 1_000 } });
  });
  afterAll(async () => {
    await setDatabaseReachable(gw.test.url!, true).catch(() => {});
    await gw?.close();
  });

  const health = async () =>
    ((await (await fetch(`${gw.gateway.url}/health`)).json()) as { parts: Record<string, Record<string, unknown>> }).parts;

  it('serves the cached board marked stale, fails uncached reads fast with UPSTREAM_UNAVAILABLE, and recovers', async () => {
    const before = await gw.query(board);
    expect(before.errors).toBeUndefined();
    const eventId = (before.data!.events as { nodes: Array<{ id: string }> }).nodes[0]!.id;

    await setDatabaseReachable(gw.test.url!, false);
    // Reads the cache cannot answer reach the database and fail until the breaker opens...
    const codes: unknown[] = [];
    for (let i = 0; i < 6; i++) codes.push((await gw.query(history, { id: eventId })).errors?.[0]?.extensions?.code);
    expect(codes.slice(0, 5)).not.toContain('UPSTREAM_UNAVAILABLE');
    // ...then fail at once with a code clients can act on.
    expect(codes[5]).toBe('UPSTREAM_UNAVAILABLE');
    expect(await health()).toMatchObject({ database: { status: 'down' }, breakers: { database: 'open' } });

    const staleBefore = gw.gateway.cache.stats().stale;
    const during = await gw.query(board);
    expect(during.errors).toBeUndefined();
    expect(during.data).toEqual(before.data);
    expect(gw.gateway.cache.stats().stale).toBeGreaterThan(staleBefore);
    const status = await fetch(`${gw.gateway.url}/health`);
    expect(status.status).toBe(200); // still ready: the cache can serve
    expect(((await status.json()) as { status: string }).status).toBe('ready');

    await setDatabaseReachable(gw.test.url!, true);
    const returnedAt = Date.now();
    // The breaker's probe (SELECT 1, every BREAKER_FIRST_PROBE_MS) closes it once the database answers.
    await expect.poll(async () => (await gw.query(history, { id: eventId })).errors, { timeout: 20_000, interval: 100 }).toBeUndefined();
    console.log(`gateway database outage: history answered again ${Date.now() - returnedAt} ms after the database returned`);
    expect(await health()).toMatchObject({ database: { status: 'up' }, breakers: { database: 'closed' } });
    const metrics = await (await fetch(`${gw.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/oddsgate_cache_requests_total\{kind="EventOdds",result="stale"\} [1-9]/);
  });
});
