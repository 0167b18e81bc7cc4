-- A continuous aggregate: TimescaleDB keeps this pipeline's rows up to date from its
-- upstream's hypertable by policy, so `flowc run` does not write them on TimescaleDB.
CREATE MATERIALIZED VIEW IF NOT EXISTS "readings_hourly"
WITH (timescaledb.continuous) AS
SELECT
  time_bucket(INTERVAL '3600000000 MICROSECONDS', "ts") AS "bucket",
  "sensor",
  CAST(avg("temp_c") AS DOUBLE PRECISION) AS "mean_temp",
  count(*) AS "readings"
FROM "readings"
GROUP BY
  1,
  2
WITH NO DATA;

SELECT add_continuous_aggregate_policy('"readings_hourly"',
  start_offset => NULL,
  end_offset => INTERVAL '1 hour',
  schedule_interval => INTERVAL '1 hour',
  if_not_exists => TRUE);
