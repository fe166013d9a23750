import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { acknowledgedSends } from '../../src/api/acknowledged-sends.js';

describe('sends acknowledged by the client', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    while (cleanup.length > 0) cleanup.pop()!();
  });

  async function pair(windowBytes: number): Promise<{ server: WebSocket; client: WebSocket }> {
    const wss = new WebSocketServer({ port: 0 });
    cleanup.push(() => wss.close());
    await once(wss, 'listening');
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    cleanup.push(() => client.terminate());
    const [[server]] = await Promise.all([accepted, once(client, 'open')]);
    acknowledgedSends(server, windowBytes);
    return { server, client };
  }

  it('completes a send only once the client has read all but the window of what was sent before it', async () => {
    const { server, client } = await pair(64 * 1024);
    let received = 0;
    client.on('message', () => received++);
    // The client stops reading: what is sent sits in the kernel's buffers, which take all of it.
    (client as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const completed: number[] = [];
    const message = 'x'.repeat(20 * 1024);
    for (let i = 0; i < 10; i++) server.send(message, (error) => (error ? undefined : completed.push(i)));
    while (server.bufferedAmount > 0) await turn();
    for (let i = 0; i < 20; i++) await turn();
    // 200 KB written, none read: only what fits in the 64 KB window (and the message that crossed it) counts as done.
    expect(completed.length).toBeLessThanOrEqual(4);
    expect(received).toBe(0);

    (client as unknown as { _socket: import('node:net').Socket })._socket.resume();
    while (completed.length < 10) await once(server, 'pong');
    expect(completed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(received).toBe(10);
  });

  it("asks with one ping at a time: a ws client, which ends a connection that sends it more than 60 pings it has not answered yet, takes a burst whole", async () => {
    const { server, client } = await pair(64 * 1024);
    let received = 0;
    client.on('message', () => received++);
    const closed: number[] = [];
    client.on('close', (code) => closed.push(code));
    let pings = 0;
    client.on('ping', () => pings++);
    // A client busy elsewhere, as a replay of hundreds of updates finds it: they arrive together.
    (client as unknown as { _socket: import('node:net').Socket })._socket.pause();
    let completed = 0;
    const message = 'z'.repeat(1024);
    for (let i = 0; i < 500; i++) server.send(message, (error) => (error ? undefined : completed++));
    while (server.bufferedAmount > 0) await turn();
    (client as unknown as { _socket: import('node:net').Socket })._socket.resume();
    while (completed < 500 && closed.length === 0) await Promise.race([once(server, 'pong'), once(client, 'close')]);
    expect(closed).toEqual([]);
    expect(completed).toBe(500);
    expect(received).toBe(500);
    // Each pong is answered by the next ping only while more than half the window is unconfirmed.
    expect(pings).toBeLessThan(40);
  });

  it('completes what it held when the socket closes', async () => {
    const { server, client } = await pair(1024);
    (client as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const done = new Promise<void>((resolve) => server.send('y'.repeat(10 * 1024), () => resolve()));
    client.terminate();
    await done;
  });
});
