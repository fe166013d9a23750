import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { anyKind } from '../support/databases.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { openAcknowledgedSocket } from './sockets.js';

const keepAliveMs = 1_200;

describe('WebSocket keep-alive', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', config: { wsKeepAliveMs: keepAliveMs } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('pings sockets that connected together spread over the interval, and keeps those that answer', async () => {
    const connectedAt: number[] = [];
    const sockets = await Promise.all(
      Array.from({ length: 48 }, (_, i) => openAcknowledgedSocket(gw.gateway.url).then((raw) => ((connectedAt[i] = performance.now()), raw))),
    );
    const pings = sockets.map(() => [] as number[]);
    sockets.forEach((raw, i) => raw.socket.on('ping', () => pings[i]!.push(performance.now())));
    await vi.waitUntil(() => pings.every((times) => times.length >= 2), { timeout: 4 * keepAliveMs, interval: 20 });
    // A timer per socket pings each one interval after it connected, so the time from connecting to the first ping
    // is the same for all of them, however long connecting took on a busy machine; one timer for all spreads a
    // round's pings over the interval, so that time varies by a good part of it.
    const waits = pings.map((times, i) => times[0]! - connectedAt[i]!);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThan(keepAliveMs / 3);
    for (const raw of sockets) expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    for (const raw of sockets) raw.socket.close();
  });

  it('terminates a socket that answers no ping, and only that one', async () => {
    const live = await openAcknowledgedSocket(gw.gateway.url);
    const silent = new WebSocket(`${gw.gateway.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { autoPong: false });
    const acknowledged = new Promise<void>((resolve) => silent.on('message', (data) => String(data).includes('connection_ack') && resolve()));
    const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => silent.once('open', resolve).once('error', reject));
    silent.send(JSON.stringify({ type: 'connection_init' }));
    await acknowledged;
    const started = performance.now();
    // Terminated (no close frame: 1006) once a ping of its has gone a whole interval unanswered.
    expect(await closed).toBe(1006);
    expect(performance.now() - started).toBeGreaterThanOrEqual(keepAliveMs * 0.9);
    expect(performance.now() - started).toBeLessThan(keepAliveMs * 3.5);
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
    live.socket.close();
  });
});
