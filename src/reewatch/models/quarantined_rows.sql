-- quarantined_rows: every source row that was not loaded, with the rule it broke.
-- grain: release_id, source_row, rule
-- source: the warehouse's quarantined_rows table
-- column release_id: SHA-256 of the file the row came from.
-- column source_row: Where the row stood: CSV line number, or Sheet!row.
-- column rule: The rule it broke (e.g. number_parses, non_negative, series_range, row_shape).
-- column message: File, row, rule and the offending values, in words.
-- column raw_record: The row as it stood in the file, as JSON (header → cell).
SELECT release_id, source_row, rule, message, raw_record
FROM quarantined_rows
ORDER BY release_id, source_row, rule
