import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { parsePrometheusText } from '../support/prometheus-text.js';
import { anyKind } from '../support/databases.js';

/** A TCP connection to the gateway that never sends a byte; `closedAfterMs` is set when the server closes it. */
interface SilentConnection {
  socket: net.Socket;
  closedAfterMs: number | undefined;
}

async function openSilent(url: string): Promise<SilentConnection> {
  const { hostname, port } = new URL(url);
  const opened = performance.now();
  const socket = net.connect(Number(port), hostname);
  const connection: SilentConnection = { socket, closedAfterMs: undefined };
  // Read what the server sends (a 408), or 'close' never comes.
  socket.resume();
  socket.on('error', () => {});
  socket.once('close', () => (connection.closedAfterMs = performance.now() - opened));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return connection;
}

async function openSilentMany(url: string, count: number): Promise<SilentConnection[]> {
  const connections: SilentConnection[] = [];
  // In rounds of 50, so the listen backlog never overflows.
  for (let i = 0; i < count; i += 50) connections.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => openSilent(url)))));
  return connections;
}

async function gaugeValue(gw: TestGateway, name: string): Promise<number> {
  const { body } = await gw.gateway.metrics.scrape();
  return parsePrometheusText(body).get(name)?.samples[0]?.value ?? Number.NaN;
}

describe('connections that never send a request', () => {
  // Long enough to open all of them (a second or two here) before the first is closed.
  const headersTimeoutMs = 4000;
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', config: { httpHeadersTimeoutMs: headersTimeoutMs } });
  });
  afterAll(() => gw?.close());

  it('are closed once the headers timeout passes, all 1,000 of them, while requests are still answered', async () => {
    const silent = await openSilentMany(gw.gateway.url, 1000);
    // Connected is not yet accepted: the server takes them from its backlog as it gets to them.
    await expect.poll(() => gaugeValue(gw, 'oddsgate_http_connections')).toBeGreaterThanOrEqual(1000);
    expect((await gw.query('{ sports { key } }')).errors).toBeUndefined();

    // The server checks every quarter of the timeout: all are gone well within twice the timeout (slack for a busy machine).
    await vi.waitUntil(() => silent.every((c) => c.closedAfterMs !== undefined), { timeout: 2 * headersTimeoutMs + 5_000, interval: 50 });
    // Closed by the timeout, not before it.
    expect(Math.min(...silent.map((c) => c.closedAfterMs!))).toBeGreaterThanOrEqual(headersTimeoutMs);
    await expect.poll(() => gaugeValue(gw, 'oddsgate_http_connections')).toBeLessThan(5);
  });
});

describe('the connection cap', () => {
  let gw: TestGateway;
  let held: SilentConnection[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', config: { httpMaxConnections: 20 } });
  });
  afterAll(async () => {
    for (const { socket } of held) socket.destroy();
    await gw?.close();
  });

  it('closes a connection past HTTP_MAX_CONNECTIONS on arrival, counts it, and serves again once one closes', async () => {
    held = await openSilentMany(gw.gateway.url, 20);
    await expect.poll(() => gaugeValue(gw, 'oddsgate_http_connections')).toBe(20);
    const extra = await openSilent(gw.gateway.url);
    await vi.waitUntil(() => extra.closedAfterMs !== undefined);
    expect(held.every((c) => c.closedAfterMs === undefined)).toBe(true);
    expect(await gaugeValue(gw, 'oddsgate_http_connections_dropped_total')).toBe(1);

    held.pop()!.socket.destroy();
    await expect.poll(() => gaugeValue(gw, 'oddsgate_http_connections')).toBe(19);
    expect((await gw.query('{ sports { key } }')).errors).toBeUndefined();
  });
});
