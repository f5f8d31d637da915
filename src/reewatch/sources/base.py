"""What every source parser returns: tidy observation rows, rows it had to reject, and what kind of release it is."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from reewatch.observation_pairs import long_frame

# Later release kinds restate earlier ones (DOMAIN.md §2). The latest publication prevails, and of two published
# the same day (or both undated) the higher rank is "current".
VINTAGE_RANK = {
    "mirror": 0, "preliminary": 1, "bulletin": 2, "detailed": 3, "yearbook": 4,
    # Non-customs sources have one kind each; their figures never compete with customs vintages.
    "survey": 0, "reference": 0, "press": 0,
}  # fmt: skip

OBSERVATION_COLUMNS = [
    "source_row", "series_id", "commodity", "hs_code", "period", "basis", "partner", "partner_name",
    "measure", "value", "published_value", "published_unit",
]  # fmt: skip


class UnreadableRelease(ValueError):
    """The file cannot be parsed at all: it is recorded as `failed` with this message, and the run goes on."""


@dataclass
class Reject:
    """A source row that never became observations (wrong shape, unknown unit): quarantined as is."""

    source_row: str
    rule: str
    message: str
    raw_record: dict[str, Any]


@dataclass
class ParsedRelease:
    """A parsed release. Small layouts hand over one pandas frame; large ones write their observations straight
    to Parquet (`copy_observations`, which also counts `rows_in`), so nothing holds a detailed export in memory."""

    layout: str
    vintage: str
    published_on: date | None
    published_on_estimated: bool
    observations: pd.DataFrame  # OBSERVATION_COLUMNS (+ optional trade_mode)
    raw_records: dict[str, dict[str, Any]]  # source_row -> the row as it stood in the file
    rows_in: int  # data rows in the file (every one is loaded or quarantined)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Rows for the warehouse's other tables (survey_results, usgs_figures, press_claims), each with source_row.
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    copy_observations: Callable[[ParsedRelease, Path], None] | None = None
    raw_lookup: Callable[[set[str]], dict[str, dict[str, Any]]] | None = None
    # An estimated publication date again, without the given source rows: one the checks set aside (a month in the
    # future, a typo) must not date the whole release, which would then outrank later files of its months.
    published_on_without: Callable[[set[str]], date | None] | None = None
    temp_files: list[Path] = field(default_factory=list)  # files and folders close() removes, the loader done

    def close(self) -> None:
        for path in self.temp_files:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    @property
    def vintage_rank(self) -> int:
        return VINTAGE_RANK[self.vintage]

    def write_observations(self, target: Path) -> None:
        """Write the observations to a Parquet file with the contract's column types."""
        if self.copy_observations is not None:
            self.copy_observations(self, target)
            return
        self._frame().write_parquet(target)

    def batches(self) -> Iterator[pl.DataFrame]:
        """The observations as polars frames with the contract's column types (for tests and small callers)."""
        if self.copy_observations is None:
            if not self.observations.empty:
                yield self._frame()
            return
        with tempfile.TemporaryDirectory(prefix="reewatch-batches-") as tmp:
            target = Path(tmp) / "observations.parquet"
            self.copy_observations(self, target)
            for batch in long_frame(target).collect().iter_slices(250_000):  # observation pairs made long
                yield batch.cast(BATCH_SCHEMA)  # type: ignore[arg-type]

    def _frame(self) -> pl.DataFrame:
        frame = self.observations
        if frame.empty:
            return pl.DataFrame(schema=BATCH_SCHEMA)
        return pl.DataFrame(
            {
                "source_row": frame["source_row"].astype(str).tolist(),
                "series_id": frame["series_id"].tolist(),
                "commodity": frame["commodity"].tolist(),
                "hs_code": frame["hs_code"].tolist(),
                "period": pd.to_datetime(frame["period"]).dt.date.tolist(),
                "basis": frame["basis"].tolist(),
                "partner": frame["partner"].tolist(),
                "partner_name": frame["partner_name"].tolist(),
                "trade_mode": frame["trade_mode"].tolist() if "trade_mode" in frame else [None] * len(frame),
                "measure": frame["measure"].tolist(),
                "value": pd.to_numeric(frame["value"], errors="coerce").astype(float).tolist(),
                "published_value": frame["published_value"].astype(str).tolist(),
                "published_unit": frame["published_unit"].tolist(),
            },
            schema=BATCH_SCHEMA,
        )

    def raw_records_for(self, source_rows: set[str]) -> dict[str, dict[str, Any]]:
        if self.raw_lookup is not None:
            return self.raw_lookup(source_rows)
        return {row: self.raw_records.get(row, {}) for row in source_rows}


BATCH_SCHEMA: dict[str, Any] = {
    "source_row": pl.String, "series_id": pl.String, "commodity": pl.String, "hs_code": pl.String,
    "period": pl.Date, "basis": pl.String, "partner": pl.String, "partner_name": pl.String,
    "trade_mode": pl.String, "measure": pl.String, "value": pl.Float64, "published_value": pl.String,
    "published_unit": pl.String,
}  # fmt: skip


def decode_text(data: bytes) -> str:
    """Customs CSVs come as UTF-8, UTF-8 with BOM or GB18030: try them in that order."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableRelease("the text is neither UTF-8 nor GB18030")


@dataclass(frozen=True)
class GridRow:
    """One row of a sheet-like file: where it stood (CSV line number, or Sheet!row) and its cells as text."""

    ref: str
    cells: list[str]
    # Cells of a workbook that a merged range covers, by column: the value of the range's top-left cell, which is
    # where the file keeps it (Excel shows it across the range; the covered cells themselves are blank).
    merged: dict[int, str] = field(default_factory=dict)
    # Formula cells of a workbook saved without their result, by column: the formula. They read as blank cells.
    unsaved_formulas: dict[int, str] = field(default_factory=dict)
    # Why a workbook does not show the row ('the row is hidden', "its sheet 'draft' is hidden"); '' when it does.
    hidden: str = ""


def read_csv_grid(data: bytes) -> list[GridRow]:
    """A CSV file as rows of text cells, each with the line it started on."""
    # The whole file, not its head: a NUL further down would otherwise load as part of a label (the tables read here
    # are small; the detailed export has its own reader).
    if (nul := data.find(b"\x00")) >= 0:
        raise UnreadableRelease(f"binary content (NUL bytes, the first at byte {nul:,}), not a CSV text file")
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    rows = []
    line = 1
    try:
        for cells in reader:
            rows.append(GridRow(str(line), [c.strip() for c in cells]))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableRelease(f"CSV syntax error at line {reader.line_num}: {exc}") from None
    return rows


def csv_header(text: str) -> list[str]:
    """The cells of the first line of CSV text; [] when it is no CSV line at all (detection must never raise)."""
    lines = text.splitlines()
    try:
        return [cell.strip() for cell in next(csv.reader(io.StringIO(lines[0] if lines else "")), [])]
    except csv.Error:
        return []


def record_json(record: dict[str, Any]) -> str:
    try:
        return json.dumps(record, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):  # a JSON record nested hundreds deep, or a circular one: not storable
        return json.dumps({"unstorable_record": "nested too deeply to store; the file is in raw/"})


# Scripts whose letters look alike: a name mixing them ('Rаre earths' with a Cyrillic а) is a spoof or a mangled
# copy-paste, never a real commodity or country, and it would pass for another series.
_LOOKALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def lookalike_letters(text: str) -> str | None:
    """What makes a name mix Latin with Cyrillic or Greek letters, for a message ('U+0430 CYRILLIC SMALL LETTER A');
    None when its letters come from one script. Width variants are folded first (ＲＥ is Latin)."""
    scripts: dict[str, list[str]] = {}
    for char in unicodedata.normalize("NFKC", text):
        if char.isalpha():
            script = unicodedata.name(char, "").split(" ")[0]
            if script in _LOOKALIKE_SCRIPTS:
                scripts.setdefault(script, []).append(char)
    if len(scripts) < 2:
        return None
    # Name the letters of the smaller scripts: those are the look-alikes.
    odd = sorted(scripts.items(), key=lambda item: len(item[1]))[:-1]
    letters = dict.fromkeys(char for _, chars in odd for char in chars)
    return ", ".join(f"U+{ord(char):04X} {unicodedata.name(char)}" for char in letters)
