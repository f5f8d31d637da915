"""Pandera contracts for tidy observation rows: types, allowed values, ranges per series (DOMAIN.md §5).

Validation is lazy: every failing row is reported with the rule it broke and a message that names the values,
so the loader can quarantine exactly those source rows and load the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pandera.pandas as pa

BASES = ["month", "jan_feb", "ytd"]
MEASURES = ["quantity_t", "quantity", "value_usd", "value_cny", "yoy_quantity_pct", "yoy_value_pct"]

# Hard ranges in tonnes for world totals (DOMAIN.md §5): outside them a figure is wrong, not remarkable.
# A Jan–Feb figure is two months; a YTD figure is up to twelve.
HARD_RANGES_T: dict[tuple[str, str], tuple[float, float]] = {
    ("gacc_rare_earths", "month"): (1_000, 10_000),
    ("gacc_rare_earths", "jan_feb"): (2_000, 20_000),
    ("gacc_rare_earths", "ytd"): (1_000, 120_000),
    ("gacc_magnets_850511", "month"): (500, 8_000),
    ("gacc_magnets_850511", "jan_feb"): (1_000, 16_000),
    ("gacc_magnets_850511", "ytd"): (500, 96_000),
}


@dataclass(frozen=True)
class RowRule:
    name: str
    ok: Callable[[pd.DataFrame], pd.Series]  # True where the row obeys the rule
    explain: Callable[[pd.Series], str]  # one failing row -> what is wrong, with its values


def _number_parses(df: pd.DataFrame) -> pd.Series:
    return df["value"].notna()


def _non_negative(df: pd.DataFrame) -> pd.Series:
    is_level = df["measure"].isin(["quantity_t", "quantity", "value_usd", "value_cny"])
    return ~(is_level & (df["value"] < 0))


def _in_series_range(df: pd.DataFrame) -> pd.Series:
    ok: pd.Series = pd.Series(True, index=df.index)
    world_tonnes = (df["measure"] == "quantity_t") & (df["partner"] == "WORLD")
    for (series_id, basis), (low, high) in HARD_RANGES_T.items():
        scope = world_tonnes & (df["series_id"] == series_id) & (df["basis"] == basis) & df["value"].notna()
        ok &= ~(scope & ((df["value"] < low) | (df["value"] > high)))
    return ok


def _pct_floor(df: pd.DataFrame) -> pd.Series:
    is_pct = df["measure"].str.endswith("_pct")
    return ~(is_pct & (df["value"] < -100))


def _not_in_future(df: pd.DataFrame) -> pd.Series:
    this_month = pd.Timestamp(date.today().replace(day=1))
    return pd.to_datetime(df["period"]) <= this_month


def _range_message(row: pd.Series) -> str:
    low, high = HARD_RANGES_T[(row["series_id"], row["basis"])]
    return (
        f"{row['series_id']} {row['basis']} quantity {row['value']:,.1f} t is outside the plausible "
        f"{low:,.0f}–{high:,.0f} t (published '{row['published_value']}' {row['published_unit']})"
    )


ROW_RULES: tuple[RowRule, ...] = (
    RowRule(
        "number_parses",
        _number_parses,
        lambda r: f"'{r['published_value']}' in {r['measure']} ({r['basis']}) is not a number",
    ),
    RowRule(
        "non_negative",
        _non_negative,
        lambda r: f"{r['measure']} ({r['basis']}) is negative: {r['published_value']}",
    ),
    RowRule("series_range", _in_series_range, _range_message),
    RowRule(
        "pct_at_least_minus_100",
        _pct_floor,
        lambda r: f"{r['measure']} = {r['value']} is below -100%",
    ),
    RowRule(
        "period_not_in_future",
        _not_in_future,
        lambda r: f"period {pd.Timestamp(r['period']):%Y-%m} lies in the future",
    ),
)
_RULES = {rule.name: rule for rule in ROW_RULES}

OBSERVATION_SCHEMA = pa.DataFrameSchema(
    {
        "source_row": pa.Column(str),
        "series_id": pa.Column(str, pa.Check.str_length(min_value=1)),
        "period": pa.Column("datetime64[s]", coerce=True),
        "basis": pa.Column(str, pa.Check.isin(BASES)),
        "partner": pa.Column(str, pa.Check.str_matches(r"^([A-Z]{2}|WORLD)$")),
        "measure": pa.Column(str, pa.Check.isin(MEASURES)),
        "value": pa.Column(float, nullable=True, coerce=True),
    },
    checks=[pa.Check(rule.ok, name=rule.name, element_wise=False) for rule in ROW_RULES],
    strict=False,
)


@dataclass(frozen=True)
class Violation:
    source_row: str
    rule: str
    message: str


def check_observations(observations: pd.DataFrame) -> tuple[pd.DataFrame, list[Violation]]:
    """Validate lazily; return the rows that passed and one violation per failing (row, rule)."""
    if observations.empty:
        return observations, []
    frame = observations.reset_index(drop=True)
    try:
        valid = OBSERVATION_SCHEMA.validate(frame, lazy=True)
        return valid, []
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    violations: list[Violation] = []
    bad_index: set[int] = set()
    reported: set[tuple[int, str]] = set()
    for case in cases.itertuples(index=False):
        index = case.index
        if index is None or pd.isna(index):  # a whole-column problem (type): every row fails it
            for i, source_row in enumerate(frame["source_row"]):
                violations.append(Violation(str(source_row), str(case.check), f"column {case.column}"))
                bad_index.add(i)
            continue
        index = int(index)
        rule_name = str(case.check)
        if (index, rule_name) in reported:  # a frame-wide check is reported once per column: keep one
            continue
        reported.add((index, rule_name))
        row = frame.iloc[index]
        rule = _RULES.get(rule_name)
        if rule is not None:
            message = rule.explain(row)
        else:  # a column check such as isin
            message = f"{case.column} = {case.failure_case!r} breaks {rule_name}"
        violations.append(Violation(str(row["source_row"]), rule_name, message))
        bad_index.add(index)
    passed = frame.drop(index=sorted(bad_index))
    return OBSERVATION_SCHEMA.validate(passed, lazy=True) if not passed.empty else passed, violations
