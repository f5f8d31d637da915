"""Published survey aggregates held against the same survey's microdata (DOMAIN.md §3.4, §5 Surveys).

When a chamber publishes "141 applications" and its microdata count 140, neither figure is silently preferred in
the warehouse: `licence_surveys` shows the published one, and this check records a warning naming both numbers.
Counts must match exactly; percentages within 0.5 percentage points (publishers round shares to whole percent).
"""

from __future__ import annotations

import duckdb

RULE = "survey_microdata_mismatch"
PCT_TOLERANCE = 0.5


def survey_mismatch_warnings(con: duckdb.DuckDBPyConnection) -> list[tuple[str | None, str, str]]:
    """(release_id of the microdata, rule, message) for each survey metric where the latest published figure and
    the latest microdata aggregate differ (in value, unit or unit_of_count)."""
    rows = con.execute(
        """
        WITH latest AS (SELECT * FROM latest_survey_results)  -- migrations/003
        SELECT m.release_id, p.survey_id, p.metric,
               p.value, p.unit, p.unit_of_count, p.file_name, p.source_row,
               m.value, m.unit, m.unit_of_count, m.file_name, m.source_row
        FROM latest p
        JOIN latest m ON m.survey_id = p.survey_id AND m.metric = p.metric AND m.basis = 'microdata'
        WHERE p.basis = 'published'
          AND (p.unit IS DISTINCT FROM m.unit
               OR p.unit_of_count IS DISTINCT FROM m.unit_of_count
               OR CASE WHEN p.unit = 'pct' THEN abs(p.value - m.value) > $tolerance
                       ELSE p.value IS DISTINCT FROM m.value END)
        ORDER BY p.survey_id, p.metric
        """,
        {"tolerance": PCT_TOLERANCE},
    ).fetchall()
    warnings: list[tuple[str | None, str, str]] = []
    for release_id, survey_id, metric, *figures in rows:
        p_value, p_unit, p_counted, p_file, p_row, m_value, m_unit, m_counted, m_file, m_rows = figures
        message = (
            f"survey {survey_id} metric {metric}: published {_number(p_value, p_unit)} ({p_file} row {p_row}), "
            f"but the microdata give {_number(m_value, m_unit)} ({m_file} {m_rows})"
        )
        if (p_unit, p_counted) != (m_unit, m_counted):
            message += (
                f"; published in {p_unit} counting {p_counted or 'nothing named'}, microdata in {m_unit} counting "
                f"{m_counted or 'nothing named'}"
            )
        elif p_value is not None and m_value is not None:
            message += f": off by {m_value - p_value:+g}"
        warnings.append((release_id, RULE, message))
    return warnings


def _number(value: float | None, unit: str | None) -> str:
    if value is None:
        return "no value"
    return f"{value:g}%" if unit == "pct" else f"{value:g}"
