-- survey_metrics: every survey metric, long form (stub, being written).
-- column survey_id: Survey identifier.
-- column metric: Metric name.
-- column value: Value.
-- column unit: count or pct.
-- column release_id: SHA-256 of the file the figure came from.
SELECT survey_id, metric, value, unit, release_id FROM survey_results
