#!/usr/bin/env python3
"""Generate the hostile input corpus under ``tests/fixtures/hostile/``: deterministic, small, byte-for-byte repeatable.

Every file attacks the loader in one way (see tests/fixtures/hostile/README.md for the expected outcome of each):
empty and binary files, broken and explosive workbooks, wrong encodings, impossible numbers, formula and markup
payloads, SQL quotes, Unicode look-alikes — in every layout family reewatch reads. Loadable rows use periods and
commodity names of their own (2019, "Hostile …") so that they never touch the figures of the real samples.

The 1 GB-line file is not here: tests/test_hostile.py streams it into a temp folder (it is too big to commit).

Usage::

    python scripts/make_hostile.py [--out-dir tests/fixtures/hostile]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import struct
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
FIXED_TIME = datetime(2025, 1, 1)
MAX_FILE_BYTES = 200 * 1024  # every committed file stays small

# Payloads, each planted where a parser takes labels or values from the file.
DDE = "=cmd|' /C calc'!A0"  # the classic CSV/Excel injection (DDE launching a program)
FORMULA_MARKER = "HOSTILE-FORMULA-RAN"  # a file of this name would exist if any formula were evaluated
SCRIPT = '<script>alert("reewatch")</script>'
IMG = "<img src=x onerror=alert(1)>"
SQL = "'; DROP TABLE releases; --"
SQL_DQ = 'Robert"); DROP TABLE observations; --'

Row = list[object]


# --------------------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------------------


def csv_text(rows: list[Row]) -> str:
    """CSV with cells quoted when they need it and CRLF line ends, as GACC writes it."""
    out = io.StringIO()
    for row in rows:
        cells = ["" if cell is None else str(cell) for cell in row]
        out.write(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' if re.search(r'[,"\n]', c) else c for c in cells))
        out.write("\r\n")
    return out.getvalue()


def xlsx(rows: list[Row], formulas: dict[str, str] | None = None, sheet: str = "Sheet1") -> bytes:
    """An .xlsx of the rows; `formulas` puts real formula cells (no cached value) at the given references."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula, as an attacker would plant it
    for ref, formula in (formulas or {}).items():
        ws[ref] = formula  # openpyxl stores a real formula: Excel would compute it, reewatch must not
    book.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def _deterministic_zip(data: bytes, replace: dict[str, bytes] | None = None) -> bytes:
    """Re-pack a zip with fixed timestamps (repeatable bytes), optionally replacing members."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = (replace or {}).get(info.filename, source.read(info.filename))
            if info.filename == "docProps/core.xml":
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6]), content,
                            compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)  # fmt: skip
    return out.getvalue()


def _sheet_xml(book: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(book)).read("xl/worksheets/sheet1.xml")


def pseudo_random(size: int, seed: str) -> bytes:
    """Deterministic noise (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}-{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


# --------------------------------------------------------------------------------------------------------------
# Headline tables
# --------------------------------------------------------------------------------------------------------------


def headline(month: str, rows: list[Row], title: str | None = None, header: Row | None = None) -> list[Row]:
    """A preliminary-release table (English, USD1 Million, six columns: month and Jan–month)."""
    return [
        [title or f"Table 5 China's Major Exports by Quantity and Value (in USD), {month}"],
        ["Unit: USD1 Million"],
        header or ["Commodity", "Unit", month.split()[0], None, f"January to {month.split()[0]}", None],
        [None, None, "Quantity", "Value", "Quantity", "Value"],
        *rows,
    ]


GOOD_ROW: Row = ["Hostile widgets", "Ton", "12.0", "1.5", "30.0", "3.9"]


def zip_bomb() -> bytes:
    """A workbook whose sheet inflates ~1,000× (deflate's limit) and whose central directory then lists that same
    compressed sheet 32 times (overlapping entries): about 150 KB on disk, 4.9 GB once unpacked."""
    kernel = b"<worksheet><sheetData>" + b" " * (150 * 1024 * 1024) + b"</sheetData></worksheet>"  # valid XML
    base = xlsx(headline("March 2019", [GOOD_ROW]))
    archive = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            content = kernel if info.filename == "xl/worksheets/sheet1.xml" else source.read(info.filename)
            out.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6]), content,
                         compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)  # fmt: skip
    data = archive.getvalue()
    # Copy the sheet's central-directory record under 31 more names, all pointing at the same compressed data.
    end = data.rindex(b"PK\x05\x06")
    entries, cd_size, cd_offset = struct.unpack("<HIIH", data[end + 10 : end + 22])[:3]
    central = data[cd_offset : cd_offset + cd_size]
    at = central.index(b"xl/worksheets/sheet1.xml") - 46
    name_len, extra_len, comment_len = struct.unpack("<HHH", central[at + 28 : at + 34])
    record = central[at : at + 46 + name_len + extra_len + comment_len]
    copies = b""
    for number in range(2, 33):
        name = f"xl/worksheets/sheet{number}.xml".encode()
        copies += record[:28] + struct.pack("<H", len(name)) + record[30:46] + name + record[46 + name_len :]
    central += copies
    tail = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, entries + 31, entries + 31, len(central), cd_offset, 0)
    return data[:cd_offset] + central + tail


def sparse_bomb() -> bytes:
    """A few KB of sheet XML placing one value at XFD and one 100,000 rows down: padded, a 1.6-billion-cell sheet."""
    book = xlsx(headline("March 2019", [GOOD_ROW]))
    far = b'<row r="6"><c r="XFD6"><v>1</v></c></row><row r="100000"><c r="A100000"><v>1</v></c></row>'
    sheet = _sheet_xml(book).replace(b"</sheetData>", far + b"</sheetData>")
    return _deterministic_zip(book, {"xl/worksheets/sheet1.xml": sheet})


def survey_sparse_bomb() -> bytes:
    """A survey workbook (read whole, no row cap) with one cell a million rows down and eight columns wide."""
    book = xlsx(
        [
            ["survey_id", "publisher", "published_on", "metric", "value", "unit", "unit_of_count", "scope"],
            ["hostile_2019_sparse", "Hostile", "2019-05-01", "applications", "3", "count", "application", "x"],
        ]
    )
    far = b'<row r="1048576"><c r="H1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = _sheet_xml(book).replace(b"</sheetData>", far + b"</sheetData>")
    return _deterministic_zip(book, {"xl/worksheets/sheet1.xml": sheet})


def xml_bomb() -> bytes:
    """'Billion laughs': nested entities in the sheet XML, a few hundred bytes that expand to gigabytes."""
    book = xlsx(headline("March 2019", [GOOD_ROW]))
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)
    )
    sheet = _sheet_xml(book)
    body = sheet[sheet.index(b"<worksheet") :].replace(b"<t>Hostile", b"<t>&lol9;Hostile", 1)
    bomb = b'<?xml version="1.0"?><!DOCTYPE worksheet [' + entities + b"]>" + body
    return _deterministic_zip(book, {"xl/worksheets/sheet1.xml": bomb})


def headline_files() -> dict[str, bytes]:
    march = "March 2019"
    header_only = headline(march, [])
    values = headline(
        "April 2019",
        [
            ["Hostile negative", "Ton", "-12.0", "1.5", "30.0", "3.9"],
            ["Hostile NaN", "Ton", "NaN", "1.5", "30.0", "3.9"],
            ["Hostile infinity", "Ton", "inf", "1.5", "30.0", "3.9"],
            ["Hostile overflow", "Ton", "1e309", "1.5", "30.0", "3.9"],
            ["Hostile 1e308 in 10,000 tons", "10,000 Tons", "1e308", "1.5", "1e308", "3.9"],
            ["Rare earths", "Ton", "5,792,000.0", "36.9", "44,355,000.0", "304.0"],  # kg printed as tonnes
            ["Hostile widgets April", "Ton", "12.0", "1.5", "30.0", "3.9"],
        ],
    )
    mixed_units = headline(
        "May 2019",
        [
            ["Hostile alloy A", "kg", "12,000.0", "1.5", "30,000.0", "3.9"],
            ["Hostile alloy B", "10,000 Tons", "0.0012", "1.5", "0.0030", "3.9"],
            ["Hostile alloy C", "bales", "12.0", "1.5", "30.0", "3.9"],
            ["Hostile alloy D", "吨", "12.0", "1.5", "30.0", "3.9"],
        ],
    )
    duplicated = headline(
        "June 2019",
        [
            ["Hostile twin", "Ton", "12.0", "1.5", "30.0", "3.9"],
            ["Hostile twin", "Ton", "13.0", "1.6", "31.0", "4.0"],
            ["Hostile single", "Ton", "12.0", "1.5", "30.0", "3.9"],
        ],
    ) + headline("June 2019", [["Hostile single", "Ton", "99.0", "9.9", "99.0", "9.9"]])  # the same table again
    future = headline("August 2031", [["Hostile from the future", "Ton", "12.0", "1.5", "30.0", "3.9"]])
    formula_csv = headline(
        "July 2019",
        [
            [DDE, "Ton", "12.0", "1.5", "30.0", "3.9"],
            ["@SUM(1+1)*cmd|' /C calc'!A0", "Ton", "12.0", "1.5", "30.0", "3.9"],
            ['+HYPERLINK("http://127.0.0.1:9/","x")', "Ton", "12.0", "1.5", "30.0", "3.9"],
            ["Hostile formula figure", "Ton", "=1+1", "1.5", "30.0", "3.9"],
        ],
    )
    script = headline(
        "September 2019",
        [
            [SCRIPT, "Ton", "12.0", "1.5", "30.0", "3.9"],
            [IMG, "Ton", "12.0", "1.5", "30.0", "3.9"],
            ["Hostile unit", "<b>Ton</b>", "12.0", "1.5", "30.0", "3.9"],
        ],
        title=f"Table 5 China's Major Exports by Quantity and Value (in USD), September 2019 {SCRIPT}",
    )
    sql = headline(
        "October 2019",
        [
            [SQL, "Ton", "12.0", "1.5", "30.0", "3.9"],
            [SQL_DQ, "Ton", "12.0", "1.5", "30.0", "3.9"],
            ['Hostile "quoted" name', "Ton'", "12.0", "1.5", "30.0", "3.9"],
        ],
    )
    lookalike_header = headline(
        "November 2019", [GOOD_ROW], header=["Соmmodity", "Unit", "November", None, "January to November", None]
    )  # 'С' and 'о' are Cyrillic
    lookalike_title = headline(
        "November 2019", [GOOD_ROW], title="Table 5 China's Major Exports by Quаntity and Vаlue (in USD), November 2019"
    )
    lookalike_label = headline(
        "December 2019",
        [
            ["Rаre earths", "Ton", "12.0", "1.5", "30.0", "3.9"],  # Cyrillic 'а': not GACC's rare-earth line
            ["Ηostile widgets", "Ton", "12.0", "1.5", "30.0", "3.9"],  # Greek capital eta
            ["Hostile widgets December", "Ton", "12.0", "1.5", "30.0", "3.9"],
        ],
    )
    huge_field = headline("March 2019", [["Hostile " + "x" * 150_000, "Ton", "12.0", "1.5", "30.0", "3.9"]])
    # A Chinese bulletin saved in Big5 (Traditional characters), an encoding reewatch does not read.
    zh_title = [["（13）2019年3月出口主要商品量值表（人民幣值）"], ["單位：萬元人民幣"],
                ["商品名稱", "計量單位", "3月", None, "1至3月", None], [None, None, "數量", "金額", "數量", "金額"],
                ["稀土", "噸", "3,000.0", "1.0", "9,000.0", "3.0"]]  # fmt: skip
    good_xlsx = xlsx(headline(march, [GOOD_ROW]))
    formula_xlsx = xlsx(
        headline(
            "February 2019",
            [
                ["Hostile formula cells", "Ton", None, "1.5", "30.0", "3.9"],
                [DDE, "Ton", "12.0", "1.5", "30.0", "3.9"],
            ],
        ),
        formulas={
            "C5": f'=WEBSERVICE("http://127.0.0.1:9/{FORMULA_MARKER}")',
            "E5": "=cmd|' /C calc'!A0",
            "F5": f'=HYPERLINK("file:///tmp/{FORMULA_MARKER}","x")',
        },
    )
    script_xlsx = xlsx(headline("January 2019", [[SCRIPT, "Ton", 12.0, 1.5, 30.0, 3.9]]))
    return {
        "headline_header_only.csv": csv_text(header_only).encode(),
        "headline_bad_numbers.csv": csv_text(values).encode(),
        "headline_mixed_units.csv": csv_text(mixed_units).encode(),
        "headline_duplicated_rows_and_period.csv": csv_text(duplicated).encode(),
        "headline_future_period.csv": csv_text(future).encode(),
        "headline_formula_injection.csv": csv_text(formula_csv).encode(),
        "headline_script_labels.csv": csv_text(script).encode(),
        "headline_sql_quotes.csv": csv_text(sql).encode(),
        "headline_lookalike_header.csv": csv_text(lookalike_header).encode(),
        "headline_lookalike_title.csv": csv_text(lookalike_title).encode(),
        "headline_lookalike_labels.csv": csv_text(lookalike_label).encode(),
        "headline_huge_field.csv": csv_text(huge_field).encode(),
        "headline_utf16.csv": csv_text(headline(march, [GOOD_ROW])).encode("utf-16"),
        "headline_big5.csv": csv_text(zh_title).encode("big5"),
        "headline_nul_bytes.csv": csv_text(headline(march, [GOOD_ROW])).encode().replace(b"Unit", b"Un\x00it"),
        "headline_truncated.xlsx": good_xlsx[: len(good_xlsx) // 2],
        "headline_zip_bomb.xlsx": zip_bomb(),
        "headline_sparse_bomb.xlsx": sparse_bomb(),
        "headline_xml_bomb.xlsx": xml_bomb(),
        "headline_formula_cells.xlsx": formula_xlsx,
        "headline_script_label.xlsx": script_xlsx,
        "headline_truncated.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + pseudo_random(3000, "xls"),
    }


# --------------------------------------------------------------------------------------------------------------
# The other layouts
# --------------------------------------------------------------------------------------------------------------

DETAILED_HEADER = ",".join(
    ["数据年月", "商品编码", "商品名称", "贸易伙伴编码", "贸易伙伴名称", "贸易方式",
     "第一数量", "第一计量单位", "第二数量", "第二计量单位", "美元"]
)  # fmt: skip


def detailed_files() -> dict[str, bytes]:
    code = "2846901100"  # another rare-earth compound code: its own series, kept in the warehouse only
    rows = [
        ["201903", code, "Hostile compound", "502", "美国", "一般贸易", "1000", "千克", "", "", "50000"],
        ["201903", code, "Hostile compound", "304", "德国", "一般贸易", "-1000", "千克", "", "", "50000"],
        ["201903", code, "Hostile compound", "116", "日本", "一般贸易", "NaN", "千克", "", "", "50000"],
        ["201903", code, "Hostile compound", "133", "韩国", "一般贸易", "1e999", "千克", "", "", "50000"],
        ["201903", code, "Hostile compound", "303", "英国", "一般贸易", "1e308", "千克", "", "", "1e308"],
        ["203101", code, "Hostile compound", "502", "美国", "一般贸易", "1000", "千克", "", "", "50000"],
        ["2019-13", code, "Hostile compound", "502", "美国", "一般贸易", "1000", "千克", "", "", "50000"],
        ["201903", code, "Hostile compound", "999", "Atlantis", "一般贸易", "1000", "千克", "", "", "50000"],
        ["201903", code, "Hostile compound", "601", "Аustralia", "一般贸易", "1000", "千克", "", "", "50000"],
        ["201903", code, SCRIPT, "502", "美国", "进料加工贸易", "1000", "千克", "", "", "50000"],
        ["201903", code, DDE, "502", "美国", "来料加工装配贸易", "1000", "千克", "", "", "50000"],
        ["201903", code, SQL, "502", "美国", SQL_DQ, "1000", "千克", "", "", "50000"],
        ["201903", code, "Hostile compound", "502", SCRIPT, "一般贸易", "1000", "千克", "", "", "50000"],
    ]
    body = "\r\n".join([DETAILED_HEADER, *(",".join(_csv_cell(c) for c in row) for row in rows)]) + "\r\n"
    good = f"201903,{code},Hostile compound,502,美国,一般贸易,1000,千克,,,50000\r\n"
    ragged = f"{DETAILED_HEADER}\r\n{good}{good.replace('502', '304')}"
    ragged += f"201903,{code},Hostile, unquoted comma,116,日本,一般贸易,1000,千克,,,50000\r\n"
    sql_header = DETAILED_HEADER.replace("美元", "美元 (x'); DROP TABLE releases; --)") + "\r\n"
    sql_header += f"201904,{code},Hostile compound,502,美国,一般贸易,1000,千克,,,50000\r\n"
    lookalike = DETAILED_HEADER.replace("数据年月", "Реriod")  # Cyrillic 'Р' and 'е'
    lookalike += f"\r\n201904,{code},x,502,美国,一般贸易,1,千克,,,5\r\n"
    return {
        "detailed_header_only.csv": (DETAILED_HEADER + "\r\n").encode("utf-8-sig"),
        "detailed_hostile_rows.csv": body.encode("utf-8-sig"),
        "detailed_ragged_row.csv": ragged.encode(),
        "detailed_sql_in_header.csv": sql_header.encode(),
        "detailed_lookalike_header.csv": lookalike.encode(),
    }


def _csv_cell(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if re.search(r'[,"\n]', text) else text


COMTRADE_FIELDS = {
    "typeCode": "C", "freqCode": "M", "refYear": 2019, "refMonth": 3, "period": "201903", "reporterCode": 156,
    "reporterDesc": "China", "flowCode": "X", "flowDesc": "Export", "partnerCode": 842, "partnerDesc": "USA",
    "partner2Code": 0, "cmdCode": "284690", "cmdDesc": "Hostile compounds", "customsCode": "C00", "mosCode": "0",
    "motCode": 0, "qtyUnitAbbr": "kg", "qty": 1000, "netWgt": 1000, "primaryValue": 50000,
}  # fmt: skip


def comtrade_files() -> dict[str, bytes]:
    def record(**changes: object) -> dict[str, object]:
        return {**COMTRADE_FIELDS, **changes}

    records = [
        record(),
        record(partnerCode=276, netWgt=float("nan"), qty=float("nan"), primaryValue=float("nan")),
        record(partnerCode=392, primaryValue=float("inf"), netWgt=1000),
        record(partnerCode=410, primaryValue=1e308, netWgt=-5000),
        record(partnerCode=826, period="203101", refYear=2031, refMonth=1),
        record(),  # the first record again: a duplicate
        record(reporterCode=842, reporterDesc="USA"),
        record(partnerCode=250, cmdDesc=SCRIPT),
        record(partnerCode=380, cmdDesc=DDE),
        record(partnerCode=724, cmdDesc=SQL + SQL_DQ),
        record(partnerCode=56, cmdCode="28469'0"),
        record(partnerCode=528, netWgt={"nested": [1, 2, 3]}),
    ]
    nested = b'{"reporterCode": 156, "partnerCode": 0, "cmdCode": "1", "flowCode": "X", "data": '
    nested += b"[" * 50_000 + b"]" * 50_000 + b"}"
    valid = json.dumps({"count": len(records), "data": records}).encode()  # NaN/Infinity as Python's json writes them
    header = ",".join(COMTRADE_FIELDS) + "\r\n"
    return {
        "comtrade_hostile_records.json": valid,
        "comtrade_deeply_nested.json": nested,
        "comtrade_truncated.json": valid[: len(valid) // 2],
        "comtrade_header_only.csv": header.encode(),
    }


def survey_files() -> dict[str, bytes]:
    header = ["survey_id", "publisher", "fieldwork_start", "fieldwork_end", "as_of", "published_on", "scope",
              "unit_of_count", "metric", "value", "unit", "source_url"]  # fmt: skip

    def row(survey: str, metric: str, value: str, **changes: str) -> list[object]:
        fields = dict(zip(header, [survey, "Hostile Chamber", "", "2019-03-01", "2019-03-01", "2019-03-10",
                                   "hostile licences", "application", metric, value, "count",
                                   "https://example.org/hostile"], strict=True))  # fmt: skip
        fields.update(changes)
        return list(fields.values())

    ok = "hostile_2019_03"
    rows = [
        header,
        row(ok, "applications", "10"),
        row(ok, "approved", "4"),
        row(ok, "pending", "5"),
        row(ok, "rejected", "1"),
        row("hostile_2019_04_neg", "applications", "-10"),
        row("hostile_2019_04_nan", "applications", "NaN"),
        row("hostile_2019_04_huge", "applications", "1e308"),
        row("hostile_2019_04_inf", "applications", "1e999"),
        row(
            "hostile_2031_future",
            "applications",
            "10",
            published_on="2031-01-01",
            as_of="2031-01-01",
            fieldwork_end="2031-01-01",
        ),
        row(SQL, "applications", "3", publisher=SQL_DQ),
        row(
            "hostile_2019_05_markup", "applications", "3", publisher=SCRIPT, scope=IMG, source_url="javascript:alert(1)"
        ),
        row("hostile_2019_05_formula", "applications", "3", publisher=DDE, scope="=1+1"),
        row(ok, "applications", "11"),  # the same metric twice, disagreeing
    ]
    lookalike = [[h.replace("metric", "metrіc") for h in header], row(ok, "applications", "10")]  # Ukrainian і
    return {
        "survey_hostile.csv": csv_text(rows).encode(),
        "survey_header_only.csv": csv_text([header]).encode(),
        "survey_lookalike_header.csv": csv_text(lookalike).encode(),
        "survey_sparse_bomb.xlsx": survey_sparse_bomb(),
    }


def usgs_files() -> dict[str, bytes]:
    header = ["edition", "country", "year", "mine_production_t_reo", "reserves_t_reo", "note", "source"]
    rows = [
        header,
        ["MCS2019", "United States", "2017", "0", "1400000", "", "hostile"],
        ["MCS2019", "World (rounded)", "2017", "130000", "120000000", "", "hostile"],
        ["MCS2019", "Hostile land", "2017", "-5", "", "", "hostile"],
        ["MCS2019", "Hostile NaN land", "2017", "NaN", "", "", "hostile"],
        ["MCS2019", "Hostile huge land", "2017", "1e308", "1e308", "", "hostile"],
        ["MCS2019", "Hostile future land", "2999", "10", "", "", "hostile"],
        ["MCS2019", SCRIPT, "2017", "10", "", IMG, "hostile"],
        ["MCS2019", DDE, "2017", "10", "", "", "hostile"],
        ["MCS2019", SQL, "2017", "10", "", SQL_DQ, "hostile"],
        ["MCS2019", "United States", "2017", "5", "", "duplicate country-year", "hostile"],
    ]
    return {
        "usgs_hostile.csv": csv_text(rows).encode(),
        "usgs_header_only.csv": csv_text([header]).encode(),
    }


def press_files() -> dict[str, bytes]:
    header = ["series_id", "period", "basis", "partner", "value", "unit", "outlet", "source_url"]
    rows = [
        header,
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "4,000", "t", "Hostile Times", "https://example.org/ok"],
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "NaN", "t", "Hostile Times", "https://example.org/nan"],
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "1e308", "t", "Hostile Times", "https://example.org/huge"],
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "1e999", "t", "Hostile Times", "https://example.org/inf"],
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "-4000", "t", "Hostile Times", "https://example.org/neg"],
        ["gacc_rare_earths", "2031-03", "month", "WORLD", "4,000", "t", "Hostile Times", "https://example.org/future"],
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "4,000", "t", SCRIPT, "javascript:alert(1)"],
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "4,000", "t", DDE, "https://example.org/dde"],
        [SQL, "2019-03", "month", "WORLD", "4,000", "t", SQL_DQ, "https://example.org/sql"],
        ["gacc_rare_earths", "2019-03", "month", "WORLD", "4,000", "t", "Hostile Times", "https://example.org/ok"],
    ]
    return {"press_hostile_claims.csv": csv_text(rows).encode()}


def generic_files() -> dict[str, bytes]:
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr(zipfile.ZipInfo("readme.txt", date_time=FIXED_TIME.timetuple()[:6]), "not a workbook")
    return {
        "empty.csv": b"",
        "blank_lines.csv": b"\r\n  \r\n\t\r\n",
        "binary_named.csv": b"\x89PNG\r\n\x1a\n" + pseudo_random(2048, "png"),
        "pdf_named.xlsx": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + pseudo_random(1024, "pdf"),
        "plain_zip_named.xlsx": plain_zip.getvalue(),
    }


def corpus() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for part in (generic_files, headline_files, detailed_files, comtrade_files, survey_files, usgs_files, press_files):
        files.update(part())
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "tests" / "fixtures" / "hostile")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(corpus().items()):
        if len(data) > MAX_FILE_BYTES:
            raise SystemExit(f"{name} is {len(data):,} bytes: over the {MAX_FILE_BYTES:,} a committed file may have")
        (args.out_dir / name).write_bytes(data)
        print(f"{len(data):>9,}  {name}")


if __name__ == "__main__":
    main()
