CREATE TABLE IF NOT EXISTS "readings" (
  "ts" TIMESTAMPTZ NOT NULL,
  "sensor" TEXT NOT NULL,
  "temp_c" DOUBLE PRECISION NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS "readings_sensor_ts_key" ON "readings"("sensor", "ts");

CREATE INDEX IF NOT EXISTS "readings_ts_idx" ON "readings"("ts" DESC);
