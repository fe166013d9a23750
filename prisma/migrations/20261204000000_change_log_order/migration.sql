-- The change log becomes what subscribers replay (issue 17): each row names
-- the (event, bookmaker)s whose latest odds it moved, with the snapshot that
-- became latest and the keys of the markets that moved, plus the events whose
-- status, score or clock moved. Positions are taken under an advisory lock at
-- the end of each transaction (src/db/feed-commit.ts), so they commit in order.
ALTER TABLE "change_log" ADD COLUMN "changes" JSONB NOT NULL DEFAULT '[]';
ALTER TABLE "change_log" ADD COLUMN "event_ids" INTEGER[] NOT NULL DEFAULT '{}';

-- Rows already logged: their stored snapshots, every market counted as moved.
UPDATE "change_log" c SET "changes" = COALESCE((
  SELECT jsonb_agg(
           jsonb_build_object(
             'eventId', s.event_id, 'bookmakerId', s.bookmaker_id, 'snapshotId', s.id,
             'capturedAt', to_char(s.captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'changedMarkets', (SELECT COALESCE(jsonb_agg(DISTINCT m->>'key'), '[]'::jsonb) FROM jsonb_array_elements(s.markets) m)
           ) ORDER BY array_position(c.snapshot_ids, s.id))
  FROM "odds_snapshot" s WHERE s.id = ANY(c.snapshot_ids)
), '[]'::jsonb);

ALTER TABLE "change_log" DROP COLUMN "snapshot_ids";

-- Replay reads the window by position; pruning finds where the window starts by time.
CREATE INDEX "change_log_committed_at_idx" ON "change_log"("committed_at");
