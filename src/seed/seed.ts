import type { Database } from '../db/database.js';
import { ensureHistoryDays } from '../db/history-partitions.js';
import { storeSnapshots } from '../db/odds-store.js';
import type { SnapshotInput } from '../domain/odds.js';
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
// Snapshots per (event, bookmaker) per write batch, about: each batch is one transaction of a fixed number of
// statements, kept well inside its time limit however long the history (100 events at three snapshots per pair).
const pairSnapshotsPerBatch = 300;

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
  let snapshotCount = 0;
  const eventsPerBatch = Math.max(1, Math.floor(pairSnapshotsPerBatch / snapshotsPerPair));
  for (let first = 0; first < options.events; first += eventsPerBatch) {
    const count = Math.min(eventsPerBatch, options.events - first);
    const events = layOutEvents({ first, count, total: options.events, competitions, now, random });
    const eventRows = await prisma.event.createManyAndReturn({
      data: events.map(({ sportKey: _, ...event }) => event),
      select: { id: true },
    });
    const snapshots = priceHistory(events, eventRows, bookmakers, { snapshotsPerPair, now, random });
    snapshotCount += (await storeSnapshots(prisma, snapshots)).stored;
    options.onProgress?.({ events: first + count, totalEvents: options.events, snapshots: snapshotCount });
  }
  await analyze(db);
  return { events: options.events, bookmakers: options.bookmakers, snapshots: snapshotCount };
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
