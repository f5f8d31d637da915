"""GACC detailed query export (DOMAIN.md §3.2): one row per period × HS code × partner (× trade mode).

These files run to millions of rows, so they never pass through pandas: DuckDB reads the CSV with explicit
VARCHAR columns (a dirty value becomes a quarantined row, not a failed file) into a scratch Parquet file of its
lines, then types those into the observations' Parquet file, one row per line holding its quantity and value
side by side (reewatch.observation_pairs), which the contract then checks as long observation rows.
Quantities come in kg (千克) and values in yuan or US dollars, one file per currency; both merge into one
observation set.
"""

from __future__ import annotations

import codecs
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl

from reewatch.observation_pairs import pair_columns
from reewatch.partners import partner_table
from reewatch.progress import QueryProgress
from reewatch.sources.base import BATCH_SCHEMA, ParsedRelease, UnreadableRelease, csv_header
from reewatch.units import mass_spellings, scale_of
from reewatch.warehouse import connect, sql_literal

LAYOUT = "gacc_detailed_csv"
# HS codes (China's 10-digit codes) of the named series; every other code keeps a series of its own,
# `gacc_hs:<code>`, which the warehouse leaves to Parquet in the lake (no curated table reads them).
SERIES_BY_HS = {"8505111000": "gacc_magnets_850511"}
OTHER_HS_SERIES = "gacc_hs:"
# The COPYs stream; left to itself DuckDB would also cache up to 80 % of RAM (10M rows: 840 MB peak, 580 MB with
# this limit, as fast), while GX loads beside it in a worker process (reewatch.gx_worker).
MEMORY_LIMIT = "512MB"
LINES_FILE = "lines.parquet"  # the export's lines as text, in the parse's scratch folder

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
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


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
    """Parse lazily: the observations are typed when written, the lines read once into `scratch` (a folder of the
    caller's that outlives this parse, so a later parse of the same bytes reuses them; else one of its own)."""
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
    # The file's name for progress lines, the folder of its lines as Parquet, its UTF-8 copy once made.
    state: dict[str, Any] = {"name": name, "scratch": scratch}
    release.copy_observations = lambda parsed, target: _copy_observations(path, header, parsed, state, target)
    release.raw_lookup = lambda rows: _raw_records(path, header, release, state, rows)
    return release


def parse(data: bytes, name: str) -> ParsedRelease:
    """For callers holding bytes (tests, small files): spill to a temp file and stream from there."""
    tmp = tempfile.NamedTemporaryFile(prefix="reewatch-detailed-", suffix=".csv", delete=False)  # noqa: SIM115
    with tmp:
        tmp.write(data)
    parsed = parse_path(Path(tmp.name), name)
    parsed.temp_files.append(Path(tmp.name))
    return parsed


def _utf8_copy(path: Path, encoding: str) -> Path:
    """DuckDB reads UTF-8 only: transcode a GB18030 export once, streaming."""
    if encoding == "utf-8":
        return path
    target = Path(tempfile.mkstemp(prefix="reewatch-utf8-", suffix=".csv")[1])
    with path.open("rb") as src, target.open("wb") as dst:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        for chunk in iter(lambda: src.read(1 << 22), b""):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return target


def _read_csv_sql(csv_path: Path, header: _Header) -> str:
    columns = ", ".join(f"'{name or f'ignored_{i}'}': 'VARCHAR'" for i, name in enumerate(header.names))
    # The dialect is sniffed on purpose: with auto_detect = false DuckDB 1.5 silently reads no row at all from a
    # file whose only line is longer than its buffer (tests/test_hostile.py, the 1 GB line).
    return (
        f"read_csv({sql_literal(str(csv_path))}, columns = {{{columns}}}, header = false, skip = 1, quote = '\"', "
        "null_padding = true, ignore_errors = false, strict_mode = false)"
    )


def _has_data_rows(csv_path: Path) -> bool:
    """Whether anything but blank space follows the header line (DuckDB's sniffer fails on a header-only file)."""
    with csv_path.open("rb") as handle:
        handle.readline(65536)  # the header: detection read it from the first 4 KB
        return bool(handle.read(65536).strip())


def _utf8_csv(path: Path, header: _Header, parsed: ParsedRelease, state: dict[str, Any]) -> Path:
    """The export as UTF-8 (all DuckDB reads), transcoded at most once per parse; removed by parsed.close()."""
    if "csv" not in state:
        state["csv"] = _utf8_copy(path, header.encoding)
        if state["csv"] != path:
            parsed.temp_files.append(state["csv"])
    return Path(state["csv"])


def _lines(
    path: Path, header: _Header, parsed: ParsedRelease, state: dict[str, Any], con: duckdb.DuckDBPyConnection
) -> Path:
    """The export's data lines as text in a Parquet file in the scratch folder, made once per folder (the stage's:
    the commit's look-up of quarantined lines then reuses the stage's file). Numbering lines is what costs:
    `row_number() OVER ()` over a CSV scan holds every row until the end (10M rows: +4.5 s), and after a join DuckDB
    no longer promises the file's order. A plain scan keeps the order, so this copy's free `file_row_number` k is
    the file's line k + 2 (line 1 is the header)."""
    lines: Path = state["scratch"] / LINES_FILE
    if lines.exists():  # whole: it is renamed into place once written
        return lines
    csv_path = _utf8_csv(path, header, parsed, state)
    lines.parent.mkdir(parents=True, exist_ok=True)  # a look-up may come after the stage folder was removed
    partial = lines.with_name(f".partial-{LINES_FILE}")
    with QueryProgress(con, f"{state['name']} (reading)"):
        # Uncompressed: a scratch file, read once or twice and never kept (10M rows: 0.3–0.5 s less than snappy).
        target = f"{sql_literal(str(partial))} (FORMAT parquet, COMPRESSION uncompressed)"
        con.execute(f"COPY (FROM {_read_csv_sql(csv_path, header)}) TO {target}")
    partial.replace(lines)
    return lines


def _copy_observations(path: Path, header: _Header, parsed: ParsedRelease, state: dict[str, Any], target: Path) -> None:
    """Type the whole file into a Parquet file of observation pairs with DuckDB (no row passes through Python),
    then take rows_in and the latest month from the metadata of the lines' and the observations' Parquet files."""
    if not _has_data_rows(_utf8_csv(path, header, parsed, state)):
        parsed.warnings.append("the export has a header but no data rows")
        pl.DataFrame(schema=BATCH_SCHEMA).write_parquet(target)
        return
    con = connect(":memory:", extensions=(), memory_limit=MEMORY_LIMIT)
    try:
        # Lookup tables go in from Arrow (executemany of a thousand rows costs a second), as tables: a scan of a
        # registered Arrow object would leave DuckDB without a progress estimate for the whole statement.
        names = pl.DataFrame(partner_table(), schema=["name", "code"], orient="row").unique("name")
        units = pl.DataFrame(list(mass_spellings().items()), schema=["unit", "factor"], orient="row")
        for table, rows in (("partner_names", names), ("mass_units", units)):
            con.register("lookup", rows.to_arrow())
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM lookup")  # noqa: S608 - our two names
            con.unregister("lookup")
        series_cases = " ".join(f"WHEN '{hs}' THEN '{series}'" for hs, series in SERIES_BY_HS.items())
        has_mode = "trade_mode" in header.names
        lines = sql_literal(str(_lines(path, header, parsed, state, con)))
        sql = f"""
            WITH src AS (
                -- line 1 is the header: data row k (from 0) is line k + 2
                SELECT CAST(file_row_number + 2 AS VARCHAR) AS source_row, *
                FROM read_parquet({lines}, file_row_number = true)
            ),
            typed AS (
                SELECT source_row,
                       regexp_replace(trim(hs_code), '[^0-9]', '', 'g') AS hs,
                       trim(commodity) AS commodity,
                       CASE WHEN regexp_full_match(trim(period), '[0-9]{{6}}')
                                THEN try_strptime(trim(period), '%Y%m')::DATE
                            WHEN regexp_full_match(trim(period), '[0-9]{{4}}-[0-9]{{1,2}}')
                                THEN try_strptime(trim(period) || '-01', '%Y-%m-%d')::DATE
                       END AS period,
                       p.code AS partner,
                       trim(partner_name) AS partner_name,
                       {"trim(trade_mode)" if has_mode else "NULL::VARCHAR"} AS trade_mode,
                       quantity, trim(quantity_unit) AS quantity_unit,
                       value
                FROM src
                LEFT JOIN partner_names p ON p.name = lower(regexp_replace(trim(src.partner_name), '\\s+', ' ', 'g'))
            )
            SELECT t.source_row,
                   CASE t.hs {series_cases} ELSE '{OTHER_HS_SERIES}' || t.hs END AS series_id,
                   t.commodity, t.hs AS hs_code, t.period, 'month' AS basis, t.partner, t.partner_name,
                   t.trade_mode,
                   CASE WHEN m.factor IS NULL THEN 'quantity' ELSE 'quantity_t' END AS quantity_measure,
                   TRY_CAST(replace(t.quantity, ',', '') AS DOUBLE) * coalesce(m.factor, 1) AS quantity,
                   coalesce(t.quantity, '') AS quantity_published, t.quantity_unit AS quantity_unit,
                   $value_measure AS value_measure,
                   TRY_CAST(replace(t.value, ',', '') AS DOUBLE) * $value_factor AS value,
                   coalesce(t.value, '') AS value_published, $value_unit AS value_unit
            FROM typed t
            LEFT JOIN mass_units m ON m.unit = lower(t.quantity_unit)
        """  # noqa: S608 - only our own names and tables; what comes from the header is bound as a parameter
        # The money unit is printed in the file's header: it is bound, never spliced into the SQL.
        parameters = {
            "value_measure": header.value_measure,
            "value_factor": header.value_factor,
            "value_unit": header.value_unit,
        }
        columns = ", ".join(pair_columns())  # one row per line: its quantity and value side by side
        target_sql = sql_literal(str(target))
        with QueryProgress(con, f"{state['name']} (typing)"):
            con.execute(f"COPY (SELECT {columns} FROM ({sql})) TO {target_sql} (FORMAT parquet)", parameters)  # noqa: S608
        # Both answered from the Parquet files' metadata and statistics, without a scan.
        lines_in = con.execute(f"SELECT count(*) FROM read_parquet({lines})").fetchone()  # noqa: S608
        latest = con.execute(f"SELECT max(period) FROM read_parquet({target_sql})").fetchone()  # noqa: S608
        parsed.rows_in = int(lines_in[0]) if lines_in else 0
        parsed.published_on = _estimated_publication(latest[0] if latest else None)
    except Exception as exc:  # DuckDB's CSV errors name the line: keep them, drop the stack
        if "duckdb" in type(exc).__module__:
            raise UnreadableRelease(_csv_error(str(exc), header)) from None
        raise
    finally:
        con.close()


def _csv_error(text: str, header: _Header) -> str:
    """DuckDB's CSV error in the words of the file (its first line; later lines repeat the options)."""
    if "Maximum line size" in text or "does not support a full read" in text:
        return (
            "cannot read the CSV: a line is longer than DuckDB's maximum line size (2 MB), "
            "which no real export row comes near"
        )
    if "Error when sniffing file" in text:
        return (
            f"cannot read the CSV: its lines do not all split into the header's {len(header.names)} columns (a line "
            "with more or fewer cells, e.g. an unquoted comma in a name, or a delimiter other than ',' ';' '|' tab)"
        )
    return f"cannot read the CSV: {text.splitlines()[0]}"


def _estimated_publication(latest: date | None) -> date | None:
    """Detailed data come out around the 20th of the month after the latest period in the file."""
    if latest is None:
        return None
    return date(latest.year + (latest.month == 12), latest.month % 12 + 1, 20)


def _raw_records(
    path: Path, header: _Header, parsed: ParsedRelease, state: dict[str, Any], rows: set[str]
) -> dict[str, dict[str, Any]]:
    """The quarantined rows as they stood in the file, from its lines (read only if no parse in this scratch folder
    has read them yet)."""
    wanted = sorted(int(r) - 2 for r in rows if r.isdigit() and int(r) >= 2)
    if not wanted:
        return {}
    con = connect(":memory:", extensions=(), memory_limit=MEMORY_LIMIT)
    try:
        lines = _lines(path, header, parsed, state, con)
        cursor = con.execute(
            f"SELECT * EXCLUDE (file_row_number), file_row_number + 2 FROM read_parquet({sql_literal(str(lines))}, "  # noqa: S608
            "file_row_number = true) WHERE file_row_number IN (SELECT unnest($wanted::BIGINT[]))",
            {"wanted": wanted},
        )
        names = [d[0] for d in cursor.description]
        return {str(r[-1]): dict(zip(names[:-1], r[:-1], strict=True)) for r in cursor.fetchall()}
    finally:
        con.close()


_EMPTY = pd.DataFrame()
