CREATE TABLE IF NOT EXISTS "readings_hourly" (
  "bucket" TIMESTAMPTZ NOT NULL,
  "sensor" TEXT NOT NULL,
  "mean_temp" DOUBLE NOT NULL,
  "readings" BIGINT NOT NULL,
  PRIMARY KEY ("sensor", "bucket")
);
