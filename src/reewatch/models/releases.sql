-- releases: every landed file, what it was and what became of it.
-- grain: one row per landing (a second landing of the same bytes is a 'duplicate' row with the same release_id)
-- source: the warehouse's releases table
-- column release_id: SHA-256 of the file's bytes; the file is kept unchanged at raw/<release_id>.
-- column file_name: The name the file was landed under.
-- column layout: The layout reewatch detected from the content (e.g. gacc_headline_csv).
-- column vintage: Release kind: preliminary, bulletin, detailed, mirror …; later kinds restate earlier ones.
-- column published_on: Publication date (estimated from the GACC release calendar when the file does not say).
-- column landed_at: When the file arrived in landing/ (UTC).
-- column ingested_at: When reewatch first loaded it (UTC); a replay keeps it, so it changes no current figure.
-- column rows_in: Data rows in the file.
-- column rows_loaded: Rows loaded into the warehouse.
-- column rows_quarantined: Rows set aside in quarantined_rows; rows_in = rows_loaded + rows_quarantined.
-- column status: loaded, partly_quarantined, quarantined, duplicate or failed.
-- column message: What happened, in words: counts, rules broken, or why the file could not be read.
SELECT release_id, file_name, layout, vintage, published_on, landed_at, ingested_at,
       rows_in, rows_loaded, rows_quarantined, status, message
FROM releases
ORDER BY ingested_at, file_name
