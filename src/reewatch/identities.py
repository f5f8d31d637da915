"""The arithmetic the numbers must obey across rows (DOMAIN.md §5), checked in SQL inside the warehouse.

Two kinds of outcome: a figure 1,000× or 10,000× off its neighbours is a unit error, and a line repeating an
earlier line's figure a duplicate, and their rows are quarantined; identity breaks (YTD, destinations vs world, a
published % vs its levels) are recorded as warnings with the numbers, never silently fixed.
"""

from __future__ import annotations

import duckdb

from reewatch.surveys_check import survey_mismatch_warnings
from reewatch.violations import Violation

# Only named series are compared with their neighbours: they are where a unit slip would mislead a reader.
NAMED_SERIES = ("gacc_rare_earths", "gacc_magnets_850511")
UNIT_FACTORS = (1_000, 10_000)
YTD_TOLERANCE_T = 2.0
PCT_TOLERANCE_POINTS = 0.5  # DOMAIN.md §5: recomputed from the levels, a published % agrees within half a point


def suspected_unit_errors(con: duckdb.DuckDBPyConnection, release_id: str) -> list[Violation]:
    """Rows of this release whose tonnage sits ~1,000× or ~10,000× off the median of the same series and
    partner over the surrounding twelve months (other releases included)."""
    rows = con.execute(
        """
        WITH candidate AS (
            SELECT source_row, series_id, period, basis, partner, value
            FROM observations
            WHERE release_id = $release AND measure = 'quantity_t' AND value > 0
              AND series_id IN (SELECT unnest($series)) AND basis IN ('month', 'jan_feb')
        ),
        per_period AS (
            -- Other figures of the same series and partner: one total per period and release.
            SELECT o.series_id, o.partner, o.basis, o.period, sum(o.value) AS value
            FROM observations o
            WHERE o.measure = 'quantity_t' AND o.value > 0 AND o.series_id IN (SELECT unnest($series))
              AND o.basis IN ('month', 'jan_feb')
            GROUP BY o.series_id, o.partner, o.basis, o.period, o.release_id
        ),
        typical AS (
            -- Once per series, partner, basis and period, not per row: a detailed export has a row per trade mode
            -- (10M-row file: 107k candidate rows, 30k keys; 0.38 -> 0.13 s).
            SELECT k.series_id, k.partner, k.basis, k.period, median(p.value) AS typical, count(*) AS n
            FROM (SELECT DISTINCT series_id, partner, basis, period FROM candidate) k
            JOIN per_period p
              ON p.series_id = k.series_id AND p.partner = k.partner AND p.basis = k.basis AND p.period <> k.period
             AND p.period BETWEEN k.period - INTERVAL 12 MONTH AND k.period + INTERVAL 12 MONTH
            GROUP BY ALL
            HAVING count(*) >= 2
        )
        SELECT c.source_row, c.series_id, c.period, c.partner, c.value, t.typical, t.n
        FROM candidate c JOIN typical t USING (series_id, partner, basis, period)
        """,
        {"release": release_id, "series": list(NAMED_SERIES)},
    ).fetchall()
    violations = []
    for source_row, series_id, period, partner, value, typical, _ in rows:
        ratio = value / typical
        for factor in UNIT_FACTORS:
            if factor / 3 <= ratio <= factor * 3 or (partner == "WORLD" and factor / 3 <= 1 / ratio <= factor * 3):
                direction = "above" if ratio > 1 else "below"
                violations.append(
                    Violation(
                        str(source_row),
                        "unit_error",
                        f"{series_id} {partner} {period:%Y-%m} quantity {value:,.1f} t is about {factor:,}× "
                        f"{direction} the median {typical:,.1f} t of the surrounding months: suspected unit error "
                        f"(factor {factor:,}, e.g. kg filed as tonnes)",
                    )
                )
                break
    return violations


def duplicate_lines(con: duckdb.DuckDBPyConnection, release_id: str) -> list[Violation]:
    """Rows of this release that repeat an earlier row's figure: the same series, period, partner, trade mode and
    measure. Two figures for one key cannot both be meant, and summed they would count a line twice. The first in
    the file is kept, as the headline and Comtrade parsers keep theirs (a detailed export is only checked here: the
    warehouse holds its named series, a few thousand of its lines)."""
    rows = con.execute(
        """
        WITH ranked AS (
            SELECT source_row, series_id, period, partner, trade_mode,
                   row_number() OVER key_rows AS n, first_value(source_row) OVER key_rows AS first_row
            FROM observations
            WHERE release_id = $release
            WINDOW key_rows AS (
                PARTITION BY series_id, period, basis, partner, trade_mode, measure
                ORDER BY TRY_CAST(source_row AS BIGINT) NULLS LAST, source_row
            )
        )
        SELECT DISTINCT source_row, series_id, period, partner, trade_mode, first_row
        FROM ranked WHERE n > 1 AND source_row <> first_row
        ORDER BY TRY_CAST(source_row AS BIGINT) NULLS LAST, source_row
        """,
        {"release": release_id},
    ).fetchall()
    return [
        Violation(
            str(source_row),
            "duplicate_row",
            f"a second line for {series_id} {partner} {period:%Y-%m}{f' ({mode})' if mode else ''} "
            f"(the first is row {first_row}): two figures for one line cannot both be meant, and summed they would "
            "count it twice",
        )
        for source_row, series_id, period, partner, mode, first_row in rows
    ]


def identity_warnings(con: duckdb.DuckDBPyConnection) -> list[tuple[str | None, str, str]]:
    """(release_id, rule, message) for every identity break in the current (latest-vintage) figures."""
    warnings: list[tuple[str | None, str, str]] = []
    ytd = con.execute(
        """
        WITH m AS (SELECT * FROM curated.exports_monthly WHERE quantity_t IS NOT NULL)
        SELECT cur.series_id, cur.partner, cur.period, prev.ytd_quantity_t, cur.quantity_t, cur.ytd_quantity_t,
               cur.release_id
        FROM m cur
        JOIN m prev
          ON prev.series_id = cur.series_id AND prev.partner = cur.partner
         AND prev.period = CAST(cur.period - INTERVAL 1 MONTH AS DATE) AND year(prev.period) = year(cur.period)
        WHERE cur.period_kind = 'month'
          AND abs(prev.ytd_quantity_t + cur.quantity_t - cur.ytd_quantity_t) > $tolerance
          AND cur.partner = 'WORLD'
        ORDER BY cur.series_id, cur.period
        """,
        {"tolerance": YTD_TOLERANCE_T},
    ).fetchall()
    for series_id, partner, period, prev_ytd, month, ytd_value, release_id in ytd:
        warnings.append(
            (
                release_id,
                "ytd_identity",
                f"{series_id} {partner} {period:%Y-%m}: YTD {ytd_value:,.1f} t ≠ previous YTD {prev_ytd:,.1f} t + "
                f"month {month:,.1f} t = {prev_ytd + month:,.1f} t (off by {ytd_value - prev_ytd - month:+,.1f} t, "
                f"tolerance ±{YTD_TOLERANCE_T:g} t)",
            )
        )
    parts = con.execute(
        """
        SELECT d.series_id, d.period, d.partner, d.quantity_t, w.quantity_t, d.release_id
        FROM curated.exports_monthly d
        JOIN curated.exports_monthly w
          ON w.series_id = d.series_id AND w.period = d.period AND w.partner = 'WORLD'
        WHERE d.partner <> 'WORLD' AND d.quantity_t > w.quantity_t + 0.5
        UNION ALL
        SELECT d.series_id, d.period, 'sum of destinations', sum(d.quantity_t), any_value(w.quantity_t),
               any_value(w.release_id)
        FROM curated.exports_monthly d
        JOIN curated.exports_monthly w
          ON w.series_id = d.series_id AND w.period = d.period AND w.partner = 'WORLD'
        WHERE d.partner <> 'WORLD'
        GROUP BY d.series_id, d.period
        HAVING sum(d.quantity_t) > any_value(w.quantity_t) * 1.001 + 1
        ORDER BY 1, 2
        """
    ).fetchall()
    for series_id, period, partner, part, world, release_id in parts:
        warnings.append(
            (
                release_id,
                "parts_within_world",
                f"{series_id} {period:%Y-%m}: {partner} {part:,.1f} t exceeds the world total {world:,.1f} t",
            )
        )
    return warnings


def published_pct_warnings(con: duckdb.DuckDBPyConnection) -> list[tuple[str | None, str, str]]:
    """A release's published year-on-year % against the levels of both years: the year before as the same release
    prints it (a preliminary table gives last year's cumulative figure beside the %), else as the latest release
    of that period gives it (a bulletin prints the % alone)."""
    rows = con.execute(
        """
        WITH loaded AS (
            SELECT release_id, coalesce(published_on, DATE '1900-01-01') AS published_on, vintage_rank, ingested_at
            FROM releases WHERE status IN ('loaded', 'partly_quarantined')
        ),
        pct AS (
            SELECT o.release_id, o.series_id, o.partner, o.basis, o.period, o.measure, o.value AS published
            FROM observations o JOIN loaded USING (release_id)
            WHERE o.measure IN ('yoy_quantity_pct', 'yoy_value_pct')
        ),
        levels AS (
            SELECT o.release_id, o.series_id, o.partner, o.basis, o.period, o.measure AS level_measure,
                   CASE WHEN o.measure IN ('quantity_t', 'quantity') THEN 'yoy_quantity_pct'
                        ELSE 'yoy_value_pct' END AS measure,
                   sum(o.value) AS value
            FROM observations o JOIN loaded USING (release_id)
            WHERE o.measure IN ('quantity_t', 'quantity', 'value_usd', 'value_cny')
            GROUP BY ALL
        ),
        latest AS (
            -- Each level at its latest vintage (as exports_monthly chooses it), in its own unit and currency.
            SELECT l.series_id, l.partner, l.basis, l.period, l.level_measure, l.measure,
                   arg_max(l.value, (r.published_on, r.vintage_rank, r.ingested_at, l.release_id)) AS value
            FROM levels l JOIN loaded r USING (release_id)
            GROUP BY ALL
        ),
        compared AS (
            SELECT p.release_id, p.series_id, p.partner, p.basis, p.period, p.measure, p.published,
                   cur.value AS current, coalesce(own.value, other.value) AS previous, own.value IS NOT NULL AS own
            FROM pct p
            JOIN levels cur USING (release_id, series_id, partner, basis, period, measure)
            LEFT JOIN levels own
              ON own.release_id = p.release_id AND own.series_id = p.series_id AND own.partner = p.partner
             AND own.basis = p.basis AND own.level_measure = cur.level_measure
             AND own.period = CAST(p.period - INTERVAL 1 YEAR AS DATE)
            LEFT JOIN latest other
              ON other.series_id = p.series_id AND other.partner = p.partner AND other.basis = p.basis
             AND other.level_measure = cur.level_measure AND other.period = CAST(p.period - INTERVAL 1 YEAR AS DATE)
        )
        SELECT release_id, series_id, partner, basis, period, measure, published, current, previous,
               round(100 * (current / previous - 1), 2) AS recomputed, own
        FROM compared
        WHERE previous > 0 AND abs(100 * (current / previous - 1) - published) > $tolerance
        ORDER BY series_id, period, measure
        """,
        {"tolerance": PCT_TOLERANCE_POINTS},
    ).fetchall()
    warnings = []
    for release_id, series_id, partner, basis, period, measure, published, current, previous, recomputed, own in rows:
        warnings.append(
            (
                release_id,
                "published_pct",
                f"{series_id} {partner} {basis} {period:%Y-%m}: published y/y {measure.split('_')[1]} change "
                f"{published:+.1f}%, but the levels give {recomputed:+.1f}% ({current:,.1f} against {previous:,.1f} "
                f"a year earlier, {'as the same release prints it' if own else 'at its latest release'}; tolerance "
                f"±{PCT_TOLERANCE_POINTS:g} points)",
            )
        )
    return warnings


def record_identity_warnings(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Replace the identity warnings with those of the current figures; return how many there are."""
    found = identity_warnings(con) + published_pct_warnings(con) + survey_mismatch_warnings(con)
    con.execute(
        "DELETE FROM load_warnings WHERE rule IN "
        "('ytd_identity', 'parts_within_world', 'published_pct', 'survey_microdata_mismatch')"
    )
    if found:
        con.executemany(
            "INSERT INTO load_warnings VALUES (?, ?, ?, ?)",
            [(release_id, rule, message, run_id) for release_id, rule, message in found],
        )
    return len(found)
