"""The shape of a contract: a Pandera schema plus named row rules whose failures explain themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.config import ValidationDepth, config_context

from reewatch.violations import Violation

# A partner as rows carry it: an ISO 3166-1 alpha-2 code, or WORLD for the total.
PARTNER_PATTERN = r"^([A-Z]{2}|WORLD)$"
# The name Pandera reports for the row rules, which it checks as one (see _row_rules_check).
ROW_RULES_CHECK = "row_rules"
# No figure reewatch reads comes near 10^15 (world output is ~10^14 US dollars): a larger one is a unit or parse
# error, and summing a few near 10^308 overflows to infinity in every curated total downstream.
MAX_MAGNITUDE = 1e15


def within_magnitude(column: str) -> pl.Expr:
    """True where the column is null, NaN (other rules name those) or below MAX_MAGNITUDE in absolute value."""
    value = pl.col(column)
    # One comparison for most batches: polars orders NaN above every number, so only where it holds is NaN told
    # from a real (or infinite) figure, and polars skips that for a batch where it holds nowhere.
    return pl.when(value.abs() >= MAX_MAGNITUDE).then(value.is_nan()).otherwise(True)


@dataclass(frozen=True)
class RowRule:
    name: str
    ok: Callable[[], pl.Expr]  # true where the row obeys the rule (null counts as obeying)
    explain: Callable[[dict[str, Any]], str]  # one failing row -> what is wrong, with its values


@dataclass(frozen=True)
class TableContract:
    table: str  # the warehouse table the rows go to
    columns: dict[str, pa.Column]  # types and simple column checks
    rules: tuple[RowRule, ...]  # row rules across columns, each with its own message

    def schema(self) -> pa.DataFrameSchema:
        checks = [_row_rules_check(self.rules)] if self.rules else []
        return pa.DataFrameSchema(self.columns, checks=checks, strict=False)


def _row_rules_check(rules: tuple[RowRule, ...]) -> pa.Check:
    """Every row rule as one Pandera check, true where a row obeys them all: one scan of the rows, not one per rule
    (a detailed export's 20M long rows: 0.58 -> 0.32 s). Which rules a failing row breaks is told when it is
    explained (_violations), from the row itself."""

    def check(data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.all_horizontal(*(_obeys(rule) for rule in rules)).alias(ROW_RULES_CHECK))

    return pa.Check(check, name=ROW_RULES_CHECK)


def _obeys(rule: RowRule) -> pl.Expr:
    return rule.ok().fill_null(True).alias(rule.name)


def validate(contract: TableContract, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Violation]]:
    """Validate lazily; return the rows that passed and one violation per failing (row, rule)."""
    if frame.is_empty():
        return frame, []
    try:
        return contract.schema().validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    violations, bad_rows = _violations(contract, cases, frame["source_row"], lambda rows: frame[sorted(rows)])
    passed = frame.with_row_index("_i").filter(~pl.col("_i").is_in(sorted(bad_rows))).drop("_i")
    return passed, violations


def validate_lazy(contract: TableContract, rows: pl.LazyFrame) -> list[Violation]:
    """Validate every row of a lazy frame (a Parquet scan) without loading it: Pandera runs each check as a scan."""
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):  # lazy frames check data too
            contract.schema().validate(rows, lazy=True)
        return []
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases

    def fetch(indexes: set[int]) -> pl.DataFrame:
        return rows.with_row_index("_i").filter(pl.col("_i").is_in(sorted(indexes))).drop("_i").collect()

    def all_source_rows() -> pl.Series:
        return rows.select("source_row").collect()["source_row"]

    return _violations(contract, cases, all_source_rows, fetch)[0]


def _violations(
    contract: TableContract,
    cases: pl.DataFrame,
    source_rows: pl.Series | Callable[[], pl.Series],
    fetch: Callable[[set[int]], pl.DataFrame],
) -> tuple[list[Violation], set[int]]:
    """One violation per failing (row, rule), explained with the row's values; and the failing row indexes."""
    violations: list[Violation] = []
    bad_rows: set[int] = set()
    failing: dict[tuple[int, str], str] = {}  # (row index, rule) -> the column a column check named
    for case in cases.iter_rows(named=True):
        rule_name = str(case["check"])
        index = case["index"]
        if index is None:  # a whole-column problem (a wrong type or a missing column): every row fails it
            everything = source_rows() if callable(source_rows) else source_rows
            for i, source_row in enumerate(everything):
                violations.append(Violation(str(source_row), rule_name, f"column {case['column']}: {rule_name}"))
                bad_rows.add(i)
            continue
        failing.setdefault((int(index), rule_name), f"{case['column']} = {case['failure_case']!r}")
    if not failing:
        return violations, bad_rows
    indexes = sorted({index for index, _ in failing})
    fetched = fetch(set(indexes))
    row_at = dict(zip(indexes, fetched.iter_rows(named=True), strict=True))
    # Which row rules each row breaks, told from the row itself: Pandera only says that it breaks one of them.
    verdicts = fetched.select(_obeys(rule) for rule in contract.rules) if contract.rules else None
    obeyed_at = dict(zip(indexes, verdicts.iter_rows(), strict=True)) if verdicts is not None else {}
    for (index, check), column_case in failing.items():
        row = row_at[index]
        if check == ROW_RULES_CHECK:
            broken = [rule for rule, obeys in zip(contract.rules, obeyed_at[index], strict=True) if not obeys]
            if not broken:  # it obeys them all now (a date-bound rule across midnight): it passes, never unexplained
                continue
            violations += [Violation(str(row["source_row"]), rule.name, rule.explain(row)) for rule in broken]
        else:  # a column check
            violations.append(Violation(str(row["source_row"]), check, f"{column_case} breaks {check}"))
        bad_rows.add(index)
    return violations, bad_rows
