CREATE TABLE IF NOT EXISTS "readings_hourly" (
  "bucket" TIMESTAMPTZ NOT NULL,
  "sensor" TEXT NOT NULL,
  "mean_temp" DOUBLE PRECISION NOT NULL,
  "readings" BIGINT NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS "readings_hourly_sensor_bucket_key" ON "readings_hourly"("sensor", "bucket");

CREATE INDEX IF NOT EXISTS "readings_hourly_bucket_idx" ON "readings_hourly"("bucket" DESC);
