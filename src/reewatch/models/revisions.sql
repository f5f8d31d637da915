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
    -- One figure per release: detailed exports are summed over trade modes first.
    SELECT o.series_id, o.period, o.partner,
           CASE WHEN o.basis = 'month' THEN o.measure ELSE o.basis || ':' || o.measure END AS measure,
           round(sum(o.value), 6) AS value, o.release_id, any_value(r.vintage_rank) AS vintage_rank,
           any_value(coalesce(r.published_on, DATE '1900-01-01')) AS published_on, any_value(r.ingested_at) AS ingested_at
    FROM observations o
    JOIN releases r ON r.release_id = o.release_id AND r.status IN ('loaded', 'partly_quarantined')
    WHERE o.value IS NOT NULL AND o.series_id NOT LIKE 'gacc_hs:%'  -- the series of exports_monthly
    GROUP BY o.series_id, o.period, o.partner, o.basis, o.measure, o.release_id
),
spans AS (
    SELECT series_id, period, partner, measure,
           arg_min(value, (published_on, vintage_rank, ingested_at, release_id)) AS first_value,
           arg_min(release_id, (published_on, vintage_rank, ingested_at, release_id)) AS first_release_id,
           arg_max(value, (published_on, vintage_rank, ingested_at, release_id)) AS latest_value,
           arg_max(release_id, (published_on, vintage_rank, ingested_at, release_id)) AS latest_release_id,
    FROM figures
    GROUP BY ALL
)
SELECT series_id, period, partner, measure, first_value, first_release_id, latest_value, latest_release_id,
       round(latest_value - first_value, 6) AS delta,  -- without the binary noise of a difference (0.30000000000018)
       round(100 * (latest_value - first_value) / nullif(first_value, 0), 3) AS delta_pct
FROM spans
WHERE latest_value <> first_value  -- a net change (a figure restated and restored again is no revision)
ORDER BY series_id, period, partner, measure
