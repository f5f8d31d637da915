-- 003: one definition of "the current figure" of a survey metric, shared by licence_surveys, survey_metrics and
-- the microdata-mismatch check. A survey re-published in a later file: that file's figure (latest publication
-- date, then the file landed last), per survey, metric and basis (published | microdata).
CREATE VIEW latest_survey_results AS
WITH landed AS (
    SELECT release_id, min(landed_at) AS landed_at, arg_min(file_name, landed_at) AS file_name
    FROM releases
    WHERE status IN ('loaded', 'partly_quarantined')
    GROUP BY release_id
)
SELECT s.*, l.landed_at, l.file_name
FROM survey_results s
JOIN landed l USING (release_id)
QUALIFY row_number() OVER (
    PARTITION BY s.survey_id, s.metric, s.basis
    ORDER BY coalesce(s.published_on, DATE '1900-01-01') DESC, l.landed_at DESC, s.release_id DESC
) = 1;
