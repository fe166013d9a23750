-- CreateEnum
CREATE TYPE "EventStatus" AS ENUM ('SCHEDULED', 'LIVE', 'FINISHED', 'CANCELLED');

-- CreateTable
CREATE TABLE "sport" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "sport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "competition" (
    "id" SERIAL NOT NULL,
    "sport_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "country" TEXT,

    CONSTRAINT "competition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event" (
    "id" SERIAL NOT NULL,
    "external_id" TEXT NOT NULL,
    "sport_id" INTEGER NOT NULL,
    "competition_id" INTEGER NOT NULL,
    "home" TEXT NOT NULL,
    "away" TEXT NOT NULL,
    "kickoff_at" TIMESTAMPTZ(3) NOT NULL,
    "status" "EventStatus" NOT NULL DEFAULT 'SCHEDULED',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bookmaker" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "bookmaker_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "odds_snapshot" (
    "id" SERIAL NOT NULL,
    "event_id" INTEGER NOT NULL,
    "bookmaker_id" INTEGER NOT NULL,
    "captured_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "odds_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "market" (
    "id" SERIAL NOT NULL,
    "snapshot_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "line" DECIMAL(6,2),

    CONSTRAINT "market_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outcome" (
    "id" SERIAL NOT NULL,
    "market_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "price" DECIMAL(8,3) NOT NULL,

    CONSTRAINT "outcome_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "latest_odds" (
    "event_id" INTEGER NOT NULL,
    "bookmaker_id" INTEGER NOT NULL,
    "snapshot_id" INTEGER NOT NULL,
    "captured_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "latest_odds_pkey" PRIMARY KEY ("event_id","bookmaker_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "sport_key_key" ON "sport"("key");

-- CreateIndex
CREATE UNIQUE INDEX "competition_key_key" ON "competition"("key");

-- CreateIndex
CREATE INDEX "competition_sport_id_idx" ON "competition"("sport_id");

-- CreateIndex
CREATE UNIQUE INDEX "event_external_id_key" ON "event"("external_id");

-- CreateIndex
CREATE INDEX "event_kickoff_at_idx" ON "event"("kickoff_at");

-- CreateIndex
CREATE INDEX "event_competition_id_kickoff_at_idx" ON "event"("competition_id", "kickoff_at");

-- CreateIndex
CREATE UNIQUE INDEX "bookmaker_key_key" ON "bookmaker"("key");

-- CreateIndex
CREATE INDEX "odds_snapshot_bookmaker_id_captured_at_idx" ON "odds_snapshot"("bookmaker_id", "captured_at");

-- CreateIndex
CREATE UNIQUE INDEX "odds_snapshot_event_id_bookmaker_id_captured_at_key" ON "odds_snapshot"("event_id", "bookmaker_id", "captured_at");

-- CreateIndex
CREATE INDEX "market_snapshot_id_key_idx" ON "market"("snapshot_id", "key");

-- CreateIndex
CREATE INDEX "outcome_market_id_idx" ON "outcome"("market_id");

-- CreateIndex
CREATE UNIQUE INDEX "latest_odds_snapshot_id_key" ON "latest_odds"("snapshot_id");

-- AddForeignKey
ALTER TABLE "competition" ADD CONSTRAINT "competition_sport_id_fkey" FOREIGN KEY ("sport_id") REFERENCES "sport"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event" ADD CONSTRAINT "event_sport_id_fkey" FOREIGN KEY ("sport_id") REFERENCES "sport"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event" ADD CONSTRAINT "event_competition_id_fkey" FOREIGN KEY ("competition_id") REFERENCES "competition"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "event"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "odds_snapshot" ADD CONSTRAINT "odds_snapshot_bookmaker_id_fkey" FOREIGN KEY ("bookmaker_id") REFERENCES "bookmaker"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "market" ADD CONSTRAINT "market_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "odds_snapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outcome" ADD CONSTRAINT "outcome_market_id_fkey" FOREIGN KEY ("market_id") REFERENCES "market"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "latest_odds" ADD CONSTRAINT "latest_odds_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "event"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "latest_odds" ADD CONSTRAINT "latest_odds_bookmaker_id_fkey" FOREIGN KEY ("bookmaker_id") REFERENCES "bookmaker"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "latest_odds" ADD CONSTRAINT "latest_odds_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "odds_snapshot"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
