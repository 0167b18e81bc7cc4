-- No secondary indexes on DuckDB: an ART index blocks ALTER COLUMN on its
-- table, and min-max zonemaps already prune scans.
CREATE TABLE IF NOT EXISTS "Order Lines" (
  "Time" TIMESTAMPTZ NOT NULL,
  "select" TEXT NOT NULL,
  "say ""hi""" BIGINT,
  PRIMARY KEY ("select", "Time")
);
