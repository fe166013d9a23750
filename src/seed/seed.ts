import type { Database } from '../db/database.js';
import { ensureHistoryDays } from '../db/history-partitions.js';
import { writeShapes, type NamedShape } from '../db/market-shapes.js';
import { asStored } from '../db/odds-store.js';
import { withMovement, type MovedMarket } from '../domain/movement.js';
import type { SnapshotInput } from '../domain/odds.js';
import { storedMarkets } from '../domain/stored-odds.js';
import { createRandom, driftModel, priceMarkets, sportProfiles } from '../domain/pricing.js';
import { bookmakers as bookmakerCatalogue, sports as sportCatalogue } from './catalogue.js';
import type { EventStatus } from '../generated/prisma/enums.js';

export interface SeedOptions {
  events: number;
  bookmakers: number;
  /** Snapshots of history per (event, bookmaker), six hours apart, the last one being the latest (default 3). */
  snapshotsPerPair?: number;
  /** PRNG seed: the same seed and day give the same data set (default 42). */
  seed?: number;
  /** The seed's "now" (default: the current time). Events spread from a day before to 14 days after. */
  now?: Date;
  onProgress?: (progress: { events: number; totalEvents: number; snapshots: number }) => void;
}

export interface SeedResult {
  events: number;
  bookmakers: number;
  snapshots: number;
}

const hour = 3_600_000;
// Snapshots per (event, bookmaker) generated per batch of events, about (100 events at three snapshots per pair).
// The batches order the PRNG's draws: changing this changes the data set.
const pairSnapshotsPerBatch = 300;
// Rows per COPY statement: a few MB of text, well inside the connections' statement timeout.
const rowsPerCopy = 5_000;
// COPY statements running at once, each on its own connection (PGlite runs them one after another): on a 2-core
// machine two halve the seed's time against one, a third gains nothing.
const copiesInFlight = 2;

type Random = () => number;
type SeedCompetition = { id: number; sportId: number; sportKey: string; teams: string[]; weight: number };
type SeedBookmaker = { id: number; margin: number };
type SeedEvent = ReturnType<typeof layOutEvents>[number];

/**
 * Replaces the database's contents with a deterministic, believable data set.
 * Kick-offs are laid out from the start of the UTC day, so seeding twice on
 * the same day gives the same rows.
 */
export async function seedDatabase(db: Database, options: SeedOptions): Promise<SeedResult> {
  checkOptions(options);
  const random = createRandom(options.seed ?? 42);
  const now = options.now ?? new Date();
  const snapshotsPerPair = options.snapshotsPerPair ?? 3;
  const { prisma } = db;
  await prisma.$executeRawUnsafe('TRUNCATE latest_odds, odds_snapshot, event, competition, sport, bookmaker RESTART IDENTITY CASCADE');
  // History's days, from the first event's earliest snapshot (kick-off yesterday, minus the history) to now.
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  await ensureHistoryDays(prisma, new Date(dayStart - 24 * hour - 5 * 60_000 - (snapshotsPerPair - 1) * 6 * hour), now);
  const { bookmakers, competitions } = await createCatalogue(db, options.bookmakers);
  // History is written as the ingest path would have written it (prices rounded as stored, each snapshot's
  // movement following the pair's snapshot before), but by COPY: ids given here, in generation order.
  const history = new CopyLoader(db, 'odds_snapshot (id, event_id, bookmaker_id, captured_at, shape, prices)');
  const newest = new Map<string, string>();
  // Shapes are few (one per sport's market template and line set): stored once each, after the history naming them.
  // Each shape once, with the newest capture that names it.
  const shapes = new Map<string, NamedShape>();
  let snapshotCount = 0;
  const eventsPerBatch = Math.max(1, Math.floor(pairSnapshotsPerBatch / snapshotsPerPair));
  for (let first = 0; first < options.events; first += eventsPerBatch) {
    const count = Math.min(eventsPerBatch, options.events - first);
    const events = layOutEvents({ first, count, total: options.events, competitions, now, random });
    const eventRows = await prisma.event.createManyAndReturn({
      data: events.map(({ sportKey: _, ...event }) => event),
      select: { id: true },
    });
    const previous = new Map<string, MovedMarket[]>();
    for (const snapshot of priceHistory(events, eventRows, bookmakers, { snapshotsPerPair, now, random })) {
      const { eventId, bookmakerId, capturedAt, markets } = asStored(snapshot);
      const pair = `${eventId}\t${bookmakerId}`;
      const moved = withMovement(markets, capturedAt.getTime(), previous.get(pair));
      previous.set(pair, moved);
      const id = ++snapshotCount;
      const stored = storedMarkets(moved, capturedAt.getTime());
      const named = shapes.get(stored.digest);
      if (!named) shapes.set(stored.digest, { stored, capturedAt });
      else if (named.capturedAt < capturedAt) named.capturedAt = capturedAt;
      const capturedAndMarkets = `${capturedAt.toISOString()}\t${stored.digest}\t${stored.pricesJson}\n`;
      await history.add(`${id}\t${pair}\t${capturedAndMarkets}`);
      // Snapshots come oldest first per pair: the last one seen is the latest.
      newest.set(pair, `${pair}\t${id}\t${capturedAndMarkets}`);
    }
    options.onProgress?.({ events: first + count, totalEvents: options.events, snapshots: snapshotCount });
  }
  await history.end();
  await db.withSession((session) => writeShapes(session.query, [...shapes.values()]));
  const latest = new CopyLoader(db, 'latest_odds (event_id, bookmaker_id, snapshot_id, captured_at, shape, prices)');
  for (const line of newest.values()) await latest.add(line);
  await latest.end();
  // The ids were given, not drawn: the sequence goes on after them, for ingest.
  if (snapshotCount > 0) await prisma.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('odds_snapshot', 'id'), $1)`, snapshotCount);
  await analyze(db);
  return { events: options.events, bookmakers: options.bookmakers, snapshots: snapshotCount };
}

/**
 * Rows sent `rowsPerCopy` at a time, each batch one COPY on a connection of
 * its own, while the next batch is generated: on PostgreSQL the server
 * stores earlier batches while this process prices the next.
 */
class CopyLoader {
  #lines: string[] = [];
  #inFlight: Array<Promise<void>> = [];

  constructor(
    private readonly db: Database,
    private readonly target: string,
  ) {}

  async add(line: string): Promise<void> {
    this.#lines.push(line);
    if (this.#lines.length >= rowsPerCopy) await this.#send();
  }

  async end(): Promise<void> {
    if (this.#lines.length > 0) await this.#send();
    await Promise.all(this.#inFlight);
  }

  async #send(): Promise<void> {
    const lines = this.#lines;
    this.#lines = [];
    if (this.#inFlight.length >= copiesInFlight) await this.#inFlight.shift();
    const copy = this.db.withSession((session) => session.copyIn(this.target, lines));
    // Handled when awaited by a later send or `end`; until then a failure must not count as unhandled.
    copy.catch(() => {});
    this.#inFlight.push(copy);
  }
}

/**
 * Fresh statistics, so the first queries after a seed are planned on what is
 * there. ANALYZE samples every table: on a large seed, longer than the
 * connections' statement timeout, lifted for this transaction only.
 */
async function analyze({ prisma }: Database): Promise<void> {
  await prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL statement_timeout = 0');
      await tx.$executeRawUnsafe('ANALYZE');
    },
    { timeout: 600_000 },
  );
}

function checkOptions(options: SeedOptions): void {
  if (!Number.isInteger(options.events) || options.events < 1) {
    throw new RangeError(`events must be a positive whole number, got ${options.events}`);
  }
  if (!Number.isInteger(options.bookmakers) || options.bookmakers < 1 || options.bookmakers > bookmakerCatalogue.length) {
    throw new RangeError(`bookmakers must be from 1 to ${bookmakerCatalogue.length}, got ${options.bookmakers}`);
  }
}

/** The first `bookmakerCount` bookmakers of the catalogue, and every sport and competition. */
async function createCatalogue({ prisma }: Database, bookmakerCount: number): Promise<{ bookmakers: SeedBookmaker[]; competitions: SeedCompetition[] }> {
  const usedBookmakers = bookmakerCatalogue.slice(0, bookmakerCount);
  const bookmakerRows = await prisma.bookmaker.createManyAndReturn({
    data: usedBookmakers.map(({ key, name }) => ({ key, name })),
  });
  const competitions: SeedCompetition[] = [];
  for (const sport of sportCatalogue) {
    const sportRow = await prisma.sport.create({ data: { key: sport.key, name: sport.name } });
    const rows = await prisma.competition.createManyAndReturn({
      data: sport.competitions.map(({ key, name, country }) => ({ sportId: sportRow.id, key, name, country })),
    });
    rows.forEach((row, i) =>
      competitions.push({
        id: row.id,
        sportId: sportRow.id,
        sportKey: sport.key,
        teams: sport.competitions[i]!.teams,
        weight: sport.weight / sport.competitions.length,
      }),
    );
  }
  return { bookmakers: usedBookmakers.map((bookmaker, b) => ({ id: bookmakerRows[b]!.id, margin: bookmaker.margin })), competitions };
}

/** Events `first` to `first + count` of `total`, spread evenly from yesterday's start to two weeks ahead, on the quarter hour. */
function layOutEvents(batch: { first: number; count: number; total: number; competitions: SeedCompetition[]; now: Date; random: Random }) {
  const { first, count, total, competitions, now, random } = batch;
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const span = 15 * 24 * hour;
  return Array.from({ length: count }, (_, i) => {
    const competition = pick(competitions, random);
    const [home, away] = twoDistinct(competition.teams, random);
    const offset = ((first + i + random()) / total) * span;
    const kickoffAt = new Date(dayStart - 24 * hour + Math.round(offset / 900_000) * 900_000);
    return {
      externalId: `sim-${first + i + 1}`,
      sportId: competition.sportId,
      competitionId: competition.id,
      home: home!,
      away: away!,
      kickoffAt,
      status: statusAt(kickoffAt, now, random),
      sportKey: competition.sportKey,
    };
  });
}

/** `snapshotsPerPair` snapshots per (event, bookmaker), 6 hours apart, drifting from each event's opening model. */
function priceHistory(
  events: SeedEvent[],
  eventRows: Array<{ id: number }>,
  bookmakers: SeedBookmaker[],
  { snapshotsPerPair, now, random }: { snapshotsPerPair: number; now: Date; random: Random },
): SnapshotInput[] {
  const snapshots: SnapshotInput[] = [];
  events.forEach((event, i) => {
    const profile = sportProfiles[event.sportKey]!;
    const opening = profile.randomModel(random);
    let model = opening;
    // History ends at kick-off for events already played, at "now" for the rest.
    const lastCapture = Math.min(event.kickoffAt.getTime() - 5 * 60_000, now.getTime());
    for (let s = snapshotsPerPair - 1; s >= 0; s--) {
      model = driftModel(model, opening, profile.bounds, random);
      const capturedAt = new Date(lastCapture - s * 6 * hour);
      for (const bookmaker of bookmakers) {
        snapshots.push({
          eventId: eventRows[i]!.id,
          bookmakerId: bookmaker.id,
          capturedAt,
          markets: priceMarkets(model, profile.markets, bookmaker.margin * (0.9 + random() * 0.2), random),
        });
      }
    }
  });
  return snapshots;
}

function statusAt(kickoffAt: Date, now: Date, random: () => number): EventStatus {
  if (random() < 0.02) return 'CANCELLED';
  const sinceKickoff = now.getTime() - kickoffAt.getTime();
  if (sinceKickoff < 0) return 'SCHEDULED';
  return sinceKickoff < 2 * hour ? 'LIVE' : 'FINISHED';
}

function pick<T extends { weight: number }>(items: T[], random: () => number): T {
  let roll = random() * items.reduce((sum, item) => sum + item.weight, 0);
  for (const item of items) {
    roll -= item.weight;
    if (roll <= 0) return item;
  }
  return items[items.length - 1]!;
}

function twoDistinct<T>(items: T[], random: () => number): [T, T] {
  const a = Math.floor(random() * items.length);
  const b = (a + 1 + Math.floor(random() * (items.length - 1))) % items.length;
  return [items[a]!, items[b]!];
}
