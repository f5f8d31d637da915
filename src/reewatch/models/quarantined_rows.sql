-- quarantined_rows: every source row that was not loaded, with the rule it broke, and every file that could not be read.
-- grain: release_id, source_row, rule
-- source: the warehouse's quarantined_rows table, and the releases that failed (one row each, source_row NULL)
-- column release_id: SHA-256 of the file the row came from.
-- column source_row: Where the row stood: CSV line number, or Sheet!row; NULL for a whole file that could not be read (its release's status is failed).
-- column rule: The rule it broke (e.g. number_parses, non_negative, series_range, row_shape; unreadable_file for a whole file).
-- column message: File, row, rule and the offending values, in words.
-- column raw_record: The row as it stood in the file, as JSON (header → cell); NULL for a whole file (its bytes are raw/<release_id>).
SELECT release_id, source_row, rule, message, raw_record
FROM quarantined_rows
UNION ALL
SELECT release_id, NULL, 'unreadable_file', message, NULL
FROM releases
WHERE status = 'failed'
ORDER BY release_id, source_row NULLS FIRST, rule
