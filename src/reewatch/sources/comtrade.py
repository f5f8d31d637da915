"""UN Comtrade-style mirror records (DOMAIN.md §3.3), as a CSV download or an API JSON response.

One record per reporter × flow × commodity × period × partner. Only China's exports are read (reporterCode 156,
flowCode X); every other record is rejected with a rule, so nothing is dropped silently. Each HS code is its own
series `comtrade_<cmdCode>`: mirror data is never mixed with GACC's series (DOMAIN.md §1).

Comtrade writes 0 or -1 in netWgt/qty when the quantity is unknown: those become no quantity observation (the
value is still kept) and a warning, never a zero.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from reewatch.partners import partner_from_m49, partner_name
from reewatch.sources.base import (
    OBSERVATION_COLUMNS,
    ParsedRelease,
    Reject,
    UnreadableRelease,
    csv_header,
    decode_text,
    read_csv_grid,
)
from reewatch.units import parse_number, scale_of

LAYOUT_CSV = "comtrade_csv"
LAYOUT_JSON = "comtrade_json"
VINTAGE = "mirror"

CHINA = 156
EXPORT_FLOW = "X"
REQUIRED_FIELDS = ("reporterCode", "partnerCode", "cmdCode", "flowCode")
# Comtrade marks the total of each breakdown with these codes; a record with any other code is a sub-total of
# a total that may sit in the same file, and loading both would count the same goods twice.
_BREAKDOWN_TOTALS = {"partner2Code": "0", "motCode": "0", "customsCode": "C00", "mosCode": "0"}
_TRUE = {"true", "1", "yes", "y", "t"}
_MAX_ROWS_NAMED = 10  # warnings name at most this many rows


def detect(data: bytes, name: str) -> bool:
    """A Comtrade file by content: a CSV header naming the Comtrade fields, or JSON that mentions them."""
    head = data[:65536]
    if b"\x00" in head:
        return False
    text = head.decode("utf-8-sig", errors="ignore").lstrip()
    if text.startswith(("{", "[")):
        # A cheap look at the key names; `parse` checks the shape and says what is wrong with a broken file.
        return all(f'"{key}"' in text for key in REQUIRED_FIELDS)
    return set(REQUIRED_FIELDS) <= set(csv_header(text))


def parse(data: bytes, name: str) -> ParsedRelease:
    """Parse a Comtrade CSV or JSON; `UnreadableRelease` when the file as a whole has the wrong shape."""
    if not data.strip():
        raise UnreadableRelease("the file is empty")
    text = decode_text(data) if b"\x00" not in data else ""  # NUL anywhere: read_csv_grid says it is binary
    if text.lstrip().startswith(("{", "[")):
        return _parse_records(_json_records(text), layout=LAYOUT_JSON)
    return _parse_records(_csv_records(data), layout=LAYOUT_CSV)


# --- reading the two file shapes into (source_row, fields as text, raw record) ---------------------------------


def _json_records(text: str) -> list[tuple[str, dict[str, str] | None, dict[str, Any]]]:
    """API v1 responses are {"count": n, "data": [records]}; a plain list of records is accepted too."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableRelease(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:  # '[[[[…' thousands deep: no API response nests like that
        raise UnreadableRelease("the JSON nests arrays or objects too deeply to be Comtrade records") from None
    if isinstance(document, dict):
        if not isinstance(document.get("data"), list):
            error = document.get("error") or document.get("message")
            detail = f" (the response says: {error})" if error else ""
            keys = ", ".join(sorted(map(str, document))) or "none"
            raise UnreadableRelease(
                f"a Comtrade JSON object needs a 'data' list of records; its keys are: {keys}{detail}"
            )
        items = document["data"]
    elif isinstance(document, list):
        items = document
    else:
        raise UnreadableRelease(
            f"a Comtrade JSON must be an object with 'data' or a list, not {type(document).__name__}"
        )
    records: list[tuple[str, dict[str, str] | None, dict[str, Any]]] = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            records.append((f"record {number}", {str(k): _text(v) for k, v in item.items()}, item))
        else:  # rejected below as `record_shape`
            records.append((f"record {number}", None, {"record": item}))
    return records


def _csv_records(data: bytes) -> list[tuple[str, dict[str, str] | None, dict[str, Any]]]:
    rows = [row for row in read_csv_grid(data) if any(row.cells)]
    if not rows:
        raise UnreadableRelease("the CSV has no header row")
    header = rows[0].cells
    missing = [key for key in REQUIRED_FIELDS if key not in header]
    if missing:
        raise UnreadableRelease(f"the CSV header lacks the Comtrade column(s) {', '.join(missing)}")
    records: list[tuple[str, dict[str, str] | None, dict[str, Any]]] = []
    for row in rows[1:]:
        raw = {header[i] if i < len(header) else f"column {i + 1}": cell for i, cell in enumerate(row.cells)}
        fields = dict(zip(header, row.cells, strict=False)) if len(row.cells) == len(header) else None
        records.append((row.ref, fields, raw))
    return records


def _text(value: Any) -> str:
    """A JSON value as the text the CSV download would carry: null → '', true → 'true', 1238470.0 → '1238470.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)  # a nested value is no number: it fails as text would


# --- turning records into observations ------------------------------------------------------------------------


@dataclass
class _Record:
    key: tuple[str, date, str]  # cmdCode, period, partner: one record per key
    observations: list[dict[str, Any]] = field(default_factory=list)
    quantity_unknown: bool = False
    quantity_estimated: bool = False


def _parse_records(records: list[tuple[str, dict[str, str] | None, dict[str, Any]]], layout: str) -> ParsedRelease:
    observations: list[dict[str, Any]] = []
    raw_records: dict[str, dict[str, Any]] = {}
    rejects: list[Reject] = []
    unknown_quantity: list[str] = []
    estimated_quantity: list[str] = []
    seen: dict[tuple[str, date, str], str] = {}
    for ref, fields, raw in records:
        raw_records[ref] = raw
        outcome = _read_record(ref, fields, raw)
        if isinstance(outcome, Reject):
            rejects.append(outcome)
            continue
        if outcome.key in seen:
            cmd, period, partner = outcome.key
            message = (
                f"a second record for cmdCode {cmd}, {period:%Y-%m}, partner {partner} (first: {seen[outcome.key]})"
            )
            rejects.append(Reject(ref, "duplicate_record", message, raw))
            continue
        seen[outcome.key] = ref
        observations.extend(outcome.observations)
        if outcome.quantity_unknown:
            unknown_quantity.append(ref)
        if outcome.quantity_estimated:
            estimated_quantity.append(ref)

    warnings = []
    if not records:
        warnings.append("the file holds no records")
    if unknown_quantity:
        warnings.append(
            f"netWgt 0, -1 or empty (and no qty in kg) in {_records(unknown_quantity)}: quantity treated as "
            "unknown, value kept"
        )
    if estimated_quantity:
        warnings.append(
            f"quantity estimated by UN Comtrade (isQtyEstimated / isNetWgtEstimated), not reported by China, "
            f"in {_records(estimated_quantity)}"
        )
    return ParsedRelease(
        layout=layout,
        vintage=VINTAGE,
        published_on=None,  # Comtrade records carry no publication date, and there is no calendar to estimate it
        published_on_estimated=False,
        observations=pd.DataFrame.from_records(observations, columns=OBSERVATION_COLUMNS),
        raw_records=raw_records,
        rows_in=len(records),
        rejects=rejects,
        warnings=warnings,
    )


def _read_record(ref: str, fields: dict[str, str] | None, raw: dict[str, Any]) -> _Record | Reject:
    """One record's observations, or the first rule it breaks."""
    if fields is None:
        return Reject(ref, "record_shape", "not a record with named fields (wrong number of cells, or no object)", raw)
    missing = [key for key in REQUIRED_FIELDS if not fields.get(key)]
    if missing:
        return Reject(ref, "record_shape", f"the record has no {', '.join(missing)}", raw)

    reporter = _code(fields["reporterCode"])
    if reporter != CHINA:
        desc = fields.get("reporterDesc") or "unknown"
        message = f"reporterCode {fields['reporterCode']} ({desc}) is not 156 (China): only China's exports are read"
        return Reject(ref, "reporter_not_china", message, raw)
    flow = fields["flowCode"].upper()
    if flow != EXPORT_FLOW:
        desc = fields.get("flowDesc") or "not an export"
        return Reject(ref, "not_export_flow", f"flowCode {fields['flowCode']} ({desc}) is not X (export)", raw)
    cmd = fields["cmdCode"]
    if not re.fullmatch(r"\d{2,10}", cmd):
        return Reject(ref, "bad_cmd_code", f"cmdCode {cmd!r} is not an HS code", raw)
    period = _period(fields)
    if isinstance(period, str):
        return Reject(ref, "bad_period", period, raw)
    partner_number = _code(fields["partnerCode"])
    partner = partner_from_m49(partner_number) if partner_number is not None else None
    if partner is None:
        desc = fields.get("partnerDesc") or "no name"
        message = f"partnerCode {fields['partnerCode']} ({desc}) is no M49 country code reewatch knows"
        return Reject(ref, "unknown_partner", message, raw)
    for key, total in _BREAKDOWN_TOTALS.items():
        if fields.get(key, total) not in (total, ""):
            message = f"{key} {fields[key]} is a breakdown, not the total {total}: only totals are read"
            return Reject(ref, "breakdown_record", message, raw)

    record = _Record(key=(cmd, period, partner))
    base = {
        "source_row": ref,
        "series_id": f"comtrade_{cmd}",
        "commodity": fields.get("cmdDesc") or f"HS {cmd}",
        "hs_code": cmd,
        "period": period,
        "basis": "month",
        "partner": partner,
        "partner_name": partner_name(partner),
    }
    quantity = _quantity(fields)
    if quantity is None:
        record.quantity_unknown = True
    else:
        tonnes, published, unit = quantity
        record.observations.append(
            {**base, "measure": "quantity_t", "value": tonnes, "published_value": published, "published_unit": unit}
        )
        record.quantity_estimated = any(
            fields.get(flag, "").lower() in _TRUE for flag in ("isQtyEstimated", "isNetWgtEstimated")
        )
    value = _number(fields.get("primaryValue", ""))
    if value is not None:
        record.observations.append(
            {
                **base,
                "measure": "value_usd",
                "value": value,
                "published_value": fields["primaryValue"],
                "published_unit": "USD",
            }
        )
    if not record.observations:
        return Reject(ref, "no_figures", "neither a known quantity (netWgt, qty) nor a primaryValue", raw)
    return record


def _quantity(fields: dict[str, str]) -> tuple[float, str, str] | None:
    """(tonnes, published text, published unit) from netWgt in kg, else from qty when its unit is a mass."""
    weight = _known(_number(fields.get("netWgt", "")))
    if weight is not None:
        return weight / 1000, fields["netWgt"], "kg"
    unit = fields.get("qtyUnitAbbr", "")
    scale = scale_of(unit)
    qty = _known(_number(fields.get("qty", "")))
    if scale is not None and scale.kind == "mass" and qty is not None:
        return qty * scale.factor, fields["qty"], unit
    return None


def _known(number: float | None) -> float | None:
    """Comtrade writes 0 or -1 (or nothing) for a quantity nobody reported: unknown (None), not zero."""
    return None if number is None or number in (0.0, -1.0) else number


def _number(text: str) -> float | None:
    """None when nothing is published; NaN for text that is no number, which the contract quarantines by name."""
    try:
        return parse_number(text)
    except ValueError:
        return float("nan")


def _code(text: str) -> int | None:
    """A numeric code as an integer; '156.0' (a CSV saved from a spreadsheet) counts as 156."""
    match = re.fullmatch(r"(\d+)(?:\.0*)?", text.strip())
    return int(match[1]) if match else None


def _period(fields: dict[str, str]) -> date | str:
    """The first day of the record's month, or a message naming the text that is no month."""
    text = fields.get("period", "")
    if text:
        match = re.fullmatch(r"(\d{4})-?(\d{2})", text)
        year, month = (int(match[1]), int(match[2])) if match else (0, 0)
        if year < 1900 or not 1 <= month <= 12:
            return f"period {text!r} is not a month written YYYYMM (annual records are not read)"
        return date(year, month, 1)
    year_text, month_text = fields.get("refYear", ""), fields.get("refMonth", "")
    year_number, month_number = _code(year_text), _code(month_text)
    if year_number is None or month_number is None or year_number < 1900 or not 1 <= month_number <= 12:
        if not year_text and not month_text:
            return "the record has no period (YYYYMM) and no refYear/refMonth"
        return f"refYear {year_text!r} / refMonth {month_text!r} is not a month"
    return date(year_number, month_number, 1)


def _records(refs: list[str]) -> str:
    """'2 records (source rows 15, 20)', naming at most a handful of rows."""
    named = ", ".join(refs[:_MAX_ROWS_NAMED])
    more = f" and {len(refs) - _MAX_ROWS_NAMED} more" if len(refs) > _MAX_ROWS_NAMED else ""
    return f"{len(refs)} record{'s' if len(refs) != 1 else ''} (source rows {named}{more})"
