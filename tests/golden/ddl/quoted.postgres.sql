CREATE TABLE IF NOT EXISTS "Order Lines" (
  "Time" TIMESTAMPTZ NOT NULL,
  "select" TEXT NOT NULL,
  "say ""hi""" BIGINT
);

CREATE UNIQUE INDEX IF NOT EXISTS "Order Lines_select_Time_key" ON "Order Lines"("select", "Time");

CREATE INDEX IF NOT EXISTS "Order Lines_Time_idx" ON "Order Lines"("Time" DESC);

CREATE INDEX IF NOT EXISTS "Order Lines_say ""hi""_Time_idx" ON "Order Lines"("say ""hi""", "Time");
