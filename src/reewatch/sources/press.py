"""Figures reported by the press (DOMAIN.md §1): one row per claim, in the shape of
reference/reported_export_figures.csv — series_id, period, basis, partner, value, unit, outlet, source_url.

Press figures are second-hand copies of customs data: they are loaded as claims (table `press_claims`), never as
observations, and the curated `claim_checks` model holds each one against the customs series. The series is kept
as filed, even when the outlet put another series' figure under it: finding that out is the model's job.
Quantities are stored in tonnes: a figure in kg (or another mass unit) is converted and its unit written as t.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from reewatch.sources.base import (
    OBSERVATION_COLUMNS,
    ParsedRelease,
    Reject,
    UnreadableRelease,
    csv_header,
    read_csv_grid,
)
from reewatch.units import parse_number, scale_of

LAYOUT = "press_figures_csv"
VINTAGE = "press"

REQUIRED_FIELDS = ("series_id", "period", "basis", "partner", "value", "unit")
OPTIONAL_FIELDS = ("outlet", "source_url")
COLUMNS = [*REQUIRED_FIELDS, *OPTIONAL_FIELDS, "source_row"]
_TEXT_COLUMNS = [column for column in COLUMNS if column != "value"]


def detect(data: bytes, name: str) -> bool:
    """A press-figures file by content: its first line is a header naming every required field."""
    if b"\x00" in data[:4096]:
        return False
    header = csv_header(data[:4096].decode("utf-8-sig", errors="ignore").lstrip())
    return set(REQUIRED_FIELDS) <= {cell.lower() for cell in header}


def parse(data: bytes, name: str) -> ParsedRelease:
    rows = [row for row in read_csv_grid(data) if any(row.cells)]
    if not rows:
        raise UnreadableRelease("the file is empty")
    header = [cell.strip().lower() for cell in rows[0].cells]
    missing = [key for key in REQUIRED_FIELDS if key not in header]
    if missing:
        raise UnreadableRelease(f"the header lacks the press-figure column(s) {', '.join(missing)}")
    claims: list[dict[str, Any]] = []
    raw_records: dict[str, dict[str, Any]] = {}
    rejects: list[Reject] = []
    converted: list[str] = []
    for row in rows[1:]:
        raw = {header[i] if i < len(header) else f"column {i + 1}": cell for i, cell in enumerate(row.cells)}
        raw_records[row.ref] = raw
        if len(row.cells) != len(header):
            message = f"{len(row.cells)} cells where the header has {len(header)}"
            rejects.append(Reject(row.ref, "record_shape", message, raw))
            continue
        outcome = _claim(row.ref, dict(zip(header, row.cells, strict=True)), raw)
        if isinstance(outcome, Reject):
            rejects.append(outcome)
            continue
        claim, was_converted = outcome
        claims.append(claim)
        if was_converted:
            converted.append(row.ref)
    warnings = []
    if len(rows) == 1:
        warnings.append("the file holds no claims")
    if converted:
        warnings.append(f"values converted to tonnes from their published unit in rows {', '.join(converted[:10])}")
    return ParsedRelease(
        layout=LAYOUT,
        vintage=VINTAGE,
        published_on=None,  # a claims file gathers many articles: each carries its own source_url
        published_on_estimated=False,
        observations=pd.DataFrame(columns=OBSERVATION_COLUMNS),
        raw_records=raw_records,
        rows_in=len(rows) - 1,
        rejects=rejects,
        warnings=warnings,
        tables={"press_claims": claims_frame(claims)},
    )


def claims_frame(claims: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows for the `press_claims` table with the column types its contract expects (also when empty)."""
    frame = pd.DataFrame.from_records(claims, columns=COLUMNS)
    return frame.astype({**dict.fromkeys(_TEXT_COLUMNS, "string"), "value": "float64"})


def _claim(ref: str, fields: dict[str, str], raw: dict[str, Any]) -> tuple[dict[str, Any], bool] | Reject:
    """One claim (and whether its value was converted to tonnes), or why it cannot be read."""
    text = fields["value"]
    try:
        value = parse_number(text)
    except ValueError:
        return Reject(ref, "number_parses", f"value {text!r} is not a number", raw)
    unit = fields["unit"].strip()
    scale = scale_of(unit)
    converted = False
    if value is not None and scale is not None and scale.kind == "mass":
        converted = scale.factor != 1.0
        value, unit = round(value * scale.factor, 9), scale.unit
    # Any other unit stays as published: the contract quarantines it (rule unit_is_tonnes), naming it.
    partner = fields["partner"].strip().upper()
    claim = {
        "series_id": fields["series_id"].strip(),
        "period": fields["period"].strip(),
        "basis": fields["basis"].strip().lower(),
        "partner": partner,
        "value": value,
        "unit": unit,
        "outlet": fields.get("outlet", "").strip() or None,
        "source_url": fields.get("source_url", "").strip() or None,
        "source_row": ref,
    }
    return claim, converted
