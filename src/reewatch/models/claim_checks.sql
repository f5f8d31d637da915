-- claim_checks: press-reported figures held against the customs data (stub, being filled in).
-- column outlet: Outlet that reported the figure.
-- column source_url: Where it was reported.
-- column series_id: Series the claim was filed under.
-- column period: First day of the claimed month (or of the year for year claims).
-- column basis: month, ytd or year.
-- column partner: ISO 3166-1 alpha-2 destination, or WORLD.
-- column claimed_value: The reported figure in tonnes.
-- column customs_value: The customs figure it was held against, in tonnes.
-- column delta_pct: (claimed - customs) / customs, percent.
-- column verdict: matches, matches_other_series, conflicts or no_data.
-- column matched_series_id: The series whose customs figure the claim matches.
SELECT outlet, source_url, series_id, CAST(NULL AS DATE) AS period, basis, partner,
       value AS claimed_value, CAST(NULL AS DOUBLE) AS customs_value, CAST(NULL AS DOUBLE) AS delta_pct,
       CAST(NULL AS VARCHAR) AS verdict, CAST(NULL AS VARCHAR) AS matched_series_id
FROM press_claims
WHERE false
