CREATE MATERIALIZED VIEW IF NOT EXISTS "readings_open"
WITH (timescaledb.continuous) AS
SELECT
  time_bucket(INTERVAL '1 hour', "ts") AS "bucket",
  "city",
  avg("temp") AS "avg_temp"
FROM "readings"
GROUP BY
  "bucket",
  "city"
WITH NO DATA;

SELECT add_continuous_aggregate_policy('"readings_open"',
  start_offset => NULL,
  end_offset => INTERVAL '30 minutes',
  schedule_interval => INTERVAL '15 minutes',
  if_not_exists => TRUE);
