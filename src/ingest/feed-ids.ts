import type { PrismaClient } from '../generated/prisma/client.js';
import type { FeedRecord } from './feed-record.js';

export interface ResolvedIds {
  /** Events created from fixtures. */
  created: number;
  /** Why an event stayed unknown, when there is more to say than "unknown event". */
  whyUnknown: Map<string, string>;
}

/**
 * The database ids of the events (by external id) and bookmakers (by key)
 * that feed records name, learned once and remembered. An event the
 * database does not know is created when its record carries a fixture (a
 * feed announcing a new event), a bookmaker when its record carries its
 * name.
 */
export class FeedIds {
  readonly #eventIds = new Map<string, number>();
  readonly #bookmakerIds = new Map<string, number>();

  constructor(private readonly prisma: PrismaClient) {}

  event(externalId: string): number | undefined {
    return this.#eventIds.get(externalId);
  }

  bookmaker(key: string): number | undefined {
    return this.#bookmakerIds.get(key);
  }

  async resolve(records: readonly FeedRecord[]): Promise<ResolvedIds> {
    const whyUnknown = new Map<string, string>();
    const events = [...new Set(records.map((r) => r.event))].filter((id) => !this.#eventIds.has(id));
    // State records name no bookmaker.
    const bookmakers = [...new Set(records.flatMap((r) => ('bookmaker' in r ? [r.bookmaker] : [])))].filter(
      (key) => !this.#bookmakerIds.has(key),
    );
    if (bookmakers.length > 0) await this.#resolveBookmakers(bookmakers, records);
    if (events.length === 0) return { created: 0, whyUnknown };
    await this.#findEvents(events);
    const fixtures = new Map<string, NonNullable<FeedRecord['fixture']>>();
    for (const record of records) {
      if (record.fixture && !this.#eventIds.has(record.event)) fixtures.set(record.event, record.fixture);
    }
    if (fixtures.size === 0) return { created: 0, whyUnknown };
    const created = await this.#createEvents(fixtures, whyUnknown);
    return { created, whyUnknown };
  }

  async #resolveBookmakers(keys: string[], records: readonly FeedRecord[]): Promise<void> {
    const find = async (some: string[]) => {
      const rows = await this.prisma.bookmaker.findMany({ where: { key: { in: some } }, select: { id: true, key: true } });
      for (const row of rows) this.#bookmakerIds.set(row.key, row.id);
    };
    await find(keys);
    const names = new Map<string, string>();
    for (const record of records) {
      if ('bookmaker' in record && record.bookmakerName && !this.#bookmakerIds.has(record.bookmaker)) {
        names.set(record.bookmaker, record.bookmakerName);
      }
    }
    if (names.size === 0) return;
    // The unique key keeps one bookmaker when two workers create it at once.
    await this.prisma.bookmaker.createMany({ data: [...names].map(([key, name]) => ({ key, name })), skipDuplicates: true });
    await find([...names.keys()]);
  }

  async #findEvents(externalIds: string[]): Promise<void> {
    const rows = await this.prisma.event.findMany({ where: { externalId: { in: externalIds } }, select: { id: true, externalId: true } });
    for (const row of rows) this.#eventIds.set(row.externalId, row.id);
  }

  async #createEvents(fixtures: Map<string, NonNullable<FeedRecord['fixture']>>, whyUnknown: Map<string, string>): Promise<number> {
    const prisma = this.prisma;
    const competitionKeys = [...new Set([...fixtures.values()].map((f) => f.competition))];
    const competitions = new Map(
      (await prisma.competition.findMany({ where: { key: { in: competitionKeys } }, select: { id: true, key: true, sportId: true } })).map(
        (c) => [c.key, c],
      ),
    );
    const data = [];
    for (const [externalId, fixture] of fixtures) {
      const competition = competitions.get(fixture.competition);
      if (!competition) {
        whyUnknown.set(externalId, `fixture.competition: unknown competition ${JSON.stringify(fixture.competition)}`);
        continue;
      }
      const { home, away, kickoffAt } = fixture;
      data.push({ externalId, sportId: competition.sportId, competitionId: competition.id, home, away, kickoffAt });
    }
    // Another worker may create the same event at the same moment: the unique external id keeps one.
    const created = await prisma.event.createMany({ data, skipDuplicates: true });
    await this.#findEvents(data.map((d) => d.externalId));
    return created.count;
  }
}
