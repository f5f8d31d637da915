-- quality_results: the outcome of every table-level expectation of every run.
-- grain: run_id, suite, expectation
-- source: the warehouse's quality_results table
-- column run_id: The run that checked.
-- column suite: The expectation suite (one per curated table).
-- column table_name: The curated table checked.
-- column expectation: The expectation, in words.
-- column severity: error (blocks publishing) or warning (reported).
-- column success: Whether it held.
-- column unexpected_count: How many rows broke it.
-- column observed: What was observed, in words.
-- column checked_at: When it was checked (UTC).
SELECT run_id, suite, table_name, expectation, severity, success, unexpected_count, observed, checked_at
FROM quality_results
ORDER BY checked_at, suite, expectation
