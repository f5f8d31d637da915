-- licence_surveys: one row per export-licence survey (stub, being written).
-- column survey_id: Survey identifier.
-- column release_id: SHA-256 of the file the figures came from.
SELECT survey_id, any_value(release_id) AS release_id FROM survey_results GROUP BY survey_id
