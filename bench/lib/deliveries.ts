import { percentile } from './stats.js';

/** One update as one subscriber received it. Subscriber -1 is the unfiltered observer. */
export interface Delivery {
  subscriber: number;
  /** `eventId|bookmaker|capturedAt`: the same update has the same key at every subscriber. */
  key: string;
  eventId: string;
  capturedAtMs: number;
  /** When the worker published the change (OddsUpdate.publishedAt), after its transaction committed. */
  publishedAtMs: number;
  receivedAtMs: number;
}

export interface DeliverySummary {
  /** Distinct updates anyone received in the window (the unfiltered observer sees them all unless it falls behind). */
  published: number;
  /** Deliveries the subscribers' filters call for, given what was published. */
  expected: number;
  received: number;
  /** Expected but never received. */
  lost: number;
  /** Received for an event outside the subscriber's filter: a filter leak. */
  unexpected: number;
  /** capturedAt (when the worker took the record from the feed) to receipt: includes the DB transaction, cache refresh, publish and fan-out. */
  captureToReceiveMs: { p50: number; p99: number; max: number };
  /** publishedAt (the worker handing the committed change to the bus) to receipt: the update-to-subscriber latency. */
  publishToReceiveMs: { p50: number; p99: number; max: number };
  /** First receipt of an update at any subscriber to its receipt at this one: the fan-out's own spread. */
  fanOutSpreadMs: { p50: number; p99: number; max: number };
}

/** Counts loss and latency for updates captured within [fromMs, toMs]. `filters[i]` is subscriber i's event ids. */
export function summariseDeliveries(
  deliveries: readonly Delivery[],
  filters: readonly (readonly string[])[],
  fromMs: number,
  toMs: number,
): DeliverySummary {
  const inWindow = deliveries.filter((d) => d.capturedAtMs >= fromMs && d.capturedAtMs <= toMs);
  const publishedByEvent = new Map<string, Set<string>>();
  const firstReceipt = new Map<string, number>();
  // Published = seen by anyone: the observer, or a subscriber when the observer itself fell behind.
  for (const d of inWindow) {
    let keys = publishedByEvent.get(d.eventId);
    if (!keys) publishedByEvent.set(d.eventId, (keys = new Set()));
    keys.add(d.key);
    firstReceipt.set(d.key, Math.min(firstReceipt.get(d.key) ?? Infinity, d.receivedAtMs));
  }
  const receivedBySubscriber = new Map<number, Set<string>>();
  const captureToReceive: number[] = [];
  const publishToReceive: number[] = [];
  const spread: number[] = [];
  for (const d of inWindow) {
    if (d.subscriber === -1) continue;
    let keys = receivedBySubscriber.get(d.subscriber);
    if (!keys) receivedBySubscriber.set(d.subscriber, (keys = new Set()));
    keys.add(d.key);
    captureToReceive.push(d.receivedAtMs - d.capturedAtMs);
    publishToReceive.push(d.receivedAtMs - d.publishedAtMs);
    spread.push(d.receivedAtMs - firstReceipt.get(d.key)!);
  }
  let expected = 0;
  let received = 0;
  let lost = 0;
  let unexpected = 0;
  filters.forEach((eventIds, subscriber) => {
    const got = receivedBySubscriber.get(subscriber) ?? new Set<string>();
    const want = new Set<string>();
    for (const id of eventIds) for (const key of publishedByEvent.get(id) ?? []) want.add(key);
    expected += want.size;
    received += got.size;
    for (const key of want) if (!got.has(key)) lost++;
    const filter = new Set(eventIds);
    for (const key of got) if (!filter.has(key.slice(0, key.indexOf('|')))) unexpected++;
  });
  let published = 0;
  for (const keys of publishedByEvent.values()) published += keys.size;
  return {
    published,
    expected,
    received,
    lost,
    unexpected,
    captureToReceiveMs: summary(captureToReceive),
    publishToReceiveMs: summary(publishToReceive),
    fanOutSpreadMs: summary(spread),
  };
}

function summary(values: number[]): { p50: number; p99: number; max: number } {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? values.reduce((a, b) => Math.max(a, b)) : Number.NaN };
}
