-- claim_checks: each press-reported figure held against the customs data of the series it was filed under, and of the other series.
-- grain: one row per loaded press claim (press_claims row of a loaded release); every claim gets a verdict
-- source: press_claims, curated.exports_monthly (built before this model)
-- customs figure of a claim: for its series, period and partner, by basis — month: quantity_t of a single-month
--         row (a Jan–Feb combined figure is no month); ytd: ytd_quantity_t (for February that is the Jan–Feb
--         figure); year: ytd_quantity_t of December (no December, no year figure).
-- agreement: |claimed − figure| ≤ max(1 t, 0.1 % of the figure). The press rounds to whole tonnes or 0.1 t, and
--         restatements between preliminary and final figures stay well inside 0.1 %.
-- verdicts, first that applies:
--   matches              the figure of its own series agrees (matched_series_id = series_id);
--   matches_other_series it agrees with another series' figure for the same period, partner and basis: the press
--                        put one series' number under another's name (DOMAIN.md §1). The other series are the
--                        customs series of exports_monthly (not the gacc_commodity:* lines, which are no rare-earth
--                        series) and, for series published only in the press (bloomberg_re_products, as long as no
--                        customs data of it is loaded), the figures the press reported under that series' own name.
--                        When several agree, the closest wins.
--   conflicts            its own series has a customs figure and no series agrees;
--   no_data              no customs figure to hold it against (nothing agrees).
-- A series published only in the press (bloomberg_re_products, while no customs data of it is loaded) has no
-- customs figure of its own: its claims are held against the GACC headline (gacc_rare_earths) of the same period,
-- the figure readers confuse it with. A different figure is matches_other_series with matched_series_id = its own
-- series: the number is that series' value, not the headline's. So Bloomberg's August 2025 record of 7,338 t is
-- matches_other_series (bloomberg_re_products) against GACC's 5,792 t once the August headline is loaded, and
-- no_data before. The same 7,338 t filed under gacc_rare_earths is matches_other_series too (a press figure of
-- bloomberg_re_products agrees with it), with customs_value 5,792.
-- column outlet: The outlet that reported the figure, as filed.
-- column source_url: Where the figure was reported.
-- column series_id: The series the claim was filed under (may be the wrong one: see verdict).
-- column period: First day of the claimed month (month and ytd claims) or of the claimed year (year claims).
-- column basis: month (one month), ytd (January to the period) or year (the calendar year).
-- column partner: Destination as ISO 3166-1 alpha-2, or WORLD.
-- column claimed_value: The reported figure in tonnes.
-- column customs_value: The customs figure the claim is held against, in tonnes: of its own series for the same period, partner and basis, or for a press-only series of the GACC headline (gacc_rare_earths); NULL when there is none.
-- column delta_pct: (claimed_value − customs_value) / customs_value in percent, two decimals; NULL without a customs figure.
-- column verdict: matches (its own series' figure agrees, within max(1 t, 0.1 %)); matches_other_series (another series' figure agrees: the press put one series' number under another's name; or the claim is of a series published only in the press, such as bloomberg_re_products, which customs figures cannot confirm: it is held against the GACC headline it is confused with); conflicts (its own series' figure disagrees and no other agrees); no_data (no figure to hold it against).
-- column matched_series_id: The series the claimed figure belongs to: series_id for matches, the other series for matches_other_series (for a press-only series: gacc_rare_earths when the headline agrees, else its own series_id), NULL otherwise.
WITH loaded AS (
    SELECT DISTINCT release_id FROM releases WHERE status IN ('loaded', 'partly_quarantined')
),
claims AS (
    SELECT p.release_id, p.source_row, p.outlet, p.source_url, p.series_id, p.basis, p.partner,
           p.value AS claimed_value,
           CASE WHEN p.basis = 'year' THEN TRY_CAST(p.period || '-01-01' AS DATE)
                ELSE TRY_CAST(p.period || '-01' AS DATE) END AS period
    FROM press_claims p
    JOIN loaded USING (release_id)
),
customs AS (
    -- Each customs figure in the form a claim states it.
    SELECT series_id, period, partner, 'month' AS basis, quantity_t AS value
    FROM curated.exports_monthly WHERE period_kind = 'month' AND quantity_t IS NOT NULL
    UNION ALL
    SELECT series_id, period, partner, 'ytd', ytd_quantity_t
    FROM curated.exports_monthly WHERE ytd_quantity_t IS NOT NULL
    UNION ALL
    SELECT series_id, CAST(date_trunc('year', period) AS DATE), partner, 'year', ytd_quantity_t
    FROM curated.exports_monthly WHERE month(period) = 12 AND ytd_quantity_t IS NOT NULL
),
press_only AS (
    -- Series published only in the press (DOMAIN.md §1), while no customs data of them is loaded.
    SELECT series_id FROM (VALUES ('bloomberg_re_products')) s(series_id)
    WHERE series_id NOT IN (SELECT DISTINCT series_id FROM curated.exports_monthly)
),
known AS (
    -- Every figure a claim may turn out to belong to.
    SELECT series_id, period, partner, basis, value FROM customs WHERE series_id NOT LIKE 'gacc_commodity:%'
    UNION
    SELECT series_id, period, partner, basis, claimed_value FROM claims WHERE series_id IN (SELECT series_id FROM press_only)
),
own AS (
    SELECT c.*, k.value AS customs_value, c.series_id IN (SELECT series_id FROM press_only) AS press_only_series
    FROM claims c
    LEFT JOIN customs k
           ON k.series_id = CASE WHEN c.series_id IN (SELECT series_id FROM press_only) THEN 'gacc_rare_earths'
                                 ELSE c.series_id END
          AND k.period = c.period AND k.partner = c.partner AND k.basis = c.basis
),
other AS (
    SELECT c.release_id, c.source_row,
           arg_min(k.series_id, (abs(c.claimed_value - k.value), k.series_id)) AS other_series_id
    FROM claims c
    JOIN known k
      ON k.period = c.period AND k.partner = c.partner AND k.basis = c.basis AND k.series_id <> c.series_id
    WHERE abs(c.claimed_value - k.value) <= greatest(1.0, 0.001 * k.value)
    GROUP BY c.release_id, c.source_row
),
judged AS (
    SELECT o.*, x.other_series_id,
           CASE WHEN o.press_only_series AND o.customs_value IS NOT NULL THEN 'matches_other_series'
                WHEN abs(o.claimed_value - o.customs_value) <= greatest(1.0, 0.001 * o.customs_value) THEN 'matches'
                WHEN x.other_series_id IS NOT NULL THEN 'matches_other_series'
                WHEN o.customs_value IS NOT NULL THEN 'conflicts'
                ELSE 'no_data' END AS verdict
    FROM own o
    LEFT JOIN other x USING (release_id, source_row)
)
SELECT outlet,
       source_url,
       series_id,
       period,
       basis,
       partner,
       claimed_value,
       customs_value,
       round(100 * (claimed_value - customs_value) / nullif(customs_value, 0), 2) + 0.0 AS delta_pct,  -- no -0.0
       verdict,
       CASE WHEN verdict = 'matches' THEN series_id
            WHEN verdict = 'matches_other_series' AND press_only_series
                 AND abs(claimed_value - customs_value) <= greatest(1.0, 0.001 * customs_value) THEN 'gacc_rare_earths'
            WHEN verdict = 'matches_other_series' AND press_only_series THEN series_id
            WHEN verdict = 'matches_other_series' THEN other_series_id END AS matched_series_id
FROM judged
ORDER BY series_id, period, basis, partner, outlet, source_url
