import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { openAcknowledgedSocket } from './sockets.js';

const root = path.resolve(import.meta.dirname, '../..');
const waitUpTo = { timeout: 10_000, interval: 25 };

/** The gateway as `npm start` runs it, in its own process. */
function startGatewayProcess(env: Record<string, string>): { child: ChildProcess; output: () => string; ready: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += String(data);
      const url = /oddsgate ready: .* at (http:\/\/[^/\s]+)\/graphql/.exec(output)?.[1];
      if (url) resolve(url);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before it was ready:\n${output}`)));
  });
  return { child, output: () => output, ready };
}

describe.skipIf(!postgresUrl)('SIGTERM (a gateway process on PostgreSQL)', () => {
  let test: TestDatabase;
  let gateway: ReturnType<typeof startGatewayProcess>;
  let locker: pg.Client;
  let watcher: pg.Client;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'seeded-small');
    locker = new pg.Client({ connectionString: test.url });
    await locker.connect();
    watcher = new pg.Client({ connectionString: test.url });
    await watcher.connect();
  });
  afterAll(async () => {
    gateway?.child.kill('SIGKILL');
    await locker?.end();
    await watcher?.end();
    await test?.drop();
  });

  it('stops accepting, finishes the request in flight, closes WebSockets with 1001 and exits 0', async () => {
    // CACHE=off sends the request to PostgreSQL, where a held lock keeps it in flight as long as the test wants.
    gateway = startGatewayProcess({ DATABASE_URL: test.url!, CACHE: 'off', INGEST: 'on', SHUTDOWN_TIMEOUT_MS: '10000' });
    const url = await gateway.ready;
    const exited = new Promise<number | null>((resolve) => gateway.child.once('exit', (code) => resolve(code)));
    const socket = await openAcknowledgedSocket(url);

    await locker.query('BEGIN');
    await locker.query('LOCK TABLE sport IN ACCESS EXCLUSIVE MODE');
    let settled = false;
    const inFlight = fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ sports { key } }' }),
    })
      .catch((error: Error) => error)
      .finally(() => (settled = true));
    // Asked on its own connection: inside the locker's transaction, pg_stat_activity would show the snapshot of
    // its first read until ROLLBACK, and never the request arriving after it. Only the sports list selects name
    // (src/db/odds-reader.ts); the ingest worker's id look-up on sport waits on the lock too, and must not stand in for the request.
    await vi.waitUntil(async () => {
      const { rows } = await watcher.query(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%, name FROM sport%'`,
      );
      return (rows[0] as { waiting: number }).waiting > 0;
    }, waitUpTo);

    gateway.child.kill('SIGTERM');
    expect(await socket.closed).toEqual({ code: 1001, reason: 'Going away' });
    // No new connections, while the request in flight is still waiting on the database.
    await vi.waitUntil(async () => (await newConnectionError(`${url}/health`)) === 'ECONNREFUSED', waitUpTo);
    expect(settled).toBe(false);

    await locker.query('ROLLBACK');
    const response = await inFlight;
    if (response instanceof Error) throw response;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { sports: expect.arrayContaining([{ key: 'football' }]) } });
    expect(await exited).toBe(0);
    expect(gateway.output()).toMatch(/SIGTERM: shutting down[\s\S]*SIGTERM: stopped/);
  });
});

/** GETs `url` on a new connection (no keep-alive pool); resolves with the connection error's code, if any. */
function newConnectionError(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(undefined));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
