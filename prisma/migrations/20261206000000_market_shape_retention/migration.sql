-- The newest UTC day on which a snapshot naming each shape was captured
-- (src/db/market-shapes.ts keeps it), so history upkeep can delete the shapes
-- that no snapshot kept within the retention names (src/db/history-partitions.ts):
-- a feed whose outcomes carry team names makes about a shape per event, and
-- without this they would stay after their days are dropped. Shapes stored
-- before this migration count as captured today: kept for a retention at least.
ALTER TABLE "market_shape" ADD COLUMN "last_captured_on" DATE NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date;
ALTER TABLE "market_shape" ALTER COLUMN "last_captured_on" DROP DEFAULT;
