import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHistoryDays } from '../../src/db/history-partitions.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';
import { schemaDrift } from '../support/schema-drift.js';

const schemaPath = path.resolve(import.meta.dirname, '../../prisma/schema.prisma');

describe.each(databaseKinds)('schema.prisma and the SQL migrations on %s', (kind) => {
  let test: TestDatabase;
  let schema: string;
  beforeAll(async () => {
    test = await createTestDatabase(kind, 'migrated');
    schema = await readFile(schemaPath, 'utf8');
  });
  afterAll(() => test.drop());

  const drift = (prismaSchema: string) => test.db.withSession((session) => schemaDrift(prismaSchema, session));

  it('agree on every table, column, type, nullability, default, key, index, foreign key and enum', async () => {
    expect(await drift(schema)).toEqual([]);
  });

  it('disagree when a field is added only to schema.prisma', async () => {
    const withVenue = schema.replace(/(model Event \{\n)/, '$1  venue String?\n');
    expect(await drift(withVenue)).toEqual(['columns event.venue: in schema.prisma, missing from the database']);
  });

  it('disagree when a field changes type or nullability only in schema.prisma', async () => {
    const changed = schema
      .replace(/ home +String/, ' home String?')
      .replace(/(model LatestOdds[^}]*prices +)Json +@db.Json/, '$1Json @db.JsonB');
    expect(await drift(changed)).toEqual([
      'columns event.home: schema.prisma has text NULL, the database has text NOT NULL',
      'columns latest_odds.prices: schema.prisma has jsonb NOT NULL, the database has json NOT NULL',
    ]);
  });

  it('disagree when an index is declared only in schema.prisma', async () => {
    const withIndex = schema.replace(/(@@map\("bookmaker"\))/, '@@index([name])\n  $1');
    expect(await drift(withIndex)).toEqual([
      'indexes bookmaker_name_idx: in schema.prisma, missing from the database',
    ]);
  });

  it('count a partitioned table as its parent: its day partitions are not drift, a stray table is', async () => {
    await ensureHistoryDays(test.db.prisma, new Date('2026-11-30T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    expect(await drift(schema)).toEqual([]);
    await test.db.withSession((s) => s.exec('CREATE TABLE "odds_snapshot_copy" (LIKE "odds_snapshot")'));
    try {
      expect(await drift(schema)).toEqual(expect.arrayContaining(['tables odds_snapshot_copy: in the database, missing from schema.prisma']));
    } finally {
      await test.db.withSession((s) => s.exec('DROP TABLE "odds_snapshot_copy"'));
    }
  });

  it('disagree when a column or index is added only to the database', async () => {
    await test.db.withSession((s) =>
      s.exec('ALTER TABLE "event" ADD COLUMN "venue" TEXT; CREATE INDEX "event_home_idx" ON "event"("home");'),
    );
    try {
      expect(await drift(schema)).toEqual([
        'columns event.venue: in the database, missing from schema.prisma',
        'indexes event_home_idx: in the database, missing from schema.prisma',
      ]);
    } finally {
      await test.db.withSession((s) => s.exec('ALTER TABLE "event" DROP COLUMN "venue"; DROP INDEX "event_home_idx";'));
    }
  });
});
