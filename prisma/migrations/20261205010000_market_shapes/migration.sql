-- Snapshots keep their numbers; their shape (market keys, names, lines and
-- statuses, outcome keys, names and results) is stored once per distinct
-- shape (src/domain/stored-odds.ts). A 5-market document took about 700 bytes
-- of history a change (compressed jsonb); its numbers as JSON about 150.
CREATE TABLE "market_shape" (
    "digest" UUID NOT NULL,
    "markets" JSONB NOT NULL,

    CONSTRAINT "market_shape_pkey" PRIMARY KEY ("digest")
);

-- The conversion, as src/domain/stored-odds.ts stores markets; the functions
-- live only for this migration.
CREATE FUNCTION "odds_v3_shape"(doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(jsonb_agg(
           jsonb_build_object(
             'key', m->'key', 'name', m->'name', 'line', m->'line', 'status', m->'status',
             'outcomes', (SELECT COALESCE(jsonb_agg(jsonb_build_object('key', o->'key', 'name', o->'name', 'result', o->'result') ORDER BY oi), '[]')
                          FROM jsonb_array_elements(m->'outcomes') WITH ORDINALITY AS x(o, oi))
           ) ORDER BY mi), '[]')
  FROM jsonb_array_elements(doc) WITH ORDINALITY AS y(m, mi)
$$;
CREATE FUNCTION "odds_v3_digest"(doc jsonb) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT md5("odds_v3_shape"(doc)::text)::uuid
$$;
-- Three numbers per outcome: price, previous price, ms since it last changed.
CREATE FUNCTION "odds_v3_prices"(doc jsonb, at timestamptz) RETURNS json LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(json_agg(v ORDER BY mi, oi, vi), '[]')::text::json
  FROM jsonb_array_elements(doc) WITH ORDINALITY AS y(m, mi),
       jsonb_array_elements(m->'outcomes') WITH ORDINALITY AS x(o, oi),
       LATERAL (VALUES (1, o->'price'), (2, o->'previousPrice'),
                       (3, to_jsonb((extract(epoch FROM at) * 1000)::bigint - (o->>'changedAtMs')::bigint))) AS z(vi, v)
$$;

INSERT INTO "market_shape" ("digest", "markets")
SELECT DISTINCT ON (md5(shape::text)) md5(shape::text)::uuid, shape
FROM (SELECT "odds_v3_shape"(markets) AS shape FROM (SELECT markets FROM "odds_snapshot" UNION ALL SELECT markets FROM "latest_odds") d) s;

-- The shape column first, then the document becomes its numbers: the type
-- change rewrites every partition, so the old documents leave the disk.
ALTER TABLE "odds_snapshot" ADD COLUMN "shape" UUID;
UPDATE "odds_snapshot" SET "shape" = "odds_v3_digest"(markets);
ALTER TABLE "odds_snapshot" ALTER COLUMN "shape" SET NOT NULL;
ALTER TABLE "odds_snapshot" ALTER COLUMN "markets" TYPE JSON USING "odds_v3_prices"(markets, captured_at);
ALTER TABLE "odds_snapshot" RENAME COLUMN "markets" TO "prices";

ALTER TABLE "latest_odds" ADD COLUMN "shape" UUID;
UPDATE "latest_odds" SET "shape" = "odds_v3_digest"(markets);
ALTER TABLE "latest_odds" ALTER COLUMN "shape" SET NOT NULL;
ALTER TABLE "latest_odds" ALTER COLUMN "markets" TYPE JSON USING "odds_v3_prices"(markets, captured_at);
ALTER TABLE "latest_odds" RENAME COLUMN "markets" TO "prices";

DROP FUNCTION "odds_v3_prices"(jsonb, timestamptz);
DROP FUNCTION "odds_v3_digest"(jsonb);
DROP FUNCTION "odds_v3_shape"(jsonb);
