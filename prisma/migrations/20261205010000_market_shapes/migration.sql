-- Snapshots keep their numbers; their shape (market keys, names, lines and
-- statuses, outcome keys, names and results) is stored once per distinct
-- shape (src/domain/stored-odds.ts). A 5-market document took about 700 bytes
-- of history a change (compressed jsonb); its numbers as JSON about 150.
CREATE TABLE "market_shape" (
    "digest" UUID NOT NULL,
    "markets" JSONB NOT NULL,

    CONSTRAINT "market_shape_pkey" PRIMARY KEY ("digest")
);

-- The conversion, as src/domain/stored-odds.ts stores markets, in one walk of
-- a document: its shape, the digest naming it, and its numbers (three per
-- outcome: price, previous price, ms since it last changed) written as
-- JSON.stringify writes them. Lives only for this migration.
CREATE FUNCTION "odds_v3_stored"(doc jsonb, at timestamptz) RETURNS TABLE ("digest" uuid, "shape" jsonb, "prices" json)
LANGUAGE sql IMMUTABLE AS $$
  SELECT md5(s::text)::uuid, s, p
  FROM (
    SELECT COALESCE(jsonb_agg(
             jsonb_build_object('key', m->'key', 'name', m->'name', 'line', m->'line', 'status', m->'status', 'outcomes', o.shape)
             ORDER BY mi), '[]') AS s,
           ('[' || COALESCE(string_agg(o.prices, ',' ORDER BY mi), '') || ']')::json AS p
    FROM jsonb_array_elements(doc) WITH ORDINALITY AS y(m, mi),
    LATERAL (
      SELECT COALESCE(jsonb_agg(jsonb_build_object('key', o->'key', 'name', o->'name', 'result', o->'result') ORDER BY oi), '[]') AS shape,
             string_agg(
               concat_ws(',',
                 (o->>'price')::float8,
                 COALESCE((o->>'previousPrice')::float8::text, 'null'),
                 (extract(epoch FROM at) * 1000)::bigint - (o->>'changedAtMs')::bigint),
               ',' ORDER BY oi) AS prices
      FROM jsonb_array_elements(m->'outcomes') WITH ORDINALITY AS x(o, oi)
    ) o
  ) d
$$;

-- Each table is rebuilt in one pass (the old one renamed, a new one filled
-- from it, then dropped): rewriting in place took a pass per column changed
-- and converted each document twice. Keys, indexes and foreign keys come
-- after the copy, named as before.
ALTER TABLE "odds_snapshot" RENAME TO "odds_snapshot_v2";
ALTER TABLE "latest_odds" RENAME TO "latest_odds_v2";

CREATE TABLE "odds_snapshot" (
    "id" INTEGER NOT NULL DEFAULT nextval('odds_snapshot_id_seq'),
    "event_id" INTEGER NOT NULL,
    "bookmaker_id" INTEGER NOT NULL,
    "captured_at" TIMESTAMPTZ(3) NOT NULL,
    "shape" UUID NOT NULL,
    "prices" JSON NOT NULL
) PARTITION BY RANGE ("captured_at");
ALTER SEQUENCE "odds_snapshot_id_seq" OWNED BY "odds_snapshot"."id";

-- The same partitions (days and default) under the same names and bounds.
DO $$
DECLARE
  part record;
BEGIN
  FOR part IN
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = '"odds_snapshot_v2"'::regclass
  LOOP
    EXECUTE format('ALTER TABLE %I RENAME TO %I', part.name, part.name || '_v2');
    EXECUTE format('CREATE TABLE %I PARTITION OF "odds_snapshot" %s', part.name, part.bound);
  END LOOP;
END $$;

CREATE TABLE "latest_odds" (
    "event_id" INTEGER NOT NULL,
    "bookmaker_id" INTEGER NOT NULL,
    "snapshot_id" INTEGER NOT NULL,
    "captured_at" TIMESTAMPTZ(3) NOT NULL,
    "shape" UUID NOT NULL,
    "prices" JSON NOT NULL
) WITH (fillfactor = 30);

INSERT INTO "odds_snapshot" ("id", "event_id", "bookmaker_id", "captured_at", "shape", "prices")
SELECT s."id", s."event_id", s."bookmaker_id", s."captured_at", v."digest", v."prices"
FROM "odds_snapshot_v2" s, LATERAL "odds_v3_stored"(s."markets", s."captured_at") v;

INSERT INTO "latest_odds" ("event_id", "bookmaker_id", "snapshot_id", "captured_at", "shape", "prices")
SELECT l."event_id", l."bookmaker_id", l."snapshot_id", l."captured_at", v."digest", v."prices"
FROM "latest_odds_v2" l, LATERAL "odds_v3_stored"(l."markets", l."captured_at") v;

-- Each distinct shape once, converted again from one document that has it.
INSERT INTO "market_shape" ("digest", "markets")
SELECT v."digest", v."shape"
FROM (SELECT DISTINCT ON ("shape") "id", "captured_at" FROM "odds_snapshot" ORDER BY "shape") one
JOIN "odds_snapshot_v2" s ON s."id" = one."id" AND s."captured_at" = one."captured_at",
LATERAL "odds_v3_stored"(s."markets", s."captured_at") v;
INSERT INTO "market_shape" ("digest", "markets")
SELECT v."digest", v."shape"
FROM (SELECT DISTINCT ON ("shape") "event_id", "bookmaker_id" FROM "latest_odds" ORDER BY "shape") one
JOIN "latest_odds_v2" l ON l."event_id" = one."event_id" AND l."bookmaker_id" = one."bookmaker_id",
LATERAL "odds_v3_stored"(l."markets", l."captured_at") v
ON CONFLICT ("digest") DO NOTHING;

DROP TABLE "odds_snapshot_v2";
DROP TABLE "latest_odds_v2";
DROP FUNCTION "odds_v3_stored"(jsonb, timestamptz);

ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_pkey" PRIMARY KEY ("id", "captured_at");
CREATE UNIQUE INDEX "odds_snapshot_event_id_captured_at_bookmaker_id_key" ON "odds_snapshot"("event_id", "captured_at", "bookmaker_id");
ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "event"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_bookmaker_id_fkey" FOREIGN KEY ("bookmaker_id") REFERENCES "bookmaker"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "latest_odds" ADD CONSTRAINT "latest_odds_pkey" PRIMARY KEY ("event_id", "bookmaker_id");
ALTER TABLE "latest_odds" ADD CONSTRAINT "latest_odds_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "event"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "latest_odds" ADD CONSTRAINT "latest_odds_bookmaker_id_fkey" FOREIGN KEY ("bookmaker_id") REFERENCES "bookmaker"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- New tables start without statistics; plans should not wait for autovacuum.
ANALYZE "odds_snapshot", "latest_odds", "market_shape";
