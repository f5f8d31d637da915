-- exports_monthly: China's exports per series, month and partner, at the latest vintage.
-- grain: series_id, period, partner (one row each); a Jan–Feb combined figure sits on February (period_kind jan_feb)
-- scope: named series (gacc_rare_earths, gacc_magnets_850511, comtrade_*, headline commodities); other HS codes of
--        detailed exports are kept as Parquet in the lake (_state/observations/<release_id>.parquet), not here
-- source: observations (every vintage) joined to releases; the latest vintage (latest publication, then the later
--         kind of release) prevails (DOMAIN.md §2); a missing WORLD total is the sum of the destinations
-- column series_id: Which series: gacc_rare_earths (GACC headline 稀土), gacc_magnets_850511 (HS 8505.11 magnets), bloomberg_re_products, or gacc_commodity:<name>. Never mix series.
-- column period: First day of the month; a Jan–Feb combined figure sits on February.
-- column period_kind: month, or jan_feb for the combined two-month January–February figure (a February also given as a month of its own shows the month, with the Jan–Feb figure as its year to date).
-- column partner: Destination as ISO 3166-1 alpha-2, or WORLD for the total.
-- column partner_name: Destination name as published, in the release's language (Chinese in GACC's detailed exports); World for the total.
-- column quantity_t: Exported quantity in tonnes (normalised from the published unit).
-- column value_usd: Export value in US dollars, as published in USD (never converted from CNY).
-- column value_cny: Export value in yuan, as published in CNY (never converted from USD).
-- column unit_value_usd_per_kg: value_usd / (quantity_t × 1000): US dollars per kilogram.
-- column ytd_quantity_t: Cumulative January-to-period quantity in tonnes: as published, else the sum of the year's months when every one is there (a January also held in a Jan–Feb figure counted once); NULL when a month is missing.
-- column mom_pct: Change on the previous month in percent, within this series and partner; NULL when either side is a Jan–Feb figure.
-- column yoy_pct: Change on the same period a year earlier in percent, same series, partner and period kind.
-- column share_of_world_pct: This partner's share of the series' WORLD quantity in the same period, percent.
-- column is_record: True when quantity_t is higher than in every earlier month of this series and partner (a tie is no record); NULL for a Jan–Feb figure or a month without a quantity.
-- column highest_since: First period of the run this value tops: the month after the last earlier higher value, or the series' first month with a quantity; NULL where is_record is.
-- column vintage: Release kind of the figure shown: preliminary, bulletin, detailed, mirror.
-- column published_on: Publication date of that release (estimated from the GACC calendar when the file does not say).
-- column release_id: SHA-256 of the file the quantity figure came from (raw/<release_id> in the lake); without a quantity, of the latest file of the row.
WITH vintaged AS (
    SELECT o.*, r.vintage, r.vintage_rank, coalesce(r.published_on, DATE '1900-01-01') AS published_on,
           r.ingested_at
    FROM observations o
    JOIN releases r ON r.release_id = o.release_id AND r.status IN ('loaded', 'partly_quarantined')
    -- HS codes outside the named series are not loaded any more; warehouses made before may still hold some.
    WHERE o.series_id NOT LIKE 'gacc_hs:%'
),
chosen AS (
    -- For each figure, the release of the latest vintage: the latest publication (so a preliminary release's
    -- prior-year column restates last year's bulletin), then the later kind of release published the same day,
    -- then the file loaded last (a corrected file of the same release replaces the one before).
    SELECT series_id, period, basis, partner, measure,
           arg_max(release_id, (published_on, vintage_rank, ingested_at, release_id)) AS release_id
    FROM vintaged
    GROUP BY ALL
),
given AS (
    -- That release's rows, summed over trade modes.
    SELECT v.series_id, v.period, v.basis, v.partner, v.measure, min(v.partner_name) AS partner_name,
           round(sum(v.value), 6) AS value, any_value(v.vintage) AS vintage, any_value(v.vintage_rank) AS vintage_rank,
           any_value(v.published_on) AS published_on, v.release_id
    FROM vintaged v
    JOIN chosen c USING (series_id, period, basis, partner, measure, release_id)
    GROUP BY v.series_id, v.period, v.basis, v.partner, v.measure, v.release_id
),
latest AS (
    -- Detailed exports list destinations; where no world total is given, it is their sum.
    SELECT * FROM given
    UNION ALL
    SELECT series_id, period, basis, 'WORLD', measure, 'World', round(sum(value), 6),
           arg_max(vintage, (published_on, vintage_rank, release_id)),
           max(vintage_rank), max(published_on), arg_max(release_id, (published_on, vintage_rank, release_id))
    FROM given g
    WHERE partner <> 'WORLD'
      AND NOT EXISTS (
          SELECT 1 FROM given w
          WHERE w.partner = 'WORLD' AND w.series_id = g.series_id AND w.period = g.period
            AND w.basis = g.basis AND w.measure = g.measure
      )
    GROUP BY series_id, period, basis, measure
),
figures AS (
    SELECT series_id, period, basis AS period_kind, partner,
           min(partner_name) AS partner_name,  -- min, not any_value: the same name whatever the load order
           max(value) FILTER (WHERE measure = 'quantity_t') AS quantity_t,
           max(value) FILTER (WHERE measure = 'value_usd') AS value_usd,
           max(value) FILTER (WHERE measure = 'value_cny') AS value_cny,
           arg_max(vintage, (published_on, vintage_rank, release_id)) AS vintage,
           nullif(arg_max(published_on, (published_on, vintage_rank, release_id)), DATE '1900-01-01') AS published_on,
           -- The file of the quantity figure (several files may share a row: USD and CNY tables of one month).
           coalesce(any_value(release_id) FILTER (WHERE measure = 'quantity_t'),
                    arg_max(release_id, (published_on, vintage_rank, release_id))) AS release_id
    FROM latest
    WHERE basis IN ('month', 'jan_feb') AND measure IN ('quantity_t', 'value_usd', 'value_cny')
    GROUP BY ALL
),
flows AS (
    -- One row per February: a February given as a month of its own (an older bulletin's 2月) shows that month,
    -- and a Jan–Feb figure of it becomes its year to date (jan_feb_ytd).
    SELECT * FROM figures f
    WHERE NOT (f.period_kind = 'jan_feb' AND EXISTS (
        SELECT 1 FROM figures m
        WHERE m.period_kind = 'month' AND m.series_id = f.series_id AND m.partner = f.partner AND m.period = f.period
    ))
),
jan_feb_ytd AS (
    SELECT series_id, period, partner, quantity_t AS ytd_quantity_t FROM figures WHERE period_kind = 'jan_feb'
),
published_ytd AS (
    SELECT series_id, period, partner, value AS ytd_quantity_t
    FROM latest
    WHERE basis = 'ytd' AND measure = 'quantity_t'
),
world AS (
    SELECT series_id, period, quantity_t AS world_quantity_t FROM flows WHERE partner = 'WORLD'
),
jan_feb_years AS (
    -- Years whose January sits in a Jan–Feb row: a single-month January of such a year (an older bulletin's) is
    -- in that row too, and a year to date counts it once.
    SELECT DISTINCT series_id, partner, year(period) AS year FROM flows WHERE period_kind = 'jan_feb'
),
ytd_parts AS (
    -- What each row adds to a year to date summed from the months: its quantity and how many months it covers.
    -- A sum is given only when every month up to the period is there: a missing month makes it unknown, not less.
    SELECT f.series_id, f.period, f.partner,
           CASE WHEN month(f.period) = 1 AND jf.year IS NOT NULL THEN NULL ELSE f.quantity_t END AS counted,
           CASE WHEN f.quantity_t IS NULL OR (month(f.period) = 1 AND jf.year IS NOT NULL) THEN 0
                WHEN f.period_kind = 'jan_feb' THEN 2 ELSE 1 END AS months
    FROM flows f
    LEFT JOIN jan_feb_years jf ON jf.series_id = f.series_id AND jf.partner = f.partner AND jf.year = year(f.period)
),
summed_ytd AS (
    SELECT series_id, period, partner,
           CASE WHEN sum(months) OVER year_so_far = month(period) THEN round(sum(counted) OVER year_so_far, 6) END
               AS ytd_quantity_t
    FROM ytd_parts
    WINDOW year_so_far AS (PARTITION BY series_id, partner, year(period) ORDER BY period)
),
records AS (
    -- Records compare single months only: a two-month Jan–Feb figure is no record.
    SELECT f.series_id, f.period, f.partner,
           bool_or(e.quantity_t >= f.quantity_t) AS topped_before,
           max(e.period) FILTER (WHERE e.quantity_t > f.quantity_t) AS last_higher
    FROM flows f
    LEFT JOIN flows e
      ON e.series_id = f.series_id AND e.partner = f.partner AND e.period < f.period AND e.period_kind = 'month'
    WHERE f.period_kind = 'month' AND f.quantity_t IS NOT NULL
    GROUP BY f.series_id, f.period, f.partner
),
first_month AS (
    SELECT series_id, partner, min(period) AS first_period
    FROM flows WHERE period_kind = 'month' AND quantity_t IS NOT NULL GROUP BY ALL
)
SELECT f.series_id,
       f.period,
       f.period_kind,
       f.partner,
       f.partner_name,
       f.quantity_t,
       f.value_usd,
       f.value_cny,
       round(f.value_usd / nullif(f.quantity_t * 1000, 0), 4) AS unit_value_usd_per_kg,
       coalesce(
           y.ytd_quantity_t, jy.ytd_quantity_t, CASE WHEN month(f.period) = 1 THEN f.quantity_t END, sy.ytd_quantity_t
       ) AS ytd_quantity_t,
       CASE WHEN f.period_kind = 'month' AND prev.period_kind = 'month'
            THEN round(100 * (f.quantity_t / nullif(prev.quantity_t, 0) - 1), 2) END AS mom_pct,
       round(100 * (f.quantity_t / nullif(ly.quantity_t, 0) - 1), 2) AS yoy_pct,
       round(100 * f.quantity_t / nullif(w.world_quantity_t, 0), 2) AS share_of_world_pct,
       -- A month without a quantity (a commodity GACC gives in value only) is no record and tops nothing.
       CASE WHEN f.period_kind = 'month' AND f.quantity_t IS NOT NULL
            THEN NOT coalesce(r.topped_before, false) END AS is_record,
       CASE WHEN f.period_kind = 'month' AND f.quantity_t IS NOT NULL
            THEN coalesce(CAST(r.last_higher + INTERVAL 1 MONTH AS DATE), fm.first_period) END AS highest_since,
       f.vintage,
       f.published_on,
       f.release_id
FROM flows f
LEFT JOIN published_ytd y USING (series_id, period, partner)
LEFT JOIN jan_feb_ytd jy USING (series_id, period, partner)
LEFT JOIN summed_ytd sy USING (series_id, period, partner)
LEFT JOIN flows prev
       ON prev.series_id = f.series_id AND prev.partner = f.partner
      AND prev.period = CAST(f.period - INTERVAL 1 MONTH AS DATE)
LEFT JOIN flows ly
       ON ly.series_id = f.series_id AND ly.partner = f.partner AND ly.period_kind = f.period_kind
      AND ly.period = CAST(f.period - INTERVAL 1 YEAR AS DATE)
LEFT JOIN world w ON w.series_id = f.series_id AND w.period = f.period
LEFT JOIN records r ON r.series_id = f.series_id AND r.period = f.period AND r.partner = f.partner
LEFT JOIN first_month fm ON fm.series_id = f.series_id AND fm.partner = f.partner
ORDER BY f.series_id, f.partner, f.period
