import http from 'node:http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { useServer } from 'graphql-ws/use/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { queryLimits } from '../../src/api/limits.js';
import { POLICY_VIOLATION, webSocketGuard } from '../../src/api/websocket-guard.js';
import { silentLogger } from '../../src/ops/log.js';
import { listen } from '../../src/ops/listen.js';
import { openAcknowledgedSocket, openRawSocket } from '../hardening/sockets.js';

// The guard in front of graphql-ws alone, on a schema of its own: what one connection may do to the others.
describe('the WebSocket guard', () => {
  const schema = makeExecutableSchema({
    typeDefs: 'type Query { ok: Boolean } type Subscription { ticks: Tick } type Tick { next: Tick, n: Int }',
    resolvers: {
      Subscription: {
        ticks: {
          // Never yields: the subscription stays open until the client completes it.
          subscribe: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}), return: async () => ({ done: true, value: undefined }) }) }),
        },
      },
    },
  });
  const limits = queryLimits({ maxDepth: 3, maxCost: 1000, maxAliases: 5, maxDirectives: 5, maxTokens: 500, introspection: true });
  const guard = webSocketGuard({ schema, limits, token: 'open-sesame', initTimeoutMs: 5_000, maxSubscriptions: 2, maxSubscribesPerMinute: 4, logger: silentLogger() });
  const server = http.createServer();
  const webSockets = new WebSocketServer({ server, path: '/graphql' });
  const disposable = useServer({ ...guard.serverOptions, schema }, webSockets);
  let url: string;
  beforeAll(async () => {
    url = await listen(server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await disposable.dispose();
    server.close();
  });
  const subscribe = (id: string, query = 'subscription { ticks { n } }') => ({ id, type: 'subscribe', payload: { query } });

  it('closes a connection without the token with 4403, and counts it', async () => {
    const socket = await openRawSocket(url);
    socket.send({ type: 'connection_init', payload: { token: 'guess' } });
    expect(await socket.closed).toMatchObject({ code: 4403 });
    expect(guard.stats.forbidden).toBe(1);
  });

  it('answers an operation over a limit with an error naming the limit, and keeps the connection open', async () => {
    const socket = await openAcknowledgedSocket(url, { token: 'open-sesame' });
    socket.send(subscribe('deep', 'subscription { ticks { next { next { next { n } } } } }'));
    const error = await socket.message('error');
    expect(error).toMatchObject({ id: 'deep', payload: [expect.objectContaining({ extensions: expect.objectContaining({ limit: 'depth' }) })] });
    expect(guard.stats.rejectedOperations).toBe(1);
    socket.send(subscribe('fine'));
    socket.send({ id: 'fine', type: 'complete' });
    socket.socket.close();
    expect(await socket.closed).toMatchObject({ code: 1005 }); // closed by the client, not the guard
  });

  it('closes a connection past its subscriptions with 1008, and counts it', async () => {
    const socket = await openAcknowledgedSocket(url, { token: 'open-sesame' });
    for (const id of ['a', 'b', 'c']) socket.send(subscribe(id));
    expect(await socket.closed).toEqual({ code: POLICY_VIOLATION, reason: 'Too many subscriptions: at most 2 per connection' });
    expect(guard.stats.tooManySubscriptions).toBe(1);
  });

  it('closes a connection that floods subscribe messages with 1008, and counts it', async () => {
    const socket = await openAcknowledgedSocket(url, { token: 'open-sesame' });
    for (let i = 0; i < 5; i++) {
      socket.send(subscribe(`s${i}`));
      socket.send({ id: `s${i}`, type: 'complete' });
    }
    expect(await socket.closed).toEqual({ code: POLICY_VIOLATION, reason: 'Too many subscribe messages: at most 4 per minute' });
    expect(guard.stats.subscribeFloods).toBe(1);
  });
});
