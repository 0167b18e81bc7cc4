CREATE TABLE IF NOT EXISTS "readings" (
  "ts" TIMESTAMPTZ NOT NULL,
  "city" TEXT NOT NULL,
  "temp" DOUBLE PRECISION,
  "tags" TEXT[]
);

SELECT create_hypertable('"readings"', by_range('ts', INTERVAL '1 day'), if_not_exists => TRUE);

-- The key ("city") lacks the time column "ts", so "ts" is appended:
-- a hypertable's unique index must contain its partitioning column,
-- and every store keeps the same key.
CREATE UNIQUE INDEX IF NOT EXISTS "readings_city_ts_key" ON "readings"("city", "ts");

CREATE INDEX IF NOT EXISTS "readings_temp_idx" ON "readings"("temp");

ALTER TABLE "readings" SET (timescaledb.compress, timescaledb.compress_segmentby = '"city"', timescaledb.compress_orderby = '"ts" DESC');

SELECT add_compression_policy('"readings"', INTERVAL '7 days', if_not_exists => TRUE);

SELECT add_retention_policy('"readings"', INTERVAL '90 days', if_not_exists => TRUE);
