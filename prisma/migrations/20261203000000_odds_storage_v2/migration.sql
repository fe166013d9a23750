-- Storage v2 (issue 16): history is one row per snapshot with its markets as
-- a jsonb document, partitioned by UTC day of captured_at; each outcome
-- carries its movement (the price before its last change, and when it
-- changed), derived at ingest so no read looks backwards. The latest odds per
-- (event, bookmaker) hold their own document. Existing snapshots are carried
-- over with their movement derived as ingest now derives it; the market and
-- outcome tables go.

-- The latest odds no longer point into history: retention may drop the day
-- their snapshot was captured on.
ALTER TABLE "latest_odds" DROP CONSTRAINT "latest_odds_snapshot_id_fkey";
DROP INDEX "latest_odds_snapshot_id_key";
ALTER TABLE "latest_odds" ADD COLUMN "markets" JSONB;

ALTER TABLE "odds_snapshot" RENAME TO "odds_snapshot_v1";
ALTER INDEX "odds_snapshot_pkey" RENAME TO "odds_snapshot_v1_pkey";
ALTER INDEX "odds_snapshot_event_id_bookmaker_id_captured_at_key" RENAME TO "odds_snapshot_v1_key";
ALTER INDEX "odds_snapshot_bookmaker_id_captured_at_idx" RENAME TO "odds_snapshot_v1_bookmaker_idx";

-- CreateTable: ids continue the old sequence, which moves to the new table.
CREATE TABLE "odds_snapshot" (
    "id" INTEGER NOT NULL DEFAULT nextval('odds_snapshot_id_seq'),
    "event_id" INTEGER NOT NULL,
    "bookmaker_id" INTEGER NOT NULL,
    "captured_at" TIMESTAMPTZ(3) NOT NULL,
    "markets" JSONB NOT NULL
) PARTITION BY RANGE ("captured_at");
ALTER SEQUENCE "odds_snapshot_id_seq" OWNED BY "odds_snapshot"."id";

-- Rows no day partition covers land here (src/db/history-partitions.ts
-- creates the days ahead, and moves such rows when it creates their day).
CREATE TABLE "odds_snapshot_default" PARTITION OF "odds_snapshot" DEFAULT;

-- One partition per UTC day that has history, named as
-- src/db/history-partitions.ts names them.
DO $$
DECLARE
  day date;
BEGIN
  FOR day IN SELECT DISTINCT (captured_at AT TIME ZONE 'UTC')::date FROM "odds_snapshot_v1" LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF "odds_snapshot" FOR VALUES FROM (%L) TO (%L)',
      'odds_snapshot_d' || to_char(day, 'YYYYMMDD'),
      to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00',
      to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00'
    );
  END LOOP;
END $$;

-- Each outcome's movement, as ingest derives it: following the same
-- bookmaker's previous snapshot of the event, a changed price records the old
-- one and the time, an unchanged one keeps what it had, and an outcome that
-- snapshot did not offer starts afresh.
INSERT INTO "odds_snapshot" ("id", "event_id", "bookmaker_id", "captured_at", "markets")
WITH ranked AS (
  SELECT s.id AS snapshot_id, s.captured_at, m.id AS market_id, m.key AS market_key, m.name AS market_name, m.line, m.status,
         o.id AS outcome_id, o.key, o.name, o.price, o.result,
         dense_rank() OVER (PARTITION BY s.event_id, s.bookmaker_id ORDER BY s.captured_at) AS nth,
         s.event_id, s.bookmaker_id
  FROM "odds_snapshot_v1" s JOIN "market" m ON m.snapshot_id = s.id JOIN "outcome" o ON o.market_id = m.id
), followed AS (
  SELECT *,
         lag(nth) OVER w AS last_nth,
         lag(price) OVER w AS last_price
  FROM ranked
  WINDOW w AS (PARTITION BY event_id, bookmaker_id, market_key, line, key ORDER BY captured_at)
), changes AS (
  SELECT *,
         CASE WHEN last_nth = nth - 1 THEN last_price END AS price_before,
         (last_nth IS DISTINCT FROM nth - 1 OR last_price <> price) AS changed
  FROM followed
), runs AS (
  SELECT *,
         count(*) FILTER (WHERE changed) OVER (PARTITION BY event_id, bookmaker_id, market_key, line, key ORDER BY captured_at) AS run
  FROM changes
), moved_outcome AS (
  SELECT snapshot_id, market_id, market_key, market_name, line, status, outcome_id, key, name, price, result,
         first_value(price_before) OVER r AS previous_price,
         (extract(epoch FROM first_value(captured_at) OVER r) * 1000)::bigint AS changed_at_ms
  FROM runs
  WINDOW r AS (PARTITION BY event_id, bookmaker_id, market_key, line, key, run ORDER BY captured_at)
)
SELECT s.id, s.event_id, s.bookmaker_id, s.captured_at, COALESCE(d.markets, '[]'::jsonb)
FROM "odds_snapshot_v1" s
LEFT JOIN (
  SELECT snapshot_id, jsonb_agg(market ORDER BY market_id) AS markets
  FROM (
    SELECT snapshot_id, market_id,
           jsonb_build_object(
             'key', market_key, 'name', market_name, 'line', line, 'status', status,
             'outcomes', jsonb_agg(
               jsonb_build_object(
                 'key', key, 'name', name, 'price', price, 'previousPrice', previous_price,
                 'changedAtMs', changed_at_ms, 'result', result
               ) ORDER BY outcome_id
             )
           ) AS market
    FROM moved_outcome
    GROUP BY snapshot_id, market_id, market_key, market_name, line, status
  ) markets
  GROUP BY snapshot_id
) d ON d.snapshot_id = s.id;

UPDATE "latest_odds" l SET "markets" = s."markets"
FROM "odds_snapshot" s WHERE s."id" = l."snapshot_id" AND s."captured_at" = l."captured_at";
ALTER TABLE "latest_odds" ALTER COLUMN "markets" SET NOT NULL;

DROP TABLE "outcome";
DROP TABLE "market";
DROP TABLE "odds_snapshot_v1";

-- Keys and indexes after the copy, built once per partition.
ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_pkey" PRIMARY KEY ("id", "captured_at");

-- CreateIndex: idempotent ingest, and one event's history in time order.
CREATE UNIQUE INDEX "odds_snapshot_event_id_captured_at_bookmaker_id_key" ON "odds_snapshot"("event_id", "captured_at", "bookmaker_id");

-- AddForeignKey
ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "event"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_bookmaker_id_fkey" FOREIGN KEY ("bookmaker_id") REFERENCES "bookmaker"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
