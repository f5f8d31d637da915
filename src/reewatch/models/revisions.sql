-- revisions: every figure that changed between vintages, first publication against the latest.
-- grain: series_id, period, partner, measure (basis month, jan_feb or ytd folded into measure names)
-- source: observations, all vintages
-- column series_id: The series the figure belongs to.
-- column period: First day of the month of the figure.
-- column partner: ISO 3166-1 alpha-2 destination, or WORLD.
-- column measure: What changed, e.g. quantity_t, value_usd, ytd:quantity_t, jan_feb:quantity_t.
-- column first_value: The figure as first published (earliest vintage).
-- column first_release_id: SHA-256 of the release that first published it.
-- column latest_value: The figure at the latest vintage.
-- column latest_release_id: SHA-256 of the release that published the latest figure.
-- column delta: latest_value - first_value.
-- column delta_pct: delta as a percent of first_value.
WITH figures AS (
    SELECT series_id, period, partner,
           CASE WHEN basis = 'month' THEN measure ELSE basis || ':' || measure END AS measure,
           value, release_id, vintage_rank, published_on
    FROM observations
    WHERE value IS NOT NULL
),
spans AS (
    SELECT series_id, period, partner, measure,
           arg_min(value, (vintage_rank, published_on)) AS first_value,
           arg_min(release_id, (vintage_rank, published_on)) AS first_release_id,
           arg_max(value, (vintage_rank, published_on)) AS latest_value,
           arg_max(release_id, (vintage_rank, published_on)) AS latest_release_id,
           count(DISTINCT value) AS distinct_values
    FROM figures
    GROUP BY ALL
)
SELECT series_id, period, partner, measure, first_value, first_release_id, latest_value, latest_release_id,
       latest_value - first_value AS delta,
       round(100 * (latest_value - first_value) / nullif(first_value, 0), 3) AS delta_pct
FROM spans
WHERE distinct_values > 1
ORDER BY series_id, period, partner, measure
