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

CREATE INDEX IF NOT EXISTS "events_at_idx" ON "events"("at" DESC);
