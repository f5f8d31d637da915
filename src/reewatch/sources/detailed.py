"""GACC detailed query export (DOMAIN.md §3.2): one row per period × HS code × partner (× trade mode).

These files run to millions of rows, so they never pass through pandas: polars' streaming engine reads the CSV
once, every cell as text (a dirty value becomes a quarantined row, not a failed file), and types it straight into
the observations' Parquet file, one row per line holding its quantity and value side by side
(reewatch.observation_pairs), which the contract then checks as long observation rows. (DuckDB did this in two
statements, the CSV into a scratch file of its lines, then those typed: 10M lines 9.0 s and 18 s of CPU, against
5.6–5.9 s and 11–12 s in one polars pass, which has since lost a fifth more: _lookup, _cleaned_where.)
Quantities come in kg (千克) and values in yuan or US dollars, one file per currency; both merge into one
observation set.
"""

from __future__ import annotations

import codecs
import mmap
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from reewatch.observation_pairs import pair_columns
from reewatch.partners import partner_table
from reewatch.progress import ReadProgress
from reewatch.sources.base import BATCH_SCHEMA, ParsedRelease, UnreadableRelease, csv_header
from reewatch.units import THOUSANDS, mass_spellings, nfkc, scale_of

LAYOUT = "gacc_detailed_csv"
# HS codes (China's 10-digit codes) of the named series; every other code keeps a series of its own,
# `gacc_hs:<code>`, which the warehouse leaves to Parquet in the lake (no curated table reads them).
SERIES_BY_HS = {"8505111000": "gacc_magnets_850511"}
OTHER_HS_SERIES = "gacc_hs:"
# No real export row comes near this; a longer line is refused before polars reads it (it would hold it whole).
MAX_LINE_BYTES = 2 << 20
# polars reads only the cells a query uses, and then a line with a cell more than the header (an unquoted comma in
# a name) loads without an error, a null in its last cell (polars 2.1): every cell is read, so that it fails the file.
_EVERY_CELL_READ = pl.QueryOptFlags(projection_pushdown=False)
UTF8_FILE = "export.utf8.csv"  # a GB18030 export's UTF-8 copy, in the parse's scratch folder

# Canonical column -> header spellings (Chinese export, English export), folded.
_HEADERS: dict[str, tuple[str, ...]] = {
    "period": ("数据年月", "年月", "date of data", "data month", "period", "month"),
    "hs_code": ("商品编码", "commodity code", "hs code", "code"),
    "commodity": ("商品名称", "commodity name", "commodity", "description"),
    "partner_code": ("贸易伙伴编码", "partner code", "trading partner code", "country code"),
    "partner_name": ("贸易伙伴名称", "partner name", "trading partner", "partner", "country"),
    "trade_mode": ("贸易方式", "trade mode", "trade regime"),
    "quantity": ("第一数量", "first quantity", "quantity 1", "quantity"),
    "quantity_unit": ("第一计量单位", "first unit", "unit 1", "unit of first quantity", "unit"),
    "quantity2": ("第二数量", "second quantity", "quantity 2"),
    "quantity2_unit": ("第二计量单位", "second unit", "unit 2", "unit of second quantity"),
}
_CURRENCIES = (("value_cny", ("人民币", "rmb", "cny", "yuan")), ("value_usd", ("美元", "usd", "us dollar", "dollar")))
_REQUIRED = ("period", "hs_code", "partner_name", "quantity", "quantity_unit")


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", nfkc(text)).strip().lower()  # as every layout folds its headers


@dataclass(frozen=True)
class _Header:
    names: list[str]  # canonical name per file column, in file order ("" for columns we do not read)
    value_measure: str  # value_cny | value_usd
    value_factor: float
    value_unit: str  # the money unit as printed
    encoding: str


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, judged on the head of the file, not just its (ASCII) header."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (exc.start >= len(head) - 3 and "end of data" in exc.reason):  # not merely a cut character
            return "gb18030"
    return "utf-8"


def _read_header(head: bytes) -> _Header | None:
    encoding = _encoding(head)
    line = head.split(b"\n", 1)[0]  # the header is the first line
    try:
        text = line.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError:
        return None
    first = csv_header(text.strip())
    names: list[str] = []
    value: tuple[str, float, str] | None = None
    for cell in first:
        folded = _fold(cell)
        canonical = next((name for name, spellings in _HEADERS.items() if folded in spellings), "")
        if not canonical:
            bare = re.sub(r"[（(].*?[)）]", "", folded).strip()
            for measure, words in _CURRENCIES:
                if any(word in bare for word in words):
                    scale = _money_scale(folded, measure)
                    value = (measure, scale[0], scale[1])
                    canonical = "value"
                    break
        names.append(canonical)
    if value is None or any(required not in names for required in _REQUIRED):
        return None
    return _Header(names, value[0], value[1], value[2], encoding)


def _money_scale(header: str, measure: str) -> tuple[float, str]:
    """'人民币' is yuan; '美元（千美元）' or 'USD (thousand)' carry a scale in brackets."""
    inner = re.search(r"[（(](.*?)[)）]", header)
    if inner and (scale := scale_of(inner[1])) is not None and scale.kind == "money":
        return scale.factor, inner[1]
    return 1.0, "元" if measure == "value_cny" else "USD"


def detect(data: bytes, name: str) -> bool:
    return b"\x00" not in data[:4096] and _read_header(data[:4096]) is not None


def parse_path(path: Path, name: str, scratch: Path | None = None) -> ParsedRelease:
    """Parse lazily: the observations are typed when written. `scratch` is a folder of the caller's that outlives
    this parse, where a GB18030 export's UTF-8 copy stays for a later parse of the same bytes (else a folder of its
    own)."""
    with path.open("rb") as handle:
        header = _read_header(handle.read(65536))
    if header is None:
        raise UnreadableRelease("not a detailed customs export: the header lacks 数据年月/商品编码/贸易伙伴/第一数量")
    release = ParsedRelease(
        layout=LAYOUT,
        vintage="detailed",
        published_on=None,
        published_on_estimated=True,
        observations=_EMPTY,
        raw_records={},
        rows_in=0,
    )
    if scratch is None:  # a folder of this parse's own, removed by release.close()
        scratch = Path(tempfile.mkdtemp(prefix="reewatch-detailed-"))
        release.temp_files.append(scratch)
    state = _Export(path, name, header, scratch)
    release.copy_observations = lambda parsed, target: _copy_observations(state, parsed, target)
    release.raw_lookup = lambda rows: _raw_records(state, rows)
    return release


def parse(data: bytes, name: str) -> ParsedRelease:
    """For callers holding bytes (tests, small files): spill to a temp file and stream from there."""
    tmp = tempfile.NamedTemporaryFile(prefix="reewatch-detailed-", suffix=".csv", delete=False)  # noqa: SIM115
    with tmp:
        tmp.write(data)
    parsed = parse_path(Path(tmp.name), name)
    parsed.temp_files.append(Path(tmp.name))
    return parsed


@dataclass(frozen=True)
class _Export:
    """One export being parsed: where its bytes are, its name for messages and its header."""

    path: Path
    name: str
    header: _Header
    scratch: Path

    def utf8(self) -> Path:
        """The export as UTF-8, which is all polars reads: a GB18030 export is transcoded once into the scratch
        folder, streaming (whole: it is renamed into place once written)."""
        if self.header.encoding == "utf-8":
            return self.path
        target = self.scratch / UTF8_FILE
        if not target.exists():
            self.scratch.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".partial-{UTF8_FILE}")
            with self.path.open("rb") as src, partial.open("wb") as dst:
                decoder = codecs.getincrementaldecoder(self.header.encoding)(errors="replace")
                for chunk in iter(lambda: src.read(1 << 22), b""):
                    dst.write(decoder.decode(chunk).encode("utf-8"))
                dst.write(decoder.decode(b"", final=True).encode("utf-8"))
            partial.replace(target)
        return target

    def lines(self) -> pl.LazyFrame:
        """The data lines as text, each with its line number (`line`): line 1 is the header. A blank line holds no
        figure and is left out, after numbering, so that the lines after it keep their numbers in the file."""
        names = [name or f"ignored_{i}" for i, name in enumerate(self.header.names)]
        rows = pl.scan_csv(
            self.utf8(),
            has_header=False,
            skip_rows=1,  # the header, which _read_header has read
            new_columns=names,
            schema=dict.fromkeys(names, pl.String),  # every cell as text: a dirty value is a quarantined row
            quote_char='"',
            row_index_name="line",
            row_index_offset=2,
            raise_if_empty=False,
        )
        return rows.filter(~pl.all_horizontal(pl.exclude("line").is_null()))


def _has_data_rows(csv_path: Path) -> bool:
    """Whether anything but blank space follows the header line."""
    with csv_path.open("rb") as handle:
        handle.readline(65536)  # the header: detection read it from the first 64 KB
        return bool(handle.read(65536).strip())


def _longest_line_fits(csv_path: Path) -> bool:
    """Whether every line is shorter than MAX_LINE_BYTES, checked without reading the file: from the start of each
    line, the last newline within MAX_LINE_BYTES is the end of a later line, so a few thousand jumps cover 1 GB.
    A polars scan would hold a longer line in memory whole (a hostile 1 GB line: more than the run's budget)."""
    size = csv_path.stat().st_size
    if size <= MAX_LINE_BYTES:
        return True
    with csv_path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = 0
        while size - start > MAX_LINE_BYTES:
            last = data.rfind(b"\n", start, start + MAX_LINE_BYTES)
            if last < 0:
                return False
            start = last + 1
    return True


def _typed_pairs(export: _Export) -> pl.LazyFrame:
    """One row per line: the shared columns typed, the quantity and the value side by side with their units
    (reewatch.observation_pairs), in the file's order."""
    header = export.header
    partners = dict(partner_table())
    # Each cleaned cell and lookup is a column of its own before the pairs' columns use it: within one select,
    # polars' streaming engine computed a shared expression once per use (10M lines: a tenth of the typing's time).
    # The cleaning DuckDB's trim() and RE2's \s did before: spaces only at the ends, ASCII white space inside.
    hs = _trimmed("hs_code")
    lines = export.lines().with_columns(
        period=_trimmed("period"),
        partner_name=_trimmed("partner_name"),
        quantity_unit=_trimmed("quantity_unit"),
        hs_code=_cleaned_where(hs.str.contains("[^0-9]"), hs.str.replace_all("[^0-9]", ""), hs),
    )
    period, partner_name, quantity_unit, hs = map(pl.col, ("period", "partner_name", "quantity_unit", "hs_code"))
    # A name as printed is looked up first, and only the names not found so are folded (white space, case) and
    # looked up again: GACC prints its names as they are known, so the folding's string work is not done on every
    # one of ten million lines (10M lines: 0.15–0.2 s of 5.8).
    lines = lines.with_columns(
        partner_as_printed=_lookup(partner_name, partners),
        factor=_lookup(quantity_unit.str.to_lowercase(), mass_spellings()),
    )
    as_printed, factor = pl.col("partner_as_printed"), pl.col("factor")
    folded = pl.when(as_printed.is_null()).then(partner_name).str.replace_all(r"[\t\n\f\r ]+", " ").str.to_lowercase()
    series = pl.lit(OTHER_HS_SERIES) + hs
    for code, series_id in SERIES_BY_HS.items():
        series = pl.when(hs == code).then(pl.lit(series_id)).otherwise(series)
    trade_mode = _trimmed("trade_mode") if "trade_mode" in header.names else pl.lit(None, pl.String)
    return lines.select(
        source_row=pl.col("line").cast(pl.String),
        series_id=series,
        commodity=_trimmed("commodity"),
        hs_code=hs,
        period=_month(period),
        basis=pl.lit("month"),
        partner=pl.coalesce(as_printed, _lookup(folded, partners)),
        partner_name=partner_name,
        trade_mode=trade_mode,
        quantity_measure=pl.when(factor.is_null()).then(pl.lit("quantity")).otherwise(pl.lit("quantity_t")),
        quantity=_number(pl.col("quantity")) * factor.fill_null(1.0),
        quantity_published=pl.col("quantity").fill_null(""),
        quantity_unit=quantity_unit,
        value_measure=pl.lit(header.value_measure),
        value=_number(pl.col("value")) * header.value_factor,
        value_published=pl.col("value").fill_null(""),
        value_unit=pl.lit(header.value_unit),
    ).select(pair_columns())


def _lookup(key: pl.Expr, table: dict[str, Any]) -> pl.Expr:
    """The value of `key` in `table`, null where it has none. The key cast to an Enum of the table's keys is its
    position in the table, which picks the value. A join would copy every other column of ten million lines to
    add one: with _number's fast path, typing 10M lines takes 17 % less time and CPU than with three joins."""
    keys = pl.Enum(list(table))  # a key outside the table casts to null, not strictly
    return pl.lit(pl.Series(list(table.values()))).gather(key.cast(keys, strict=False).to_physical())


def _cleaned_where(dirty: pl.Expr, cleaned: pl.Expr, as_printed: pl.Expr) -> pl.Expr:
    """`cleaned` where `dirty` holds, else `as_printed`. polars does not compute `cleaned` for a batch of lines
    where `dirty` holds nowhere, and GACC's cells are clean: the cleaning's string copies are made only for the
    few batches that need them (callgrind, 200K lines: trimming five columns took 11 % of the typing's
    instructions, 6 % with this)."""
    return pl.when(dirty).then(cleaned).otherwise(as_printed)


def _trimmed(column: str) -> pl.Expr:
    """A cell without the spaces at its ends."""
    cell = pl.col(column)
    return _cleaned_where(cell.str.starts_with(" ") | cell.str.ends_with(" "), cell.str.strip_chars(" "), cell)


def _month(period: pl.Expr) -> pl.Expr:
    """A month printed as 202508 (or 2025-08, 2025-8), as its first day; null when it is none. polars reads
    `%Y%m` as exactly six digits, and only a cell that does not read so is tried as `YYYY-M`."""
    yyyymm = period.str.strptime(pl.Date, "%Y%m", strict=False)
    dashed = pl.when(period.str.contains("^[0-9]{4}-[0-9]{1,2}$")).then(period + "-01")
    dashed_month = dashed.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return _cleaned_where(yyyymm.is_null() & period.is_not_null(), dashed_month, yyyymm)


# Thousands separators where they belong: "1,116,000" or "1,234.5", not "1.234,5" (a decimal comma) or "12,34,5".
_GROUPED = rf"^\s*{THOUSANDS}\s*$"


def _number(text: pl.Expr) -> pl.Expr:
    """A published figure as a number (thousands separators and spaces dropped), null when it is none. Commas are
    dropped only where they group thousands: "1.234,5" is no number (a null, which the contract quarantines), not
    1.2345."""
    as_printed = text.cast(pl.Float64, strict=False)
    cleaned = (
        pl.when(text.str.contains(_GROUPED) | ~text.str.contains(",", literal=True))
        .then(text.str.replace_all(",", "", literal=True).str.strip_chars())
        .cast(pl.Float64, strict=False)
    )
    return _cleaned_where(as_printed.is_null() & text.is_not_null(), cleaned, as_printed)


def _copy_observations(export: _Export, parsed: ParsedRelease, target: Path) -> None:
    """Type the whole file into a Parquet file of observation pairs with polars' streaming engine (no row passes
    through Python; one read of the CSV), then take rows_in and the latest month from that file."""
    csv_path = export.utf8()
    if not _has_data_rows(csv_path):
        parsed.warnings.append("the export has a header but no data rows")
        pl.DataFrame(schema=BATCH_SCHEMA).write_parquet(target)
        return
    if not _longest_line_fits(csv_path):
        raise UnreadableRelease(
            f"cannot read the CSV: a line is longer than {MAX_LINE_BYTES >> 20} MB, which no real export row comes near"
        )
    if (line := _line_of(csv_path, b"\x00")) is not None:  # detection looked at the first 4 KB only
        raise UnreadableRelease(
            f"cannot read the CSV: line {line} holds a NUL byte, which no text export has (a damaged copy, or not a "
            "CSV file at all)"
        )
    try:
        with ReadProgress(csv_path, f"{export.name} (typing)"):
            # LZ4 (Parquet's LZ4_RAW, which DuckDB, pyarrow and Spark read): as small as snappy (10M lines: 260 MB)
            # and quicker to decode for Pandera's scans (1.38 -> 1.12 s); zstd 157 MB but 0.8 s more to write.
            _typed_pairs(export).sink_parquet(target, compression="lz4", optimizations=_EVERY_CELL_READ)
    except pl.exceptions.PolarsError as exc:  # polars' CSV errors: keep their words, drop the stack
        raise UnreadableRelease(_csv_error(str(exc), export.header, csv_path)) from None
    # Both answered from the Parquet file's metadata and statistics.
    summary = pl.scan_parquet(target).select(pl.len(), pl.col("period").max()).collect()
    parsed.rows_in = int(summary.item(0, 0))
    parsed.published_on = _estimated_publication(summary.item(0, 1))
    parsed.published_on_without = lambda rows: _estimated_publication(
        pl.scan_parquet(target).filter(~pl.col("source_row").is_in(sorted(rows))).select(pl.col("period").max())
        .collect().item()
    )  # fmt: skip


def _csv_error(text: str, header: _Header, csv_path: Path) -> str:
    """polars' CSV error in the words of the file, naming the line where polars names only the cell."""
    if "more fields than defined" in text:
        return (
            f"cannot read the CSV: its lines do not all split into the header's {len(header.names)} columns (a line "
            "with more cells, e.g. an unquoted comma in a name)"
        )
    cell = re.search(r"could not parse `(.*)` as dtype `str` at column '(.*)'", text)
    if cell:
        where = _line_of(csv_path, cell[1].encode())
        return (
            f"cannot read the CSV: {f'line {where}, ' if where else ''}column {cell[2]}: {cell[1]!r} is not a "
            "properly quoted cell (a quote inside a quoted cell must be doubled)"
        )
    return f"cannot read the CSV: {text.strip().splitlines()[0]}"


def _line_of(csv_path: Path, cell: bytes) -> int | None:
    """The line number of the first line holding `cell`, found without reading the file into Python (memchr: a
    byte not in 1 GB is looked for in 0.2 s)."""
    at = _first_offset(csv_path, cell)
    if at is None:
        return None
    newlines = 0
    for start, data in _windows(csv_path):
        if start >= at:
            break
        newlines += data[: min(len(data), at - start)].count(b"\n")  # a copy of a window at most
    return newlines + 1


def _first_offset(csv_path: Path, cell: bytes) -> int | None:
    for start, data in _windows(csv_path, overlap=len(cell) - 1):  # a cell across two windows is in the first
        if (at := data.find(cell)) >= 0:
            return start + at
    return None


def _windows(csv_path: Path, overlap: int = 0) -> Iterator[tuple[int, mmap.mmap]]:
    """The file mapped 64 MB at a time (each window `overlap` bytes longer), with where each starts. A window at a
    time: every page of a mapping that is read counts in the process's resident memory until it is unmapped, and
    all of a 1 GB export at once took a run's peak from 1.07 to 1.46 GB."""
    size, window = csv_path.stat().st_size, 1 << 26  # a multiple of mmap.ALLOCATIONGRANULARITY
    with csv_path.open("rb") as handle:
        for start in range(0, size, window):
            length = min(window + overlap, size - start)
            with mmap.mmap(handle.fileno(), length, access=mmap.ACCESS_READ, offset=start) as data:
                yield start, data


def _estimated_publication(latest: date | None) -> date | None:
    """Detailed data come out around the 20th of the month after the latest period in the file."""
    if latest is None:
        return None
    return date(latest.year + (latest.month == 12), latest.month % 12 + 1, 20)


def _raw_records(export: _Export, rows: set[str]) -> dict[str, dict[str, Any]]:
    """The quarantined rows as they stood in the file: one more scan of it, only for a release with such rows."""
    wanted = sorted(int(r) for r in rows if r.isdigit() and int(r) >= 2)
    if not wanted:
        return {}
    found = export.lines().filter(pl.col("line").is_in(wanted)).collect(optimizations=_EVERY_CELL_READ)
    return {str(record.pop("line")): record for record in found.iter_rows(named=True)}


_EMPTY = pd.DataFrame()
