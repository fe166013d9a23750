// The fan-out ceiling: a bare `ws` server speaking just enough graphql-transport-ws to the same
// subscriber processes, pushing updates shaped like the gateway's (one serialization per update,
// spliced after each socket's id) at the rate it is told, with no GraphQL, database or cache.
// What the box and the clients manage with it is the yardstick for the gateway's fan-out. A
// subscription on `oddsUpdatedBatch` is served as the gateway serves it: what waits for it, at most
// one update per pair (the newest), goes out as one message once its previous message is written.
// Protocol (IPC): prints "ceiling ready at <url>"; "rate" (changes/s, event ids, bookmakers) -> "rating";
// "loop-delay" -> its event-loop delay p99 since "rate"; "stop" -> "stopped" (the newest capturedAt per pair it sent, every update it sent).
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';

interface Subscription {
  socket: WebSocket;
  id: string;
  events: Set<string> | null;
  /** Batched only: `eventId|bookmaker` -> the newest update's bytes waiting to be sent. */
  waiting?: Map<string, Buffer>;
  /** Batched only: a message is being written (or one is due this turn). */
  busy?: boolean;
}

/** Updates in one message at most, as the gateway's `oddsUpdatedBatch` (src/live/batches.ts). */
const maxBatch = 500;
const comma = Buffer.from(',');
const batchTail = Buffer.from(']}}}');

const byEvent = new Map<string, Subscription[]>();
const unfiltered: Subscription[] = [];
const server = http.createServer();
const sockets = new WebSocketServer({ server, path: '/graphql', handleProtocols: () => 'graphql-transport-ws' });
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

sockets.on('connection', (socket) => {
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: { query?: string; variables?: { eventIds?: string[] | null } } };
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    if (message.type !== 'subscribe') return;
    const ids = message.payload?.variables?.eventIds ?? null;
    const batched = message.payload?.query?.includes('oddsUpdatedBatch') === true;
    const subscription: Subscription = { socket, id: message.id!, events: ids && new Set(ids), ...(batched && { waiting: new Map(), busy: false }) };
    if (!ids) unfiltered.push(subscription);
    else for (const id of ids) byEvent.set(id, [...(byEvent.get(id) ?? []), subscription]);
    socket.once('close', () => {
      unfiltered.splice(unfiltered.indexOf(subscription) >>> 0, unfiltered.includes(subscription) ? 1 : 0);
      for (const id of ids ?? []) byEvent.set(id, byEvent.get(id)!.filter((s) => s !== subscription));
    });
  });
});

let newest: Record<string, number> = {};
/** `eventId|bookmaker|capturedAt` of every update sent since the rate was set. */
let sent: string[] = [];
let timer: NodeJS.Timeout | undefined;
let sequence = 0;

/** One update: serialized once, sent to every subscription of its event with its own id in front. */
function publish(eventId: string, bookmaker: string): void {
  const now = Date.now();
  const capturedAt = new Date(now).toISOString();
  newest[`${eventId}|${bookmaker}`] = now;
  sent.push(`${eventId}|${bookmaker}|${now}`);
  const price = 1.5 + (sequence++ % 100) / 100;
  const update = JSON.stringify({
    publishedAt: capturedAt,
    event: { id: eventId, home: 'Home FC', away: 'Away United' },
    snapshot: {
      bookmaker: { key: bookmaker },
      capturedAt,
      markets: [{ key: '1x2', margin: 0.05, outcomes: ['home', 'draw', 'away'].map((key) => ({ key, price, previousPrice: price - 0.01 })) }],
    },
  });
  const bytes = Buffer.from(`{"data":{"oddsUpdated":${update}}}}`);
  const item = Buffer.from(update);
  for (const subscription of [...(byEvent.get(eventId) ?? []), ...unfiltered]) {
    if (subscription.waiting) {
      const pair = `${eventId}|${bookmaker}`;
      subscription.waiting.delete(pair); // a newer update of a pair goes to the back, as in the gateway's queue
      subscription.waiting.set(pair, item);
      if (!subscription.busy) {
        subscription.busy = true;
        queueMicrotask(() => flush(subscription)); // after this turn's burst, as the gateway's batch
      }
      continue;
    }
    subscription.socket.send(Buffer.concat([head(subscription), bytes]), { binary: false });
  }
}

function head(subscription: Subscription): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(subscription.id)},"type":"next","payload":`);
}

/** Sends what waits for a batched subscription as one message, and the next once it is written. */
function flush(subscription: Subscription): void {
  const waiting = subscription.waiting!;
  if (waiting.size === 0 || subscription.socket.readyState !== subscription.socket.OPEN) {
    subscription.busy = false;
    return;
  }
  const parts = [head(subscription), Buffer.from('{"data":{"oddsUpdatedBatch":[')];
  let count = 0;
  for (const [pair, item] of waiting) {
    if (count === maxBatch) break;
    if (count++ > 0) parts.push(comma);
    parts.push(item);
    waiting.delete(pair);
  }
  parts.push(batchTail);
  subscription.socket.send(Buffer.concat(parts), { binary: false }, () => flush(subscription));
}

process.on('message', (message: { type: 'rate'; perSecond: number; eventIds: string[]; bookmakers: string[] } | { type: 'loop-delay' } | { type: 'stop' }) => {
  if (message.type === 'rate') {
    const { perSecond, eventIds, bookmakers } = message;
    // Ticks of 10 ms, as a worker commits batches: the rate's changes spread over them.
    let owed = 0;
    newest = {};
    sent = [];
    timer = setInterval(() => {
      owed += perSecond / 100;
      for (; owed >= 1; owed--) {
        publish(eventIds[Math.floor(Math.random() * eventIds.length)]!, bookmakers[Math.floor(Math.random() * bookmakers.length)]!);
      }
    }, 10);
    loopDelay.reset();
    process.send!({ type: 'rating' });
  } else if (message.type === 'loop-delay') {
    process.send!({ type: 'loop-delay', loopDelayP99Ms: loopDelay.percentile(99) / 1e6 });
  } else {
    clearInterval(timer);
    process.send!({ type: 'stopped', newest, sent });
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`ceiling ready at http://127.0.0.1:${port}`);
});
