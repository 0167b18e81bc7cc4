CREATE TABLE IF NOT EXISTS "readings" (
  "ts" TIMESTAMPTZ NOT NULL,
  "sensor" TEXT NOT NULL,
  "temp_c" DOUBLE NOT NULL,
  PRIMARY KEY ("sensor", "ts")
);
