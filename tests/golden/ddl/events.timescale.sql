CREATE TABLE IF NOT EXISTS "events" (
  "at" TIMESTAMPTZ NOT NULL,
  "n" BIGINT NOT NULL,
  "x" DOUBLE PRECISION NOT NULL,
  "ok" BOOLEAN,
  "day" DATE NOT NULL,
  "took" INTERVAL,
  "raw" JSONB,
  "ids" BIGINT[] NOT NULL,
  "where" JSONB,
  "path" JSONB
);

SELECT create_hypertable('"events"', by_range('at', INTERVAL '1 hour'), if_not_exists => TRUE);
