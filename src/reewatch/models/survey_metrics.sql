-- survey_metrics: every survey metric, long form: the published figure, or the one aggregated from microdata where nothing is published.
-- grain: survey_id, metric (one row each)
-- source: survey_results joined to releases (loaded or partly quarantined); per survey, metric and basis the latest
--         release wins (latest survey publication date, then the file landed last); a published figure prevails over
--         one aggregated from microdata, which shows only where no published figure exists
-- column survey_id: The survey, e.g. euccc_2025_09_licences (publisher, month, kind).
-- column metric: What was counted or measured, e.g. applications, approved, pending, rejected, respondents, affected, affected_share.
-- column value: The figure: a count (unit count) or a percentage 0–100 (unit pct).
-- column unit: count or pct.
-- column release_id: SHA-256 of the file the figure came from (raw/<release_id> in the lake).
-- column unit_of_count: What one counted thing is: application (licence applications) or company (responding companies); "19 of 141" counted applications, not applicants.
-- column basis: published (a figure the publisher released) or microdata (aggregated by reewatch from respondent microdata).
WITH latest AS (
    SELECT * FROM latest_survey_results  -- migrations/003: the current figure per survey, metric, basis
),
chosen AS (
    -- The published figure where there is one, else the one aggregated from microdata.
    SELECT *
    FROM latest
    QUALIFY row_number() OVER (PARTITION BY survey_id, metric ORDER BY basis = 'published' DESC) = 1
)
SELECT survey_id, metric, value, unit, release_id, unit_of_count, basis
FROM chosen
ORDER BY survey_id, metric
