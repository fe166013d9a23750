-- Dead letters: feed records the database refused (found by splitting a
-- failed batch), kept whole with the reason, so the rest of their batch
-- could be committed and an operator can see and replay them.
CREATE TABLE "quarantined_record" (
    "id" SERIAL NOT NULL,
    "feed" TEXT NOT NULL,
    "record_key" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "raw" JSONB NOT NULL,
    "quarantined_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quarantined_record_pkey" PRIMARY KEY ("id")
);
