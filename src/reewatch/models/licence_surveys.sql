-- licence_surveys: one row per survey: how many export-licence applications were approved, pending or rejected.
-- grain: survey_id (one row each); surveys without application figures have them NULL
-- source: survey_results joined to releases (loaded or partly quarantined); per survey, metric and basis the latest
--         release wins (latest survey publication date, then the file landed last); published aggregates prevail,
--         microdata aggregates fill in where nothing is published
-- column survey_id: The survey, e.g. euccc_2025_09_licences (publisher, month, kind).
-- column publisher: Who ran the survey, e.g. European Union Chamber of Commerce in China.
-- column fieldwork_start: First day of fieldwork (NULL when not published).
-- column fieldwork_end: Last day of fieldwork.
-- column as_of: The date the figures describe.
-- column published_on: When the results were published (NULL when not known).
-- column unit_of_count: What the applications figures count: application (licence applications) or company; the survey's own unit when it has no application figures. "19 of 141" counted applications, not applicants.
-- column applications: Licence applications (or companies, per unit_of_count) covered.
-- column approved: Of those, approved.
-- column pending: Of those, still pending.
-- column rejected: Of those, rejected.
-- column approval_rate_pct: round(100 × approved / applications, 1): percent of applications approved.
-- column source_url: Where the applications figure was published (else the survey's latest figure).
-- column release_id: SHA-256 of the file the applications figure came from (else the survey's latest figure).
-- column basis: published (figures the publisher released) or microdata (aggregated by reewatch from respondent microdata), for the applications figure.
WITH latest AS (
    SELECT * FROM latest_survey_results  -- migrations/003: the current figure per survey, metric, basis
),
chosen AS (
    -- The published figure where there is one, else the one aggregated from microdata.
    SELECT *, ((basis = 'published'), coalesce(published_on, DATE '1900-01-01'), landed_at, release_id) AS rank_key
    FROM latest
    QUALIFY row_number() OVER (PARTITION BY survey_id, metric ORDER BY basis = 'published' DESC) = 1
),
surveys AS (
    -- A survey's own fields: those of its best-ranked figure that gives them.
    SELECT survey_id,
           arg_max(publisher, rank_key) AS publisher,
           arg_max(fieldwork_start, rank_key) AS fieldwork_start,
           arg_max(fieldwork_end, rank_key) AS fieldwork_end,
           arg_max(as_of, rank_key) AS as_of,
           arg_max(published_on, rank_key) AS published_on,
           mode(unit_of_count) AS unit_of_count,
           arg_max(source_url, rank_key) AS source_url,
           arg_max(release_id, rank_key) AS release_id
    FROM chosen
    GROUP BY survey_id
),
counts AS (
    SELECT survey_id,
           CAST(max(value) FILTER (WHERE metric = 'applications') AS BIGINT) AS applications,
           CAST(max(value) FILTER (WHERE metric = 'approved') AS BIGINT) AS approved,
           CAST(max(value) FILTER (WHERE metric = 'pending') AS BIGINT) AS pending,
           CAST(max(value) FILTER (WHERE metric = 'rejected') AS BIGINT) AS rejected,
           max(unit_of_count) FILTER (WHERE metric = 'applications') AS applications_unit_of_count,
           max(source_url) FILTER (WHERE metric = 'applications') AS applications_source_url,
           max(release_id) FILTER (WHERE metric = 'applications') AS applications_release_id,
           max(basis) FILTER (WHERE metric = 'applications') AS applications_basis
    FROM chosen
    WHERE unit = 'count'
    GROUP BY survey_id
)
SELECT s.survey_id,
       s.publisher,
       s.fieldwork_start,
       s.fieldwork_end,
       s.as_of,
       s.published_on,
       coalesce(c.applications_unit_of_count, s.unit_of_count) AS unit_of_count,
       c.applications,
       c.approved,
       c.pending,
       c.rejected,
       round(100 * c.approved / nullif(c.applications, 0), 1) AS approval_rate_pct,
       coalesce(c.applications_source_url, s.source_url) AS source_url,
       coalesce(c.applications_release_id, s.release_id) AS release_id,
       c.applications_basis AS basis
FROM surveys s
LEFT JOIN counts c USING (survey_id)
ORDER BY coalesce(s.as_of, s.fieldwork_end, s.published_on), s.survey_id
