CREATE MATERIALIZED VIEW IF NOT EXISTS "readings_hourly"
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

SELECT add_continuous_aggregate_policy('"readings_hourly"',
  start_offset => INTERVAL '3 days',
  end_offset => INTERVAL '1 hour',
  schedule_interval => INTERVAL '1 hour',
  if_not_exists => TRUE);
