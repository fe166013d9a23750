-- Credits each feed spent per budget period, written before each paid
-- request is sent (and corrected by what the service says it cost), so a
-- restarted worker knows what is left and never spends past its budget.
CREATE TABLE "feed_budget" (
    "feed" TEXT NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "spent" INTEGER NOT NULL DEFAULT 0,
    "upstream_remaining" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feed_budget_pkey" PRIMARY KEY ("feed","period_start")
);
