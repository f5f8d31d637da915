"""Row contracts: each rule has a row that breaks it, and the message names the values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from reewatch.contracts import check_observations
from reewatch.contracts.observations import check_observations_file
from reewatch.sources.base import BATCH_SCHEMA


def _row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "source_row": "5", "series_id": "gacc_rare_earths", "commodity": "Rare earths", "hs_code": None,
        "period": date(2025, 8, 1), "basis": "month", "partner": "WORLD", "partner_name": "World",
        "measure": "quantity_t", "value": 5792.0, "published_value": "5,792.0", "published_unit": "Ton",
        "trade_mode": None,
    }  # fmt: skip
    row.update(overrides)
    return row


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=BATCH_SCHEMA)


def test_good_rows_pass() -> None:
    passed, violations = check_observations(_frame([_row(), _row(source_row="6", basis="ytd", value=44355.0)]))
    assert violations == [] and len(passed) == 2


def test_each_rule_catches_its_row() -> None:
    frame = _frame(
        [
            _row(),
            _row(source_row="6", value=float("nan"), published_value="1,0l9.9"),
            _row(
                source_row="7",
                series_id="gacc_commodity:fertilizers",
                value=-2841000.0,
                published_value="-284.1",
            ),
            _row(source_row="8", value=5_792_000.0, published_value="5,792,000"),
            _row(source_row="9", measure="yoy_quantity_pct", value=-140.0, published_value="-140"),
            _row(source_row="10", period=date(2099, 1, 1)),
            _row(source_row="11", basis="weekly"),
        ]
    )
    passed, violations = check_observations(frame)
    found = {(v.source_row, v.rule) for v in violations}
    assert ("6", "number_parses") in found
    assert ("7", "non_negative") in found
    assert ("8", "series_range") in found
    assert ("9", "pct_at_least_minus_100") in found
    assert ("10", "period_not_in_future") in found
    assert any(row == "11" and "basis" in v.message for v in violations for row in [v.source_row])
    messages = {v.source_row: v.message for v in violations}
    assert "'1,0l9.9'" in messages["6"] and "not a number" in messages["6"]
    assert "5,792,000.0 t is outside the plausible 1,000–10,000 t" in messages["8"]
    assert passed["source_row"].to_list() == ["5"]


def test_the_number_rules_name_only_the_numbers_that_break_them() -> None:
    # The rules test the number first and the measure only where the number could break them: NaN (which polars
    # orders above every number), infinities, nulls and the bounds themselves each get their own verdict. An
    # infinity breaks plausible_magnitude (and number_parses), not the sign rules.
    values = [None, float("nan"), float("inf"), float("-inf"), 1e15, -1e15, 1e14, -100.0, -100.5, -1.0]
    rows = [
        _row(source_row=str(i), series_id="gacc_hs:1", measure=measure, value=value)
        for i, (value, measure) in enumerate((v, m) for v in values for m in ("value_usd", "yoy_value_pct"))
    ]
    _, violations = check_observations(_frame(rows))
    broken = {(rows[int(v.source_row)]["value"], rows[int(v.source_row)]["measure"], v.rule) for v in violations}
    magnitude = {(value, measure) for value, measure, rule in broken if rule == "plausible_magnitude"}
    too_large = (float("inf"), float("-inf"), 1e15, -1e15)
    assert magnitude == {(v, m) for v in too_large for m in ("value_usd", "yoy_value_pct")}
    assert {(value, measure) for value, measure, rule in broken if rule == "non_negative"} == {
        (v, "value_usd") for v in (-1e15, -100.0, -100.5, -1.0)
    }
    assert {(value, measure) for value, measure, rule in broken if rule == "pct_at_least_minus_100"} == {
        (v, "yoy_value_pct") for v in (-1e15, -100.5)
    }


def test_a_row_breaking_several_rules_is_told_each_once_eagerly_and_from_a_file(tmp_path: Path) -> None:
    # Pandera checks the row rules as one check; which of them a failing row breaks is told from the row itself.
    frame = _frame(
        [
            _row(),
            _row(source_row="6", period=date(2099, 1, 1), value=-3.0, published_value="-3"),  # three rules
            _row(source_row="7", basis="weekly", measure="yoy_value_pct", value=-150.0),  # a column check and a rule
            _row(source_row="8", partner=None, partner_name="Atlantis"),
            _row(source_row="9", partner="usa"),  # not a code: the partner column's pattern
            _row(source_row="10", partner="XK", value=9e4, published_value="90,000"),  # a code by the pattern
        ]
    )
    expected = {
        ("6", "period_not_in_future"), ("6", "non_negative"), ("6", "series_range"), ("7", "isin(['month', 'jan_feb', 'ytd'])"),
        ("7", "pct_at_least_minus_100"), ("8", "known_partner"), ("9", "str_matches('^([A-Z]{2}|WORLD)$')"),
    }  # fmt: skip
    passed, violations = check_observations(frame)
    assert sorted((v.source_row, v.rule) for v in violations) == sorted(expected)
    assert passed["source_row"].to_list() == ["5", "10"]
    assert "partner 'Atlantis' is not a known country or area" in {v.message for v in violations}
    path = tmp_path / "observations.parquet"
    frame.write_parquet(path)
    from_file = check_observations_file(path)
    assert sorted((v.source_row, v.rule, v.message) for v in from_file) == sorted(
        (v.source_row, v.rule, v.message) for v in violations
    )
