import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordShapeOf } from '../../src/domain/records.js';
import { SimulatedFeed } from '../../src/ingest/simulated-feed.js';
import { IngestWorker } from '../../src/ingest/worker.js';
import { InProcessOddsBus, type OddsChange } from '../../src/live/odds-bus.js';
import { encodeOddsChange, OddsChangeDecoder } from '../../src/live/odds-wire.js';
import { silentLogger } from '../../src/ops/log.js';
import { anyKind, createTestDatabase, type TestDatabase } from '../support/databases.js';

/** What a worker publishes on the simulated feed, read back from the change log as it publishes it. */
describe('odds changes on the wire between a worker and its gateways', () => {
  let test: TestDatabase;
  const published: OddsChange[] = [];

  beforeAll(async () => {
    test = await createTestDatabase(anyKind, 'seeded-small');
    const bus = new InProcessOddsBus();
    bus.onChange((change) => published.push(change));
    const worker = new IngestWorker({ prisma: test.db.prisma, feed: new SimulatedFeed(test.db.prisma, { changesPerSecond: 200, seed: 3 }), bus, logger: silentLogger() });
    for (let cycle = 0; cycle < 3; cycle++) await worker.runCycle();
  }, 60_000);
  afterAll(() => test?.drop());

  it('decodes to the records the worker read, the same to the byte, with their shapes prepared', () => {
    const odds = published.flatMap((change) => change.entries.flatMap((entry) => entry.odds));
    expect(odds.length).toBeGreaterThan(10);
    const decoder = new OddsChangeDecoder();
    for (const change of published) {
      const decoded = decoder.decode(JSON.parse(encodeOddsChange(change)));
      expect(decoded).toEqual(change);
      expect(JSON.stringify(decoded)).toBe(JSON.stringify(change));
      expect(Object.isFrozen(decoded.entries[0]!.odds[0]!.snapshot.markets[0])).toBe(true);
      // Best prices across bookmakers are found by the prepared shape's keys (src/domain/records.ts).
      expect(decoded.entries.flatMap((entry) => entry.odds).every(({ snapshot }) => snapshot.markets.every((market) => recordShapeOf(market)))).toBe(true);
    }
  });

  it("carries each snapshot in under a quarter of its records' JSON", () => {
    const records = published.reduce((bytes, change) => bytes + JSON.stringify(change).length, 0);
    const wire = published.reduce((bytes, change) => bytes + encodeOddsChange(change).length, 0);
    expect(wire / records).toBeLessThan(0.25);
  });

  it('refuses a message of another format, naming a shape it does not carry, or with an item short of a field, with a clear error', () => {
    const decoder = new OddsChangeDecoder();
    const change = published.find((c) => c.entries.some((entry) => entry.odds.length > 0))!;
    const wire = JSON.parse(encodeOddsChange(change)) as { format: number; shapes: Record<string, unknown> };
    expect(() => decoder.decode({ ...wire, format: 1 })).toThrow(/format 2/);
    expect(() => decoder.decode({ ...wire, shapes: {} })).toThrow(/names shape .* which the change does not carry/);
    // A record missing its capture time is refused with the message, not when a gateway applies it.
    const [entry] = (wire as unknown as { entries: Array<{ odds: Array<Record<string, unknown>> }> }).entries.filter((e) => e.odds.length > 0);
    delete entry!.odds[0]!.capturedAt;
    expect(() => decoder.decode(wire)).toThrow(/a capture time/);
  });
});
