CREATE TABLE IF NOT EXISTS "events" (
  "at" TIMESTAMPTZ NOT NULL,
  "n" BIGINT NOT NULL,
  "x" DOUBLE NOT NULL,
  "ok" BOOLEAN,
  "day" DATE NOT NULL,
  "took" INTERVAL,
  "raw" JSON,
  "ids" BIGINT[] NOT NULL,
  "where" STRUCT("lat" DOUBLE, "lon" DOUBLE),
  "path" STRUCT("lat" DOUBLE, "lon" DOUBLE)[]
);
