import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyKind, postgresUrl } from '../support/databases.js';
import { startTestGateway, type LogLine, type TestGateway } from '../support/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { expectError, postGraphQL } from './requests.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

describe.each([
  { mode: 'production', maskErrors: true },
  { mode: 'development', maskErrors: false },
])('an unexpected error in $mode', ({ maskErrors }) => {
  let gw: TestGateway;
  const logged: LogLine[] = [];
  beforeAll(async () => {
    // CACHE=off: every read goes to the database, which the test then breaks.
    gw = await startTestGateway({ kind: anyKind, cache: false, shape: 'seeded-small', config: { maskErrors }, log: (_m, line) => logged.push(line) });
    await gw.test.db.prisma.$executeRawUnsafe('ALTER TABLE sport RENAME TO sport_gone');
  });
  afterAll(() => gw?.close());

  it(maskErrors ? 'reaches the client as "Unexpected error." and the log in full, under one request id' : 'reaches the client in full, with its request id', async () => {
    const response = await postGraphQL(`${gw.gateway.url}/graphql`, { query: '{ sports { key } }' }, { 'x-request-id': 'trace-7' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-7');
    const [error] = response.body.errors!;
    expect(error!.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: 'trace-7' });
    if (maskErrors) {
      expect(error).toEqual({ message: 'Unexpected error.', path: ['sports'], locations: expect.any(Array), extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'trace-7' } });
    } else {
      expect(error!.message).toMatch(/sport/);
      expect(error!.extensions!.stacktrace).toEqual(expect.any(Array));
    }
    const line = logged.find((l) => l.msg === 'unexpected error' && l.reqId === 'trace-7');
    expect(line).toMatchObject({ path: 'sports', err: { message: expect.stringMatching(/sport/) } });
    expect(line!.err!.stack).toMatch(/\n\s+at /); // the stack
  });

  it('still lets errors meant for clients through unchanged', async () => {
    const response = await postGraphQL(`${gw.gateway.url}/graphql`, { query: '{ events(first: 500) { totalCount } }' });
    expectError(response, 200, 'BAD_USER_INPUT', /^first must be from 0 to 200, got 500$/);
  });
});

describe.skipIf(!postgresUrl)('the execution timeout (PostgreSQL: a held lock makes a slow query)', () => {
  let gw: TestGateway;
  let locker: pg.Client;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: 'postgres', cache: false, shape: 'seeded-small', config: { executionTimeoutMs: 300 } });
    locker = new pg.Client({ connectionString: gw.test.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await gw?.close();
  });

  it('answers 504 TIMEOUT while the database is stuck, and normally once it is not', async () => {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE sport IN ACCESS EXCLUSIVE MODE');
    const url = `${gw.gateway.url}/graphql`;
    const stuck = await postGraphQL(url, { query: '{ sports { key } }' });
    expectError(stuck, 504, 'TIMEOUT', /^The operation took longer than the limit of 300 ms$/);
    await locker.query('ROLLBACK');
    const after = await postGraphQL(url, { query: '{ sports { key } }' });
    expect(after.status).toBe(200);
    expect(after.body.data).toEqual({ sports: expect.arrayContaining([{ key: 'football' }]) });
  });
});

/** An APQ request: the hash alone, or the hash with the query to register it. */
const apq = (query: string, withQuery: boolean) => ({
  ...(withQuery ? { query } : {}),
  extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } },
});

/** Miss, register, hit: what a client with automatic persisted queries does. */
async function expectPersistedQueryRoundTrip(url: string, query: string): Promise<void> {
  const miss = await postGraphQL(url, apq(query, false));
  expectError(miss, 200, 'PERSISTED_QUERY_NOT_FOUND', /^PersistedQueryNotFound$/);
  const register = await postGraphQL(url, apq(query, true));
  expect(register.status).toBe(200);
  expect(register.body.data).toEqual({ sports: expect.arrayContaining([{ key: 'football' }]) });
}

describe('automatic persisted queries in memory', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
  });
  afterAll(() => gw?.close());

  it('answers a registered hash without its query', async () => {
    const url = `${gw.gateway.url}/graphql`;
    const query = `{ sports { key } } # ${randomBytes(4).toString('hex')}`;
    await expectPersistedQueryRoundTrip(url, query);
    const hit = await postGraphQL(url, apq(query, false));
    expect(hit.body).toEqual({ data: { sports: expect.arrayContaining([{ key: 'football' }]) } });
  });

  it('refuses a hash that does not match its query', async () => {
    const response = await postGraphQL(`${gw.gateway.url}/graphql`, { ...apq('{ sports { key } }', true), query: '{ bookmakers { key } }' });
    expectError(response, 400, undefined, /^provided sha does not match query$/);
  });
});

describe.skipIf(!redisUrl)('automatic persisted queries in Redis', () => {
  let gw: TestGateway;
  // Connected in beforeAll, so nothing connects where the suite is skipped.
  const redis = new Redis(redisUrl ?? 'redis://unused', { lazyConnect: true });
  const query = `{ sports { key } } # ${randomBytes(6).toString('hex')}`;
  const key = `oddsgate:apq:${createHash('sha256').update(query).digest('hex')}`;
  beforeAll(async () => {
    await redis.connect();
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', redisUrl });
  });
  afterAll(async () => {
    await redis.del(key);
    await redis.quit();
    await gw?.close();
  });

  it('stores a registered query under oddsgate:apq:<sha256> and serves it from there', async () => {
    const url = `${gw.gateway.url}/graphql`;
    await expectPersistedQueryRoundTrip(url, query);
    // Apollo stores a registered query without waiting for the store (requestPipeline: the set is not awaited).
    await expect.poll(() => redis.get(key)).toBe(query);
    // A query only Redis knows (another gateway registered it) is served too.
    const other = `{ bookmakers { key } } # ${randomBytes(6).toString('hex')}`;
    const otherKey = `oddsgate:apq:${createHash('sha256').update(other).digest('hex')}`;
    await redis.set(otherKey, other, 'EX', 60);
    const hit = await postGraphQL(url, apq(other, false));
    await redis.del(otherKey);
    expect(hit.status).toBe(200);
    expect(hit.body.data).toEqual({ bookmakers: expect.any(Array) });
  });
});

// Starts and kills a redis-server of its own: runs where TEST_REDIS_URL says Redis is installed (CI requires it).
describe.skipIf(!redisUrl)('automatic persisted queries when Redis goes away', () => {
  let redis: PrivateRedis;
  let gw: TestGateway;
  const logged: string[] = [];
  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startTestGateway({
      kind: anyKind,
      cache: true,
      shape: 'seeded-small',
      redisUrl: redis.url,
      log: (m) => logged.push(m),
    });
  });
  afterAll(async () => {
    await redis?.kill();
    await gw?.close();
  });

  it('treats every lookup as a miss, so clients resend the full query and get their answer', async () => {
    const url = `${gw.gateway.url}/graphql`;
    const query = '{ sports { key } }';
    await expectPersistedQueryRoundTrip(url, query);
    expect((await postGraphQL(url, apq(query, false))).body.data).toBeDefined();

    await redis.kill();
    // Registered before, unreachable now: a miss, not a failure.
    await expectPersistedQueryRoundTrip(url, query);
    const plain = await postGraphQL(url, { query });
    expect(plain.status).toBe(200);
    expect(logged.some((m) => /^persisted quer(y|ies)\b.*(Redis unavailable|read failed)/.test(m))).toBe(true);
  });
});
