-- The key ("city") lacks the time column "ts", so "ts" is appended:
-- a hypertable's unique index must contain its partitioning column,
-- and every store keeps the same key.
-- No secondary indexes on DuckDB: an ART index blocks ALTER COLUMN on its
-- table, and min-max zonemaps already prune scans.
CREATE TABLE IF NOT EXISTS "readings" (
  "ts" TIMESTAMPTZ NOT NULL,
  "city" TEXT NOT NULL,
  "temp" DOUBLE,
  "tags" TEXT[],
  PRIMARY KEY ("city", "ts")
);
