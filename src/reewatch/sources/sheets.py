"""Excel workbooks (`.xlsx` and legacy `.xls`) as rows of text cells, the same `GridRow`s the CSV path yields.

Each sheet becomes a rectangle of text cells, each row referenced as `Sheet!row` (1-based). Nothing is ever
evaluated: `.xlsx` formulas give the value Excel cached (`data_only=True`), `.xls` formulas their stored result,
and a text cell that starts with "=" stays text. An `.xlsx` formula saved without a cached value reads as a blank
cell, and its row names it (`GridRow.unsaved_formulas`): the parser must not take it for "not published".
Numbers are written without float artefacts (5792.0 → "5792").
Damaged, truncated or oversized workbooks raise `UnreadableRelease` naming the problem, never a stack trace.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import openpyxl
import xlrd
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.xml.functions import iterparse

from reewatch.sources.base import GridRow, UnreadableRelease

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound document (Excel 97, also Word .doc, Outlook .msg)

# Zip-bomb guard. zipfile never inflates a member past its declared size, so the declared sizes are a safe bound.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100  # real xlsx files inflate 5–20×; deflate tops out near 1,000×, overlapping-member bombs far above
RATIO_CHECK_FROM_BYTES = 10 * 1024 * 1024  # a high ratio on a small archive is harmless
# Sparse-sheet guard: a few bytes of XML can place one cell at XFD1048576, and padding every row to that width would
# take gigabytes. Real tables are tens of columns wide and thousands of rows long.
MAX_COLUMNS = 1024
MAX_CELLS = 5_000_000  # per workbook, counted as rows × width (what the padded rectangles hold)

Workbook = dict[str, list[GridRow]]  # sheet name -> its rows, in workbook order


class NotAWorkbook(UnreadableRelease):
    """A readable container with no spreadsheet in it (a plain .zip, a Word .doc): some other kind of file."""


def workbook_kind(data: bytes) -> str | None:
    """'xlsx' or 'xls' from the file's magic bytes, None for anything else (text, PDF …)."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    return None


def read_workbook(data: bytes, max_rows: int | None = None) -> Workbook:
    """Every worksheet of an .xlsx or .xls file, at most `max_rows` rows from the top of each."""
    kind = workbook_kind(data)
    if kind == "xlsx":
        return read_xlsx(data, max_rows)
    if kind == "xls":
        return read_xls(data, max_rows)
    raise NotAWorkbook("not an Excel workbook (neither an .xlsx zip nor an .xls OLE2 file)")


def read_xlsx(data: bytes, max_rows: int | None = None) -> Workbook:
    check_xlsx_archive(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                budget = _CellBudget()
                return {sheet.title: _xlsx_rows(sheet, max_rows, budget) for sheet in book.worksheets}
            finally:
                book.close()
    except UnreadableRelease:
        raise
    except Exception as exc:  # zipfile, zlib, the XML parser and openpyxl each have their own error types
        raise UnreadableRelease(f"the .xlsx workbook is damaged: {_describe(exc)}") from None


def check_xlsx_archive(data: bytes) -> None:
    """Refuse a zip that is truncated, is not a workbook, or would inflate to an absurd size (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_sizes(data, members)
            _refuse_dtd(archive, members)
    except UnreadableRelease:
        raise
    except Exception as exc:  # BadZipFile, but also OSError/ValueError/EOFError on mangled headers
        raise UnreadableRelease(f"the .xlsx workbook is damaged or truncated: {_describe(exc)}") from None


def _check_sizes(data: bytes, members: list[zipfile.ZipInfo]) -> None:
    names = {member.filename for member in members}
    if "xl/workbook.bin" in names:
        raise UnreadableRelease("a binary .xlsb workbook: save it as .xlsx to load it")
    if not any(name.startswith("xl/") for name in names):
        raise NotAWorkbook("a zip archive with no Excel workbook in it")
    unzipped = sum(member.file_size for member in members)
    too_big = unzipped > MAX_UNZIPPED_BYTES
    absurd_ratio = unzipped > RATIO_CHECK_FROM_BYTES and unzipped > MAX_ZIP_RATIO * len(data)
    if too_big or absurd_ratio:
        raise UnreadableRelease(
            f"the .xlsx workbook would unpack {len(data):,} bytes into {unzipped:,}: it looks like a zip bomb"
        )


def _refuse_dtd(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """OOXML parts never carry a DTD; one that declares entities is an XML bomb ('billion laughs') or an attempt to
    reach outside the file. The XML parser would stop the expansion too, but only after inflating a lot of it."""
    for member in members:
        if member.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(member) as part:
                prolog = part.read(4096)  # the DOCTYPE comes before the root element
            if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                raise UnreadableRelease(
                    f"the .xlsx part {member.filename} declares a DTD (<!DOCTYPE>/<!ENTITY>), which no Excel file "
                    "has: refused (an XML entity bomb?)"
                )


class _CellBudget:
    """Counts the cells a workbook's rectangles would hold and refuses a sheet that is wider or larger than any table
    (a sparse-sheet bomb), before the padding is done."""

    def __init__(self) -> None:
        self.used = 0

    def check_row(self, sheet_name: str, number: int, width: int) -> None:
        if width > MAX_COLUMNS:
            raise UnreadableRelease(
                f"sheet {sheet_name!r} row {number} has a value in column {width:,}: more than {MAX_COLUMNS:,} "
                "columns is no table reewatch reads"
            )

    def take(self, sheet_name: str, rows: int, width: int) -> None:
        if self.used + rows * width > MAX_CELLS:
            raise UnreadableRelease(
                f"sheet {sheet_name!r} reaches row {rows:,} at {width:,} columns: the workbook would hold over "
                f"{MAX_CELLS:,} cells, far more than a table reewatch reads (a sparse-sheet bomb?)"
            )

    def spend(self, rows: int, width: int) -> None:
        self.used += rows * width


def _xlsx_rows(sheet: Any, max_rows: int | None, budget: _CellBudget) -> list[GridRow]:
    # The stored sheet dimension is often wrong (too small, or the whole sheet): read what is really there.
    sheet.reset_dimensions()
    rows: list[list[str]] = []
    width = 0
    left_out: object = None
    for number, cells in enumerate(sheet.iter_rows(max_row=max_rows), 1):
        if cells is left_out:  # openpyxl yields one and the same tuple for each row the sheet's XML leaves out
            budget.take(sheet.title, number, width)
            rows.append([])
            continue
        row = [_xlsx_text(cell) for cell in cells]
        while row and not row[-1]:  # styled empty cells far to the right are nothing printed
            row.pop()
        if not row:
            left_out = cells
        budget.check_row(sheet.title, number, len(row))
        width = max(width, len(row))
        budget.take(sheet.title, number, width)
        rows.append(row)
    xml = _sheet_xml(sheet, max_rows)
    hidden = _hidden(sheet.title, sheet.sheet_state != "visible", xml.hidden_rows, len(rows))
    table = _rectangle(sheet.title, rows, _covered_cells(xml, rows, width), _unsaved_formulas(xml, rows), hidden)
    budget.spend(len(table), width)
    return table


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass
class _SheetXml:
    """What openpyxl's read-only reader does not give, read from the sheet's XML in one more pass (its DTD, if any,
    was refused before anything was parsed): merged ranges, formula cells with no saved value, and hidden rows."""

    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_col, min_row, max_col, max_row)
    unsaved_formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column), 1-based → formula
    hidden_rows: set[int] = field(default_factory=set)  # 1-based


def _sheet_xml(sheet: Any, max_rows: int | None) -> _SheetXml:
    """The sheet's XML facts, up to `max_rows` rows: past them the scan stops, and the merged ranges (which follow the
    rows) go unread. Detection reads the top rows only, and a sheet longer than a table is refused for its length."""
    found = _SheetXml()
    row_number = column = 0
    with sheet._get_source() as source:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == f"{_SHEET_NS}row":  # numbered as openpyxl does: 'r', else the next one
                    row_number = int(float(element.get("r") or row_number + 1))
                    if max_rows is not None and row_number > max_rows:
                        break
                    column = 0
                    if element.get("hidden") in ("1", "true"):
                        found.hidden_rows.add(row_number)
                continue
            if element.tag == f"{_SHEET_NS}c":
                ref = element.get("r")
                column = coordinate_to_tuple(ref)[1] if ref else column + 1
                formula = element.find(f"{_SHEET_NS}f")
                # A formula saved without its result (written by a script, never opened in Excel: no <v>, or an
                # empty one) reads as a blank, which would pass for 'not published'. Only a text result (t="str")
                # can be empty.
                saved = element.findtext(f"{_SHEET_NS}v") or element.get("t") == "str"
                if formula is not None and not saved:
                    found.unsaved_formulas[(row_number, column)] = "=" + (formula.text or "")
            elif element.tag == f"{_SHEET_NS}row":
                element.clear()  # the rows were read already: keep none of them in memory
            elif element.tag == f"{_SHEET_NS}mergeCell" and element.get("ref"):
                found.merged.append(range_boundaries(element.get("ref")))
    return found


def _covered_cells(xml: _SheetXml, rows: list[list[str]], width: int) -> dict[int, dict[int, str]]:
    """Row index → {column index: the merged range's value} for the cells that a merged range covers, 0-based, within
    the rows and columns read (a range may claim the whole sheet: only what was read is looked at)."""
    covered: dict[int, dict[int, str]] = {}
    for min_col, min_row, max_col, max_row in xml.merged:
        top, left = min_row - 1, min_col - 1
        value = rows[top][left] if top < len(rows) and left < len(rows[top]) else ""
        if not value:
            continue
        for r in range(top, min(max_row, len(rows))):
            for c in range(left, min(max_col, width)):
                if (r, c) != (top, left):
                    covered.setdefault(r, {})[c] = value
    return covered


def _unsaved_formulas(xml: _SheetXml, rows: list[list[str]]) -> dict[int, dict[int, str]]:
    """Row index → {column index: formula} for the formula cells with no saved value among the rows read, 0-based."""
    formulas: dict[int, dict[int, str]] = {}
    for (row, column), formula in xml.unsaved_formulas.items():
        if row <= len(rows):
            formulas.setdefault(row - 1, {})[column - 1] = formula
    return formulas


def _hidden(sheet_name: str, sheet_hidden: bool, hidden_rows: set[int], count: int) -> dict[int, str]:
    """Row index (0-based) → why the workbook does not show the row, for the rows it hides."""
    if sheet_hidden:
        return dict.fromkeys(range(count), f"its sheet {sheet_name!r} is hidden")
    return {number - 1: "the row is hidden" for number in hidden_rows if number <= count}


def cell_name(row_ref: str, column: int) -> str:
    """A cell's name from its row's reference and its 0-based column: ('T5!5', 2) → 'T5!C5'."""
    sheet, _, number = row_ref.rpartition("!")
    return f"{sheet}!{get_column_letter(column + 1)}{number}"


def _xlsx_text(cell: Any) -> str:
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_text(value, percent=_is_percent_format(getattr(cell, "number_format", None)))
    return cell_text(value)


def read_xls(data: bytes, max_rows: int | None = None) -> Workbook:
    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO(), verbosity=0
        )
    except xlrd.XLRDError as exc:
        if "Can't find workbook" in str(exc):
            raise NotAWorkbook("an OLE2 file with no Excel workbook in it (a Word or Outlook file?)") from None
        raise UnreadableRelease(f"the .xls workbook cannot be read: {exc}") from None
    except Exception as exc:  # xlrd raises struct.error, IndexError, CompDocError … on truncated files
        raise UnreadableRelease(f"the .xls workbook is damaged or truncated: {_describe(exc)}") from None
    try:
        budget = _CellBudget()
        return dict(_xls_sheet(book, index, max_rows, budget) for index in range(book.nsheets))
    except UnreadableRelease:
        raise
    except Exception as exc:
        raise UnreadableRelease(f"the .xls workbook is damaged: {_describe(exc)}") from None
    finally:
        book.release_resources()


def _xls_sheet(book: Any, index: int, max_rows: int | None, budget: _CellBudget) -> tuple[str, list[GridRow]]:
    sheet = book.sheet_by_index(index)
    name = _legacy_text(book, sheet.name)
    count = sheet.nrows if max_rows is None else min(sheet.nrows, max_rows)
    budget.take(name, count, sheet.ncols)  # Excel 97 sheets are at most 65,536 × 256: the size is known up front
    rows = [[_xls_text(book, cell) for cell in sheet.row(r)] for r in range(count)]
    book.unload_sheet(index)
    hidden_rows = {r + 1 for r, info in sheet.rowinfo_map.items() if info.hidden}  # formatting_info=True reads them
    table = _rectangle(name, rows, hidden=_hidden(name, sheet.visibility != 0, hidden_rows, count))
    budget.spend(count, sheet.ncols)
    return name, table


def _xls_text(book: Any, cell: Any) -> str:
    if cell.ctype == xlrd.XL_CELL_TEXT:
        return _legacy_text(book, cell.value).strip()
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return number_text(cell.value, percent=_is_percent_format(_xls_format(book, cell)))
    if cell.ctype == xlrd.XL_CELL_DATE:
        return cell_text(xlrd.xldate_as_datetime(cell.value, book.datemode))
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(cell.value, "#ERROR"))
    return ""


def _xls_format(book: Any, cell: Any) -> str | None:
    if cell.xf_index is None or cell.xf_index >= len(book.xf_list):
        return None
    number_format = book.format_map.get(book.xf_list[cell.xf_index].format_key)
    return number_format.format_str if number_format is not None else None


def _legacy_text(book: Any, text: str) -> str:
    """Undo GBK bytes that xlrd decoded as Latin-1.

    Legacy Chinese writers store 8-bit GBK text in Excel 97 strings without the "16-bit" flag, under code page 936.
    xlrd decodes such strings as Latin-1 whatever the code page (`encoding_override` only reaches pre-97 files),
    and it falls back to Latin-1 too for pre-97 files with no CODEPAGE record: the bytes survive, so re-decode them.
    """
    if book.codepage not in (936, None) or text.isascii() or max(map(ord, text)) > 0xFF:
        return text
    try:
        return text.encode("latin-1").decode("gbk")
    except UnicodeDecodeError:
        return text


def number_text(value: float, percent: bool = False) -> str:
    """A cell number as printed: 5792.0 → '5792', 7742.2 → '7742.2', 0.146 with a % format → '14.6'."""
    if percent:
        value *= 100
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"  # 15 significant digits drop binary noise such as 14.599999999999998


def cell_text(value: object) -> str:
    """Any other cell value as text; a string starting with '=' is text like any other."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time | timedelta):
        return str(value)
    return str(value).strip()


def _is_percent_format(number_format: str | None) -> bool:
    """A '%' in a number format scales the shown value by 100, unless it is a quoted or escaped literal."""
    if not number_format:
        return False
    return "%" in re.sub(r'"[^"]*"|\\.', "", number_format)


def _rectangle(
    sheet_name: str,
    rows: list[list[str]],
    covered: dict[int, dict[int, str]] | None = None,
    formulas: dict[int, dict[int, str]] | None = None,
    hidden: dict[int, str] | None = None,
) -> list[GridRow]:
    """Pad rows to one width (blank cells are 'nothing printed') and drop the blank rows at the bottom (a row that
    holds only a formula with no saved value is not blank: it stays, for the parser to say so)."""
    formulas = formulas or {}
    while rows and not any(rows[-1]) and len(rows) - 1 not in formulas:
        rows.pop()
    width = max((len(row) for row in rows), default=0)
    return [
        GridRow(
            f"{sheet_name}!{number}",
            row + [""] * (width - len(row)),
            (covered or {}).get(number - 1, {}),
            formulas.get(number - 1, {}),
            (hidden or {}).get(number - 1, ""),
        )
        for number, row in enumerate(rows, 1)
    ]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
