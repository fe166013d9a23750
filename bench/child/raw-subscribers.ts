// Many graphql-transport-ws subscribers in one process, on raw `ws` sockets (a graphql-ws client
// object per subscriber costs more than the gateway's side of it). bench/fanout.ts runs several of
// these so the load generator is not what limits the measurement.
// Protocol (IPC): "open" (URL, each subscriber's event ids or null for all) -> "opened";
// "report" (window, the newest capturedAt per pair) -> "report"; then SIGTERM.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { traderOddsSubscription } from '../queries.js';

interface OpenMessage {
  type: 'open';
  url: string;
  filters: Array<string[] | null>;
}

interface ReportMessage {
  type: 'report';
  fromMs: number;
  toMs: number;
  /** `eventId|bookmaker` -> the newest capturedAt (epoch ms) of the pairs that changed while everyone was subscribed. */
  newest: Record<string, number>;
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
  /** publish -> receive, ms, for a uniform sample of the updates captured in the window. */
  latencyMs: number[];
  /** Updates in the window a subscriber's filter calls for but it never received (when tracked). */
  lost: number;
  /** Subscribers whose last update of some pair they follow is not the newest (or that never got it). */
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
}

const subscribers: Subscriber[] = [];
const sockets: WebSocket[] = [];
let failedConnections = 0;
let errors = 0;
let latencies: number[] = [];
let seen = 0;
let window = { fromMs: Infinity, toMs: Infinity, trackEach: false };
let sampleEvery = 1;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function connect(url: string, subscriber: Subscriber): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    sockets.push(socket);
    let acknowledged = false;
    socket.on('open', () => socket.send('{"type":"connection_init"}'));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { oddsUpdated: Update }; errors?: unknown } };
      if (message.type === 'next') return received(subscriber, message.payload!);
      if (message.type === 'connection_ack') {
        acknowledged = true;
        const ids = subscriber.events ? [...subscriber.events] : null;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: traderOddsSubscription, variables: { eventIds: ids } } }));
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

function received(subscriber: Subscriber, payload: { data?: { oddsUpdated: Update }; errors?: unknown }): void {
  const receivedAt = Date.now();
  const update = payload.data?.oddsUpdated;
  if (!update || payload.errors) {
    errors++;
    return;
  }
  const capturedAt = Date.parse(update.snapshot.capturedAt);
  const pair = `${update.event.id}|${update.snapshot.bookmaker.key}`;
  subscriber.last.set(pair, capturedAt);
  if (capturedAt < window.fromMs || capturedAt > window.toMs) return;
  if (window.trackEach) (subscriber.got ??= new Set()).add(`${pair}|${capturedAt}`);
  if (seen++ % sampleEvery === 0) latencies.push(receivedAt - Date.parse(update.publishedAt));
}

async function open({ url, filters }: OpenMessage): Promise<void> {
  const wsUrl = url.replace(/^http/, 'ws') + '/graphql';
  const batch = 200;
  for (let first = 0; first < filters.length; first += batch) {
    await Promise.all(
      filters.slice(first, first + batch).map((events) => {
        const subscriber: Subscriber = { events: events && new Set(events), last: new Map() };
        subscribers.push(subscriber);
        return connect(wsUrl, subscriber);
      }),
    );
  }
}

function report({ newest, samples, published }: ReportMessage): ClientReport {
  let staleSubscribers = 0;
  let stalePairs = 0;
  let lost = 0;
  for (const subscriber of subscribers) {
    if (window.trackEach) {
      for (const key of published) {
        if ((!subscriber.events || subscriber.events.has(key.slice(0, key.indexOf('|')))) && !subscriber.got?.has(key)) lost++;
      }
    }
    let stale = 0;
    for (const [pair, capturedAt] of Object.entries(newest)) {
      if (subscriber.events && !subscriber.events.has(pair.slice(0, pair.indexOf('|')))) continue;
      if (subscriber.last.get(pair) !== capturedAt) stale++;
    }
    stalePairs += stale;
    if (stale > 0) staleSubscribers++;
  }
  const step = Math.max(1, Math.ceil(latencies.length / samples));
  return {
    subscribers: subscribers.length,
    failedConnections,
    errors,
    received: seen,
    lost,
    latencyMs: latencies.filter((_, i) => i % step === 0),
    staleSubscribers,
    stalePairs,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
}

process.on('message', (message: OpenMessage | ReportMessage | { type: 'window'; fromMs: number; toMs: number; sampleEvery: number; trackEach: boolean }) => {
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
    loopDelay.reset();
    reply({ type: 'window-set' });
  } else {
    reply({ type: 'report', report: report(message) });
  }
});

process.once('SIGTERM', () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});
