CREATE TABLE IF NOT EXISTS "readings" (
  "ts" TIMESTAMPTZ NOT NULL,
  "sensor" TEXT NOT NULL,
  "temp_c" DOUBLE PRECISION NOT NULL
);

SELECT create_hypertable('"readings"', by_range('ts', INTERVAL '1 day'), if_not_exists => TRUE);

CREATE UNIQUE INDEX IF NOT EXISTS "readings_sensor_ts_key" ON "readings"("sensor", "ts");

ALTER TABLE "readings" SET (timescaledb.compress, timescaledb.compress_segmentby = '"sensor"', timescaledb.compress_orderby = '"ts" DESC');

SELECT add_compression_policy('"readings"', INTERVAL '7 days', if_not_exists => TRUE);

SELECT add_retention_policy('"readings"', INTERVAL '30 days', if_not_exists => TRUE);
