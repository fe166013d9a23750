-- Each feed's cursor, written in the same transaction as the snapshots its
-- records produced: after a crash the worker resumes exactly there.
CREATE TABLE "feed_cursor" (
    "feed" TEXT NOT NULL,
    "cursor" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feed_cursor_pkey" PRIMARY KEY ("feed")
);

-- One row per committed batch that stored snapshots, in commit order: the
-- position is what a subscriber will resume after.
CREATE TABLE "change_log" (
    "position" BIGSERIAL NOT NULL,
    "feed" TEXT NOT NULL,
    "snapshot_ids" INTEGER[] NOT NULL,
    "committed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "change_log_pkey" PRIMARY KEY ("position")
);
