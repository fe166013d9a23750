-- Event lifecycle and market status travel through the feed like prices:
-- an event's score and match clock while live, each market's status, and
-- each settled outcome's result.

-- CreateEnum
CREATE TYPE "MarketStatus" AS ENUM ('OPEN', 'SUSPENDED', 'SETTLED');

-- CreateEnum
CREATE TYPE "OutcomeResult" AS ENUM ('WON', 'LOST', 'VOID');

-- AlterTable
ALTER TABLE "event" ADD COLUMN "score_home" INTEGER,
ADD COLUMN "score_away" INTEGER,
ADD COLUMN "clock_period" TEXT,
ADD COLUMN "clock_minute" INTEGER,
ADD COLUMN "state_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "market" ADD COLUMN "status" "MarketStatus" NOT NULL DEFAULT 'OPEN';

-- AlterTable
ALTER TABLE "outcome" ADD COLUMN "result" "OutcomeResult";
