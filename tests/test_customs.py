"""Customs releases through the loader: detailed exports (kg, CNY + USD, partners, trade modes), vintages and
revisions, unit errors, identity warnings, and replay from raw/."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from conftest import FIXTURES, SAMPLES, loaded_lake
from reewatch.sources import parse_release_file

DETAILED = SAMPLES / "detailed"
MAGNETS = "series_id = 'gacc_magnets_850511'"


def _en_bulletin(folder: Path, month: date, rare_earths: str) -> Path:
    """An English monthly bulletin's table (DOMAIN.md §3.1, US$1,000) holding one row: `rare_earths`, its cells after
    the unit (month quantity and value, Jan–month quantity and value, the month's y/y % and the Jan–month's)."""
    name = f"{month:%B}"
    path = folder / f"en_bulletin_{month:%Y-%m}_usd.csv"
    table = [
        f'"Table 13 China\'s Major Export Commodities in Quantity and Value, {name} {month.year}"',
        '"Unit: US$1,000"',
        f"Commodity,Unit,{name},,January to {name},,YoY % ({name}),,YoY % (January to {name}),",
        ",,Quantity,Value,Quantity,Value,Quantity,Value,Quantity,Value",
        f"Rare earths,Ton,{rare_earths}",
    ]
    path.write_text("\n".join(table) + "\n", encoding="utf-8")
    return path


def test_detailed_export_parses_kg_partners_and_trade_modes() -> None:
    path = DETAILED / "2025_magnets_8505111000_cny.csv"
    parsed = parse_release_file(path, path.name)
    frames = list(parsed.batches())
    assert (parsed.layout, parsed.vintage, parsed.rows_in) == ("gacc_detailed_csv", "detailed", 432)
    rows = frames[0].filter((frames[0]["partner"] == "US") & (frames[0]["source_row"] == "2"))
    assert rows["measure"].to_list() == ["quantity_t", "value_cny"]
    assert rows["value"][0] == pytest.approx(470.590)  # 470,590 kg
    assert rows["published_value"][0] == "470590" and rows["published_unit"][0] == "千克"
    assert rows["trade_mode"][0] == "一般贸易" and rows["series_id"][0] == "gacc_magnets_850511"
    assert rows["hs_code"][0] == "8505111000"


def test_detailed_partner_names_are_found_as_printed_or_folded(tmp_path: Path) -> None:
    # Names are looked up as printed first; the others are folded (white space, case) and looked up again.
    header = "Date of data,Commodity code,Commodity name,Trading partner code,Trading partner,Trade mode,First quantity,"
    lines = [
        f"202507,8505111000,Magnets,502,{name},General trade,1000,千克,,,5000"
        for name in ("美国", "united states", " United\tStates ", '"KOREA,  REP."', "Japan", "Atlantis")
    ]
    path = tmp_path / "partners.csv"
    path.write_text(header + "First unit,Second quantity,Second unit,US dollar\n" + "\n".join(lines) + "\n")
    parsed = parse_release_file(path, path.name)
    try:
        rows = next(iter(parsed.batches())).filter(pl.col("measure") == "quantity_t").sort("source_row")
    finally:
        parsed.close()
    assert rows["partner"].to_list() == ["US", "US", "US", "KR", "JP", None]
    assert rows["partner_name"].to_list()[2] == "United\tStates"  # as printed, trimmed of spaces only


def test_gaccs_own_country_names_are_partners_where_pycountry_spells_them_otherwise(tmp_path: Path) -> None:
    # GACC's country table, where pycountry's Chinese names differ (柬埔塞, 孟加拉 …) or GACC shortens them: a
    # destination left unknown is quarantined, and the world total computed from the destinations falls short.
    from reewatch.partners import partner_code

    gacc = {"柬埔寨": "KH", "孟加拉国": "BD", "马耳他": "MT", "波黑": "BA", "刚果（金）": "CD", "刚果（布）": "CG",
            "中非": "CF", "吉尔吉斯斯坦": "KG", "危地马拉": "GT", "特立尼达和多巴哥": "TT", "多米尼加": "DO",
            "多米尼克": "DM", "阿拉伯联合酋长国": "AE", "法属波利尼西亚": "PF", "德国": "DE", "中国台湾": "TW"}  # fmt: skip
    assert {name: partner_code(name) for name in gacc} == gacc
    # The detailed typing looks them up in partner_table as printed (full-width brackets) or folded.
    header = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,美元"
    lines = [f"202604,8505111000,稀土永磁体,000,{name},一般贸易,1000,千克,,,5000" for name in gacc]
    path = tmp_path / "gacc_names.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse_release_file(path, path.name)
    try:
        rows = next(iter(parsed.batches())).filter(pl.col("measure") == "quantity_t").sort("source_row")
    finally:
        parsed.close()
    assert dict(zip(rows["partner_name"], rows["partner"], strict=True)) == gacc


def test_padded_and_separated_cells_type_as_their_clean_spelling(tmp_path: Path) -> None:
    # Cells are cleaned only where they need it (polars skips the cleaning for a batch with none): a padded or
    # separated cell types as its clean spelling, and the clean line beside it is left as it was.
    header = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,美元"
    clean = "202507,8505111000,稀土永磁体,502,美国,一般贸易,1200,千克,,,5000"
    padded = '" 202507 ", 8505.11.1000 ," 稀土永磁体 ",502," 美国 "," 一般贸易 "," 1,200 "," KG ",,," 5,000"'
    path = tmp_path / "padded.csv"
    path.write_text(f"{header}\n{clean}\n{padded}\n", encoding="utf-8")
    parsed = parse_release_file(path, path.name)
    try:
        rows = next(iter(parsed.batches())).sort("source_row", "measure")
    finally:
        parsed.close()
    typed = ["series_id", "commodity", "hs_code", "period", "partner", "partner_name", "trade_mode", "measure", "value"]
    line_2, line_3 = (rows.filter(pl.col("source_row") == line)[typed].rows() for line in ("2", "3"))
    assert line_2 == line_3
    assert [row[-1] for row in line_3] == [1.2, 5000.0]  # quantity_t, value_usd
    assert rows["published_value"].to_list() == ["1200", "5000", " 1,200 ", " 5,000"]  # as printed


def test_a_period_reads_as_six_digits_or_year_dash_month_and_nothing_looser(tmp_path: Path) -> None:
    header = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,美元"
    periods = ["202508", "2025-8", "2025-08", "20258", "+20258", "2025 8", "202513", "2025-08-01", "2025/08"]
    lines = [f"{period},8505111000,稀土永磁体,502,美国,一般贸易,1200,千克,,,5000" for period in periods]
    path = tmp_path / "periods.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    parsed = parse_release_file(path, path.name)
    try:
        rows = next(iter(parsed.batches())).filter(pl.col("measure") == "quantity_t")
    finally:
        parsed.close()
    read = dict(zip(periods, rows.sort(pl.col("source_row").cast(int))["period"], strict=True))
    assert read == {p: date(2025, 8, 1) if p in ("202508", "2025-8", "2025-08") else None for p in periods}


def test_cny_and_usd_files_merge_into_one_observation_set(tmp_path: Path) -> None:
    with loaded_lake(tmp_path / "lake", *sorted(DETAILED.glob("*.csv"))) as con:
        july = con.execute(
            f"SELECT partner, quantity_t, value_cny IS NOT NULL, value_usd IS NOT NULL, mom_pct, share_of_world_pct "
            f"FROM curated.exports_monthly WHERE {MAGNETS} AND period = '2025-07-01' AND partner IN ('WORLD', 'US') "
            "ORDER BY partner"
        ).fetchall()
    assert july[0][:4] == ("US", 619.0, True, True)
    assert july[1][:4] == ("WORLD", 5577.0, True, True)  # derived: no world row in the files
    assert july[1][4] == pytest.approx(74.94, abs=0.01)  # +75% on June's 3,188 t
    assert july[0][5] == pytest.approx(100 * 619 / 5577, abs=0.01)


def test_bad_detailed_rows_are_quarantined_by_rule(tmp_path: Path) -> None:
    fixture = FIXTURES / "detailed" / "en_magnets_2025-07_usd_gb18030.csv"
    with loaded_lake(tmp_path / "lake", fixture) as con:
        rules = dict(con.execute("SELECT source_row, rule FROM quarantined_rows ORDER BY source_row").fetchall())
        messages = [m for (m,) in con.execute("SELECT message FROM quarantined_rows").fetchall()]
        release = con.execute("SELECT rows_in, rows_loaded, rows_quarantined, status FROM releases").fetchone()
        world = con.execute(
            f"SELECT quantity_t, value_usd FROM curated.exports_monthly WHERE {MAGNETS} AND partner = 'WORLD'"
        ).fetchall()
        raw = con.execute("SELECT raw_record->>'partner_name' FROM quarantined_rows WHERE rule = 'known_partner'")
        assert raw.fetchone() == ("火星",)
    assert rules == {"6": "period_parses", "7": "known_partner", "8": "number_parses", "9": "non_negative"}
    assert any("partner '火星' is not a known country" in m for m in messages)
    assert all(m.startswith("en_magnets_2025-07_usd_gb18030.csv row ") for m in messages)
    assert release == (8, 4, 4, "partly_quarantined")
    assert world == [(5577.0, 262_000_000.0)]  # the given world total wins over the sum of destinations


def test_a_short_line_is_quarantined_and_a_badly_quoted_cell_fails_its_file_naming_line_and_column(
    tmp_path: Path,
) -> None:
    header = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,美元"
    good = "202507,8505111000,稀土永磁体,502,美国,一般贸易,619000,千克,,,29100000"
    short = tmp_path / "short_line.csv"  # a blank line (no row), then a line cut after its partner (cells empty)
    short.write_text(f"{header}\n{good}\n\n202507,8505111000,稀土永磁体,304,德国\n", encoding="utf-8")
    quoted = tmp_path / "bad_quote.csv"  # a cell whose closing quote is not the end of the cell
    quoted.write_text(f'{header}\n{good}\n{good}\n202507,8505111000,稀土永磁体,304,德国,一般贸易,"1,116,000"x,千克,,,1\n')
    with loaded_lake(tmp_path / "lake", short, quoted) as con:
        releases = dict(con.execute("SELECT file_name, status FROM releases").fetchall())
        failure = con.execute("SELECT message FROM releases WHERE file_name = 'bad_quote.csv'").fetchone()
        quarantined = con.execute("SELECT source_row, rule FROM quarantined_rows ORDER BY rule").fetchall()
        rows_in = con.execute("SELECT rows_in FROM releases WHERE file_name = 'short_line.csv'").fetchone()
        # The curated table lists the file that could not be read too (CONTRACT §3: rows or files), as one row.
        curated = con.execute("SELECT source_row, rule, message FROM curated.quarantined_rows ORDER BY rule").fetchall()
    assert releases == {"short_line.csv": "partly_quarantined", "bad_quote.csv": "failed"}
    # Its line in the file, the blank line counted; the quantity and the value: one entry per row and rule.
    assert quarantined == [("4", "number_parses")] and rows_in == (2,)
    assert failure is not None
    assert "line 4, column quantity: '\"1,116,000\"x' is not a properly quoted cell" in failure[0]
    assert [(row, rule) for row, rule, _ in curated] == [("4", "number_parses"), (None, "unreadable_file")]
    assert curated[1][2] == failure[0]


def test_commas_are_dropped_only_where_they_group_thousands(tmp_path: Path) -> None:
    # "1.234,5" is a European decimal comma: as 1.2345 kg it would load 1,000 times too small, in silence.
    header = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,美元"
    quantities = ['"1,116,000"', '"1,234.5"', '" 2,000 "', '"1.234,5"', '"12,34,5"', '"36,9"', '"1,2345"']
    lines = [f"202507,8505111000,稀土永磁体,502,美国,{mode},{q},千克,,,5000" for mode, q in enumerate(quantities)]
    export = tmp_path / "commas.csv"
    export.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse_release_file(export, export.name)
    try:
        rows = next(iter(parsed.batches())).filter(pl.col("measure") == "quantity_t").sort("source_row")
    finally:
        parsed.close()
    assert rows["value"].to_list() == [1116.0, 1.2345, 2.0, None, None, None, None]


def test_a_nul_byte_past_the_detected_head_fails_the_detailed_export_naming_its_line(tmp_path: Path) -> None:
    # Detection reads the first 4 KB; a NUL further on would otherwise be loaded inside a cell (and reach reports).
    header = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,美元"
    lines = [f"202507,850511{i:04d},稀土永磁体,502,美国,一般贸易,{1000 + i},千克,,,5000" for i in range(200)]
    lines[150] = lines[150].replace("稀土永磁体", "稀土\x00永磁体")  # line 152 of the file
    export = tmp_path / "nul_late.csv"
    export.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert b"\x00" not in export.read_bytes()[:4096]
    with loaded_lake(tmp_path / "lake", export) as con:
        status, message = con.execute("SELECT status, message FROM releases").fetchone()  # type: ignore[misc]
    assert status == "failed"
    assert message == "nul_late.csv: cannot read the CSV: line 152 holds a NUL byte, which no text export has (a " \
        "damaged copy, or not a CSV file at all)"  # fmt: skip


def test_newer_vintage_wins_whatever_the_landing_order_and_revisions_show_it(tmp_path: Path) -> None:
    bulletin = FIXTURES / "headline" / "en_bulletin_2025-08_usd.csv"
    preliminary = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
    with loaded_lake(tmp_path / "lake", bulletin, preliminary) as con:  # the older vintage lands last
        current = con.execute(
            "SELECT quantity_t, vintage FROM curated.exports_monthly WHERE series_id = 'gacc_rare_earths' "
            "AND period = '2025-08-01'"
        ).fetchall()
        revision = con.execute(
            "SELECT first_value, latest_value, round(delta, 3) FROM curated.revisions "
            "WHERE series_id = 'gacc_rare_earths' AND period = '2025-08-01' AND measure = 'quantity_t'"
        ).fetchall()
    assert current == [(5792.4, "bulletin")]
    assert revision == [(5792.0, 5792.4, 0.4)]


def test_the_latest_publication_prevails_over_an_older_bulletin(tmp_path: Path) -> None:
    # DOMAIN.md §2: the latest publication prevails. A preliminary release of August 2025 restates Jan–Aug 2024 in
    # its prior-year column, a year after the bulletin of August 2024 printed it (here, synthetically, 38,690.2 t).
    bulletin = _en_bulletin(tmp_path, date(2024, 8, 1), '"4,723.0","33,200","38,690.2","268,400",-11.9,-40.2,6.2,4.8')
    preliminary = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"  # Jan–Aug 2024: 38,689.0 t
    with loaded_lake(tmp_path / "lake", preliminary, bulletin) as con:  # the older publication lands last
        current = con.execute(
            "SELECT quantity_t, ytd_quantity_t, vintage FROM curated.exports_monthly "
            "WHERE series_id = 'gacc_rare_earths' AND period = '2024-08-01'"
        ).fetchall()
        revision = con.execute(
            "SELECT first_value, latest_value FROM curated.revisions "
            "WHERE series_id = 'gacc_rare_earths' AND period = '2024-08-01' AND measure = 'ytd:quantity_t'"
        ).fetchall()
    assert current == [(4723.0, 38689.0, "bulletin")]  # the month only the bulletin gives; the YTD restated
    assert revision == [(38690.2, 38689.0)]  # first the bulletin, then the later preliminary: forwards in time


def test_a_january_bulletin_beside_a_jan_feb_release_counts_january_once(tmp_path: Path) -> None:
    # An older January bulletin gives January alone; the Jan–Feb release holds January too (DOMAIN.md §2, §3.1).
    january = tmp_path / "zh_bulletin_2025-01_cny.csv"
    january.write_text(
        "（13）2025年1月出口主要商品量值表（人民币值）\n,,,,,单位：万元人民币\n商品名称,计量单位,1月,,比去年同期±%,\n"
        ",,数量,金额,数量,金额\n稀土,吨,4100,12816,3.8,5.1\n",
        encoding="utf-8",
    )
    jan_feb = FIXTURES / "headline" / "zh_preliminary_2025-02_cny_bom.csv"  # 8,511 t
    march = SAMPLES / "headline" / "2025-03_major_exports_usd.csv"  # 5,666.3 t; Jan–Mar 14,177.3 t
    with loaded_lake(tmp_path / "lake", january, jan_feb, march) as con:
        ytd = con.execute(
            "SELECT strftime(period, '%Y-%m'), period_kind, ytd_quantity_t FROM curated.exports_monthly "
            "WHERE series_id = 'gacc_rare_earths' ORDER BY period"
        ).fetchall()
        warnings = con.execute("SELECT message FROM load_warnings WHERE rule = 'ytd_identity'").fetchall()
    assert ytd == [("2025-01", "month", 4100.0), ("2025-02", "jan_feb", 8511.0), ("2025-03", "month", 14177.3)]
    assert warnings == []


def test_a_figure_1000_times_off_its_neighbours_is_quarantined_as_a_unit_error(tmp_path: Path) -> None:
    source = (DETAILED / "2025_magnets_8505111000_usd.csv").read_text(encoding="utf-8-sig").splitlines()
    header, us_december = source[0], next(line for line in source if line.startswith("202512") and ",美国," in line)
    fields = us_december.split(",")
    fields[6] = str(int(fields[6]) * 1000)  # tonnes filed where kilograms belong
    bad = tmp_path / "us_december_restated.csv"
    bad.write_text(header + "\n" + ",".join(fields) + "\n", encoding="utf-8")
    with loaded_lake(tmp_path / "lake", DETAILED / "2025_magnets_8505111000_usd.csv", bad) as con:
        rule, message, raw = con.execute("SELECT rule, message, raw_record FROM quarantined_rows").fetchone()  # type: ignore[misc]
        status = con.execute("SELECT status FROM releases WHERE file_name = 'us_december_restated.csv'").fetchone()
        (bad_id,) = con.execute("SELECT release_id FROM releases WHERE file_name = 'us_december_restated.csv'").fetchone()  # type: ignore[misc]
    assert rule == "unit_error" and "factor 1,000" in message and "US 2025-12" in message
    assert status == ("quarantined",)
    # Its kept lines leave out the line the writer quarantined (rewritten in the commit's transaction).
    kept = tmp_path / "lake" / "_state" / "observations" / f"{bad_id}.parquet"
    assert pl.read_parquet(kept).height == 0
    # The line as it stood in the file, looked up by the commit in the file once staging has found it.
    assert {key: json.loads(raw)[key] for key in ("period", "partner_name", "quantity")} == {
        "period": "202512", "partner_name": "美国", "quantity": fields[6]
    }


def test_a_line_repeated_in_a_detailed_export_is_quarantined_not_counted_twice(tmp_path: Path) -> None:
    source = (DETAILED / "2025_magnets_8505111000_usd.csv").read_text(encoding="utf-8-sig").splitlines()
    header, us, de = source[0], *(next(line for line in source if line.startswith("202512") and f",{name}," in line)
                                  for name in ("美国", "德国"))  # fmt: skip
    export = tmp_path / "december_with_a_repeat.csv"
    export.write_text("\n".join([header, us, de, us]) + "\n", encoding="utf-8")  # lines 2, 3, 4
    with loaded_lake(tmp_path / "lake", export) as con:
        quarantined = con.execute("SELECT source_row, rule, message FROM quarantined_rows").fetchall()
        status = con.execute("SELECT status, rows_loaded, rows_quarantined FROM releases").fetchone()
        (release_id,) = con.execute("SELECT release_id FROM releases").fetchone()  # type: ignore[misc]
        us_t = con.execute(
            "SELECT quantity_t FROM curated.exports_monthly WHERE series_id = 'gacc_magnets_850511' "
            "AND partner = 'US' AND period = '2025-12-01'"
        ).fetchone()
    assert [(row, rule) for row, rule, _ in quarantined] == [("4", "duplicate_row")]
    assert "december_with_a_repeat.csv row 4: a second line for gacc_magnets_850511 US 2025-12" in quarantined[0][2]
    assert "(the first is row 2)" in quarantined[0][2]
    assert status == ("partly_quarantined", 2, 1)
    assert us_t == (pytest.approx(float(us.split(",")[6]) / 1000),)  # once, not twice
    kept = pl.read_parquet(tmp_path / "lake" / "_state" / "observations" / f"{release_id}.parquet")
    assert sorted(kept["source_row"]) == ["2", "3"]


def test_a_named_series_line_whose_quantity_is_in_no_mass_unit_is_quarantined(tmp_path: Path) -> None:
    # Left as a count, its quantity would be missing from the month's world total while its value counted.
    header = "数据年月,商品编码,商品名称,贸易伙伴编码,贸易伙伴名称,贸易方式,第一数量,第一计量单位,第二数量,第二计量单位,美元"
    export = tmp_path / "units.csv"
    export.write_text(
        f"{header}\n202507,8505111000,稀土永磁体,502,美国,一般贸易,470590,千克,,,22475421\n"
        "202507,8505111000,稀土永磁体,304,德国,一般贸易,470590,个,,,22475421\n"
        "202507,8505119000,其他永磁体,304,德国,一般贸易,1200,个,,,5000\n",  # another code: counts are its business
        encoding="utf-8",
    )
    with loaded_lake(tmp_path / "lake", export) as con:
        quarantined = con.execute("SELECT source_row, rule, message FROM quarantined_rows").fetchall()
        world = con.execute(
            "SELECT quantity_t, value_usd FROM curated.exports_monthly WHERE series_id = 'gacc_magnets_850511' "
            "AND partner = 'WORLD'"
        ).fetchone()
    assert [(row, rule) for row, rule, _ in quarantined] == [("3", "unit_is_mass")]
    assert "稀土永磁体 (gacc_magnets_850511) quantity unit '个' is not a mass unit" in quarantined[0][2]
    assert world == (pytest.approx(470.59), 22475421.0)  # the US line alone: quantity and value alike


def test_a_later_parse_with_the_same_scratch_folder_reuses_a_gb18030_exports_utf8_copy(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    shutil.copyfile(FIXTURES / "detailed" / "en_magnets_2025-07_usd_gb18030.csv", export)
    scratch = tmp_path / "stage"
    first = parse_release_file(export, export.name, scratch)
    first.write_observations(tmp_path / "observations.parquet")
    first.close()
    copy = scratch / "export.utf8.csv"
    assert copy.exists()  # kept for later parses: the stage folder's owner removes it
    copy.write_text(copy.read_text(encoding="utf-8").replace("美国", "美國"), encoding="utf-8")
    again = parse_release_file(export, export.name, scratch)
    try:  # read from the copy, not transcoded again
        assert again.raw_records_for({"2"})["2"]["partner_name"] == "美國"
    finally:
        again.close()
    fresh = parse_release_file(export, export.name)  # no scratch folder: transcoded now
    try:
        assert fresh.raw_records_for({"2"})["2"]["partner_name"] == "美国"
    finally:
        fresh.close()


def test_ytd_identity_breaks_are_warnings_with_the_numbers(tmp_path: Path) -> None:
    files = [SAMPLES / "headline" / "2025-08_major_exports_usd.csv", FIXTURES / "headline" / "ytd_break_2025-09.csv"]
    with loaded_lake(tmp_path / "lake", *files) as con:
        warnings = con.execute("SELECT rule, message FROM load_warnings WHERE rule = 'ytd_identity'").fetchall()
        loaded = con.execute("SELECT count(*) FROM releases WHERE status = 'loaded'").fetchone()
    assert loaded == (2,)  # a warning, not a rejection
    assert len(warnings) == 1
    assert "2025-09: YTD 48,455.7 t ≠ previous YTD 44,355.0 t + month 4,000.3 t = 48,355.3 t" in warnings[0][1]


def test_a_published_percentage_that_its_own_levels_contradict_is_a_warning(tmp_path: Path) -> None:
    # DOMAIN.md §5: recomputed from the levels, a published % agrees within half a point. This preliminary table
    # prints YTD 44,355.0 t against 38,789.0 t a year earlier (+14.3 %) but a y/y of -50.0 %; its value % is right.
    table = [
        '"Table 5 China\'s Major Exports by Quantity and Value (in USD), August 2025"',
        '"Unit: USD1 Million"',
        "Commodity,Unit,August,,January to August,,January to August 2024,,YoY % (January to August),",
        ",,Quantity,Value,Quantity,Value,Quantity,Value,Quantity,Value",
        'Rare earths,Ton,"5,792.0","36.9","44,355.0","304.0","38,789.0","268.4",-50.0,13.3',
    ]
    release = tmp_path / "2025-08_major_exports_usd.csv"
    release.write_text("\n".join(table) + "\n", encoding="utf-8")
    with loaded_lake(tmp_path / "lake", release) as con:
        warnings = con.execute("SELECT message FROM load_warnings WHERE rule = 'published_pct'").fetchall()
        status = con.execute("SELECT status FROM releases").fetchone()
    assert status == ("loaded",)  # a warning, not a rejection
    assert warnings == [
        ("gacc_rare_earths WORLD ytd 2025-08: published y/y quantity change -50.0%, but the levels give +14.3% "
         "(44,355.0 against 38,789.0 a year earlier, as the same release prints it; tolerance ±0.5 points)",)
    ]  # fmt: skip
    # A bulletin prints the % alone: the year before is taken at its latest release (here the preliminary table of
    # August 2024: 4,723.0 t in the month, USD 33.2 million). Its month's quantity % is misprinted (+2.6 for +22.6).
    bulletin = _en_bulletin(tmp_path, date(2025, 8, 1), '"5,792.4","36,912","44,355.4","304,012",2.6,11.2,14.6,13.3')
    a_year_earlier = SAMPLES / "headline" / "2024-08_major_exports_usd.csv"
    with loaded_lake(tmp_path / "bulletin", a_year_earlier, bulletin) as con:
        warnings = con.execute("SELECT message FROM load_warnings WHERE rule = 'published_pct'").fetchall()
    assert warnings == [
        ("gacc_rare_earths WORLD month 2025-08: published y/y quantity change +2.6%, but the levels give +22.6% "
         "(5,792.4 against 4,723.0 a year earlier, at its latest release; tolerance ±0.5 points)",)
    ]  # fmt: skip
    # Every bundled sample's percentages agree with their levels.
    with loaded_lake(tmp_path / "samples", *sorted((SAMPLES / "headline").glob("*.csv"))) as con:
        assert con.execute("SELECT count(*) FROM load_warnings WHERE rule = 'published_pct'").fetchone() == (0,)


def test_replay_reloads_from_raw_without_duplicating(tmp_path: Path) -> None:
    from reewatch.ingest import archived_releases, replay_release
    from reewatch.lake import open_lake

    lake_root = tmp_path / "lake"
    files = [SAMPLES / "headline" / "2025-08_major_exports_usd.csv", FIXTURES / "headline" / "malformed_2025-09.csv"]
    with loaded_lake(lake_root, *files) as con:
        before = con.execute("SELECT count(*) FROM observations").fetchone()
        quarantined = con.execute("SELECT count(*) FROM quarantined_rows").fetchone()
        lake = open_lake(str(lake_root))
        for release in archived_releases(con, None):
            replay_release(lake, con, release, "replay-run", tmp_path / "work")
        assert con.execute("SELECT count(*) FROM observations").fetchone() == before
        assert con.execute("SELECT count(*) FROM quarantined_rows").fetchone() == quarantined
        assert con.execute("SELECT count(*) FROM releases").fetchone() == (2,)
        prefix = archived_releases(con, None)[0][0][:10]
        assert len(archived_releases(con, [prefix])) == 1
        # The same release named twice, by a prefix and in full: replayed once, not loaded twice.
        full = archived_releases(con, None)[0][0]
        assert archived_releases(con, [prefix, full, prefix]) == archived_releases(con, [prefix])


def test_replaying_a_superseded_file_does_not_make_it_current_again(tmp_path: Path) -> None:
    # Two files of one release date: the one loaded last is current. A replay re-parses the first and keeps when it
    # was first loaded, so the choice stands (a replay is no new publication).
    from reewatch.curate import build_curated
    from reewatch.ingest import archived_releases, replay_release
    from reewatch.lake import open_lake

    original = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"  # August 5,792.0 t
    corrected = tmp_path / "2025-08_major_exports_usd_corrected.csv"
    corrected.write_text(original.read_text(encoding="utf-8").replace('"5,792.0"', '"5,793.0"', 1), encoding="utf-8")
    august = (
        "SELECT quantity_t FROM curated.exports_monthly WHERE series_id = 'gacc_rare_earths' AND period = '2025-08-01'"
    )
    with loaded_lake(tmp_path / "lake", original, corrected) as con:
        assert con.execute(august).fetchone() == (5793.0,)
        lake = open_lake(str(tmp_path / "lake"))
        (first,) = [r for r in archived_releases(con, None) if r[1] == original.name]
        replay_release(lake, con, first, "replay-run", tmp_path / "work")
        build_curated(con)
        assert con.execute(august).fetchone() == (5793.0,)
        revision = con.execute(
            "SELECT first_value, latest_value, delta FROM curated.revisions "
            "WHERE series_id = 'gacc_rare_earths' AND period = '2025-08-01' AND measure = 'quantity_t'"
        ).fetchall()
    assert revision == [(5792.0, 5793.0, 1.0)]


def test_a_february_given_as_a_month_and_in_a_jan_feb_figure_is_one_row(tmp_path: Path) -> None:
    # An older February bulletin prints 2月 and 1至2月 (DOMAIN.md §3.1, ten columns); the preliminary release of the
    # same months prints the combined Jan–Feb figure alone. One row per series, period and partner: the month.
    bulletin = _en_bulletin(tmp_path, date(2025, 2, 1), '"4,100.0","28,000","8,511.3","58,012",-5.0,-8.0,-3.0,-10.4')
    files = [FIXTURES / "headline" / "zh_preliminary_2025-02_cny_bom.csv", bulletin,
             SAMPLES / "headline" / "2025-03_major_exports_usd.csv"]  # fmt: skip
    with loaded_lake(tmp_path / "lake", *files) as con:
        rows = con.execute(
            "SELECT strftime(period, '%Y-%m'), period_kind, quantity_t, ytd_quantity_t, mom_pct "
            "FROM curated.exports_monthly WHERE series_id = 'gacc_rare_earths' ORDER BY period"
        ).fetchall()
    assert rows == [("2025-02", "month", 4100.0, 8511.3, None), ("2025-03", "month", 5666.3, 14177.3, 38.2)]


def test_a_year_to_date_summed_from_months_is_unknown_after_a_missing_month(tmp_path: Path) -> None:
    # Detailed exports give months only: their year to date is the sum of the months, and without May it is not
    # known from May on (DOMAIN.md §5: ytd(Dec) is the year total), rather than short by May's exports.
    source = (DETAILED / "2025_magnets_8505111000_usd.csv").read_text(encoding="utf-8-sig").splitlines()
    export = tmp_path / "2025_magnets_without_may.csv"
    export.write_text("\n".join(line for line in source if not line.startswith("202505")) + "\n", encoding="utf-8")
    with loaded_lake(tmp_path / "lake", export) as con:
        ytd = dict(
            con.execute(
                "SELECT month(period), ytd_quantity_t FROM curated.exports_monthly "
                "WHERE series_id = 'gacc_magnets_850511' AND partner = 'WORLD'"
            ).fetchall()
        )
        months = con.execute(
            "SELECT round(sum(quantity_t), 6) FROM curated.exports_monthly "
            "WHERE series_id = 'gacc_magnets_850511' AND partner = 'WORLD' AND month(period) <= 4"
        ).fetchone()
    assert 5 not in ytd and ytd[4] == months[0]  # type: ignore[index]
    assert [ytd[m] for m in range(6, 13)] == [None] * 7


def test_a_set_aside_row_in_the_future_does_not_date_the_detailed_export(tmp_path: Path) -> None:
    # Its lines are March 2019 but one: January 2031, which the contract sets aside (period_not_in_future). Dated by
    # that line the release would outrank, as the latest publication, every later file of March 2019.
    hostile = FIXTURES / "hostile" / "detailed_hostile_rows.csv"
    with loaded_lake(tmp_path / "lake", hostile) as con:
        row = con.execute("SELECT published_on, published_on_estimated, status FROM releases").fetchone()
        future = con.execute("SELECT count(*) FROM quarantined_rows WHERE rule = 'period_not_in_future'").fetchone()
    assert future == (1,)
    assert row == (date(2019, 4, 20), True, "partly_quarantined")  # around the 20th of the month after March
