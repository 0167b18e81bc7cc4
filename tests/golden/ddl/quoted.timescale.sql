CREATE TABLE IF NOT EXISTS "Order Lines" (
  "Time" TIMESTAMPTZ NOT NULL,
  "select" TEXT NOT NULL,
  "say ""hi""" BIGINT
);

SELECT create_hypertable('"Order Lines"', by_range('Time', INTERVAL '30 minutes'), if_not_exists => TRUE);

CREATE UNIQUE INDEX IF NOT EXISTS "Order Lines_select_Time_key" ON "Order Lines"("select", "Time");

CREATE INDEX IF NOT EXISTS "Order Lines_say ""hi""_Time_idx" ON "Order Lines"("say ""hi""", "Time");

ALTER TABLE "Order Lines" SET (timescaledb.compress, timescaledb.compress_segmentby = '"select"', timescaledb.compress_orderby = '"Time" DESC');

SELECT add_compression_policy('"Order Lines"', INTERVAL '12 hours', if_not_exists => TRUE);

SELECT add_retention_policy('"Order Lines"', INTERVAL '500 milliseconds', if_not_exists => TRUE);
