-- world_production: USGS world mine production and reserves of rare earths (REO equivalent), by edition, year and country, with each country's share of the world.
-- grain: edition, year, country (one row each); every edition keeps its own rows (MCS 2025 restates 2023: both stay)
-- source: usgs_figures of loaded releases; when several releases carry the same edition, country and year, the
--         latest release prevails (latest publication date, then latest landing, then release_id)
-- shares: against the 'World (rounded)' row of the same edition and year, as USGS prints it (rounded; reserves
--         'more than 90 million' count as 90,000,000). The world row is included with shares of 100. A share over
--         100 is computed as is (a data problem the quality gate flags), never hidden. Rounded to one decimal:
--         USGS figures carry two to three significant digits.
-- column edition: USGS Mineral Commodity Summaries edition, e.g. MCS2025 (published early in that year).
-- column year: Year the figures refer to (an edition covers the two years before it; the later one estimated).
-- column country: Country as USGS publishes it; 'World (rounded)' is the world total, 'Other' the other countries.
-- column mine_production_t_reo: Mine production in tonnes of rare-earth-oxide (REO) equivalent; 0 where USGS prints — (zero), NULL where not given, withheld (W) or not available (NA). Never comparable with customs tonnes.
-- column reserves_t_reo: Reserves in tonnes of REO equivalent, NULL where not given; reserves are given for the edition's latest year only.
-- column share_of_world_production_pct: mine_production_t_reo as a percent of the world row's mine production of the same edition and year (100 for the world row).
-- column share_of_world_reserves_pct: reserves_t_reo as a percent of the world row's reserves of the same edition and year (100 for the world row).
WITH loaded AS (
    SELECT release_id,
           coalesce(max(published_on), DATE '1900-01-01') AS published_on,
           min(landed_at) AS landed_at
    FROM releases
    WHERE status IN ('loaded', 'partly_quarantined')
    GROUP BY release_id
),
latest AS (
    SELECT u.edition, u.year, u.country, u.mine_production_t_reo, u.reserves_t_reo
    FROM usgs_figures u
    JOIN loaded r USING (release_id)
    QUALIFY row_number() OVER (
        PARTITION BY u.edition, u.country, u.year
        ORDER BY r.published_on DESC, r.landed_at DESC, u.release_id DESC
    ) = 1
),
world AS (
    SELECT edition, year, mine_production_t_reo AS world_production, reserves_t_reo AS world_reserves
    FROM latest
    WHERE country = 'World (rounded)'
)
SELECT l.edition,
       l.year,
       l.country,
       l.mine_production_t_reo,
       l.reserves_t_reo,
       round(100 * l.mine_production_t_reo / nullif(w.world_production, 0), 1) AS share_of_world_production_pct,
       round(100 * l.reserves_t_reo / nullif(w.world_reserves, 0), 1) AS share_of_world_reserves_pct
FROM latest l
LEFT JOIN world w USING (edition, year)
ORDER BY l.edition, l.year, l.country = 'World (rounded)', l.mine_production_t_reo DESC NULLS LAST, l.country
