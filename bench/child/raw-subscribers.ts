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
  /** Subscriptions per socket (graphql-ws multiplexes them, each with its own id). */
  perSocket: number;
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
  sockets: number;
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
  /** Pair (`pairId`) -> the last capturedAt received (ISO). */
  last: Map<number, string>;
  /** `eventId|bookmaker|capturedAt` received in the window, when each update is tracked. */
  got?: Set<string>;
  /** Once the changes stopped: the pairs (`pairId`) whose newest state it has not received yet. */
  missing?: Map<number, string>;
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
/** The window in epoch ms (receipts) and as ISO times (captures). */
let window = { fromMs: Infinity, toMs: Infinity, from: '~', to: '~', trackEach: false };
let sampleEvery = 1;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** One socket carrying `group`'s subscriptions, with ids 1, 2, ... in the group's order. */
function connect(url: string, group: Subscriber[], query: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    sockets.push(socket);
    let acknowledged = false;
    socket.on('open', () => socket.send('{"type":"connection_init"}'));
    socket.on('message', (data: Buffer) => {
      // Latin-1 is a copy, not a decoding: everything read here (JSON's syntax, ids, keys, ISO times) is ASCII.
      const text = data.toString('latin1');
      const next = nextHead.exec(text);
      if (next) return received(group[Number(next[1]) - 1]!, text, next[0].length);
      const message = JSON.parse(text) as { type: string };
      if (message.type === 'connection_ack') {
        acknowledged = true;
        group.forEach((subscriber, i) => {
          const ids = subscriber.events ? [...subscriber.events] : null;
          socket.send(JSON.stringify({ id: String(i + 1), type: 'subscribe', payload: { query, variables: { eventIds: ids } } }));
        });
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

/** A `next` message's start, as graphql-ws (and the ceiling) write it: its id, then its payload. */
const nextHead = /^\{"id":"([^"]+)","type":"next","payload":/;

const publishedAtKey = '"publishedAt":"';
const eventIdKey = '"event":{"id":"';
const bookmakerKey = '"bookmaker":{"key":"';
const capturedAtKey = '"capturedAt":"';

/** Where the string value of the first `key` at or after `at` starts (-1: none). */
function valueAt(text: string, key: string, at: number): number {
  const found = text.indexOf(key, at);
  return found < 0 ? -1 : found + key.length;
}

/**
 * A `next` payload's updates, read off its text rather than parsed: JSON.parse of every batch (hundreds of
 * updates, a third of a client's CPU) made the clients what limited the unfiltered scenario. Keys are found
 * as `"key":` with unescaped quotes, which no string value can hold, in the selection's order (publishedAt,
 * event.id, snapshot.bookmaker.key, snapshot.capturedAt); the values read (ids, keys, ISO times) hold no
 * escapes. Times stay ISO strings, which compare in time order (one format, `toISOString`'s).
 */
function received(subscriber: Subscriber, text: string, payloadAt: number): void {
  const receivedAt = Date.now();
  // An answer with errors counts as one error and no update.
  if (text.includes('"errors":', payloadAt)) {
    errors++;
    return;
  }
  subscriber.lastReceiptAt = receivedAt;
  if (receivedAt >= window.fromMs && receivedAt <= window.toMs) messages++;
  let updates = 0;
  for (let at = valueAt(text, publishedAtKey, payloadAt); at >= 0; at = valueAt(text, publishedAtKey, at)) {
    const publishedEnd = text.indexOf('"', at);
    const idAt = valueAt(text, eventIdKey, publishedEnd);
    const bookmakerAt = idAt < 0 ? -1 : valueAt(text, bookmakerKey, idAt);
    const capturedAtAt = bookmakerAt < 0 ? -1 : valueAt(text, capturedAtKey, bookmakerAt);
    if (capturedAtAt < 0) throw new Error(`an update without its event id, bookmaker or capture time: ${text.slice(at, at + 300)}`);
    const capturedAtEnd = text.indexOf('"', capturedAtAt);
    const capturedAt = text.slice(capturedAtAt, capturedAtEnd);
    const pair = pairId(digitsAt(text, idAt, text.indexOf('"', idAt)), bookmakerIndex(text, bookmakerAt, text.indexOf('"', bookmakerAt)));
    updates++;
    subscriber.last.set(pair, capturedAt);
    if (subscriber.missing?.get(pair) === capturedAt) subscriber.missing.delete(pair);
    if (capturedAt >= window.from && capturedAt <= window.to) {
      if (window.trackEach) (subscriber.got ??= new Set()).add(`${text.slice(idAt, text.indexOf('"', idAt))}|${bookmakers[pair % 1024]}|${capturedAt}`);
      if (seen++ % sampleEvery === 0) latencies.push(receivedAt - Date.parse(text.slice(at, publishedEnd)));
    }
    at = capturedAtEnd;
  }
  if (updates === 0) errors++;
}

async function open({ url, filters, batched, perSocket }: OpenMessage): Promise<void> {
  const wsUrl = url.replace(/^http/, 'ws') + '/graphql';
  const query = batched ? traderOddsBatchSubscription : traderOddsSubscription;
  const groups: Subscriber[][] = [];
  for (const events of filters) {
    const subscriber: Subscriber = { events: events && new Set(events), last: new Map(), lastReceiptAt: 0 };
    subscribers.push(subscriber);
    if (groups.length === 0 || groups.at(-1)!.length >= perSocket) groups.push([]);
    groups.at(-1)!.push(subscriber);
  }
  const batch = 200;
  for (let first = 0; first < groups.length; first += batch) {
    await Promise.all(groups.slice(first, first + batch).map((group) => connect(wsUrl, group, query)));
  }
}

/** Which newest states each subscriber still has to receive (from now on counted down as they arrive). */
function expect(newestMs: Record<string, number>): void {
  const newest = Object.entries(newestMs).map(([pair, ms]) => {
    const at = pair.indexOf('|');
    return { eventId: pair.slice(0, at), id: pairId(Number(pair.slice(0, at)), bookmakerIndex(pair, at + 1, pair.length)), capturedAt: new Date(ms).toISOString() };
  });
  for (const subscriber of subscribers) {
    subscriber.missing = new Map();
    for (const { eventId, id, capturedAt } of newest) {
      if (subscriber.events && !subscriber.events.has(eventId)) continue;
      if (subscriber.last.get(id) !== capturedAt) subscriber.missing.set(id, capturedAt);
    }
  }
}

/**
 * An (event, bookmaker) pair as a number, from the event's numeric id and the bookmaker's place in
 * `bookmakers`: a Map keyed by numbers, instead of an `eventId|bookmaker` string built and hashed for
 * every update received (with the text decoding, most of what limited a client process).
 */
function pairId(eventId: number, bookmaker: number): number {
  return eventId * 1024 + bookmaker;
}

/** Bookmaker keys in the order first seen: few, so finding one in a message's text is a few comparisons. */
const bookmakers: string[] = [];

/** The place in `bookmakers` of the key `text` holds from `from` to `to`. */
function bookmakerIndex(text: string, from: number, to: number): number {
  const length = to - from;
  for (let i = 0; i < bookmakers.length; i++) {
    const key = bookmakers[i]!;
    if (key.length === length && text.startsWith(key, from)) return i;
  }
  return bookmakers.push(text.slice(from, to)) - 1;
}

/** The number of the decimal digits `text` holds from `from` to `to`. */
function digitsAt(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
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
  // `eventId|bookmaker|ms` as received updates are kept: `eventId|bookmaker|ISO time`.
  const publishedKeys = published.map((key) => {
    const at = key.lastIndexOf('|');
    return `${key.slice(0, at)}|${new Date(Number(key.slice(at + 1))).toISOString()}`;
  });
  for (const subscriber of subscribers) {
    if (window.trackEach) {
      for (const key of publishedKeys) {
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
    sockets: sockets.length,
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
    const iso = (ms: number) => new Date(ms).toISOString();
    window = { fromMs: message.fromMs, toMs: message.toMs, from: iso(message.fromMs), to: iso(message.toMs), trackEach: message.trackEach };
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
