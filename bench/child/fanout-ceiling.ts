// The fan-out ceiling: a bare `ws` server speaking just enough graphql-transport-ws to the same
// subscriber processes, pushing updates shaped like the gateway's (one serialization per update,
// spliced after each socket's id) at the rate it is told, with no GraphQL, database or cache.
// What the box and the clients manage with it is the yardstick for the gateway's fan-out.
// Protocol (IPC): prints "ceiling ready at <url>"; "rate" (changes/s, event ids, bookmakers) -> "rating";
// "stop" -> "stopped" (the newest capturedAt per pair it sent, every update it sent, its event-loop delay p99).
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';

interface Subscription {
  socket: WebSocket;
  id: string;
  events: Set<string> | null;
}

const byEvent = new Map<string, Subscription[]>();
const unfiltered: Subscription[] = [];
const server = http.createServer();
const sockets = new WebSocketServer({ server, path: '/graphql', handleProtocols: () => 'graphql-transport-ws' });
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

sockets.on('connection', (socket) => {
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: { variables?: { eventIds?: string[] | null } } };
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    if (message.type !== 'subscribe') return;
    const ids = message.payload?.variables?.eventIds ?? null;
    const subscription = { socket, id: message.id!, events: ids && new Set(ids) };
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
  const payload = JSON.stringify({
    data: {
      oddsUpdated: {
        publishedAt: capturedAt,
        event: { id: eventId, home: 'Home FC', away: 'Away United' },
        snapshot: {
          bookmaker: { key: bookmaker },
          capturedAt,
          markets: [{ key: '1x2', margin: 0.05, outcomes: ['home', 'draw', 'away'].map((key) => ({ key, price, previousPrice: price - 0.01 })) }],
        },
      },
    },
  });
  const bytes = Buffer.from(`${payload}}`);
  for (const subscription of [...(byEvent.get(eventId) ?? []), ...unfiltered]) {
    const head = Buffer.from(`{"id":${JSON.stringify(subscription.id)},"type":"next","payload":`);
    subscription.socket.send(Buffer.concat([head, bytes]), { binary: false });
  }
}

process.on('message', (message: { type: 'rate'; perSecond: number; eventIds: string[]; bookmakers: string[] } | { type: 'stop' }) => {
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
  } else {
    clearInterval(timer);
    process.send!({ type: 'stopped', newest, sent, loopDelayP99Ms: loopDelay.percentile(99) / 1e6 });
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`ceiling ready at http://127.0.0.1:${port}`);
});
