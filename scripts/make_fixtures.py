#!/usr/bin/env python3
"""Generate the test fixtures under ``tests/fixtures/``: deterministic, no network, byte-for-byte repeatable.

Headline part (``make_headline_fixtures``): the GACC headline commodity table in every real layout (DOMAIN.md §3.1)
— Chinese and English, preliminary (快讯) and bulletin (月刊), CSV in UTF-8 with BOM and GB18030, ``.xlsx`` and
legacy ``.xls`` (Excel 97, code page 936 with 8-bit GBK strings) — plus a few hostile files.

Only the rare-earth quantities (tonnes) of 2025 are real-world figures, as reported by the press (see
``samples/README.md`` for the sources): Jan–Feb 8,511; Jun 7,742.2 (YTD 32,569); Jul 5,994.3 (YTD 38,563.6);
Aug 5,792 (YTD 44,355); Sep 4,000.3 (YTD 48,355.7). The January 2021 figure, every money value, every percentage
and every other commodity row are synthetic: plausible magnitudes, not GACC data.

Usage::

    python scripts/make_fixtures.py [--out-dir tests/fixtures]
"""

from __future__ import annotations

import argparse
import io
import re
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import openpyxl
import xlwt

ROOT = Path(__file__).resolve().parents[1]
FIXED_TIME = datetime(2025, 1, 1)  # every timestamp inside a generated workbook

Row = list[object]  # one table row: text, numbers (floats become numeric cells), or None for an empty cell


# --------------------------------------------------------------------------------------------------------------
# The tables. Rows are (commodity, unit, figures…); "-" means nothing published.
# --------------------------------------------------------------------------------------------------------------

# 1. Chinese monthly bulletin, August 2025, CNY 10,000, ten columns. Rare earths: real quantities (5,792 t; YTD
#    44,355 t) as the bulletin restates the preliminary figures; everything else synthetic.
ZH_BULLETIN_2025_08: list[Row] = [
    ["（13）2025年8月出口主要商品量值表（人民币值）"],
    [None, None, None, None, None, None, None, None, None, "单位：万元人民币"],
    ["商品名称", "计量单位", "8月", None, "1至8月", None, "比去年同期±%", None, None, None],
    [None, None, "数量", "金额", "数量", "金额", "当月数量", "当月金额", "累计数量", "累计金额"],
    ["稀土", "吨", 5792.0, 26493.1, 44355.0, 218476.5, 22.6, 17.9, 14.6, 12.7],
    ["钢材", "万吨", 1019.9, "4,987,012.3", 7777.9, "38,551,230.4", 8.0, -1.5, 8.0, -1.9],
    ["未锻轧铝及铝材", "万吨", 51.1, 1181440.6, 401.2, 9548322.1, -8.3, -1.0, -8.3, -1.2],
    ["肥料", "万吨", 284.1, 690220.8, 2176.1, 5250918.7, 13.8, 16.0, 13.8, 16.5],
    ["纺织纱线、织物及其制品", "-", "-", 9220567.4, "-", 66803412.9, "-", -2.1, "-", -0.1],
    ["手机", "万台", 6511.2, 8189733.5, 51363.0, 63345128.0, -4.6, -0.8, -4.6, -0.5],
    ["汽车（包括底盘）", "辆", 642015.0, 8026143.3, 4624250.0, 57864731.2, 8.7, 5.0, 8.7, 5.3],
    ["集成电路", "亿个", 297.6, 12650317.9, 2176.4, 92051284.6, 12.1, 20.4, 9.6, 18.7],
    ["注：“-”表示无数量。"],
    ["资料来源：海关总署统计分析司"],
]

# 2. Chinese monthly bulletin, January 2021: six columns (no cumulative). The rare-earth quantity 3,200 t is
#    SYNTHETIC (GACC has published Jan–Feb combined figures in recent years; the single-month layout is kept for
#    files that have one). The table starts in column B and its labels are padded with ideographic spaces.
ZH_BULLETIN_2021_01: list[Row] = [
    ["（13）2021年1月出口主要商品量值表（人民币值）"],
    [None, None, None, None, None, "单位：万元人民币"],
    ["商品名称", "计量单位", "1月", None, "比去年同期±%", None],
    [None, None, "数　量", "金　额", "数　量", "金　额"],
    ["稀土", "吨", 3200.0, 12816.0, 3.8, 5.1],
    ["钢材", "万吨", 520.3, 2612044.7, 2.2, 9.4],
    ["手机", "万台", 7810.5, 6983214.2, 30.1, 28.7],
    ["汽车（包括底盘）", "辆", 98512.0, 1204977.6, 60.3, 57.2],
    ["注：本表为初步统计数。"],
]

# 3. Chinese preliminary release, January–February 2025, CNY 100 million, UTF-8 with BOM. Rare earths 8,511 t
#    (real, -3.0% y/y); full-width digits, a footnote mark on a name and one on a number, a footnote-led note row.
ZH_PRELIMINARY_2025_02: list[Row] = [
    ["（5）2025年1-2月出口重点商品量值表（人民币值）"],
    ["单位：亿元"],
    ["商品名称", "计量单位", "1至2月", None, "比去年同期±%", None],
    [None, None, "数量", "金额", "数量", "金额"],
    ["稀土*", "吨", "８，５１１", "4.2", "－３．０", "-8.9"],
    ["钢材", "万吨", "1,663.9①", "835.6", "6.3", "-0.9"],
    ["未锻轧铝及铝材", "万吨", "82.7", "199.6", "-13.9", "-5.4"],
    ["肥料", "万吨", "453.0", "109.2", "13.8", "15.2"],
    ["纺织纱线、织物及其制品", "-", "-", "1,406.1", "-", "-3.1"],
    ["手机", "万台", "11,237.3", "1,364.5", "-5.4", "-4.0"],
    ["汽车（包括底盘）", "辆", "994,947", "1,251.3", "9.7", "6.9"],
    ["*稀土：包括稀土金属、稀土化合物等。"],
    ["注：①钢材含钢坯。“-”表示无数量。"],
]

# 4. Chinese preliminary release, June 2025, CNY 100 million, GB18030. Rare earths 7,742.2 t, YTD 32,569 t (real);
#    YoY of the cumulative 11.9% = 32,569 / 29,095 − 1. A row in 千克 (kilograms) and one counted in 亿个.
ZH_PRELIMINARY_2025_06: list[Row] = [
    ["（5）2025年6月出口重点商品量值表（人民币值）"],
    ["单位：亿元"],
    ["商品名称", "计量单位", "6月", None, "1至6月", None, "累计比去年同期±%", None],
    [None, None, "数量", "金额", "数量", "金额", "数量", "金额"],
    ["稀土", "吨", "7,742.2", "3.5", "32,569", "15.2", "11.9", "9.8"],
    ["钢材", "万吨", "967.9", "486.3", "5,814.8", "2,931.5", "9.2", "-1.3"],
    ["锑及锑制品", "千克", "1,234,567", "2.1", "8,102,344", "14.0", "-42.6", "12.3"],
    ["纺织纱线、织物及其制品", "-", "-", "1,252.6", "-", "6,873.0", "-", "1.5"],
    ["集成电路", "亿个", "289.2", "1,260.7", "1,678.3", "6,802.5", "20.6", "18.9"],
    ["汽车（包括底盘）", "辆", "641,833", "1,118.9", "3,083,577", "5,340.8", "10.1", "7.2"],
    ["注：“-”表示无数量。"],
    ["资料来源：海关总署"],
]

# 5. English monthly bulletin, July 2025, US$1,000, with a stated release date. Rare earths 5,994.3 t, YTD
#    38,563.6 t (real). The percentages are stored as fractions in cells formatted "0.0%" (0.231 shows 23.1%).
PERCENT_COLUMNS = {6, 7, 8, 9}
EN_BULLETIN_2025_07: list[Row] = [
    ["(13) Major Export Commodities in Quantity and Value, July 2025"],
    [None, None, None, None, None, None, None, None, None, "Unit: US$1,000"],
    ["Commodity", "Unit", "July", None, "January to July", None,
     "Percentage Change over the Same Period Last Year (%)", None, None, None],
    [None, None, "Quantity", "Value", "Quantity", "Value", "July Quantity", "July Value", "Jan.-Jul. Quantity",
     "Jan.-Jul. Value"],
    ["Rare earths", "Ton", 5994.3, 41960.1, 38563.6, 262232.5, 0.231, 0.187, 0.135, 0.112],
    ["Steel products", "10,000 Tons", 983.1, 6832545.0, 6758.0, 46795678.0, 0.118, -0.021, 0.113, -0.019],
    ["Mobile phones", "10,000 Units", 6388.4, 11202300.0, 44851.8, 76899600.0, -0.052, -0.004, -0.046, -0.005],
    ["Automobiles (including chassis)", "Unit", 621014.0, 10822400.0, 3982235.0, 69485800.0, 0.091, 0.061,
     0.087, 0.053],
    ["Integrated circuits", "100 Million Units", 301.5, 16420900.0, 1979.8, 105388000.0, 0.104, 0.196, 0.087,
     0.183],
    ["Textile yarn, fabrics and articles", "-", "-", 12741000.0, "-", 80281400.0, "-", -0.011, "-", -0.001],
    ['Note: "-" means no quantity is published.'],
    ["Release date: 2025-08-20"],
]  # fmt: skip

# 6. English preliminary release, September 2025, USD 1 million: the table number has drifted to 7, the rare-earth
#    name carries a footnote mark, and 'Notebook computers' must not be taken for a 'Note:' row.
EN_PRELIMINARY_2025_09: list[Row] = [
    ["Table 7 China's Major Exports by Quantity and Value (in USD), September 2025"],
    ["Unit: USD1 Million"],
    ["Commodity", "Unit", "September", "", "January to September", "", "January to September 2024", "",
     "YoY % (January to September)", ""],
    ["", "", "Quantity", "Value", "Quantity", "Value", "Quantity", "Value", "Quantity", "Value"],
    ["Rare earths*", "Ton", "4,000.3", "24.3", "48,355.7", "328.3", "43,189.0", "303.7", "12.0", "8.1"],
    ["Steel products", "10,000 Tons", "1,046.5", "6,810.2", "8,824.4", "60,558.8", "8,118.6", "61,805.1", "8.7",
     "-2.0"],
    ["Unwrought aluminium and aluminium products", "10,000 Tons", "49.8", "1,602.9", "451.0", "14,916.9", "491.9",
     "15,164.1", "-8.3", "-1.6"],
    ["Fertilizers", "10,000 Tons", "301.2", "1,010.0", "2,477.3", "8,330.7", "2,161.8", "7,183.3", "14.6", "16.0"],
    ["Textile yarn, fabrics and articles", "-", "-", "12,402.6", "-", "105,539.1", "-", "105,610.2", "-", "-0.1"],
    ["Notebook computers", "10,000 Units", "1,402.3", "3,911.7", "10,815.0", "30,144.9", "10,517.6", "29,882.0",
     "2.8", "0.9"],
    ["Mobile phones", "10,000 Units", "6,702.0", "11,730.6", "58,065.0", "100,048.4", "60,601.4", "100,466.3",
     "-4.2", "-0.4"],
    ["Automobiles (including chassis)", "Unit", "650,304.0", "11,277.5", "5,274,554.0", "91,953.5", "4,855,916.0",
     "87,407.3", "8.6", "5.2"],
    ["* Rare earths: rare-earth metals and their compounds."],
    ['Note: Data are preliminary. "-" means no quantity is published.'],
    ["Source: General Administration of Customs of the P.R. China"],
]  # fmt: skip

# Hostile: a headline CSV whose rows go wrong in every way a row can, then a second table that must not be read.
HOSTILE_ROWS_2025_10: list[Row] = [
    ["Table 5 China's Major Exports by Quantity and Value (in USD), October 2025"],
    ["Unit: USD1 Million"],
    ["Commodity", "Unit", "October", "", "January to October", "", "YoY % (January to October)", ""],
    ["", "", "Quantity", "Value", "Quantity", "Value", "Quantity", "Value"],
    ["Rare earths", "Ton", "4,343.5", "27.1", "52,699.2", "355.4", "10.5", "7.9"],  # line 5: fine
    ["Automobiles (including chassis)", "Unit", "655,120.0", "11,402.3", "5,929,674.0", "103,355.8", "8.6", "5.0"],
    ["Steel products", "10,000 Tons", "1,0l9.9", "6,952.9", "9,844.3", "67,511.7", "8.4", "-1.8"],  # line 7: l for 1
    ["Mobile phones", "10,000 Units", "6,511.2"],  # line 8: short row
    ["", "", "51.1", "1,647.3", "502.1", "16,564.2", "-8.3", "-1.2"],  # line 9: figures without a name
    ["Machinery and transport equipment"],  # line 10: a heading with no figures
    ['=HYPERLINK("http://example.invalid","x")', "Ton", "1.0", "0.1", "2.0", "0.2", "0.0", "0.0"],  # line 11
    ["Table 6 China's Major Exports by Quantity and Value (in CNY), October 2025"],  # a second table: stop here
    ["Unit: CNY100 Million"],
    ["Commodity", "Unit", "October", "", "January to October", "", "YoY % (January to October)", ""],
    ["", "", "Quantity", "Value", "Quantity", "Value", "Quantity", "Value"],
    ["Rare earths", "Ton", "4,343.5", "193.0", "52,699.2", "2,540.1", "10.5", "8.2"],
]

# Hostile: formulas in an .xlsx. A text cell that starts with "=" (a DDE payload) must stay text; a real formula with
# no cached value is never evaluated: its row is quarantined (formula_without_value).
DDE_PAYLOAD = "=cmd|' /C calc'!A0"
HOSTILE_FORMULA_2025_08: list[Row] = [
    ["Table 5 China's Major Exports by Quantity and Value (in USD), August 2025"],
    ["Unit: USD1 Million"],
    ["Commodity", "Unit", "August", None, "January to August", None],
    [None, None, "Quantity", "Value", "Quantity", "Value"],
    ["Rare earths", "Ton", 5792.0, 36.9, 44355.0, 304.0],
    [DDE_PAYLOAD, "Ton", 1.0, 0.1, 2.0, 0.2],  # row 6: text
    ["=A5", "Ton", 3.0, 0.3, 4.0, 0.4],  # row 7: a formula in the name cell
    ["Fertilizers", "10,000 Tons", "=C5*2", 962.4, 2176.1, 7320.7],  # row 8: a formula in a quantity cell
]


# --------------------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------------------


def _csv_text(rows: list[Row]) -> str:
    """CSV as GACC exports it: every row as wide as it is written, cells quoted when they need it, CRLF line ends."""
    out = io.StringIO()
    for row in rows:
        cells = ["" if cell is None else str(cell) for cell in row]
        out.write(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' if re.search(r'[,"\n]', c) else c for c in cells))
        out.write("\r\n")
    return out.getvalue()


def _write_xlsx(
    rows: list[Row], sheet: str, first_col: int = 1, percent_columns: frozenset[int] = frozenset()
) -> bytes:
    """An .xlsx with the title merged across the table and header blocks merged like the printed table."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row):
            if value is None:
                continue
            cell = ws.cell(row=r, column=first_col + c, value=value)
            if value == DDE_PAYLOAD:
                cell.data_type = "s"  # stored as text, the way an attacker would plant it
            elif isinstance(value, float):
                cell.number_format = "0.0%" if c in percent_columns else "#,##0.0"
    width = max(len(row) for row in rows)
    ws.merge_cells(start_row=1, start_column=first_col, end_row=1, end_column=first_col + width - 1)
    book.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """Re-pack a zip with fixed member timestamps and a fixed 'modified' property, so re-runs give identical bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6]), content)
    return out.getvalue()


@contextmanager
def _legacy_gbk_strings() -> Iterator[None]:
    """Make xlwt write strings as a legacy Chinese writer did: 8-bit GBK bytes (no 16-bit flag), code page 936.

    xlwt itself writes Excel 97 (BIFF8) strings as UTF-16; older Chinese tools wrote the local code page instead.
    """
    from xlwt import BIFFRecords

    def gbk_upack2(text: str, encoding: str = "ascii") -> bytes:
        raw = text.encode("gbk")
        return struct.pack("<HB", len(raw), 0) + raw

    saved = BIFFRecords.upack2, BIFFRecords.CodepageBiff8Record.UTF_16
    BIFFRecords.upack2 = gbk_upack2
    BIFFRecords.CodepageBiff8Record.UTF_16 = 936
    try:
        yield
    finally:
        BIFFRecords.upack2, BIFFRecords.CodepageBiff8Record.UTF_16 = saved


def _write_xls_gbk(rows: list[Row], sheet: str) -> bytes:
    """A legacy Excel 97 .xls in code page 936, the title merged across the table."""
    book = xlwt.Workbook()
    ws = book.add_sheet(sheet)
    number = xlwt.easyxf(num_format_str="#,##0.0")
    width = max(len(row) for row in rows)
    for r, row in enumerate(rows):
        if r == 0:
            ws.write_merge(0, 0, 0, width - 1, row[0])
            continue
        for c, value in enumerate(row):
            if isinstance(value, float):
                ws.write(r, c, value, number)
            elif value is not None:
                ws.write(r, c, value)
    buffer = io.BytesIO()
    with _legacy_gbk_strings():
        book.save(buffer)
    return buffer.getvalue()


def make_headline_fixtures(out: Path) -> list[Path]:
    """Write the headline fixtures into `out` (e.g. tests/fixtures/headline); returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    en_bulletin = _write_xlsx(EN_BULLETIN_2025_07, "Table 13", percent_columns=frozenset(PERCENT_COLUMNS))
    files = {
        "zh_bulletin_2025-08_cny.xls": _write_xls_gbk(ZH_BULLETIN_2025_08, "Sheet1"),
        "zh_bulletin_2021-01_cny.xlsx": _write_xlsx(ZH_BULLETIN_2021_01, "表13", first_col=2),
        "zh_preliminary_2025-02_cny_bom.csv": _csv_text(ZH_PRELIMINARY_2025_02).encode("utf-8-sig"),
        "zh_preliminary_2025-06_gb18030.csv": _csv_text(ZH_PRELIMINARY_2025_06).encode("gb18030"),
        "en_bulletin_2025-07_usd.xlsx": en_bulletin,
        "en_preliminary_2025-09_usd.csv": _csv_text(EN_PRELIMINARY_2025_09).encode("utf-8"),
        "hostile_truncated_2025-07.xlsx": en_bulletin[:1000],
        "hostile_rows_2025-10.csv": _csv_text(HOSTILE_ROWS_2025_10).encode("utf-8"),
        "hostile_formula_2025-08.xlsx": _write_xlsx(HOSTILE_FORMULA_2025_08, "Sheet1"),
    }
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "tests" / "fixtures")
    args = parser.parse_args()
    for path in make_headline_fixtures(args.out_dir / "headline"):
        print(path)


if __name__ == "__main__":
    main()
