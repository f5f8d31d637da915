"""USGS Mineral Commodity Summaries, rare earths: world mine production and reserves (DOMAIN.md §3.5).

Two shapes, told apart by content:
- `usgs_mcs_reference_csv`: one row per edition × country × year (edition, country, year, mine_production_t_reo,
  reserves_t_reo, note, source), as in reference/usgs_mcs_rare_earths.csv;
- `usgs_mcs_published_csv`: the table as USGS prints it, one row per country, a title line naming the edition
  ("Mineral Commodity Summaries 2025") or an Edition column, columns `Country`, `Mine production 2023`,
  `Mine production 2024e`, `Reserves`, numbers like "270,000", USGS's marks (W, NA, —) and footnote numbers stuck
  to figures and names ("14270,000", "Burma13"). samples/usgs/README.md describes the shape.

Figures are keyed by edition and year: each edition is kept as its own rows (MCS 2025 restates 2023), and the
curated model decides which to show. A figure that could only be read by guessing — a footnote mark with more than
one reading, or text that is no number — is quarantined as `ambiguous_number`, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reewatch.sources.base import (
    OBSERVATION_COLUMNS,
    GridRow,
    ParsedRelease,
    Reject,
    UnreadableRelease,
    lookalike_letters,
    read_csv_grid,
)
from reewatch.units import nfkc

LAYOUT_REFERENCE = "usgs_mcs_reference_csv"
LAYOUT_PUBLISHED = "usgs_mcs_published_csv"
VINTAGE = "reference"

WORLD = "World (rounded)"
OTHER = "Other"
COLUMNS = [
    "edition", "country", "year", "mine_production_t_reo", "reserves_t_reo", "note", "source", "source_row",
]  # fmt: skip
_REFERENCE_FIELDS = ("edition", "country", "year", "mine_production_t_reo", "reserves_t_reo")
_HEAD_ROWS = 30  # the header of a published table sits in its first rows
_MAX_FOOTNOTE_DIGITS = 2  # USGS numbers a commodity's footnotes 1..99

_EDITION = re.compile(r"(?:mineral\s+commodity\s+summaries|mcs)\s*[-_]?\s*(\d{4})", re.I)
_PRODUCTION_HEADER = re.compile(r"^(?:mine\s+)?production,?\s+(\d{4})\s*(e)?\s*(\d{1,2})?$", re.I)
_RESERVES_HEADER = re.compile(r"^reserves(?:,?\s+(\d{4})\s*(e)?)?\s*(\d{1,2})?$", re.I)
_FOOTNOTE_LINE = re.compile(r"^(\d{1,2})\s*([A-Z(].*)$")
_KEY_LINE = re.compile(r"^(e|NA|W|—)\s+(estimated|not available|withheld|zero)", re.I)
_NAME_FOOTNOTE = re.compile(r"^(.*?\D)\s*(\d{1,2}(?:\s*,\s*\d{1,2})*)$")  # 'Burma13', 'China 6,7'
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUPERSCRIPTS = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_LOWER_BOUND = re.compile(r"^(?:>|more\s+than|greater\s+than|over)\s*", re.I)
_GROUPED = re.compile(r"^(\d+)((?:,\d{3})*),(\d+)$")  # '14270,000': leading group, middle groups, last group
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")
_ZERO_MARKS = {"—", "–", "-", "--", "－"}  # USGS key: "— Zero."
_MARKS = {"W": "withheld to avoid disclosing company proprietary data", "NA": "not available"}


# --- detection and dispatch ---------------------------------------------------------------------------------------


def detect(data: bytes, name: str) -> bool:
    """A USGS table by content: the reference header, or a `Country` header with `Mine production YYYY` columns."""
    if b"\x00" in data[:4096]:
        return False
    try:
        rows = read_csv_grid(data[:16384].rsplit(b"\n", 1)[0] if len(data) > 16384 else data)
    except UnreadableRelease:
        return False
    return _reference_header(rows) is not None or _published_header(rows[:_HEAD_ROWS]) is not None


def parse(data: bytes, name: str) -> ParsedRelease:
    rows = read_csv_grid(data)
    if _reference_header(rows) is not None:
        return _parse_reference(rows)
    if _published_header(rows[:_HEAD_ROWS]) is not None:
        return _parse_published(rows)
    raise UnreadableRelease(
        "not a USGS Mineral Commodity Summaries table: no edition,country,year,… header and no "
        "'Country, Mine production YYYY, Reserves' header"
    )


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", nfkc(text)).strip()


def _first_row(rows: list[GridRow]) -> GridRow | None:
    return next((row for row in rows if any(row.cells)), None)


def _reference_header(rows: list[GridRow]) -> list[str] | None:
    first = _first_row(rows)
    if first is None:
        return None
    header = [cell.strip().lower() for cell in first.cells]
    return header if set(_REFERENCE_FIELDS) <= set(header) else None


# --- the collected figures ----------------------------------------------------------------------------------------


@dataclass
class _Figures:
    """Rows read so far, rejects, and the raw records; `finish` adds the cross-row checks and builds the release."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    raw_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    lower_bounds: set[tuple[str, int, str]] = field(default_factory=set)  # (edition, year, measure) of world rows
    rows_in: int = 0

    def finish(self, layout: str, warnings: list[str]) -> ParsedRelease:
        rejected = {reject.source_row for reject in self.rejects}
        rows = [row for row in self.rows if row["source_row"] not in rejected]
        rows, duplicates = _drop_duplicates(rows, self.raw_records)
        self.rejects += duplicates
        outside = _countries_outside_world(rows, self.lower_bounds, self.raw_records)
        self.rejects += outside
        rejected = {reject.source_row for reject in self.rejects}
        rows = [row for row in rows if row["source_row"] not in rejected]
        if not self.rows_in:
            warnings.append("the file holds no figures")
        return ParsedRelease(
            layout=layout,
            vintage=VINTAGE,
            published_on=None,  # neither shape carries a publication date
            published_on_estimated=False,
            observations=pd.DataFrame(columns=OBSERVATION_COLUMNS),
            raw_records=self.raw_records,
            rows_in=self.rows_in,
            rejects=self.rejects,
            warnings=warnings,
            tables={"usgs_figures": usgs_frame(rows)},
        )


def usgs_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows for the `usgs_figures` table with the column types its contract expects (also when empty)."""
    frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
    text = ["edition", "country", "note", "source", "source_row"]
    return frame.astype(
        {
            **dict.fromkeys(text, "string"),
            "year": "int64",
            "mine_production_t_reo": "float64",
            "reserves_t_reo": "float64",
        }
    )


def _drop_duplicates(
    rows: list[dict[str, Any]], raw: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Reject]]:
    """One figure per edition, country and year in a file: a second row for the same key is quarantined."""
    first: dict[tuple[str, str, int], str] = {}
    rejects = []
    for row in rows:
        key = (row["edition"], row["country"], row["year"])
        if key in first and first[key] != row["source_row"]:
            message = f"a second row for {key[0]} {key[1]} {key[2]} (first: row {first[key]})"
            rejects.append(Reject(row["source_row"], "duplicate_row", message, raw.get(row["source_row"], {})))
        else:
            first.setdefault(key, row["source_row"])
    bad = {reject.source_row for reject in rejects}
    return [row for row in rows if row["source_row"] not in bad], rejects


def _countries_outside_world(
    rows: list[dict[str, Any]], lower_bounds: set[tuple[str, int, str]], raw: dict[str, dict[str, Any]]
) -> list[Reject]:
    """A country's figure cannot exceed the world row of the same edition and year (a lower bound such as
    'more than 90 million' is no ceiling, so it is not checked against)."""
    world = {(row["edition"], row["year"]): row for row in rows if row["country"] == WORLD}
    rejects = []
    for row in rows:
        total = world.get((row["edition"], row["year"]))
        if total is None or row["country"] == WORLD:
            continue
        for measure, label in (("mine_production_t_reo", "mine production"), ("reserves_t_reo", "reserves")):
            value, ceiling = row[measure], total[measure]
            if value is None or ceiling is None or (row["edition"], row["year"], measure) in lower_bounds:
                continue
            if value > ceiling:
                message = (
                    f"{row['country']} {row['year']} {label} {value:,.0f} t REO exceeds the world total "
                    f"{ceiling:,.0f} t of {row['edition']} (row {total['source_row']})"
                )
                rejects.append(
                    Reject(row["source_row"], "country_within_world", message, raw.get(row["source_row"], {}))
                )
                break
    return rejects


# --- numbers as USGS prints them ----------------------------------------------------------------------------------


class AmbiguousNumber(ValueError):
    """A printed figure that could only be read by guessing."""


@dataclass(frozen=True)
class Figure:
    value: float | None  # tonnes REO; None when not published (blank, W, NA)
    notes: tuple[str, ...] = ()  # what the marks said: 'withheld …', 'given as more than …'
    footnotes: tuple[int, ...] = ()  # footnote numbers stuck to the figure
    lower_bound: bool = False


def read_figure(text: str, defined_footnotes: frozenset[int] = frozenset()) -> Figure:
    """A printed USGS figure: '270,000' → 270000; '14270,000' → 270000 with footnote 14; '—' → 0; 'W' → None.

    Footnote digits stuck to a comma-grouped number show themselves by a leading group of more than three digits
    (or a last group of more than three). The reading must be unique: with more than one footnote split that leaves
    a well-formed number (and, when the file lists its footnotes, names one of them) it raises AmbiguousNumber.
    Numbers under 1,000 have no grouping to tell a mark from a digit; they are read as printed.
    """
    cleaned = _fold(text)
    footnotes: list[int] = []
    for marks in _SUPERSCRIPTS.findall(cleaned):  # superscript footnote marks are explicit
        footnotes.append(int(marks.translate(_SUPERSCRIPT)))
    cleaned = _SUPERSCRIPTS.sub("", cleaned).strip()
    if not cleaned:
        return Figure(None, footnotes=tuple(footnotes))
    if cleaned in _ZERO_MARKS:
        return Figure(0.0, footnotes=tuple(footnotes))
    if cleaned.upper() in _MARKS:
        return Figure(None, notes=(_MARKS[cleaned.upper()],), footnotes=tuple(footnotes))
    notes: list[str] = []
    lower_bound = False
    if bound := _LOWER_BOUND.match(cleaned):
        cleaned = cleaned[bound.end() :].strip()
        lower_bound = True
    cleaned = cleaned.replace(" ", "")
    if _PLAIN.match(cleaned):
        value = float(cleaned)
    elif grouped := _GROUPED.match(cleaned):
        value, stuck = _grouped_number(grouped, text, defined_footnotes)
        footnotes += stuck
    else:
        raise AmbiguousNumber(f"'{text}' is not a number USGS prints (nor W, NA or —)")
    if lower_bound:
        notes.append(f"given as more than {value:,.0f}")
    return Figure(value, tuple(notes), tuple(footnotes), lower_bound)


def _grouped_number(grouped: re.Match[str], text: str, defined: frozenset[int]) -> tuple[float, list[int]]:
    lead, middle, last = grouped[1], grouped[2], grouped[3]
    footnotes: list[int] = []
    if len(last) > 3:  # '270,00014': the last group is three digits, the rest a footnote
        if len(last) - 3 > _MAX_FOOTNOTE_DIGITS or last[3] == "0":
            raise AmbiguousNumber(
                f"'{text}': the last digit group {last!r} is neither three digits nor one plus a mark"
            )
        footnotes.append(int(last[3:]))
        last = last[:3]
    if len(last) < 3:
        raise AmbiguousNumber(f"'{text}': the last digit group {last!r} has fewer than three digits")
    if len(lead) <= 3 and not (len(lead) > 1 and lead.startswith("0")):
        return float(lead + middle.replace(",", "") + last), footnotes
    readings = []
    for cut in range(1, min(_MAX_FOOTNOTE_DIGITS, len(lead) - 1) + 1):
        mark, rest = lead[:cut], lead[cut:]
        if mark.startswith("0") or len(rest) > 3 or (len(rest) > 1 and rest.startswith("0")):
            continue
        if defined and int(mark) not in defined:
            continue
        readings.append((int(mark), float(rest + middle.replace(",", "") + last)))
    if len(readings) != 1:
        options = " or ".join(f"footnote {mark} + {value:,.0f}" for mark, value in readings) or "no reading"
        listed = f" (footnotes listed in the file: {sorted(defined)})" if defined else ""
        raise AmbiguousNumber(f"'{text}': footnote marks stuck to the number leave {options}{listed}")
    mark, value = readings[0]
    return value, [mark, *footnotes]


def normalise_edition(text: str) -> str:
    """'Mineral Commodity Summaries 2025', 'MCS 2025' → 'MCS2025'; anything else as given (the contract checks it)."""
    match = _EDITION.search(_fold(text))
    return f"MCS{match[1]}" if match else _fold(text)


def canonical_country(name: str) -> str:
    """Country names as published; the two aggregate rows get one name in every shape and edition."""
    folded = _fold(name).lower()
    if folded.startswith("world"):
        return WORLD
    if folded in ("other", "other countries", "others"):
        return OTHER
    return _fold(name)


# --- the reference shape ------------------------------------------------------------------------------------------


def _parse_reference(rows: list[GridRow]) -> ParsedRelease:
    header_row = _first_row(rows)
    assert header_row is not None
    header = [cell.strip().lower() for cell in header_row.cells]
    figures = _Figures()
    for row in rows[rows.index(header_row) + 1 :]:
        if not any(row.cells):
            continue
        figures.rows_in += 1
        raw = {header[i] if i < len(header) else f"column {i + 1}": cell for i, cell in enumerate(row.cells)}
        figures.raw_records[row.ref] = raw
        if len(row.cells) != len(header):
            message = f"{len(row.cells)} cells where the header has {len(header)}"
            figures.rejects.append(Reject(row.ref, "record_shape", message, raw))
            continue
        outcome = _reference_row(row.ref, dict(zip(header, row.cells, strict=True)), figures)
        if isinstance(outcome, Reject):
            figures.rejects.append(outcome)
    return figures.finish(LAYOUT_REFERENCE, [])


def _reference_row(ref: str, fields: dict[str, str], figures: _Figures) -> Reject | None:
    raw = figures.raw_records[ref]
    year_text = fields["year"].strip()
    if not re.fullmatch(r"\d{4}", year_text):
        return Reject(ref, "bad_year", f"year {year_text!r} is not a four-digit year", raw)
    if not fields["country"].strip():
        return Reject(ref, "no_country", "the row names no country", raw)
    if lookalikes := lookalike_letters(fields["country"]):
        message = f"country {fields['country']!r} mixes in look-alikes ({lookalikes})"
        return Reject(ref, "lookalike_letters", message, raw)
    values: dict[str, Figure] = {}
    for measure in ("mine_production_t_reo", "reserves_t_reo"):
        try:
            values[measure] = read_figure(fields[measure])
        except AmbiguousNumber as exc:
            return Reject(ref, "ambiguous_number", f"{measure}: {exc}", raw)
    edition, country, year = normalise_edition(fields["edition"]), canonical_country(fields["country"]), int(year_text)
    notes = [fields.get("note", "").strip()] + [note for figure in values.values() for note in figure.notes]
    for measure, figure in values.items():
        if figure.lower_bound and country == WORLD:
            figures.lower_bounds.add((edition, year, measure))
    if all(figure.value is None for figure in values.values()) and not any(notes):
        return Reject(ref, "no_figures", "neither mine production nor reserves is given", raw)
    figures.rows.append(
        {
            "edition": edition,
            "country": country,
            "year": year,
            "mine_production_t_reo": values["mine_production_t_reo"].value,
            "reserves_t_reo": values["reserves_t_reo"].value,
            "note": "; ".join(note for note in notes if note) or None,
            "source": fields.get("source", "").strip() or None,
            "source_row": ref,
        }
    )
    return None


# --- the published shape ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    index: int
    measure: str  # mine_production_t_reo | reserves_t_reo
    year: int | None  # None: reserves without a year (they refer to the latest production year)
    estimated: bool
    footnote: int | None  # a footnote on the header: about the whole column, not kept in row notes


@dataclass(frozen=True)
class _Table:
    header_at: int  # index into rows
    country_col: int
    edition_col: int | None
    columns: tuple[_Column, ...]


def _published_header(rows: list[GridRow]) -> _Table | None:
    """The header row: `Country` followed by `Mine production YYYY[e]` columns (and optionally `Reserves`)."""
    for at, row in enumerate(rows):
        folded = [_fold(cell) for cell in row.cells]
        lowered = [cell.lower() for cell in folded]
        if "country" not in lowered:
            continue
        columns = []
        edition_col = lowered.index("edition") if "edition" in lowered else None
        for index, cell in enumerate(folded):
            if match := _PRODUCTION_HEADER.match(cell):
                columns.append(_Column(index, "mine_production_t_reo", int(match[1]), bool(match[2]), _int(match[3])))
            elif match := _RESERVES_HEADER.match(cell):
                columns.append(_Column(index, "reserves_t_reo", _int(match[1]), bool(match[2]), _int(match[3])))
        if any(column.measure == "mine_production_t_reo" for column in columns):
            return _Table(at, lowered.index("country"), edition_col, tuple(columns))
    return None


def _int(text: str | None) -> int | None:
    return int(text) if text else None


def _parse_published(rows: list[GridRow]) -> ParsedRelease:
    table = _published_header(rows[:_HEAD_ROWS])
    assert table is not None
    header = rows[table.header_at].cells
    years = [column.year for column in table.columns if column.year is not None]
    latest_year = max(years)
    title_lines = [" ".join(cell for cell in row.cells if cell) for row in rows[: table.header_at]]
    file_edition = next((normalise_edition(line) for line in title_lines if _EDITION.search(_fold(line))), None)
    if file_edition is None and table.edition_col is None:
        raise UnreadableRelease(
            "the table names no edition: expected a title line such as 'Mineral Commodity Summaries 2025' "
            "or an Edition column"
        )
    commodity = next((line for line in title_lines if re.search(r"rare\s*earth", line, re.I)), "")
    body = rows[table.header_at + 1 :]
    footnotes = _footnotes(body)
    warnings: list[str] = []
    figures = _Figures()
    world_seen = False
    for row in body:
        cells = row.cells
        filled = [cell for cell in cells if cell]
        if not filled:
            continue
        if _is_note(cells, world_seen):
            continue
        figures.rows_in += 1
        raw = {
            (_fold(header[i]) if i < len(header) and header[i] else f"column {i + 1}"): c for i, c in enumerate(cells)
        }
        figures.raw_records[row.ref] = raw
        edition = file_edition
        if table.edition_col is not None and table.edition_col < len(cells) and cells[table.edition_col]:
            edition = normalise_edition(cells[table.edition_col])
        if edition is None:
            figures.rejects.append(Reject(row.ref, "no_edition", "the row's Edition cell is empty", raw))
            continue
        source = f"USGS Mineral Commodity Summaries {edition[3:]}" + (f", {commodity}" if commodity else "")
        outcome = _published_row(row, table, edition, latest_year, footnotes, source, raw)
        if isinstance(outcome, Reject):
            figures.rejects.append(outcome)
            continue
        rows_out, bounds = outcome
        world_seen = world_seen or any(out["country"] == WORLD for out in rows_out)
        figures.rows += rows_out
        figures.lower_bounds |= bounds
    if not any(row["country"] == WORLD for row in figures.rows):
        warnings.append("no world total row: country figures could not be checked against the world")
    return figures.finish(LAYOUT_PUBLISHED, warnings)


def _footnotes(body: list[GridRow]) -> dict[int, str]:
    """Footnote texts listed under the table: lines such as '14Production quota; …' or '14 Production quota; …'."""
    notes = {}
    for row in body:
        filled = [cell for cell in row.cells if cell]
        if len(filled) == 1 and row.cells[0] and (match := _FOOTNOTE_LINE.match(_fold(row.cells[0]))):
            notes[int(match[1])] = match[2].strip()
    return notes


def _is_note(cells: list[str], world_seen: bool) -> bool:
    """A row of text under (or between) the table rows: a footnote, the key to the marks, a source line."""
    filled = [cell for cell in cells if cell]
    if len(filled) > 1 or not cells[0]:
        return False
    text = _fold(cells[0])
    return (
        world_seen
        or bool(_FOOTNOTE_LINE.match(text) or _KEY_LINE.match(text))
        or text.lower().startswith(("source", "note"))
    )


def _published_row(
    row: GridRow,
    table: _Table,
    edition: str,
    latest_year: int,
    footnotes: dict[int, str],
    source: str,
    raw: dict[str, Any],
) -> tuple[list[dict[str, Any]], set[tuple[str, int, str]]] | Reject:
    """One country's rows (one per year), or the first reason the row cannot be read."""
    cells = row.cells
    printed = _fold(cells[table.country_col]) if table.country_col < len(cells) else ""
    name, name_marks = _split_name_footnotes(printed)
    if not name:
        return Reject(row.ref, "no_country", "the row names no country", raw)
    if lookalikes := lookalike_letters(name):
        return Reject(row.ref, "lookalike_letters", f"country {name!r} mixes in look-alikes ({lookalikes})", raw)
    country = canonical_country(name)
    defined = frozenset(footnotes)
    by_year: dict[int, dict[str, Any]] = {}
    bounds: set[tuple[str, int, str]] = set()
    for column in table.columns:
        text = cells[column.index] if column.index < len(cells) else ""
        if not text.strip():
            continue
        try:
            figure = read_figure(text, defined)
        except AmbiguousNumber as exc:
            return Reject(row.ref, "ambiguous_number", f"{_column_label(column)}: {exc}", raw)
        year = column.year if column.year is not None else latest_year
        entry = by_year.setdefault(year, {"notes": [_footnote_note("", m, footnotes) for m in name_marks]})
        entry[column.measure] = figure.value
        label = "production" if column.measure == "mine_production_t_reo" else "reserves"
        if column.estimated and figure.value is not None:
            entry["notes"].append(f"{label} estimated")
        entry["notes"] += [f"{label} {note}" for note in figure.notes]
        # A mark on the column header ('Reserves11': definitions) speaks of the whole column, not of this figure.
        entry["notes"] += [_footnote_note(label, m, footnotes) for m in figure.footnotes]
        if figure.lower_bound and country == WORLD:
            bounds.add((edition, year, column.measure))
    if not by_year:
        return Reject(row.ref, "no_figures", f"{name}: neither mine production nor reserves is given", raw)
    rows_out = [
        {
            "edition": edition,
            "country": country,
            "year": year,
            "mine_production_t_reo": entry.get("mine_production_t_reo"),
            "reserves_t_reo": entry.get("reserves_t_reo"),
            "note": "; ".join(dict.fromkeys(entry["notes"])) or None,
            "source": source,
            "source_row": row.ref,
        }
        for year, entry in sorted(by_year.items())
    ]
    return rows_out, bounds


def _footnote_note(label: str, mark: int, footnotes: dict[int, str]) -> str:
    text = footnotes.get(mark, "(footnote not listed in the file)")
    return f"{label} [{mark}] {text}".strip()


def _column_label(column: _Column) -> str:
    label = "Mine production" if column.measure == "mine_production_t_reo" else "Reserves"
    return f"{label} {column.year}{'e' if column.estimated else ''}" if column.year else label


def _split_name_footnotes(printed: str) -> tuple[str, list[int]]:
    """'Burma13' → ('Burma', [13]); 'China 6,7' → ('China', [6, 7]); country names hold no digits."""
    printed = printed.strip()
    marks = [int(m.translate(_SUPERSCRIPT)) for m in _SUPERSCRIPTS.findall(printed)]
    printed = _SUPERSCRIPTS.sub("", printed).strip()
    if match := _NAME_FOOTNOTE.match(printed):
        return match[1].strip(), marks + [int(m) for m in re.split(r"\s*,\s*", match[2])]
    return printed, marks
