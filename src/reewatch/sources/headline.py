"""GACC headline commodity table (DOMAIN.md §3.1): one row per commodity, month and Jan–month figures.

The table is found by its title words, never by its printed number. Header rows say which column is which:
the month, the cumulative Jan–month, the prior year's cumulative, and the year-on-year percentages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from reewatch.sources.base import (
    OBSERVATION_COLUMNS,
    GridRow,
    ParsedRelease,
    Reject,
    UnreadableRelease,
    read_csv_grid,
)
from reewatch.units import money_scale_from_caption, parse_number, scale_of

LAYOUT_CSV = "gacc_headline_csv"

# Title words of each family; the preliminary release (快讯) and the monthly bulletin (月刊) are two vintages.
_FAMILIES = (
    ("preliminary", re.compile(r"major\s+exports?\s+by\s+quantity\s+and\s+value|出口重点商品量值表", re.I)),
    (
        "bulletin",
        re.compile(r"major\s+export\s+commodities\s+in\s+quantity\s+and\s+value|出口主要商品量值表", re.I),
    ),
)
# Rows whose commodity is one of these map to a named series; every other commodity keeps its own series.
_SERIES = {"rare earths": "gacc_rare_earths", "rare earth": "gacc_rare_earths", "稀土": "gacc_rare_earths"}
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
_END_OF_TABLE = re.compile(r"^(note|notes|source|注|资料来源|说明)", re.I)
# Calendar days when a release usually comes out in the month after its period (DOMAIN.md §2).
_RELEASE_DAY = {"preliminary": 10, "bulletin": 18}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def detect(data: bytes, name: str) -> bool:
    """A headline table is any CSV whose first rows carry one of the family titles."""
    head = data[:4096]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding, errors="ignore")
            break
        except LookupError:  # pragma: no cover - both codecs ship with Python
            continue
    folded = unicodedata.normalize("NFKC", text)
    return b"\x00" not in head and any(pattern.search(folded) for _, pattern in _FAMILIES)


def parse(data: bytes, name: str) -> ParsedRelease:
    return parse_grid(read_csv_grid(data), layout=LAYOUT_CSV)


@dataclass(frozen=True)
class _Column:
    basis: str  # month | jan_feb | ytd | prior_ytd
    measure: str  # quantity | value | yoy_quantity_pct | yoy_value_pct


def parse_grid(rows: list[GridRow], layout: str) -> ParsedRelease:
    """Parse a headline table given as rows of text cells (from CSV, XLSX or XLS)."""
    title_at, vintage, title = _find_title(rows)
    year, month, jan_feb = _period_from_title(title)
    money = None
    for row in rows[title_at : title_at + 4]:
        money = money or next((s for c in row.cells if c and (s := money_scale_from_caption(c))), None)
    if money is None:
        raise UnreadableRelease("no money unit row (e.g. 'Unit: USD1 Million' or '单位：万元') under the title")
    header_at = next((i for i in range(title_at + 1, min(len(rows), title_at + 8)) if _is_header(rows[i].cells)), None)
    if header_at is None or header_at + 1 >= len(rows):
        raise UnreadableRelease("no header row starting with 'Commodity' / '商品名称' under the title")
    columns = _column_roles(rows[header_at].cells, rows[header_at + 1].cells, jan_feb, year)
    if not any(c.measure == "quantity" for c in columns.values()):
        raise UnreadableRelease("the header names no quantity column (Quantity / 数量)")
    width = max(columns) + 1

    period = date(year, month, 1)
    records: list[dict[str, Any]] = []
    raw_records: dict[str, dict[str, Any]] = {}
    rejects: list[Reject] = []
    rows_in = 0
    header_cells = [c or f"column {i + 1}" for i, c in enumerate(rows[header_at].cells)]
    for row in rows[header_at + 2 :]:
        cells = row.cells
        if not any(cells):
            continue
        if _END_OF_TABLE.match(_fold(cells[0])):
            break
        rows_in += 1
        raw = {header_cells[i] if i < len(header_cells) else f"column {i + 1}": v for i, v in enumerate(cells)}
        raw_records[row.ref] = raw
        if len(cells) < width:
            rejects.append(Reject(row.ref, "row_shape", f"has {len(cells)} cells, the header has {width}", raw))
            continue
        commodity = cells[0]
        unit_text = cells[1]
        series_id = _SERIES.get(_fold(commodity).rstrip("*0123456789 "), f"gacc_commodity:{_fold(commodity)}")
        quantity_scale = scale_of(unit_text)
        for index, column in sorted(columns.items()):
            text = cells[index]
            try:
                number = parse_number(text)
            except ValueError:
                number = float("nan")  # the contract quarantines it, naming the text
            if column.measure == "quantity":
                if quantity_scale is not None and quantity_scale.kind == "mass":
                    measure, factor, unit = "quantity_t", quantity_scale.factor, unit_text
                else:  # counts (vehicles, units) stay in their published unit
                    measure, factor, unit = "quantity", 1.0, unit_text
            elif column.measure == "value":
                measure, factor, unit = f"value_{money.unit.lower()}", money.factor, None
            else:
                measure, factor, unit = column.measure, 1.0, "%"
            if number is None:
                continue  # '-' : nothing published
            at = period if column.basis != "prior_ytd" else date(year - 1, month, 1)
            records.append(
                {
                    "source_row": row.ref,
                    "series_id": series_id,
                    "commodity": commodity,
                    "hs_code": None,
                    "period": at,
                    "basis": "ytd" if column.basis == "prior_ytd" else column.basis,
                    "partner": "WORLD",
                    "partner_name": "World",
                    "measure": measure,
                    "value": number * factor,
                    "published_value": text,
                    "published_unit": unit if unit is not None else _money_caption(rows, title_at),
                }
            )
    observations = pd.DataFrame.from_records(records, columns=OBSERVATION_COLUMNS)
    published_on = date(year + (month == 12), month % 12 + 1, _RELEASE_DAY[vintage])
    return ParsedRelease(
        layout=layout,
        vintage=vintage,
        published_on=published_on,
        published_on_estimated=True,
        observations=observations,
        raw_records=raw_records,
        rows_in=rows_in,
        rejects=rejects,
    )


def _find_title(rows: list[GridRow]) -> tuple[int, str, str]:
    for index, row in enumerate(rows[:15]):
        text = unicodedata.normalize("NFKC", " ".join(row.cells))
        for vintage, pattern in _FAMILIES:
            if pattern.search(text):
                return index, vintage, text
    raise UnreadableRelease("no headline table title ('Major Exports by Quantity and Value' / '出口…商品量值表')")


def _period_from_title(title: str) -> tuple[int, int, bool]:
    """(year, month, is_jan_feb) from 'August 2025', 'January-February 2025', '2025年8月' or '2025年1-2月'."""
    text = _fold(title)
    if m := re.search(r"(20\d\d)\s*年\s*(\d{1,2})\s*(?:[-~至到])\s*(\d{1,2})\s*月", text):
        return int(m[1]), int(m[3]), (int(m[2]), int(m[3])) == (1, 2)
    if m := re.search(r"(20\d\d)\s*年\s*(\d{1,2})\s*月", text):
        return int(m[1]), int(m[2]), False
    if m := re.search(r"\b(jan(?:uary)?)\s*(?:-|–|to|and)\s*(feb(?:ruary)?)\.?,?\s*(20\d\d)", text):
        return int(m[3]), 2, True
    if m := re.search(r"\b([a-z]+)\.?,?\s+(20\d\d)\b", text):
        if m[1] in _MONTHS:
            return int(m[2]), _MONTHS[m[1]], False
    raise UnreadableRelease(f"the title names no month and year: {title!r}")


def _is_header(cells: list[str]) -> bool:
    first = _fold(cells[0]) if cells else ""
    return first.startswith("commodit") or first.startswith("商品")


def _column_roles(top: list[str], sub: list[str], jan_feb: bool, year: int) -> dict[int, _Column]:
    """Which column holds what, from the two header rows (the top row's labels span their sub-columns)."""
    roles: dict[int, _Column] = {}
    block = ""
    for index in range(2, max(len(top), len(sub))):
        label = _fold(top[index]) if index < len(top) else ""
        block = label or block
        sublabel = _fold(sub[index]) if index < len(sub) else ""
        if not block and not sublabel:
            continue
        is_pct = any(w in block + sublabel for w in ("yoy", "%", "同比", "比去年", "change"))
        cumulative = bool(re.search(r"january\s+to|jan\.?\s*-|1\s*[-至~]\s*\d+\s*月|累计", block + " " + sublabel))
        if "quantity" in sublabel or "数量" in sublabel:
            kind = "quantity"
        elif "value" in sublabel or "金额" in sublabel or "amount" in sublabel:
            kind = "value"
        else:
            continue
        if is_pct:
            roles[index] = _Column("jan_feb" if jan_feb else ("ytd" if cumulative else "month"), f"yoy_{kind}_pct")
        elif jan_feb:
            roles[index] = _Column("jan_feb", kind)
        elif cumulative and str(year - 1) in block:
            roles[index] = _Column("prior_ytd", kind)
        elif cumulative:
            roles[index] = _Column("ytd", kind)
        else:
            roles[index] = _Column("month", kind)
    return roles


def _money_caption(rows: list[GridRow], title_at: int) -> str:
    for row in rows[title_at : title_at + 4]:
        for cell in row.cells:
            if cell and money_scale_from_caption(cell):
                return re.sub(r"^\s*(unit|单位)\s*[:：]?\s*", "", unicodedata.normalize("NFKC", cell), flags=re.I)
    return ""
