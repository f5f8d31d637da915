"""GACC headline commodity table (DOMAIN.md §3.1): one row per commodity, month and Jan–month figures.

Both families — the preliminary release (快讯) and the monthly bulletin (月刊), which are two vintages — in English
or Chinese, as CSV (UTF-8, UTF-8 with BOM, GB18030), `.xlsx` or legacy `.xls`. Every file is turned into rows of
text cells first (`GridRow`s), so one parser reads them all.

The table is found by its title words, never by its printed number or the file name. The unit row under the title
sets the money scale. The header rows (one to four, their labels spanning merged cells) say which column is which:
the month, the cumulative Jan–month, the prior year's cumulative, and the year-on-year percentages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from reewatch.sources import sheets
from reewatch.sources.base import (
    OBSERVATION_COLUMNS,
    GridRow,
    ParsedRelease,
    Reject,
    UnreadableRelease,
    lookalike_letters,
    read_csv_grid,
)
from reewatch.units import (
    FOLDING_FOOTNOTE,
    Scale,
    money_scale_from_caption,
    nfkc,
    parse_number,
    scale_of,
    without_format_chars,
)

LAYOUT_CSV = "gacc_headline_csv"
LAYOUT_XLSX = "gacc_headline_xlsx"
LAYOUT_XLS = "gacc_headline_xls"
_LAYOUTS = {"xlsx": LAYOUT_XLSX, "xls": LAYOUT_XLS}

_TITLE_ROWS = 20  # the title sits in the first rows of a file or sheet
_MAX_TABLE_ROWS = 10_000  # a headline table has tens to hundreds of rows; a longer sheet is something else
_MAX_HEADER_ROWS = 4


def _spaced(words: str) -> str:
    """A Chinese phrase as a pattern that allows spaces between its characters (tables pad them: '数  量')."""
    return r"\s*".join(re.escape(ch) for ch in words)


# Title words of each family; the preliminary release (快讯) and the monthly bulletin (月刊) are two vintages.
_FAMILIES = (
    (
        "preliminary",
        re.compile(rf"major\s+exports?\s+by\s+quantity\s+and\s+value|{_spaced('出口重点商品量值表')}", re.I),
    ),
    (
        "bulletin",
        re.compile(
            rf"major\s+export\s+commodities\s+in\s+quantity\s+and\s+value|{_spaced('出口主要商品量值表')}", re.I
        ),
    ),
)
# Rows whose commodity is one of these map to a named series; every other commodity keeps its own series.
# Exact names only: 稀土永磁 (magnets) is another series (DOMAIN.md §1) and must not fold into 稀土.
_SERIES = {
    "rare earths": "gacc_rare_earths",
    "rare earth": "gacc_rare_earths",
    "rare earth ore, metals, compounds": "gacc_rare_earths",
    "稀土": "gacc_rare_earths",
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}  # fmt: skip
_HEADER_WORDS = ("商品名称", "商品", "品名", "主要商品", "commodit", "description")
# Notes under the table: '注：…', '资料来源：…', 'Note: …', 'Source: …' (a colon is required, so that a commodity
# such as 'Notebook computers' or 注塑机 does not end the table).
_NOTE = re.compile(r"^(notes?|sources?)\s*\d*\s*[:：.]|^(注|注释|说明|备注|资料来源|数据来源)\s*[:：\d①-⑳]", re.I)
_LEADING_MARK = re.compile(r"^[*＊※†‡#＃①-⑳⑴-⒇]")  # full-width marks too: GB18030 tables print ＊
_TRAILING_MARKS = re.compile(
    r"(\s*([*＊※†‡#＃]+|[\u2460-\u249b\u2776-\u2793]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\(\d{1,2}\)|（\d{1,2}）|\[\d{1,2}\]))+$"
)
_BETWEEN_HAN = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_DATE_NEAR_WORD = re.compile(
    r"(?:发布|公布|released?|published|issued)\D{0,20}?(20\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", re.I
)
_DATE_NEAR_WORD_EN = re.compile(
    r"(?:released?|published|issued)\D{0,20}?\b(?:([a-z]+)\.?\s+(\d{1,2}),?|(\d{1,2})\s+([a-z]+)\.?,?)\s+(20\d\d)", re.I
)
# Calendar days when a release usually comes out in the month after its period (DOMAIN.md §2).
_RELEASE_DAY = {"preliminary": 10, "bulletin": 18}


def _fold(text: str) -> str:
    """Width, case and runs of whitespace folded, invisible (format) characters dropped: '（13）  Rare  Earths' →
    '(13) rare earths'."""
    return re.sub(r"\s+", " ", nfkc(text)).strip().lower()


# --- detection and dispatch ---------------------------------------------------------------------------------------


def detect(data: bytes, name: str) -> bool:
    """A headline table by content: CSV text, or an .xlsx/.xls workbook, with a family title in its first rows.

    A workbook too damaged to open (truncated, a zip bomb) is claimed as well, so that `parse` can say what is wrong
    with it rather than 'no layout matches'. A readable zip or OLE2 file that holds no workbook is not claimed.
    """
    kind = sheets.workbook_kind(data)
    if kind is None:
        return b"\x00" not in data[:4096] and _text_has_title(data[:8192])
    try:
        workbook = sheets.read_workbook(data, max_rows=_TITLE_ROWS)
    except sheets.NotAWorkbook:
        return False
    except UnreadableRelease:
        return True
    return any(_title_at(rows) is not None for rows in workbook.values())


def parse(data: bytes, name: str) -> ParsedRelease:
    """Parse a headline table from CSV, .xlsx or .xls bytes; the kind is told by the content."""
    kind = sheets.workbook_kind(data)
    if kind is None:
        return parse_grid(read_csv_grid(data), layout=LAYOUT_CSV)
    rows, warnings = _workbook_table(data)
    parsed = parse_grid(rows, layout=_LAYOUTS[kind])
    parsed.warnings.extend(warnings)
    return parsed


def _text_has_title(head: bytes) -> bool:
    """Whether the first lines of a text file carry a title, in whichever of the CSV encodings the file uses."""
    for encoding in ("utf-8-sig", "gb18030"):
        # errors="ignore": the head may end inside a multi-byte character; a wrong guess just finds no title.
        lines = head.decode(encoding, errors="ignore").splitlines()[:_TITLE_ROWS]
        folded = nfkc("\n".join(lines))
        if any(pattern.search(folded) for _, pattern in _FAMILIES):
            return True
    return False


def _workbook_table(data: bytes) -> tuple[list[GridRow], list[str]]:
    """The rows of the first sheet whose top carries a headline title (all sheets are searched), a sheet the workbook
    shows before a hidden one: a hidden sheet holds a draft or an old table more often than the published one."""
    workbook = sheets.read_workbook(data, max_rows=_MAX_TABLE_ROWS + 1)
    titles = {name: at for name, rows in workbook.items() if (at := _title_at(rows)) is not None}
    titled = list(titles)
    hidden = {name: bool(workbook[name][at].hidden) for name, at in titles.items()}
    titled.sort(key=hidden.__getitem__)  # visible first; a stable sort keeps the workbook order
    if not titled:
        raise UnreadableRelease(
            "no sheet carries a headline table title ('Major Exports by Quantity and Value' / '出口…商品量值表')"
        )
    rows = workbook[titled[0]]
    if len(rows) > _MAX_TABLE_ROWS:
        raise UnreadableRelease(f"sheet {titled[0]!r} has over {_MAX_TABLE_ROWS:,} rows: too long for a headline table")
    others = ", ".join(f"{name!r}{' (hidden)' if hidden[name] else ''}" for name in titled[1:])
    warnings = [f"sheets {others} also carry a headline table; only {titled[0]!r} was read"] if others else []
    return rows, warnings


# --- the table ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    basis: str  # month | jan_feb | ytd | prior_ytd
    measure: str  # quantity | value | yoy_quantity_pct | yoy_value_pct


@dataclass(frozen=True)
class _Layout:
    """Where the parts of the table stand, found from the title and header rows."""

    vintage: str
    year: int
    month: int
    money: Scale
    money_caption: str
    data_at: int  # index of the first row below the header
    name_col: int  # the table may start right of column A
    unit_col: int  # relative to name_col
    columns: dict[int, _Column]  # relative to name_col
    raw_keys: list[str]  # one key per column (relative to name_col) for the raw records


def parse_grid(rows: list[GridRow], layout: str) -> ParsedRelease:
    """Parse a headline table given as rows of text cells (from CSV, XLSX or XLS)."""
    table = _read_layout(rows)
    period = date(table.year, table.month, 1)
    width = max(table.columns) + 1
    records: list[dict[str, Any]] = []
    raw_records: dict[str, dict[str, Any]] = {}
    rejects: list[Reject] = []
    first_row_of: dict[str, str] = {}  # commodity -> the row that gave it
    rows_in = 0
    for row in rows[table.data_at :]:
        cells = row.cells[table.name_col :]
        unsaved = _unsaved_formulas(row, table)
        if not any(cells) and not unsaved:
            continue
        if row.hidden:
            # A row the workbook hides is not read: it holds a superseded or draft figure more often than a published
            # one, and it would claim the commodity before the visible row. Set aside where it holds figures.
            if any(cells[i] for i in table.columns if i < len(cells)):
                rows_in += 1
                raw_records[row.ref] = raw = _raw_record(cells, table.raw_keys)
                message = f"not read: {row.hidden} in the workbook (a draft or superseded figure, as a rule)"
                rejects.append(Reject(row.ref, "hidden_row", message, raw))
            continue
        if _ends_table(cells):
            break
        rows_in += 1
        raw = _raw_record(cells, table.raw_keys)
        raw_records[row.ref] = raw
        if unsaved:
            message = f"{unsaved}, saved without its result: the figure is unknown (reewatch evaluates no formula)"
            rejects.append(Reject(row.ref, "formula_without_value", message, raw))
            continue
        cells = _with_merged_unit(row, cells, table)
        problem = _shape_problem(cells, width, table)
        if problem:
            rejects.append(Reject(row.ref, "row_shape", problem, raw))
            continue
        commodity = commodity_name(cells[0])
        if lookalikes := lookalike_letters(commodity):
            message = f"commodity {commodity!r} mixes Latin letters with look-alikes ({lookalikes})"
            rejects.append(Reject(row.ref, "lookalike_letters", message, raw))
            continue
        series = series_for(commodity)
        if series in first_row_of:
            # Two figures for one commodity and month in one table: which one GACC meant cannot be told.
            message = f"a second row for {commodity!r} in this table (the first is row {first_row_of[series]})"
            rejects.append(Reject(row.ref, "duplicate_row", message, raw))
            continue
        first_row_of[series] = row.ref
        records.extend(_row_observations(row.ref, cells, table, period))
    stated = _stated_release_date(rows, period)
    return ParsedRelease(
        layout=layout,
        vintage=table.vintage,
        published_on=stated or _estimated_release_date(period, table.vintage),
        published_on_estimated=stated is None,
        observations=pd.DataFrame.from_records(records, columns=OBSERVATION_COLUMNS),
        raw_records=raw_records,
        rows_in=rows_in,
        rejects=rejects,
    )


def _read_layout(rows: list[GridRow]) -> _Layout:
    """Title, period, money unit and column roles; `UnreadableRelease` naming whatever is missing."""
    title_at = _title_at(rows)
    if title_at is None:
        raise UnreadableRelease("no headline table title ('Major Exports by Quantity and Value' / '出口…商品量值表')")
    vintage = _vintage(rows[title_at])
    header_at, name_col = _find_header(rows, title_at)
    data_at = _header_end(rows, header_at, name_col)
    year, month, jan_feb = _period(rows[title_at:header_at])
    money = _money_unit(rows[title_at:data_at], rows[header_at:data_at])
    if money is None:
        raise UnreadableRelease("no money unit row (e.g. 'Unit: USD1 Million' or '单位：万元') under the title")
    header = [row.cells[name_col:] for row in rows[header_at:data_at]]
    labels = _stacked_labels(header, _fold)
    unit_col = next((i for i in (1, 2) if i < len(labels) and re.search(r"单位|unit", labels[i])), 1)
    columns = _column_roles(labels, {0, unit_col}, jan_feb, year)
    if not any(c.measure == "quantity" for c in columns.values()):
        raise UnreadableRelease("the header names no quantity column (Quantity / 数量)")
    raw_keys = _unique([label or f"column {i + 1}" for i, label in enumerate(_stacked_labels(header, str.strip))])
    return _Layout(vintage, year, month, money[0], money[1], data_at, name_col, unit_col, columns, raw_keys)


def _title_at(rows: list[GridRow]) -> int | None:
    for index, row in enumerate(rows[:_TITLE_ROWS]):
        if _vintage(row):
            return index
    return None


def _vintage(row: GridRow) -> str:
    """The family whose title words the row carries ('' when none)."""
    text = nfkc(" ".join(row.cells))
    return next((vintage for vintage, pattern in _FAMILIES if pattern.search(text)), "")


def _period(title_rows: list[GridRow]) -> tuple[int, int, bool]:
    """(year, month, is_jan_feb) from 'August 2025', 'Jan.-Feb. 2025', '2025年8月', '2025年1-2月' or '2025年前2个月'."""
    text = _fold(" ".join(" ".join(row.cells) for row in title_rows))
    if m := re.search(r"(20\d\d)\s*年\s*(\d{1,2})\s*月?\s*[-~至到—–]\s*(\d{1,2})\s*月", text):
        return int(m[1]), int(m[3]), (int(m[2]), int(m[3])) == (1, 2)
    if m := re.search(r"(20\d\d)\s*年\s*前\s*[2二两]\s*个?\s*月", text):
        return int(m[1]), 2, True
    if m := re.search(r"(20\d\d)\s*年\s*(\d{1,2})\s*月", text):
        return int(m[1]), int(m[2]), False
    if m := re.search(r"\b(jan(?:uary)?)\.?\s*(?:-|–|—|to|and)\s*(feb(?:ruary)?)\.?,?\s*(20\d\d)", text):
        return int(m[3]), 2, True
    for m in re.finditer(r"\b([a-z]+)\.?,?\s+(20\d\d)\b", text):
        if m[1] in _MONTHS:
            return int(m[2]), _MONTHS[m[1]], False
    raise UnreadableRelease(f"the title names no month and year: {text!r}")


def _find_header(rows: list[GridRow], title_at: int) -> tuple[int, int]:
    """(row index, column index) of the header cell 'Commodity' / '商品名称' a few rows under the title."""
    for index in range(title_at + 1, min(len(rows), title_at + 8)):
        for col, cell in enumerate(rows[index].cells[:4]):
            if _fold(cell).replace(" ", "").startswith(_HEADER_WORDS):
                return index, col
    raise UnreadableRelease("no header row starting with 'Commodity' / '商品名称' under the title")


def _header_end(rows: list[GridRow], header_at: int, name_col: int) -> int:
    """Index of the first data row: header rows go on while the name cell is blank and no cell holds a number."""
    index = header_at + 1
    while index < len(rows) and index < header_at + _MAX_HEADER_ROWS:
        cells = rows[index].cells[name_col:]
        if (cells[:1] or [""])[0] or any(_is_number(c) for c in cells):
            break
        index += 1
    if index >= len(rows):
        raise UnreadableRelease("the table has a header but no data rows under it")
    return index


def _is_number(text: str) -> bool:
    try:
        return parse_number(text) is not None
    except ValueError:
        return False


def _money_unit(top_rows: list[GridRow], header_rows: list[GridRow]) -> tuple[Scale, str] | None:
    """The money scale and its caption: a unit row ('单位：万元人民币', 'Unit: US$1,000') under the title, else a unit
    in brackets in a header cell ('金额（万元）'). Brackets in the title are not read: '(in USD)' names no scale."""
    for row in top_rows:
        # The joined row too: an unquoted 'Unit: US$1,000' in a CSV is split into two cells at its comma.
        for cell in (*row.cells, ",".join(c for c in row.cells if c)):
            for candidate in (cell, *re.findall(r"(?:金额单位|单位|unit)\s*[:：]\s*([^;；]+)", cell, re.I)):
                if scale := money_scale_from_caption(candidate):
                    return scale, _caption(candidate)
    for row in header_rows:
        for cell in row.cells:
            for candidate in re.findall(r"[(（]([^()（）]+)[)）]", cell):
                if scale := money_scale_from_caption(candidate):
                    return scale, _caption(candidate)
    return None


def _caption(text: str) -> str:
    return re.sub(
        r"^\s*(金额单位|单位|units?)\s*[:：]?\s*", "", nfkc(text), flags=re.I
    ).strip()


def _stacked_labels(header: list[list[str]], clean: Callable[[str], str]) -> list[str]:
    """One label per column from stacked header rows, e.g. '1至8月 数量' or 'january to august value'.

    An upper row's label spans the blank cells to its right (merged cells), up to where a row above it starts a new
    span; the bottom row labels only its own column.
    """
    width = max((len(row) for row in header), default=0)
    labels = [""] * width
    span_starts = [False] * width
    for depth, row in enumerate(header):
        bottom = depth == len(header) - 1
        carried = ""
        starts_here = list(span_starts)
        for col in range(width):
            cell = clean(row[col]) if col < len(row) else ""
            if cell:
                carried = cell
                starts_here[col] = True
            elif span_starts[col] or bottom:
                carried = ""
            if carried:
                labels[col] = f"{labels[col]} {carried}".strip()
        span_starts = starts_here
    return labels


def _column_roles(labels: list[str], skip: set[int], jan_feb: bool, year: int) -> dict[int, _Column]:
    """Which column holds what, from its folded header label."""
    roles: dict[int, _Column] = {}
    for index, label in enumerate(labels):
        compact = label.replace(" ", "")
        if index in skip or not compact:
            continue
        if re.search(r"数量|quantity|qty", compact):
            kind = "quantity"
        elif re.search(r"金额|value|amount", compact):
            kind = "value"
        else:
            continue
        is_pct = bool(re.search(r"%|yoy|同比|比去年|增减|change|growth", compact))
        cumulative = bool(
            re.search(r"累计|januaryto|jan\.?-|jan\.?to|1[-至~—–]\d{1,2}月|1月?至\d{1,2}月|ytd|cumulative", compact)
        )
        if jan_feb:
            basis = "jan_feb"
        elif is_pct:
            basis = "ytd" if cumulative else "month"
        elif cumulative and str(year - 1) in compact:
            basis = "prior_ytd"
        else:
            basis = "ytd" if cumulative else "month"
        roles[index] = _Column(basis, f"yoy_{kind}_pct" if is_pct else kind)
    return roles


def _unique(keys: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key} ({seen[key]})")
    return out


# --- the rows -----------------------------------------------------------------------------------------------------


def _ends_table(cells: list[str]) -> bool:
    """Notes under the table ('注：…', 'Source: …', '* Rare earths include …') or the title of a next table."""
    first = _fold(cells[0])
    if _NOTE.match(first) or any(pattern.search(first) for _, pattern in _FAMILIES):
        return True
    return bool(_LEADING_MARK.match(cells[0].strip())) and not any(cells[1:])


def _raw_record(cells: list[str], keys: list[str]) -> dict[str, Any]:
    return {keys[i] if i < len(keys) else f"column {i + 1}": value for i, value in enumerate(cells)}


def _unsaved_formulas(row: GridRow, table: _Layout) -> str:
    """The table's cells in the row that hold a formula with no saved result ('T5!C5 holds =5000+792'), '' when none.
    Read as blanks, they would pass for 'not published'; a formula in a column the table does not use is let be."""
    used = {table.name_col, table.name_col + table.unit_col, *(table.name_col + column for column in table.columns)}
    named = [
        f"{sheets.cell_name(row.ref, column)} holds {formula}"
        for column, formula in sorted(row.unsaved_formulas.items())
        if column in used
    ]
    return ", ".join(named)


def _with_merged_unit(row: GridRow, cells: list[str], table: _Layout) -> list[str]:
    """The row's cells, its blank unit cell filled from a merged range over it: a workbook keeps the unit once, in the
    range's top-left cell, for all the rows it spans (one 'Ton' merged over two commodities' rows)."""
    merged_unit = row.merged.get(table.name_col + table.unit_col)
    if not merged_unit or cells[table.unit_col]:
        return cells
    return [merged_unit if i == table.unit_col else cell for i, cell in enumerate(cells)]


def _shape_problem(cells: list[str], width: int, table: _Layout) -> str:
    """Why a data row cannot be read ('' when it can)."""
    if len(cells) < width:
        return f"has {len(cells)} cells, the header has {width}"
    if not commodity_name(cells[0]):
        return "has no commodity name"
    if not any(cells[i] for i in table.columns):
        return "has a name but no figures (a heading or a note?)"
    return ""


def commodity_name(cell: str) -> str:
    """The commodity as printed, without the footnote marks stuck to it ('稀土*' → '稀土', 'Rare earths①') nor invisible
    characters (a BOM or zero-width space pasted into it)."""
    return _TRAILING_MARKS.sub("", without_format_chars(cell).strip()).strip()


def series_for(name: str) -> str:
    # Chinese tables pad a short name to the column's width with (ideographic) spaces: '稀　土' is 稀土.
    key = _BETWEEN_HAN.sub("", _fold(FOLDING_FOOTNOTE.sub("", name)))
    return _SERIES.get(key.replace("-", " "), f"gacc_commodity:{key}")


def _row_observations(ref: str, cells: list[str], table: _Layout, period: date) -> list[dict[str, Any]]:
    commodity = commodity_name(cells[0])
    series_id = series_for(commodity)
    unit_text = cells[table.unit_col]
    quantity_scale = scale_of(unit_text)
    observations = []
    for index, column in sorted(table.columns.items()):
        text = cells[index]
        try:
            number = parse_number(text)
        except ValueError:
            number = float("nan")  # the contract quarantines it, naming the text
        if number is None:
            continue  # '-' or blank: nothing published
        if column.measure == "quantity":
            if quantity_scale is not None and quantity_scale.kind == "mass":
                measure, factor, unit = "quantity_t", quantity_scale.factor, unit_text
            else:  # counts (vehicles, units, 亿个) stay in their published unit
                measure, factor, unit = "quantity", 1.0, unit_text
        elif column.measure == "value":
            measure, factor, unit = f"value_{table.money.unit.lower()}", table.money.factor, table.money_caption
        else:
            measure, factor, unit = column.measure, 1.0, "%"
        observations.append(
            {
                "source_row": ref,
                "series_id": series_id,
                "commodity": commodity,
                "hs_code": None,
                "period": period if column.basis != "prior_ytd" else date(period.year - 1, period.month, 1),
                "basis": "ytd" if column.basis == "prior_ytd" else column.basis,
                "partner": "WORLD",
                "partner_name": "World",
                "measure": measure,
                "value": _scaled(number, factor),
                "published_value": text,
                "published_unit": unit,
            }
        )
    return observations


def _scaled(number: float, factor: float) -> float:
    """number × factor worked in decimal, so that 0.58 (亿美元) gives 58,000,000 and not 57,999,999.99999999."""
    return float(Decimal(repr(number)) * Decimal(repr(factor)))


# --- the release date ---------------------------------------------------------------------------------------------


def _estimated_release_date(period: date, vintage: str) -> date:
    return date(period.year + (period.month == 12), period.month % 12 + 1, _RELEASE_DAY[vintage])


def _stated_release_date(rows: list[GridRow], period: date) -> date | None:
    """A release date the file states ('发布日期：2025-09-18', 'Released on September 18, 2025'), if plausible:
    after the period's month and within two years of it."""
    earliest = _estimated_release_date(period, "preliminary").replace(day=1)
    for row in rows:
        text = _fold(" ".join(row.cells))
        candidates = [(int(m[1]), int(m[2]), int(m[3])) for m in _DATE_NEAR_WORD.finditer(text)]
        for m in _DATE_NEAR_WORD_EN.finditer(text):
            month_name, day = (m[1], m[2]) if m[1] else (m[4], m[3])
            if month_name in _MONTHS:
                candidates.append((int(m[5]), _MONTHS[month_name], int(day)))
        for year, month, day in candidates:
            try:
                stated = date(year, month, day)
            except ValueError:
                continue
            if earliest <= stated <= earliest.replace(year=earliest.year + 2):
                return stated
    return None
