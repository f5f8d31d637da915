"""The English headline CSV parses to the expected observations, and broken files fail with a clear reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import FIXTURES, SAMPLES, loaded_lake
from reewatch.sources import parse_release
from reewatch.sources.base import UnreadableRelease

AUGUST_2025 = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
RARE_EARTHS_ROW = 'Rare earths,Ton,"5,792.0","36.9","44,355.0","304.0","38,689.0","268.4",14.6,13.3'


def _august_with(tmp_path: Path, name: str, rare_earths_row: str) -> Path:
    """The August 2025 sample with its rare-earth row (line 5) replaced, written to tmp_path/name."""
    text = AUGUST_2025.read_text(encoding="utf-8")
    assert RARE_EARTHS_ROW in text
    path = tmp_path / name
    path.write_text(text.replace(RARE_EARTHS_ROW, rare_earths_row), encoding="utf-8")
    return path


def _quarantined(tmp_path: Path, path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """The release status and its quarantined rows (source_row, rule, message), the file loaded alone."""
    with loaded_lake(tmp_path / "lake", path) as con:
        (status,) = con.execute("SELECT status FROM releases").fetchone()  # type: ignore[misc]
        rows = con.execute("SELECT source_row, rule, message FROM quarantined_rows ORDER BY 1, 2, 3").fetchall()
    return status, rows


def _value(parsed, series, period, basis, measure):  # type: ignore[no-untyped-def]
    obs = parsed.observations
    hit = obs[(obs.series_id == series) & (obs.period == period) & (obs.basis == basis) & (obs.measure == measure)]
    assert len(hit) == 1, hit
    return float(hit.value.iloc[0])


def test_monthly_release_parses_month_ytd_prior_year_and_yoy() -> None:
    path = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
    parsed = parse_release(path.read_bytes(), path.name)
    assert (parsed.layout, parsed.vintage, parsed.rows_in) == ("gacc_headline_csv", "preliminary", 7)
    assert parsed.published_on == date(2025, 9, 10) and parsed.published_on_estimated
    rare = "gacc_rare_earths"
    assert _value(parsed, rare, date(2025, 8, 1), "month", "quantity_t") == 5792.0
    assert _value(parsed, rare, date(2025, 8, 1), "ytd", "quantity_t") == 44355.0
    assert _value(parsed, rare, date(2024, 8, 1), "ytd", "quantity_t") == 38689.0  # prior-year column
    assert _value(parsed, rare, date(2025, 8, 1), "month", "value_usd") == pytest.approx(36.9e6)
    assert _value(parsed, rare, date(2025, 8, 1), "ytd", "yoy_quantity_pct") == 14.6
    # 10,000-tonne rows are normalised to tonnes, the published figure kept beside them.
    steel = _value(parsed, "gacc_commodity:steel products", date(2025, 8, 1), "month", "quantity_t")
    assert steel == pytest.approx(1019.9 * 10_000)
    # Counted goods keep their unit; '-' means nothing published, so no observation.
    obs = parsed.observations
    cars = obs[(obs.commodity == "Automobiles (including chassis)") & (obs.basis == "month")]
    assert set(cars.measure) == {"quantity", "value_usd"}
    textiles = obs[obs.commodity == "Textile yarn, fabrics and articles"]
    assert "quantity_t" not in set(textiles.measure) and "quantity" not in set(textiles.measure)
    row = obs[(obs.series_id == rare) & (obs.measure == "quantity_t") & (obs.basis == "month")].iloc[0]
    assert (row.published_value, row.published_unit, row.source_row) == ("5,792.0", "Ton", "5")


def test_jan_feb_release_is_one_two_month_figure_on_february() -> None:
    path = SAMPLES / "headline" / "2025-02_major_exports_usd.csv"
    parsed = parse_release(path.read_bytes(), path.name)
    assert _value(parsed, "gacc_rare_earths", date(2025, 2, 1), "jan_feb", "quantity_t") == 8511.0
    assert _value(parsed, "gacc_rare_earths", date(2025, 2, 1), "jan_feb", "yoy_quantity_pct") == -3.0
    assert set(parsed.observations.basis) == {"jan_feb"}


def test_the_rare_earth_line_is_found_padded_or_with_a_full_width_mark() -> None:
    # GB18030 tables pad a two-character name to the column's width with an ideographic space, and mark a line
    # with a full-width ＊ whose note follows the table.
    lines = [
        "（5）2025年10月出口重点商品量值表（人民币值）",
        "单位：亿元",
        "商品名称,计量单位,10月,,1至10月,,累计比去年同期±%,",
        ",,数量,金额,数量,金额,数量,金额",
        '稀土＊,吨,"4,343.5",2.2,"52,699.2",25.6,10.5,7.9',
        '钢\u3000材,万吨,"1,000.1",500.2,"9,000.3",4000.4,1.0,2.0',
        "＊稀土：包括稀土金属、稀土化合物等。",
    ]
    for padded in ("稀土＊", "稀\u3000土", "稀 土"):
        text = "\n".join(lines).replace("稀土＊,", f"{padded},") + "\n"
        parsed = parse_release(text.encode("gb18030"), "2025-10_major_exports_cny.csv")
        assert _value(parsed, "gacc_rare_earths", date(2025, 10, 1), "month", "quantity_t") == 4343.5, padded
        assert "gacc_commodity:钢材" in set(parsed.observations.series_id)
        assert parsed.rejects == []  # the ＊ note is a note, not a row of the wrong shape


def test_short_row_is_rejected_with_its_line() -> None:
    path = FIXTURES / "headline" / "malformed_2025-09.csv"
    parsed = parse_release(path.read_bytes(), path.name)
    assert [(r.source_row, r.rule) for r in parsed.rejects] == [("8", "row_shape")]
    assert "has 5 cells, the header has 10" in parsed.rejects[0].message
    assert parsed.rows_in == 5


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("no_title.csv", "no known layout"),
        ("no_quantity_header.csv", "names no quantity column"),
    ],
)
def test_unreadable_files_say_why(name: str, reason: str) -> None:
    data = (FIXTURES / "headline" / name).read_bytes()
    with pytest.raises(UnreadableRelease, match=reason):
        parse_release(data, name)


def test_empty_and_binary_files_are_unreadable() -> None:
    with pytest.raises(UnreadableRelease, match="empty"):
        parse_release(b"", "empty.csv")
    with pytest.raises(UnreadableRelease):
        parse_release(b"\x00\x01\x02 Major Exports by Quantity and Value", "binary.csv")


@pytest.mark.parametrize("invisible", ["\ufeff", "\u200b", "\u200d", "\u00ad"])  # BOM, ZWSP, ZWJ, soft hyphen
def test_an_invisible_character_in_a_label_header_or_unit_changes_nothing(invisible: str) -> None:
    # A BOM left at the start of a pasted row or a zero-width space inside a word shows in no viewer: the figure
    # must stay on its series (not become 'gacc_commodity:\ufeffrare earths') and the unit stay tonnes.
    path = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
    text = path.read_text(encoding="utf-8")
    text = text.replace("Rare earths,Ton,", f"{invisible}Rare{invisible} earths,T{invisible}on,")
    text = text.replace("Commodity,Unit,", f"{invisible}Commo{invisible}dity,Un{invisible}it,")
    parsed = parse_release(text.encode(), path.name)
    assert _value(parsed, "gacc_rare_earths", date(2025, 8, 1), "month", "quantity_t") == 5792.0
    obs = parsed.observations
    assert set(obs[obs.series_id == "gacc_rare_earths"].commodity) == {"Rare earths"}
    assert not [s for s in obs.series_id if invisible in s] and parsed.rejects == []


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ('Rare earths,Ton,"(1)","36.9","44,355.0","304.0","38,689.0","268.4",14.6,13.3', "'(1)' in quantity_t (month)"),
        ('Rare earths,Ton,"5,792.0","36.9","44,355.0","304.0","38,689.0","268.4",(3),13.3',
         "'(3)' in yoy_quantity_pct (ytd)"),
    ],
)  # fmt: skip
def test_a_bracketed_number_alone_is_no_footnote_but_a_number_that_does_not_parse(
    tmp_path: Path, row: str, named: str
) -> None:
    # '(1)' as the month quantity or '(3)' as the y/y % is no footnote mark on a blank (which read as "not published"
    # and left the figure out silently): it may be the figure, or an accountant's negative. The row is quarantined.
    status, rows = _quarantined(tmp_path, _august_with(tmp_path, "bracketed.csv", row))
    assert status == "partly_quarantined"
    assert rows == [("5", "number_parses", f"bracketed.csv row 5: {named} is not a number")]


def test_a_footnote_mark_behind_a_figure_is_still_a_footnote(tmp_path: Path) -> None:
    row = 'Rare earths,Ton,"5,792(1)","36.9[2]","44,355.0 (1)","304.0","38,689.0①","268.4",14.6*,13.3'
    parsed = parse_release(_august_with(tmp_path, "marked.csv", row).read_bytes(), "marked.csv")
    assert _value(parsed, "gacc_rare_earths", date(2025, 8, 1), "month", "quantity_t") == 5792.0
    assert _value(parsed, "gacc_rare_earths", date(2025, 8, 1), "ytd", "quantity_t") == 44355.0
    assert _value(parsed, "gacc_rare_earths", date(2024, 8, 1), "ytd", "quantity_t") == 38689.0
    assert _value(parsed, "gacc_rare_earths", date(2025, 8, 1), "ytd", "yoy_quantity_pct") == 14.6


@pytest.mark.parametrize("unit", ["MT", "", "pcs"])
def test_a_rare_earth_quantity_in_no_mass_unit_is_quarantined_naming_the_unit(tmp_path: Path, unit: str) -> None:
    # Stored as a bare 'quantity' it left the month without tonnes and out of the range check, silently. 'MT' is not
    # guessed: metric tons, or megatonnes (Mt) once case is folded.
    row = f'Rare earths,{unit},"5,792.0","36.9","44,355.0","304.0","38,689.0","268.4",14.6,13.3'
    status, rows = _quarantined(tmp_path, _august_with(tmp_path, "unit.csv", row))
    assert status == "partly_quarantined"
    assert [(source_row, rule) for source_row, rule, _ in rows] == [("5", "unit_is_mass")]
    assert f"Rare earths (gacc_rare_earths) quantity unit {unit!r}" in rows[0][2]
    assert "is not a mass unit" in rows[0][2] and rows[0][2].startswith("unit.csv row 5: ")


def test_a_decimal_comma_is_quarantined_not_read_ten_times_too_large(tmp_path: Path) -> None:
    row = 'Rare earths,Ton,"5.792,0","36,9","44,355.0","304.0","38,689.0","268.4",14.6,13.3'
    status, rows = _quarantined(tmp_path, _august_with(tmp_path, "comma.csv", row))
    assert status == "partly_quarantined"
    assert [(source_row, rule) for source_row, rule, _ in rows] == [("5", "number_parses")]
    assert rows[0][2].startswith("comma.csv row 5: '") and "is not a number" in rows[0][2]
