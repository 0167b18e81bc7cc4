CREATE TABLE IF NOT EXISTS "readings" (
  "ts" TIMESTAMPTZ NOT NULL,
  "city" TEXT NOT NULL,
  "temp" DOUBLE PRECISION,
  "tags" TEXT[]
);

-- The key ("city") lacks the time column "ts", so "ts" is appended:
-- a hypertable's unique index must contain its partitioning column,
-- and every store keeps the same key.
CREATE UNIQUE INDEX IF NOT EXISTS "readings_city_ts_key" ON "readings"("city", "ts");

CREATE INDEX IF NOT EXISTS "readings_ts_idx" ON "readings"("ts" DESC);

CREATE INDEX IF NOT EXISTS "readings_temp_idx" ON "readings"("temp");
