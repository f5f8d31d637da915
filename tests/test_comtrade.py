"""UN Comtrade mirror records (CSV and API JSON) parse to China's exports per HS code, partner and month.

The fixtures are written by scripts/make_comtrade_fixtures.py; its docstring says which figures are real.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from conftest import FIXTURES, SAMPLES
from reewatch.contracts import check_observations
from reewatch.sources import comtrade, headline
from reewatch.sources.base import ParsedRelease, UnreadableRelease

MAGNETS_CSV = FIXTURES / "comtrade" / "china_exports_850511_2025.csv"
COMPOUNDS_JSON = FIXTURES / "comtrade" / "china_exports_2805_2846.json"
DETAILED_HEADER = (
    "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,人民币"
)
MINI_HEADER = "period,reporterCode,flowCode,cmdCode,partnerCode,netWgt,qtyUnitAbbr,qty,primaryValue"


def _parse(path: Path) -> ParsedRelease:
    return comtrade.parse(path.read_bytes(), path.name)


def _mini(*lines: str) -> ParsedRelease:
    """A small Comtrade CSV: the header, then one record per line."""
    return comtrade.parse("\n".join([MINI_HEADER, *lines]).encode(), "mini.csv")


def _value(parsed: ParsedRelease, series: str, period: date, partner: str, measure: str) -> float:
    obs = parsed.observations
    hit = obs[(obs.series_id == series) & (obs.period == period) & (obs.partner == partner) & (obs.measure == measure)]
    assert len(hit) == 1, hit
    return float(hit.value.iloc[0])


def _violations(parsed: ParsedRelease) -> list[tuple[str, str]]:
    frame = pl.concat(list(parsed.batches()))
    return [(v.source_row, v.rule) for v in check_observations(frame)[1]]


def test_detects_both_fixtures_by_content() -> None:
    assert comtrade.detect(MAGNETS_CSV.read_bytes(), "whatever.txt")
    assert comtrade.detect(COMPOUNDS_JSON.read_bytes(), "whatever.txt")
    records_only = b'[{"reporterCode": 156, "partnerCode": 0, "cmdCode": "850511", "flowCode": "X"}]'
    assert comtrade.detect(records_only, "list.json")
    # The headline layout does not claim them either, so the order of the registered layouts does not matter.
    assert not headline.detect(MAGNETS_CSV.read_bytes(), MAGNETS_CSV.name)
    assert not headline.detect(COMPOUNDS_JSON.read_bytes(), COMPOUNDS_JSON.name)


def test_other_layouts_are_not_comtrade() -> None:
    headline = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
    assert not comtrade.detect(headline.read_bytes(), headline.name)
    detailed = DETAILED_HEADER + "\n202507,8505111000,稀土永磁体,502,美国,一般贸易,619000,千克,,,123456789\n"
    assert not comtrade.detect(detailed.encode("utf-8"), "comtrade.csv")  # a name proves nothing
    assert not comtrade.detect(detailed.encode("gb18030"), "comtrade.csv")
    assert not comtrade.detect(b'{"statusCode": 401, "message": "Access denied"}', "comtrade.json")
    assert not comtrade.detect(b"", "comtrade.csv")


def test_magnet_csv_gives_tonnes_usd_and_iso_partners() -> None:
    parsed = _parse(MAGNETS_CSV)
    assert (parsed.layout, parsed.vintage, parsed.rows_in) == ("comtrade_csv", "mirror", 22)
    assert parsed.published_on is None and not parsed.published_on_estimated
    obs = parsed.observations
    assert set(obs.series_id) == {"comtrade_850511"} and set(obs.hs_code) == {"850511"}
    assert set(obs.basis) == {"month"}
    assert set(obs.period) == {date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1)}
    assert set(obs.partner) == {"WORLD", "US", "DE", "KR", "JP", "IN", "VN"}
    series, may, jun, jul = "comtrade_850511", date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1)
    # Reference figures (kg in the file, tonnes stored).
    assert _value(parsed, series, may, "WORLD", "quantity_t") == pytest.approx(1238.47)
    assert _value(parsed, series, jun, "WORLD", "quantity_t") == pytest.approx(3188.0)
    assert _value(parsed, series, jul, "WORLD", "quantity_t") == pytest.approx(5577.0)
    assert _value(parsed, series, may, "US", "quantity_t") == pytest.approx(46.4)
    assert _value(parsed, series, jun, "US", "quantity_t") == pytest.approx(353.0)
    assert _value(parsed, series, jul, "DE", "quantity_t") == pytest.approx(1116.0)
    assert _value(parsed, series, may, "IN", "quantity_t") == pytest.approx(150.0)  # India as M49 699
    assert _value(parsed, series, jul, "WORLD", "value_usd") == 276_061_500.0
    # Korea, May: no netWgt, so the quantity in kg stands in.
    assert _value(parsed, series, may, "KR", "quantity_t") == pytest.approx(205.3)
    world_may = obs[(obs.partner == "WORLD") & (obs.period == may)].set_index("measure")
    assert tuple(world_may.loc["quantity_t", ["published_value", "published_unit", "source_row"]]) == (
        "1238470",
        "kg",
        "2",
    )
    assert tuple(world_may.loc["value_usd", ["published_value", "published_unit"]]) == ("61428112", "USD")
    assert world_may.loc["value_usd", "partner_name"] == "World"
    assert set(obs[obs.partner == "KR"].partner_name) == {"South Korea"}
    assert parsed.raw_records["2"]["partnerDesc"] == "World"


def test_zero_and_minus_one_quantities_are_unknown_not_zero() -> None:
    parsed = _parse(MAGNETS_CSV)
    obs = parsed.observations
    for partner, period, line in (("VN", date(2025, 6, 1), "15"), ("JP", date(2025, 7, 1), "20")):
        record = obs[(obs.partner == partner) & (obs.period == period)]
        assert list(record.measure) == ["value_usd"], record  # the value stays, no quantity of 0 or -0.001 t
        assert set(record.source_row) == {line}
    assert len(obs) == 2 * 21 - 2
    assert parsed.warnings == [
        "netWgt 0, -1 or empty (and no qty in kg) in 2 records (source rows 15, 20): quantity treated as unknown, "
        "value kept"
    ]


def test_other_reporters_are_rejected_not_dropped() -> None:
    parsed = _parse(MAGNETS_CSV)
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [("23", "reporter_not_china")]
    reject = parsed.rejects[0]
    assert "reporterCode 842 (USA) is not 156 (China)" in reject.message
    assert reject.raw_record["flowCode"] == "M"
    # Every record is loaded or rejected.
    assert len(set(parsed.observations.source_row)) + len(parsed.rejects) == parsed.rows_in


def test_compound_json_parses_two_series_and_rejects_imports_and_unknown_partners() -> None:
    parsed = _parse(COMPOUNDS_JSON)
    assert (parsed.layout, parsed.vintage, parsed.rows_in) == ("comtrade_json", "mirror", 18)
    obs = parsed.observations
    assert set(obs.series_id) == {"comtrade_280530", "comtrade_284690"}
    jun, jul = date(2025, 6, 1), date(2025, 7, 1)
    assert _value(parsed, "comtrade_284690", jul, "WORLD", "quantity_t") == pytest.approx(4105.22)
    assert _value(parsed, "comtrade_284690", jul, "WORLD", "value_usd") == 24_631_320.0
    assert _value(parsed, "comtrade_280530", jun, "JP", "quantity_t") == pytest.approx(142.3)
    assert _value(parsed, "comtrade_284690", jun, "NL", "value_usd") == 3_120_180.0
    first = obs[obs.source_row == "record 1"]
    assert set(first.measure) == {"quantity_t", "value_usd"} and set(first.hs_code) == {"280530"}
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [
        ("record 17", "not_export_flow"),
        ("record 18", "unknown_partner"),
    ]
    assert "partnerCode 899" in parsed.rejects[1].message
    assert parsed.raw_records["record 17"]["partnerDesc"] == "Myanmar"  # the record as it stood
    assert parsed.warnings == [
        "quantity estimated by UN Comtrade (isQtyEstimated / isNetWgtEstimated), not reported by China, "
        "in 1 record (source rows record 16)"
    ]
    assert len(set(obs.source_row)) + len(parsed.rejects) == parsed.rows_in


@pytest.mark.parametrize("path", [MAGNETS_CSV, COMPOUNDS_JSON], ids=["csv", "json"])
def test_fixture_observations_pass_the_contract(path: Path) -> None:
    assert _violations(_parse(path)) == []


def test_text_in_a_number_is_quarantined_by_the_contract() -> None:
    parsed = _mini("202507,156,X,850511,842,61900O,kg,,33426000")
    quantity = parsed.observations[parsed.observations.measure == "quantity_t"]
    assert math.isnan(quantity.value.iloc[0])  # NaN: the contract quarantines it, naming the text
    assert _violations(parsed) == [("2", "number_parses")]


def test_period_from_ref_year_and_month_and_bad_periods() -> None:
    header = "refYear,refMonth,reporterCode,flowCode,cmdCode,partnerCode,netWgt,primaryValue"
    parsed = comtrade.parse(f"{header}\n2025,7,156,X,850511,0,5577000,276061500\n".encode(), "ref.csv")
    assert set(parsed.observations.period) == {date(2025, 7, 1)}

    parsed = _mini("2025-13,156,X,850511,0,1000,,,50000", "2025,156,X,850511,0,1000,,,50000")
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [("2", "bad_period"), ("3", "bad_period")]
    assert "'2025-13'" in parsed.rejects[0].message and "'2025'" in parsed.rejects[1].message
    assert parsed.observations.empty


def test_flows_partners_duplicates_and_breakdowns_are_rejected_by_rule() -> None:
    parsed = _mini(
        "202507,156,M,850511,842,1000,,,50000",  # China's imports
        "202507,156,RX,850511,842,1000,,,50000",  # re-exports
        "202507,156,X,850511,999,1000,,,50000",  # no such country
        "202507,156,X,850511,842,619000,,,33426000",
        "202507,156,X,850511,842,619000,,,33426000",  # the same record twice
        "202507,156,X,TOTAL,842,619000,,,33426000",
    )
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [
        ("2", "not_export_flow"),
        ("3", "not_export_flow"),
        ("4", "unknown_partner"),
        ("6", "duplicate_record"),
        ("7", "bad_cmd_code"),
    ]
    assert "partnerCode 999" in parsed.rejects[2].message
    assert "first: 5" in parsed.rejects[3].message
    breakdown = comtrade.parse(
        b"period,reporterCode,flowCode,cmdCode,partnerCode,motCode,netWgt,primaryValue\n"
        b"202507,156,X,850511,842,0,619000,33426000\n202507,156,X,850511,842,2100,400000,21000000\n",
        "modes.csv",
    )
    assert [(r.source_row, r.rule) for r in breakdown.rejects] == [("3", "breakdown_record")]


def test_a_record_without_any_figure_is_rejected() -> None:
    parsed = _mini("202507,156,X,850511,842,0,N/A,-1,")
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [("2", "no_figures")]
    assert parsed.warnings == []


def test_broken_and_misshapen_files_are_unreadable() -> None:
    truncated = COMPOUNDS_JSON.read_bytes()[:1500]
    assert comtrade.detect(truncated, "cut.json")  # it looks like Comtrade, and parse says what is wrong
    with pytest.raises(UnreadableRelease, match="not valid JSON"):
        comtrade.parse(truncated, "cut.json")
    with pytest.raises(UnreadableRelease, match="'data' list of records; its keys are: count, data"):
        comtrade.parse(b'{"count": 1, "data": {"reporterCode": 156}}', "odd.json")
    with pytest.raises(UnreadableRelease, match="Access denied"):
        comtrade.parse(b'{"statusCode": 401, "message": "Access denied"}', "denied.json")
    with pytest.raises(UnreadableRelease, match="the file is empty"):
        comtrade.parse(b"", "empty.csv")
    with pytest.raises(UnreadableRelease, match="lacks the Comtrade column"):
        comtrade.parse(b"period,reporterCode\n202507,156\n", "short.csv")
    # Items that are no records are rejected one by one.
    parsed = comtrade.parse(b'[{"reporterCode": 156}, 42]', "items.json")
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [
        ("record 1", "record_shape"),
        ("record 2", "record_shape"),
    ]


def test_bom_and_header_only_files() -> None:
    with_bom = ("\ufeff" + MINI_HEADER + "\n202505,156,X,850511,0,1238470,,,61428112\n").encode("utf-8")
    parsed = comtrade.parse(with_bom, "bom.csv")
    assert parsed.rejects == [] and len(parsed.observations) == 2
    empty = comtrade.parse((MINI_HEADER + "\n").encode(), "none.csv")
    assert (empty.rows_in, empty.observations.empty, empty.warnings) == (0, True, ["the file holds no records"])
