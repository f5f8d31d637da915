"""Every real layout of the GACC headline table parses to the same tidy observations (DOMAIN.md §3.1, §4).

Fixtures come from scripts/make_fixtures.py (make_headline_fixtures). Rare-earth quantities of 2025 are reported
figures; money values, percentages and other rows are synthetic.
"""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from conftest import FIXTURES, SAMPLES
from reewatch.sources import headline, parse_release, sheets
from reewatch.sources.base import ParsedRelease, UnreadableRelease
from reewatch.units import parse_number

HEADLINE = FIXTURES / "headline"
RARE = "gacc_rare_earths"


def _parse(name: str) -> ParsedRelease:
    return parse_release((HEADLINE / name).read_bytes(), name)


def _obs(parsed: ParsedRelease, series: str, period: date, basis: str, measure: str):  # type: ignore[no-untyped-def]
    frame = parsed.observations
    hit = frame[
        (frame.series_id == series) & (frame.period == period) & (frame.basis == basis) & (frame.measure == measure)
    ]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def _value(parsed: ParsedRelease, series: str, period: date, basis: str, measure: str) -> float:
    return float(_obs(parsed, series, period, basis, measure).value)


def _xlsx_bytes(sheets_rows: dict[str, list[list[object]]], merged: tuple[str, ...] = ()) -> bytes:
    """A workbook of these sheets (a text starting with '=' is written as a formula, with no saved result), with the
    `merged` ranges merged on each."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets_rows.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
        for cells in merged:
            ws.merge_cells(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- one fixture per real layout -----------------------------------------------------------------------------------


# name, layout, vintage, published_on, estimated, rows_in, rare-earth row, {(period, basis, measure): value}
CASES = [
    (
        "zh_bulletin_2025-08_cny.xls", "gacc_headline_xls", "bulletin", date(2025, 9, 18), True, 8, "Sheet1!5",
        {
            (date(2025, 8, 1), "month", "quantity_t"): 5792.0,
            (date(2025, 8, 1), "ytd", "quantity_t"): 44355.0,
            (date(2025, 8, 1), "month", "value_cny"): 26493.1 * 10_000,  # 万元人民币
            (date(2025, 8, 1), "ytd", "value_cny"): 218476.5 * 10_000,
            (date(2025, 8, 1), "month", "yoy_quantity_pct"): 22.6,
            (date(2025, 8, 1), "ytd", "yoy_quantity_pct"): 14.6,
        },
    ),
    (
        "zh_bulletin_2021-01_cny.xlsx", "gacc_headline_xlsx", "bulletin", date(2021, 2, 18), True, 4, "表13!5",
        {
            (date(2021, 1, 1), "month", "quantity_t"): 3200.0,
            (date(2021, 1, 1), "month", "value_cny"): 12816.0 * 10_000,
            (date(2021, 1, 1), "month", "yoy_quantity_pct"): 3.8,
        },
    ),
    (
        "zh_preliminary_2025-02_cny_bom.csv", "gacc_headline_csv", "preliminary", date(2025, 3, 10), True, 7, "5",
        {
            (date(2025, 2, 1), "jan_feb", "quantity_t"): 8511.0,  # full-width '８，５１１'
            (date(2025, 2, 1), "jan_feb", "value_cny"): 4.2e8,  # 亿元
            (date(2025, 2, 1), "jan_feb", "yoy_quantity_pct"): -3.0,
        },
    ),
    (
        "zh_preliminary_2025-06_gb18030.csv", "gacc_headline_csv", "preliminary", date(2025, 7, 10), True, 6, "5",
        {
            (date(2025, 6, 1), "month", "quantity_t"): 7742.2,
            (date(2025, 6, 1), "ytd", "quantity_t"): 32569.0,
            (date(2025, 6, 1), "month", "value_cny"): 3.5e8,
            (date(2025, 6, 1), "ytd", "yoy_quantity_pct"): 11.9,
        },
    ),
    (
        "en_bulletin_2025-07_usd.xlsx", "gacc_headline_xlsx", "bulletin", date(2025, 8, 20), False, 6, "Table 13!5",
        {
            (date(2025, 7, 1), "month", "quantity_t"): 5994.3,
            (date(2025, 7, 1), "ytd", "quantity_t"): 38563.6,
            (date(2025, 7, 1), "month", "value_usd"): 41960.1 * 1_000,  # US$1,000
            (date(2025, 7, 1), "month", "yoy_quantity_pct"): 23.1,  # a 0.231 cell formatted 0.0%
            (date(2025, 7, 1), "ytd", "yoy_quantity_pct"): 13.5,
        },
    ),
    (
        "en_preliminary_2025-09_usd.csv", "gacc_headline_csv", "preliminary", date(2025, 10, 10), True, 8, "5",
        {
            (date(2025, 9, 1), "month", "quantity_t"): 4000.3,
            (date(2025, 9, 1), "ytd", "quantity_t"): 48355.7,
            (date(2024, 9, 1), "ytd", "quantity_t"): 43189.0,  # prior-year cumulative
            (date(2025, 9, 1), "month", "value_usd"): 24.3e6,  # USD1 Million
            (date(2025, 9, 1), "ytd", "yoy_quantity_pct"): 12.0,
        },
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "layout", "vintage", "published_on", "estimated", "rows_in", "ref", "expected"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_layout_parses_to_expected_observations(  # type: ignore[no-untyped-def]
    name, layout, vintage, published_on, estimated, rows_in, ref, expected
) -> None:
    parsed = _parse(name)
    assert (parsed.layout, parsed.vintage, parsed.rows_in) == (layout, vintage, rows_in)
    assert (parsed.published_on, parsed.published_on_estimated) == (published_on, estimated)
    assert parsed.rejects == []
    for (period, basis, measure), value in expected.items():
        row = _obs(parsed, RARE, period, basis, measure)
        assert float(row.value) == pytest.approx(value), (period, basis, measure)
        assert row.source_row == ref
    assert set(parsed.raw_records) == set(parsed.observations.source_row)


def test_xls_is_a_legacy_gbk_workbook_and_reads_as_chinese() -> None:
    data = (HEADLINE / "zh_bulletin_2025-08_cny.xls").read_bytes()
    # 8-bit GBK strings, not UTF-16: the legacy case xlrd alone decodes as Latin-1 mojibake.
    assert "稀土".encode("gbk") in data and "稀土".encode("utf-16-le") not in data
    parsed = parse_release(data, "bulletin.xls")
    obs = parsed.observations
    rare = _obs(parsed, RARE, date(2025, 8, 1), "month", "quantity_t")
    assert (rare.commodity, rare.published_value, rare.published_unit) == ("稀土", "5792", "吨")
    steel = _value(parsed, "gacc_commodity:钢材", date(2025, 8, 1), "month", "quantity_t")
    assert steel == pytest.approx(1019.9 * 10_000)  # 万吨
    # A value stored as text with commas reads like a number cell.
    assert _value(parsed, "gacc_commodity:钢材", date(2025, 8, 1), "month", "value_cny") == pytest.approx(4987012.3e4)
    chips = obs[(obs.commodity == "集成电路") & (obs.basis == "month") & (obs.measure == "quantity")]
    assert (float(chips.value.iloc[0]), chips.published_unit.iloc[0]) == (297.6, "亿个")  # a count keeps its unit
    textiles = obs[obs.commodity == "纺织纱线、织物及其制品"]
    assert not {"quantity", "quantity_t"} & set(textiles.measure)  # '-' = no quantity
    assert set(obs[obs.measure == "value_cny"].published_unit) == {"万元人民币"}


def test_january_bulletin_has_no_cumulative_and_table_right_of_column_a() -> None:
    parsed = _parse("zh_bulletin_2021-01_cny.xlsx")
    assert set(parsed.observations.basis) == {"month"}
    assert set(parsed.observations.source_row) == {"表13!5", "表13!6", "表13!7", "表13!8"}


def test_jan_feb_preliminary_with_full_width_digits_and_footnote_marks() -> None:
    parsed = _parse("zh_preliminary_2025-02_cny_bom.csv")
    assert set(parsed.observations.basis) == {"jan_feb"}
    rare = _obs(parsed, RARE, date(2025, 2, 1), "jan_feb", "quantity_t")
    assert (rare.commodity, rare.published_value) == ("稀土", "８，５１１")  # '稀土*' loses its mark
    # '1,663.9①' is 1,663.9 (a circled 1 must not become a digit).
    steel = _value(parsed, "gacc_commodity:钢材", date(2025, 2, 1), "jan_feb", "quantity_t")
    assert steel == pytest.approx(1663.9 * 10_000)


def test_gb18030_preliminary_kilograms_and_counts() -> None:
    parsed = _parse("zh_preliminary_2025-06_gb18030.csv")
    antimony = _obs(parsed, "gacc_commodity:锑及锑制品", date(2025, 6, 1), "month", "quantity_t")
    assert (float(antimony.value), antimony.published_unit) == (pytest.approx(1234.567), "千克")
    chips = _obs(parsed, "gacc_commodity:集成电路", date(2025, 6, 1), "ytd", "quantity")
    assert (float(chips.value), chips.published_unit) == (1678.3, "亿个")


def test_drifted_table_number_footnoted_name_and_notebook_row() -> None:
    parsed = _parse("en_preliminary_2025-09_usd.csv")
    assert _obs(parsed, RARE, date(2025, 9, 1), "month", "quantity_t").commodity == "Rare earths"
    # 'Notebook computers' is a commodity, not a 'Note:' row that ends the table.
    assert "gacc_commodity:notebook computers" in set(parsed.observations.series_id)
    assert "gacc_commodity:automobiles (including chassis)" in set(parsed.observations.series_id)


def test_stated_release_date_wins_over_the_calendar() -> None:
    parsed = _parse("en_bulletin_2025-07_usd.xlsx")
    assert parsed.published_on == date(2025, 8, 20) and not parsed.published_on_estimated


# --- detection -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [case[0] for case in CASES] + ["hostile_rows_2025-10.csv"])
def test_detect_says_yes_to_every_layout(name: str) -> None:
    data = (HEADLINE / name).read_bytes()
    sample = data if sheets.workbook_kind(data) else data[:65536]  # what parse_release hands to detect
    assert headline.detect(sample, "renamed.bin")


DETAILED_CSV = (
    "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,人民币\n"
    "202508,8505111000,稀土永磁体,502,美国,一般贸易,123456,千克,0,,98765432\n"
)
COMTRADE_CSV = (
    "typeCode,freqCode,refPeriodId,period,reporterCode,flowCode,partnerCode,cmdCode,netWgt,qty,primaryValue\n"
    "C,M,20250801,202508,156,X,0,280530,1200000,1200000,9000000\n"
)


@pytest.mark.parametrize(
    "data",
    [
        DETAILED_CSV.encode("utf-8"),
        DETAILED_CSV.encode("gb18030"),
        COMTRADE_CSV.encode("utf-8"),
        b"Lorem ipsum dolor sit amet, rare earths 5,792 t in August 2025.\n",
        "2025年8月进口重点商品量值表\n单位：亿元\n".encode(),  # imports, not exports
        _xlsx_bytes({"Sheet1": [["数据年月", "商品编码", "商品名称"], [202508, "8505111000", "稀土永磁体"]]}),
    ],
    ids=["detailed-utf8", "detailed-gb18030", "comtrade", "random-text", "imports-table", "xlsx-without-title"],
)
def test_detect_says_no_to_other_files(data: bytes) -> None:
    assert not headline.detect(data, "major_exports_by_quantity_and_value.csv")  # the name does not count


def test_a_zip_that_is_no_workbook_is_not_claimed() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.csv", "Major Exports by Quantity and Value, August 2025\n")
    assert not headline.detect(buffer.getvalue(), "x.xlsx")


# --- broken and hostile files --------------------------------------------------------------------------------------


def test_truncated_xlsx_is_unreadable_with_a_clear_message() -> None:
    data = (HEADLINE / "hostile_truncated_2025-07.xlsx").read_bytes()
    with pytest.raises(UnreadableRelease, match=r"\.xlsx workbook is damaged or truncated"):
        parse_release(data, "truncated.xlsx")


def test_truncated_xls_is_unreadable_with_a_clear_message() -> None:
    data = (HEADLINE / "zh_bulletin_2025-08_cny.xls").read_bytes()[:3000]
    with pytest.raises(UnreadableRelease, match=r"\.xls workbook"):
        parse_release(data, "truncated.xls")


def test_zip_bomb_is_refused_by_ratio() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    with pytest.raises(UnreadableRelease, match="looks like a zip bomb"):
        parse_release(buffer.getvalue(), "bomb.xlsx")


def test_zip_bomb_is_refused_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_UNZIPPED_BYTES", 10_000)
    with pytest.raises(UnreadableRelease, match="looks like a zip bomb"):
        _parse("en_bulletin_2025-07_usd.xlsx")


def test_formula_text_stays_text_and_nothing_is_evaluated() -> None:
    parsed = _parse("hostile_formula_2025-08.xlsx")
    obs = parsed.observations
    payload = obs[obs.source_row == "Sheet1!6"]
    assert set(payload.commodity) == {"=cmd|' /C calc'!A0"}  # kept as the text it is
    # Real formulas saved with no cached value, in the name cell ('=A5') and a quantity cell ('=C5*2'), are not worked
    # out, nor read as blanks ('not published'): their figures are unknown, so their rows are quarantined.
    unknown = "saved without its result: the figure is unknown (reewatch evaluates no formula)"
    assert [(r.source_row, r.rule, r.message) for r in parsed.rejects] == [
        ("Sheet1!7", "formula_without_value", f"Sheet1!A7 holds =A5, {unknown}"),
        ("Sheet1!8", "formula_without_value", f"Sheet1!C8 holds =C5*2, {unknown}"),
    ]
    assert "Fertilizers" not in set(obs.commodity)


def test_a_formula_saved_without_its_result_is_quarantined_not_read_as_not_published() -> None:
    # openpyxl (or any script) saves '=5000+792' with no result: the month's rare-earth quantity is unknown, not absent.
    rows: list[list[object]] = [
        ["Major Exports by Quantity and Value, May 2016"], ["Unit: USD1 Million"],
        ["Commodity", "Unit", "May", None], [None, None, "Quantity", "Value"],
        ["Rare earths", "Ton", "=5000+792", 36.9], ["Steel products", "Ton", 1019.9, 6952.9],
        [None, None, None, "=D5+D6"],  # a row of nothing but an unsaved formula is not a blank row either
    ]  # fmt: skip
    parsed = parse_release(_xlsx_bytes({"Sheet": rows}), "formula.xlsx")
    assert [(r.source_row, r.rule, r.message.split(",")[0]) for r in parsed.rejects] == [
        ("Sheet!5", "formula_without_value", "Sheet!C5 holds =5000+792"),
        ("Sheet!7", "formula_without_value", "Sheet!D7 holds =D5+D6"),
    ]
    assert set(parsed.observations.commodity) == {"Steel products"}


def test_hostile_rows_are_quarantined_and_the_second_table_is_not_read() -> None:
    parsed = _parse("hostile_rows_2025-10.csv")
    assert parsed.rows_in == 7
    assert [(r.source_row, r.rule, r.message) for r in parsed.rejects] == [
        ("8", "row_shape", "has 3 cells, the header has 8"),
        ("9", "row_shape", "has no commodity name"),
        ("10", "row_shape", "has 1 cells, the header has 8"),
    ]
    obs = parsed.observations
    cars = _obs(parsed, "gacc_commodity:automobiles (including chassis)", date(2025, 10, 1), "month", "quantity")
    assert (float(cars.value), cars.published_unit) == (655120.0, "Unit")  # a count unit, kept
    steel = _obs(parsed, "gacc_commodity:steel products", date(2025, 10, 1), "month", "quantity_t")
    assert math.isnan(steel.value) and steel.published_value == "1,0l9.9"  # the contract quarantines it
    assert "value_cny" not in set(obs.measure)  # the CNY table below the first one is another table
    assert len(obs[(obs.series_id == RARE) & (obs.basis == "month") & (obs.measure == "quantity_t")]) == 1


def test_title_on_a_later_sheet_is_found() -> None:
    data = _xlsx_bytes(
        {
            "Cover": [["China Customs Statistics"], ["Monthly Bulletin"]],
            "Data": [
                ["(13) Major Export Commodities in Quantity and Value, July 2025"],
                ["Unit: US$1,000"],
                ["Commodity", "Unit", "July", None],
                [None, None, "Quantity", "Value"],
                ["Rare earths", "Ton", 5994.3, 41960.1],
            ],
        }
    )
    parsed = parse_release(data, "bulletin.xlsx")
    row = _obs(parsed, RARE, date(2025, 7, 1), "month", "quantity_t")
    assert (row.source_row, float(row.value), row.published_value) == ("Data!5", 5994.3, "5994.3")


def test_a_unit_merged_over_two_rows_is_read_from_the_merge() -> None:
    # The file keeps 'Ton' once, in the range's top-left cell; the rare-earth row under it shows it too.
    rows: list[list[object]] = [
        ["Major Exports by Quantity and Value, June 2016"], ["Unit: USD1 Million"],
        ["Commodity", "Unit", "June", None], [None, None, "Quantity", "Value"],
        ["Steel products", "Ton", 1019.9, 6952.9], ["Rare earths", None, 5792.0, 36.9],
    ]  # fmt: skip
    # 'Ton' over both rows; a title across the table stays in its first cell.
    parsed = parse_release(_xlsx_bytes({"Sheet": rows}, merged=("B5:B6", "A1:D1")), "merged.xlsx")
    row = _obs(parsed, RARE, date(2016, 6, 1), "month", "quantity_t")
    assert (row.source_row, float(row.value), row.published_unit) == ("Sheet!6", 5792.0, "Ton")
    assert parsed.raw_records["Sheet!6"]["Unit"] == ""  # the row as it stands in the file


def _hidden_content_workbook(kind: str) -> bytes:
    """A hidden 'draft' sheet first, then the table, whose first rare-earth row (a stale 1,234 t) is hidden."""
    rows = [
        ["Major Exports by Quantity and Value, July 2016"], ["Unit: USD1 Million"], ["Commodity", "Unit", "July", ""],
        ["", "", "Quantity", "Value"], ["Rare earths", "Ton", 1234.0, 9.9], ["Rare earths", "Ton", 5792.0, 36.9],
        ["Steel products", "Ton", 1019.9, 6952.9],
    ]  # fmt: skip
    draft = [*rows[:4], ["Rare earths", "Ton", 9999.0, 1.0]]
    buffer = io.BytesIO()
    if kind == "xlsx":
        book = openpyxl.Workbook()
        book.remove(book.active)
        for name, content in (("draft", draft), ("T5", rows)):
            ws = book.create_sheet(name)
            for row in content:
                ws.append(row)
        book["draft"].sheet_state = "hidden"
        book["T5"].row_dimensions[5].hidden = True
        book.save(buffer)
    else:
        import xlwt  # type: ignore[import-untyped]

        legacy = xlwt.Workbook()
        for name, content in (("draft", draft), ("T5", rows)):
            ws = legacy.add_sheet(name)
            for r, row in enumerate(content):
                for c, value in enumerate(row):
                    ws.write(r, c, value)
        legacy.get_sheet(0).visibility = 1
        legacy.get_sheet(1).row(4).hidden = True
        legacy.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_hidden_sheets_and_rows_are_not_read_and_a_hidden_row_with_figures_is_set_aside(kind: str) -> None:
    # The hidden draft sheet was read instead of the table, and the hidden stale row took the rare-earth line (the
    # visible 5,792 t became its duplicate_row).
    parsed = parse_release(_hidden_content_workbook(kind), f"hidden.{kind}")
    row = _obs(parsed, RARE, date(2016, 7, 1), "month", "quantity_t")
    assert (row.source_row, float(row.value)) == ("T5!6", 5792.0)
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [("T5!5", "hidden_row")]
    assert "the row is hidden" in parsed.rejects[0].message
    assert parsed.rejects[0].raw_record["July Quantity"] == "1234"  # nothing dropped: the row is kept as it was
    assert parsed.warnings == ["sheets 'draft' (hidden) also carry a headline table; only 'T5' was read"]
    assert parsed.rows_in == 3


def test_single_header_row_with_money_unit_in_brackets() -> None:
    text = (
        "2025年8月出口主要商品量值表\n"
        "商品名称,计量单位,8月数量,8月金额（万元）,1-8月数量,1-8月金额（万元）\n"
        "稀土,吨,5792,26493.1,44355,218476.5\n"
    )
    parsed = parse_release(text.encode("gb18030"), "x.csv")
    assert _value(parsed, RARE, date(2025, 8, 1), "ytd", "quantity_t") == 44355.0
    assert _value(parsed, RARE, date(2025, 8, 1), "month", "value_cny") == pytest.approx(26493.1e4)


def test_magnets_are_not_folded_into_the_rare_earth_line() -> None:
    text = "2025年8月出口主要商品量值表\n单位：万元\n商品名称,计量单位,8月,\n,,数量,金额\n稀土永磁体,吨,5577,1\n"
    parsed = parse_release(text.encode(), "x.csv")
    assert set(parsed.observations.series_id) == {"gacc_commodity:稀土永磁体"}


# --- the cell and number helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5,792.0①", 5792.0), ("5,792.0¹", 5792.0), ("７，７４２．２", 7742.2), ("－", None), ("−3.0", -3.0)],
)
def test_parse_number_folds_marks_without_making_digits(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["(1)", "(123)", "（3）", "[2]", "①", "⑶", "¹", "(1)(2)"])
def test_a_numbered_mark_alone_is_no_number(text: str) -> None:
    # Behind a figure it is a footnote ('5,792(1)'); alone it may be the figure itself, so it is refused, not blank.
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize("text", ["1.036,9", "36,9", "5 792,0", "12,34,5", "5.792,0", "1,2345", "1,234,5", ",123"])
def test_a_comma_that_groups_no_thousands_is_no_number(text: str) -> None:
    # Decimal commas: with the commas dropped '36,9' read 369 and '1.036,9' read 1.0369. Refused, never guessed.
    with pytest.raises(ValueError, match="not thousands separators"):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7,742.2", 7742.2), ("８，５１１", 8511.0), ("1,234,567.5", 1234567.5), ("-1,019.9", -1019.9), ("5 792", 5792.0)],
)
def test_thousands_commas_still_read(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("5,792(1)", 5792.0), ("5,792 （1）", 5792.0), ("-(1)", None), ("*", None)])
def test_a_mark_behind_a_figure_or_a_none_mark_is_a_footnote(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("value", "percent", "text"),
    [(5792.0, False, "5792"), (7742.2, False, "7742.2"), (0.146, True, "14.6"), (-3.0, False, "-3"), (12, False, "12")],
)
def test_number_text_has_no_float_artefacts(value: float, percent: bool, text: str) -> None:
    assert sheets.number_text(value, percent=percent) == text


# --- the bundled samples still parse as before ---------------------------------------------------------------------

# Rare-earth quantities (t) of the 2025 sample releases, as in samples/README.md: (month or Jan–Feb, YTD).
SAMPLE_2025 = {
    2: (8511.0, None), 3: (5666.3, 14177.3), 4: (4784.8, 18962.0), 5: (5864.6, 24827.0), 6: (7742.2, 32569.0),
    7: (5994.3, 38563.6), 8: (5792.0, 44355.0), 9: (4000.3, 48355.7), 10: (4343.5, 52699.2),
    11: (5493.9, 58193.1), 12: (4392.0, 62585.0),
}  # fmt: skip


def test_every_sample_still_parses_as_before() -> None:
    paths = sorted((SAMPLES / "headline").glob("*_major_exports_usd.csv"))  # the preliminary releases
    assert len(paths) == 33
    total = 0
    for path in paths:
        parsed = parse_release(path.read_bytes(), path.name)
        assert (parsed.layout, parsed.vintage, parsed.rows_in, parsed.rejects) == (
            "gacc_headline_csv", "preliminary", 7, []
        )  # fmt: skip
        total += len(parsed.observations)
        year, month = int(path.name[:4]), int(path.name[5:7])
        if year == 2025:
            month_figure, ytd = SAMPLE_2025[month]
            basis = "jan_feb" if month == 2 else "month"
            assert _value(parsed, RARE, date(2025, month, 1), basis, "quantity_t") == month_figure
            if ytd is not None:
                assert _value(parsed, RARE, date(2025, month, 1), "ytd", "quantity_t") == ytd
    # Observation count over all 33 samples: the same observations as the CSV-only parser this one replaced.
    assert total == 1638


def test_fixture_script_is_deterministic(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES.parents[1] / "scripts/make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.make_headline_fixtures(tmp_path):
        assert _content(path.read_bytes()) == _content((HEADLINE / path.name).read_bytes()), path.name


def _content(data: bytes) -> object:
    """A file's bytes, or for a zip its members' bytes: deflate output may differ between zlib builds."""
    if data.startswith(sheets.XLSX_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return {name: archive.read(name) for name in archive.namelist()}
        except zipfile.BadZipFile:
            return data[:18]  # the truncated fixture: first header up to the CRC (sizes depend on zlib)
    return data
