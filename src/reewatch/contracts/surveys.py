"""The contract for licence-survey results (DOMAIN.md §3.4, §5 Surveys): one row per survey metric.

Row rules check each figure on its own: percentages within 0–100, counts whole and not negative, what was counted
(`unit_of_count`: application | company), the order of the survey's dates. The identities across a survey's rows
(approved ≤ applications, approved + pending + rejected = applications, affected ≤ respondents) are no row rules:
`survey_identity_violations` checks them per survey, and the survey parser quarantines the rows involved.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from typing import Any

import pandera.polars as pa
import polars as pl

from reewatch.contracts.base import MAX_MAGNITUDE, RowRule, TableContract, Violation, within_magnitude

UNITS = ("count", "pct")
UNITS_OF_COUNT = ("application", "company")
BASES = ("published", "microdata")
# A survey's dates, in the order they must come (each given one no later than the next given one).
DATE_ORDER = ("fieldwork_start", "fieldwork_end", "as_of", "published_on")


def _finite() -> pl.Expr:
    return pl.col("value").is_finite().fill_null(False)


def _given(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.len_chars().fill_null(0) > 0


def _pct_within_range() -> pl.Expr:
    pct = (pl.col("unit") == "pct").fill_null(False) & _finite()
    return ~(pct & ((pl.col("value") < 0) | (pl.col("value") > 100)))


def _count(condition: pl.Expr) -> pl.Expr:
    return ~((pl.col("unit") == "count").fill_null(False) & _finite() & condition)


def _dates_in_order() -> pl.Expr:
    ok = pl.lit(True)
    for i, earlier in enumerate(DATE_ORDER):
        for later in DATE_ORDER[i + 1 :]:
            ok = ok & (pl.col(earlier) <= pl.col(later)).fill_null(True)
    return ok


def _dates_not_in_future() -> pl.Expr:
    today = date.today()
    ok = pl.lit(True)
    for column in DATE_ORDER:
        ok = ok & (pl.col(column) <= pl.lit(today)).fill_null(True)
    return ok


def _future_message(row: dict[str, Any]) -> str:
    today = date.today()
    late = ", ".join(f"{name} {row[name]}" for name in DATE_ORDER if row.get(name) is not None and row[name] > today)
    return f"survey {row['survey_id']}: {late} lies in the future (today is {today}; metric {row['metric']})"


def _dates_message(row: dict[str, Any]) -> str:
    given = {name: row[name] for name in DATE_ORDER if row.get(name) is not None}
    broken = next(
        f"{earlier} {given[earlier]} is after {later} {given[later]}"
        for i, earlier in enumerate(DATE_ORDER)
        for later in DATE_ORDER[i + 1 :]
        if earlier in given and later in given and given[earlier] > given[later]
    )
    return (
        f"survey {row['survey_id']}: {broken} (expected fieldwork_start ≤ fieldwork_end ≤ as_of ≤ published_on; "
        f"metric {row['metric']})"
    )


def _figure(row: dict[str, Any]) -> str:
    return f"survey {row['survey_id']} metric {row['metric']} = {row['value']:g} {row['unit']}"


ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        "survey_id_given",
        lambda: _given("survey_id"),
        lambda r: f"no survey_id for metric {r['metric']!r} (value {r['value']})",
    ),
    RowRule(
        "metric_given",
        lambda: _given("metric"),
        lambda r: f"survey {r['survey_id']}: a value {r['value']} {r['unit']} with no metric name",
    ),
    RowRule(
        "value_given",
        lambda: _finite(),
        lambda r: f"survey {r['survey_id']} metric {r['metric']}: no value",
    ),
    RowRule(
        "unit_known",
        lambda: pl.col("unit").is_in(UNITS).fill_null(False),
        lambda r: f"survey {r['survey_id']} metric {r['metric']}: unit {r['unit']!r} is not one of {', '.join(UNITS)}",
    ),
    RowRule(
        "pct_within_0_100",
        _pct_within_range,
        lambda r: f"{_figure(r)} is outside 0–100%",
    ),
    RowRule(
        "count_non_negative",
        lambda: _count(pl.col("value") < 0),
        lambda r: f"{_figure(r)}: a count cannot be negative",
    ),
    RowRule(
        "plausible_magnitude",
        lambda: within_magnitude("value"),
        lambda r: f"{_figure(r)}: beyond {MAX_MAGNITUDE:.0e}, no survey counts that many",
    ),
    RowRule(
        "count_integral",
        lambda: _count(pl.col("value") != pl.col("value").round(0)),
        lambda r: f"{_figure(r)}: a count must be a whole number",
    ),
    RowRule(
        "unit_of_count_known",
        lambda: pl.col("unit_of_count").is_in(UNITS_OF_COUNT).fill_null(False),
        lambda r: (
            f"survey {r['survey_id']} metric {r['metric']}: unit_of_count {r['unit_of_count']!r} is not "
            f"{' or '.join(UNITS_OF_COUNT)} (say what was counted: licence applications or companies)"
        ),
    ),
    RowRule("dates_in_order", _dates_in_order, _dates_message),
    RowRule("dates_not_in_future", _dates_not_in_future, _future_message),
    RowRule(
        "basis_known",
        lambda: pl.col("basis").is_in(BASES).fill_null(False),
        lambda r: f"survey {r['survey_id']} metric {r['metric']}: basis {r['basis']!r} is not published or microdata",
    ),
)

SURVEY_RESULTS = TableContract(
    table="survey_results",
    columns={
        "source_row": pa.Column(str),
        "survey_id": pa.Column(str, nullable=True),  # survey_id_given
        "publisher": pa.Column(str, nullable=True),
        "fieldwork_start": pa.Column(pl.Date, nullable=True),
        "fieldwork_end": pa.Column(pl.Date, nullable=True),
        "as_of": pa.Column(pl.Date, nullable=True),
        "published_on": pa.Column(pl.Date, nullable=True),
        "scope": pa.Column(str, nullable=True),
        "unit_of_count": pa.Column(str, nullable=True),  # unit_of_count_known
        "metric": pa.Column(str, nullable=True),  # metric_given
        "value": pa.Column(pl.Float64, nullable=True),  # value_given
        "unit": pa.Column(str, nullable=True),  # unit_known
        "source_url": pa.Column(str, nullable=True),
        "basis": pa.Column(str, nullable=True),  # basis_known
    },
    rules=ROW_RULES,
)


# --- identities across a survey's rows ---------------------------------------------------------------------------

IDENTITY_RULES = (
    "approved_within_applications", "parts_sum_to_applications", "affected_within_respondents", "one_unit_of_count",
)  # fmt: skip
# The counts each identity relates: they must count the same thing (applications, or companies) to be compared.
_IDENTITIES = (("applications", "approved", "pending", "rejected"), ("respondents", "affected"))
_PLURAL = {"application": "applications", "company": "companies"}


def survey_identity_violations(rows: list[dict[str, Any]]) -> list[Violation]:
    """Identity breaks per survey and basis (DOMAIN.md §5), one violation per row involved, naming the numbers.

    `rows` are survey_results rows (source_row, survey_id, basis, metric, value, unit); only counts take part.
    """
    surveys: dict[tuple[str, str], dict[str, tuple[float, str, str | None]]] = defaultdict(dict)
    for row in rows:
        value = row.get("value")
        if not row.get("survey_id") or row.get("unit") != "count" or value is None or not math.isfinite(value):
            continue
        surveys[(row["survey_id"], row.get("basis") or "")].setdefault(
            row["metric"], (float(value), row["source_row"], row.get("unit_of_count"))
        )
    violations: list[Violation] = []
    for (survey_id, basis), metrics in surveys.items():
        breaks = _unit_breaks({name: unit for name, (_, _, unit) in metrics.items() if unit})
        # An identity across two units of count would compare companies with applications: only the others count.
        mixed = {name for _, involved, _ in breaks for name in involved}
        values = {name: value for name, (value, _, _) in metrics.items()}
        breaks += [found for found in _identity_breaks(values) if not mixed & set(found[1])]
        for rule, involved, message in breaks:
            violations += [
                Violation(metrics[name][1], rule, f"survey {survey_id}: {message} ({basis})")
                for name in involved
                if name in metrics
            ]
    return violations


def _unit_breaks(units: dict[str, str]) -> list[tuple[str, tuple[str, ...], str]]:
    """The survey's counts that an identity relates but that count different things: the "19 of 141" trap, where
    141 were applications, read as companies."""
    breaks = []
    for related in _IDENTITIES:
        given = {name: units[name] for name in related if name in units}
        if len(set(given.values())) > 1:
            counted = ", ".join(f"{name} counts {_PLURAL.get(unit, unit)}" for name, unit in given.items())
            message = f"{counted}: no identity or ratio holds across units of count"
            breaks.append(("one_unit_of_count", tuple(given), message))
    return breaks


def _identity_breaks(n: dict[str, float]) -> list[tuple[str, tuple[str, ...], str]]:
    """(rule, metrics involved, message) for each identity the survey's counts break."""
    breaks: list[tuple[str, tuple[str, ...], str]] = []
    if {"applications", "approved"} <= n.keys() and n["approved"] > n["applications"]:
        message = f"approved {n['approved']:g} exceeds applications {n['applications']:g}"
        breaks.append(("approved_within_applications", ("applications", "approved"), message))
    parts = ("approved", "pending", "rejected")
    if {"applications", *parts} <= n.keys():
        total = sum(n[name] for name in parts)
        if total != n["applications"]:
            message = (
                f"approved {n['approved']:g} + pending {n['pending']:g} + rejected {n['rejected']:g} = {total:g}, "
                f"not applications {n['applications']:g}"
            )
            breaks.append(("parts_sum_to_applications", ("applications", *parts), message))
    if {"respondents", "affected"} <= n.keys() and n["affected"] > n["respondents"]:
        message = f"affected {n['affected']:g} exceeds respondents {n['respondents']:g}"
        breaks.append(("affected_within_respondents", ("affected", "respondents"), message))
    return breaks


def _register() -> None:
    from reewatch.contracts import register  # the package imports this module at its end: no cycle

    register(SURVEY_RESULTS)


_register()

__all__ = ["DATE_ORDER", "IDENTITY_RULES", "SURVEY_RESULTS", "survey_identity_violations"]
