// Many graphql-transport-ws subscribers in one process, on raw `ws` sockets (a graphql-ws client
// object per subscriber costs more than the gateway's side of it). bench/fanout.ts runs several of
// these so the load generator is not what limits the measurement.
// Protocol (IPC): "open" (URL, each subscriber's event ids or null for all, batched or not) -> "opened";
// "window" -> "window-set"; once the changes stopped, "expect" (the newest capturedAt per pair) ->
// "expecting", then "drain" -> "draining" (how many subscribers still miss a newest state) as often as
// wanted; "report" -> "report"; then SIGTERM.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { traderOddsBatchSubscription, traderOddsSubscription } from '../queries.js';

interface OpenMessage {
  type: 'open';
  url: string;
  filters: Array<string[] | null>;
  /** On `oddsUpdatedBatch` (several updates per message) instead of `oddsUpdated`. */
  batched: boolean;
}

interface ReportMessage {
  type: 'report';
  /** Keep at most this many latency samples (uniformly). */
  samples: number;
  /** `eventId|bookmaker|capturedAt` of every update captured in the window (when the window tracked each update). */
  published: string[];
}

export interface ClientReport {
  subscribers: number;
  failedConnections: number;
  errors: number;
  /** Updates captured in the window, as received. */
  received: number;
  /** Messages received in the window (each one or, batched, several updates). */
  messages: number;
  /** publish -> receive, ms, for a uniform sample of the updates captured in the window. */
  latencyMs: number[];
  /** Updates in the window a subscriber's filter calls for but it never received (when tracked). */
  lost: number;
  /** Subscribers whose last update of some pair they follow is not the newest (or that never got it), after the drain. */
  staleSubscribers: number;
  /** (subscriber, pair)s whose last update is not the newest. */
  stalePairs: number;
  /** Event-loop delay p99 of this client process over the window, ms. */
  loopDelayP99Ms: number;
}

interface Subscriber {
  events: Set<string> | null;
  /** `eventId|bookmaker` -> the last capturedAt received. */
  last: Map<string, number>;
  /** `eventId|bookmaker|capturedAt` received in the window, when each update is tracked. */
  got?: Set<string>;
  /** Once the changes stopped: the pairs whose newest state it has not received yet. */
  missing?: Map<string, number>;
  /** When it last received an update, epoch ms. */
  lastReceiptAt: number;
}

const subscribers: Subscriber[] = [];
const sockets: WebSocket[] = [];
let failedConnections = 0;
let errors = 0;
let latencies: number[] = [];
let seen = 0;
let messages = 0;
let window = { fromMs: Infinity, toMs: Infinity, trackEach: false };
let sampleEvery = 1;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function connect(url: string, subscriber: Subscriber, query: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    sockets.push(socket);
    let acknowledged = false;
    socket.on('open', () => socket.send('{"type":"connection_init"}'));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: Payload };
      if (message.type === 'next') return received(subscriber, message.payload!);
      if (message.type === 'connection_ack') {
        acknowledged = true;
        const ids = subscriber.events ? [...subscriber.events] : null;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables: { eventIds: ids } } }));
        resolve();
      } else if (message.type === 'error') errors++;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!acknowledged) {
        failedConnections++;
        resolve();
      }
    });
  });
}

interface Update {
  publishedAt: string;
  event: { id: string };
  snapshot: { bookmaker: { key: string }; capturedAt: string };
}

interface Payload {
  data?: { oddsUpdated?: Update; oddsUpdatedBatch?: Update[] };
  errors?: unknown;
}

function received(subscriber: Subscriber, payload: Payload): void {
  const receivedAt = Date.now();
  const updates = payload.data?.oddsUpdatedBatch ?? (payload.data?.oddsUpdated && [payload.data.oddsUpdated]);
  if (!updates || payload.errors) {
    errors++;
    return;
  }
  subscriber.lastReceiptAt = receivedAt;
  if (receivedAt >= window.fromMs && receivedAt <= window.toMs) messages++;
  for (const update of updates) {
    const capturedAt = Date.parse(update.snapshot.capturedAt);
    const pair = `${update.event.id}|${update.snapshot.bookmaker.key}`;
    subscriber.last.set(pair, capturedAt);
    if (subscriber.missing?.get(pair) === capturedAt) subscriber.missing.delete(pair);
    if (capturedAt < window.fromMs || capturedAt > window.toMs) continue;
    if (window.trackEach) (subscriber.got ??= new Set()).add(`${pair}|${capturedAt}`);
    if (seen++ % sampleEvery === 0) latencies.push(receivedAt - Date.parse(update.publishedAt));
  }
}

async function open({ url, filters, batched }: OpenMessage): Promise<void> {
  const wsUrl = url.replace(/^http/, 'ws') + '/graphql';
  const query = batched ? traderOddsBatchSubscription : traderOddsSubscription;
  const batch = 200;
  for (let first = 0; first < filters.length; first += batch) {
    await Promise.all(
      filters.slice(first, first + batch).map((events) => {
        const subscriber: Subscriber = { events: events && new Set(events), last: new Map(), lastReceiptAt: 0 };
        subscribers.push(subscriber);
        return connect(wsUrl, subscriber, query);
      }),
    );
  }
}

/** Which newest states each subscriber still has to receive (from now on counted down as they arrive). */
function expect(newest: Record<string, number>): void {
  for (const subscriber of subscribers) {
    subscriber.missing = new Map();
    for (const [pair, capturedAt] of Object.entries(newest)) {
      if (subscriber.events && !subscriber.events.has(pair.slice(0, pair.indexOf('|')))) continue;
      if (subscriber.last.get(pair) !== capturedAt) subscriber.missing.set(pair, capturedAt);
    }
  }
}

/** Subscribers still missing a newest state, and when the last of the others received its last update. */
function drain(): { stale: number; lastReceiptAt: number } {
  let stale = 0;
  let lastReceiptAt = 0;
  for (const subscriber of subscribers) {
    if (subscriber.missing!.size > 0) stale++;
    else lastReceiptAt = Math.max(lastReceiptAt, subscriber.lastReceiptAt);
  }
  return { stale, lastReceiptAt };
}

/** After "expect" and the drain: what each subscriber received, lost, and still misses. */
function report({ samples, published }: ReportMessage): ClientReport {
  let staleSubscribers = 0;
  let stalePairs = 0;
  let lost = 0;
  for (const subscriber of subscribers) {
    if (window.trackEach) {
      for (const key of published) {
        if ((!subscriber.events || subscriber.events.has(key.slice(0, key.indexOf('|')))) && !subscriber.got?.has(key)) lost++;
      }
    }
    const stale = subscriber.missing?.size ?? 0;
    stalePairs += stale;
    if (stale > 0) staleSubscribers++;
  }
  const step = Math.max(1, Math.ceil(latencies.length / samples));
  return {
    subscribers: subscribers.length,
    failedConnections,
    errors,
    received: seen,
    messages,
    lost,
    latencyMs: latencies.filter((_, i) => i % step === 0),
    staleSubscribers,
    stalePairs,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
}

type Control = { type: 'window'; fromMs: number; toMs: number; sampleEvery: number; trackEach: boolean } | { type: 'expect'; newest: Record<string, number> } | { type: 'drain' };

process.on('message', (message: OpenMessage | ReportMessage | Control) => {
  const reply = (value: object) => process.send!(value);
  if (message.type === 'open') {
    open(message).then(
      () => reply({ type: 'opened', failedConnections }),
      (error: unknown) => reply({ type: 'error', error: String(error) }),
    );
  } else if (message.type === 'window') {
    window = { fromMs: message.fromMs, toMs: message.toMs, trackEach: message.trackEach };
    sampleEvery = message.sampleEvery;
    latencies = [];
    seen = 0;
    messages = 0;
    loopDelay.reset();
    reply({ type: 'window-set' });
  } else if (message.type === 'expect') {
    expect(message.newest);
    reply({ type: 'expecting' });
  } else if (message.type === 'drain') {
    reply({ type: 'draining', ...drain() });
  } else {
    reply({ type: 'report', report: report(message) });
  }
});

process.once('SIGTERM', () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});
