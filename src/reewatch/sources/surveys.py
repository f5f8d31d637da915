"""Licence-survey results (DOMAIN.md §3.4): published aggregates, and anonymised respondent microdata.

Three layouts, each as CSV (UTF-8, UTF-8 with BOM or GB18030) or workbook (.xlsx, .xls), told apart by the header
row (the first row that is neither blank nor a `#` comment), never by the file name — see samples/surveys/README.md:

- **aggregate** (`survey_aggregate_*`): one row per survey metric, the shape of reference/reported_survey_results.csv
  (survey_id, publisher, fieldwork_start, fieldwork_end, as_of, published_on, scope, unit_of_count, metric, value,
  unit, source_url), English or Chinese headers (调查编号, 发布机构 …). Rows load as basis `published`.
- **application microdata** (`survey_microdata_applications_*`): one row per licence application (respondent_id,
  sector, applied_on, status approved | pending | rejected, decided_on).
- **respondent microdata** (`survey_microdata_respondents_*`): one row per responding company (respondent_id,
  affected yes | no, applications, approvals, expected_stoppage_month).

Microdata is aggregated here into the metrics a chamber publishes (basis `microdata`), each metric row pointing
at the lines it counted ("lines 2-142"). The survey's own fields (survey_id, publisher, dates …) come from
`# key: value` lines above the header, or from columns of the same names (a column wins over a `#` line).
Every microdata row is either counted or quarantined with a rule; when a survey's aggregates break the contract,
every row counted into them is quarantined with that rule, so `rows_in = rows_loaded + rows_quarantined` holds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import polars as pl

from reewatch.contracts.base import validate
from reewatch.contracts.surveys import SURVEY_RESULTS, survey_identity_violations
from reewatch.sources import sheets
from reewatch.sources.base import (
    OBSERVATION_COLUMNS,
    GridRow,
    ParsedRelease,
    Reject,
    UnreadableRelease,
    decode_text,
    read_csv_grid,
)
from reewatch.units import nfkc, parse_number

VINTAGE = "survey"
TABLE = "survey_results"
AGGREGATE, APPLICATIONS, RESPONDENTS = "aggregate", "microdata_applications", "microdata_respondents"

# The columns of survey_results (release_id is added by the loader).
COLUMNS = [
    "source_row", "survey_id", "publisher", "fieldwork_start", "fieldwork_end", "as_of", "published_on", "scope",
    "unit_of_count", "metric", "value", "unit", "source_url", "basis",
]  # fmt: skip
DATE_FIELDS = ("fieldwork_start", "fieldwork_end", "as_of", "published_on")
# What describes a survey, as opposed to one of its figures: a `#` line or a column may give them.
SURVEY_FIELDS = ("survey_id", "publisher", *DATE_FIELDS, "scope", "source_url")
# Fields that must agree across all rows of one survey in one file (scope and source_url may differ per metric).
AGREEING_FIELDS = ("publisher", *DATE_FIELDS)

# Header spellings (after `_key`: NFKC, lower case, spaces → "_") → field name.
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "survey_id": ("survey_id", "调查编号", "调查id"),
    "publisher": ("publisher", "发布机构"),
    "fieldwork_start": ("fieldwork_start", "调查开始", "调查开始日期"),
    "fieldwork_end": ("fieldwork_end", "调查结束", "调查结束日期"),
    "as_of": ("as_of", "截至日期", "截至"),
    "published_on": ("published_on", "published", "发布日期"),
    "scope": ("scope", "范围"),
    "unit_of_count": ("unit_of_count", "计数单位"),
    "metric": ("metric", "指标"),
    "value": ("value", "数值"),
    "unit": ("unit", "单位"),
    "source_url": ("source_url", "url", "来源链接"),
    "respondent_id": ("respondent_id", "受访者编号", "受访企业编号"),
    "application_id": ("application_id", "申请编号"),
    "sector": ("sector", "行业"),
    "applied_on": ("applied_on", "申请日期"),
    "status": ("status", "状态", "审批状态"),
    "decided_on": ("decided_on", "决定日期", "审批日期"),
    "affected": ("affected", "是否受影响"),
    "applications": ("applications", "申请数"),
    "approvals": ("approvals", "获批数"),
    "expected_stoppage_month": ("expected_stoppage_month", "预计停产月份"),
}
HEADERS = {spelling: name for name, spellings in _HEADER_ALIASES.items() for spelling in spellings}

_STATUS = {
    "approved": ("approved", "granted", "已批准", "批准", "获批", "已通过", "通过"),
    "pending": ("pending", "in_review", "under_review", "待审批", "审批中", "待定", "未决"),
    "rejected": ("rejected", "denied", "refused", "declined", "已拒绝", "拒绝", "驳回", "未通过"),
}
STATUSES = {spelling: status for status, spellings in _STATUS.items() for spelling in spellings}
_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否"}
_UNITS = {"count": ("count", "number", "n", "个", "家", "件", "项", "数量"), "pct": ("pct", "%", "percent", "百分比")}
UNITS = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}
_UNITS_OF_COUNT = {
    "application": ("application", "applications", "申请", "申请数", "件"),
    "company": ("company", "companies", "firm", "firms", "respondent", "respondents", "企业", "公司", "家"),
}
UNITS_OF_COUNT = {spelling: kind for kind, spellings in _UNITS_OF_COUNT.items() for spelling in spellings}
# Chinese metric names for the metrics the identities speak of; other names are kept as published.
METRICS = {
    "申请数": "applications", "获批数": "approved", "待审批数": "pending", "被拒数": "rejected",
    "受访企业数": "respondents", "受影响企业数": "affected", "受影响比例": "affected_share",
}  # fmt: skip

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d.*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?|(\d{4})(\d{2})")
_META_LINE = re.compile(r"^#\s*([^:：]+?)\s*[:：]\s*(.*)$")
_NONE_MARKS = {"", "-", "—", "–", "n/a", "na"}


# --- the module API -----------------------------------------------------------------------------------------------


def detect(data: bytes, name: str) -> bool:
    """A survey file by content: a header row naming the fields of one of the three layouts."""
    kind = sheets.workbook_kind(data)
    if kind is None:
        if b"\x00" in data[:4096]:
            return False
        cut = data.rfind(b"\n")  # never decode a multi-byte character cut off at the end of the head
        data = data[: cut + 1] if cut > 0 else data
    try:
        return any(table.shape for table in _read(data, kind, max_rows=60))
    except (UnreadableRelease, ValueError):
        return False


def parse(data: bytes, name: str) -> ParsedRelease:
    """Parse a survey file; `UnreadableRelease` when no sheet holds a survey table or the `#` lines are broken."""
    kind = sheets.workbook_kind(data)
    tables = _read(data, kind)
    chosen = next((table.shape for table in tables if table.shape), None)
    if chosen is None:
        raise UnreadableRelease(
            "no survey table: expected a header row with survey_id, metric and value (published aggregates), or "
            "respondent_id with status (one row per application) or affected (one row per respondent)"
        )
    result = _Result()
    for table in tables:
        if table.shape != chosen:
            if table.data_rows():
                what = "holds another kind of survey table" if table.shape else "has no survey header row"
                result.warnings.append(f"sheet {table.name} {what}: not read")
            continue
        if chosen == AGGREGATE:
            _read_aggregates(table, result)
        else:
            _read_microdata(table, chosen, result)
    if chosen == AGGREGATE:
        _settle_aggregates(result)
    if not result.rows_in:
        result.warnings.append("the survey table holds no data rows")
    frame = _frame(result.rows)
    dates = [row["published_on"] for row in result.rows if row["published_on"] is not None]
    layout = f"survey_{chosen}_{kind or 'csv'}"
    return ParsedRelease(
        layout=layout,
        vintage=VINTAGE,
        published_on=max(dates) if dates else None,  # the newest survey publication the file holds
        published_on_estimated=False,
        observations=pd.DataFrame(columns=OBSERVATION_COLUMNS),
        raw_records=result.raw_records,
        rows_in=result.rows_in,
        rejects=result.rejects,
        warnings=result.warnings,
        tables={TABLE: frame},
    )


# --- reading sheets -----------------------------------------------------------------------------------------------


@dataclass
class _Table:
    """One CSV or one worksheet: its `#` lines, its header row (fields by column) and the rows under it."""

    name: str
    rows: list[GridRow]
    comments: dict[str, str]  # source_row -> the whole text of a `#` line
    header: GridRow | None = None
    fields: dict[int, str] = field(default_factory=dict)  # column index -> field name
    meta: dict[str, str] = field(default_factory=dict)  # survey fields from `#` lines (text as written)
    shape: str | None = None

    def data_rows(self) -> list[GridRow]:
        """The rows under the header (every filled row of a sheet that is no survey table), comments left out."""
        start = self.rows.index(self.header) + 1 if self.header is not None and self.shape else 0
        return [row for row in self.rows[start:] if any(row.cells) and row.ref not in self.comments]


def _read(data: bytes, kind: str | None, max_rows: int | None = None) -> list[_Table]:
    if kind is None:
        rows = read_csv_grid(data)
        if max_rows is not None:
            rows = rows[:max_rows]
        lines = decode_text(data).splitlines()
        tables = [_table("CSV", rows, lambda row: _line(lines, row))]
    else:
        book = sheets.read_workbook(data, max_rows)
        tables = [_table(name, rows, lambda row: " ".join(c for c in row.cells if c)) for name, rows in book.items()]
    return tables


def _line(lines: list[str], row: GridRow) -> str:
    """A `#` line as written: a comma in it splits it into cells, which must not cut the text."""
    filled = [cell for cell in row.cells if cell]
    if len(filled) == 1:
        return filled[0]
    number = int(row.ref) - 1
    return lines[number].strip() if number < len(lines) else ",".join(row.cells)


def _table(name: str, rows: list[GridRow], comment_text: Callable[[GridRow], str]) -> _Table:
    table = _Table(name, rows, {})
    for row in rows:
        filled = [cell for cell in row.cells if cell]
        if filled and filled[0].startswith("#"):
            table.comments[row.ref] = comment_text(row).strip()
    for row in rows:
        if row.ref in table.comments:
            if table.header is None and (m := _META_LINE.match(table.comments[row.ref])):
                key = HEADERS.get(_key(m[1]))
                if key in SURVEY_FIELDS or key == "unit_of_count":
                    table.meta[key] = _unquote(m[2])
            continue
        if any(row.cells) and table.header is None:
            table.header = row
            break
    if table.header is not None:
        for index, cell in enumerate(table.header.cells):
            known = HEADERS.get(_key(cell))
            if known is not None and known not in table.fields.values():
                table.fields[index] = known
        table.shape = _shape(set(table.fields.values()), table.meta)
    return table


def _shape(fields: set[str], meta: dict[str, str]) -> str | None:
    if {"metric", "value"} <= fields and ("survey_id" in fields or meta.get("survey_id")):
        return AGGREGATE
    if "respondent_id" in fields and "status" in fields:
        return APPLICATIONS
    if "respondent_id" in fields and "affected" in fields:
        return RESPONDENTS
    return None


def _key(text: str) -> str:
    """A header or code as a lookup key: '  Survey ID ' → 'survey_id', '％' → '%'."""
    text = nfkc(text).strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


# --- what a parse collects ----------------------------------------------------------------------------------------


@dataclass
class _Result:
    rows: list[dict[str, Any]] = field(default_factory=list)  # survey_results rows
    raw_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_in: int = 0

    def reject(self, ref: str, rule: str, message: str) -> None:
        self.rejects.append(Reject(ref, rule, message, self.raw_records.get(ref, {})))


class _RowError(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def _cells(table: _Table, row: GridRow, result: _Result) -> dict[str, str]:
    """The row's cells by field name; its raw record is kept; `_RowError` when it has cells past the header."""
    assert table.header is not None
    header = table.header.cells
    raw = {(header[i] if i < len(header) and header[i] else f"column {i + 1}"): c for i, c in enumerate(row.cells)}
    result.raw_records[row.ref] = raw
    result.rows_in += 1
    extra = [cell for cell in row.cells[len(header) :] if cell]
    if extra:
        raise _RowError("row_shape", f"{len(extra)} cell(s) past the header's {len(header)} columns: {extra[:3]}")
    return {name: (row.cells[i] if i < len(row.cells) else "").strip() for i, name in table.fields.items()}


def _survey_fields(cells: dict[str, str], meta: dict[str, str]) -> dict[str, Any]:
    """The survey's fields for one row: its own columns, else the `#` lines; dates parsed."""
    fields: dict[str, Any] = {}
    for name in SURVEY_FIELDS:
        text = cells.get(name) or meta.get(name, "")
        if name in DATE_FIELDS:
            try:
                fields[name] = _date(text)
            except ValueError:
                where = "column" if cells.get(name) else "'#' line"
                raise _RowError("date_parses", f"{name} {text!r} ({where}) is not a date (YYYY-MM-DD)") from None
        else:
            fields[name] = text or None
    return fields


def _date(text: str) -> date | None:
    text = nfkc(text).strip()
    if text.lower() in _NONE_MARKS:
        return None
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return date(int(match[1]), int(match[2]), int(match[3]))  # ValueError for 2025-13-40


def _month(text: str) -> str | None:
    """'2025-09', '2025/9', '202509', '2025年9月' or a date → '2025_09' (as in metric names); None when blank."""
    text = nfkc(text).strip()
    if text.lower() in _NONE_MARKS:
        return None
    try:
        day = _date(text)
    except ValueError:
        day = None
    if day is not None:
        return f"{day.year}_{day.month:02d}"
    match = _MONTH.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month = (int(match[1]), int(match[2])) if match[1] else (int(match[3]), int(match[4]))
    if not 1 <= month <= 12:
        raise ValueError(text)
    return f"{year}_{month:02d}"


# --- published aggregates -----------------------------------------------------------------------------------------


def _read_aggregates(table: _Table, result: _Result) -> None:
    for row in table.data_rows():
        try:
            cells = _cells(table, row, result)
            record = _survey_fields(cells, table.meta)
            record.update(_figure(cells, table.meta))
        except _RowError as exc:
            result.reject(row.ref, exc.rule, str(exc))
            continue
        record["source_row"] = row.ref
        record["basis"] = "published"
        result.rows.append(record)


def _figure(cells: dict[str, str], meta: dict[str, str]) -> dict[str, Any]:
    metric = _key(cells.get("metric", ""))
    metric = METRICS.get(metric, metric)
    text = cells.get("value", "")
    try:
        value = parse_number(text)
    except ValueError:
        raise _RowError("value_parses", f"value {text!r} of metric {metric or '(none)'} is not a number") from None
    unit_text = _key(cells.get("unit", ""))
    unit = UNITS.get(unit_text, unit_text or None)
    if unit is None and "%" in text:
        unit = "pct"
    counted = _key(cells.get("unit_of_count") or meta.get("unit_of_count", ""))
    return {
        "metric": metric or None,
        "value": value,
        "unit": unit,
        "unit_of_count": UNITS_OF_COUNT.get(counted, counted or None),
    }


def _settle_aggregates(result: _Result) -> None:
    """Checks across rows of one file: a metric given twice, a survey's fields disagreeing, identity breaks."""
    keep: list[dict[str, Any]] = []
    first: dict[tuple[str, str], dict[str, Any]] = {}
    survey_first: dict[str, dict[str, Any]] = {}
    for row in result.rows:
        survey = row["survey_id"]
        if survey is None or row["metric"] is None:
            keep.append(row)  # the contract names what is missing
            continue
        earlier = first.get((survey, row["metric"]))
        if earlier is not None:
            result.reject(
                row["source_row"],
                "duplicate_metric",
                f"survey {survey} metric {row['metric']} given twice: {_num(earlier['value'])} in row "
                f"{earlier['source_row']} and {_num(row['value'])} here (a correction belongs in a later file)",
            )
            continue
        disagreement = _disagreement(survey_first.setdefault(survey, {}), row)
        if disagreement:
            result.reject(row["source_row"], "survey_fields_agree", f"survey {survey}: {disagreement}")
            continue
        first[(survey, row["metric"])] = row
        keep.append(row)
    # Identities across a survey's rows; rows the contract will quarantine anyway take no part.
    passed, _ = validate(SURVEY_RESULTS, pl.from_pandas(_frame(keep)))
    broken: set[str] = set()
    for violation in survey_identity_violations(passed.to_dicts()):
        result.reject(violation.source_row, violation.rule, violation.message)
        broken.add(violation.source_row)
    result.rows = [row for row in keep if row["source_row"] not in broken]


def _disagreement(seen: dict[str, Any], row: dict[str, Any]) -> str | None:
    """Compare a row's survey fields with those seen first in the same survey (recording new ones)."""
    for name in AGREEING_FIELDS:
        value = row[name]
        if value is None:
            continue
        if name not in seen:
            seen[name] = (value, row["source_row"])
        elif seen[name][0] != value:
            return f"{name} {value} here, but {seen[name][0]} in row {seen[name][1]}"
    return None


# --- microdata ----------------------------------------------------------------------------------------------------


@dataclass
class _Survey:
    """One survey's counts from microdata, and the rows counted."""

    fields: dict[str, Any]
    refs: list[str] = field(default_factory=list)
    seen: dict[str, Any] = field(default_factory=dict)  # agreeing fields: value and the row that gave it first
    statuses: Counter[str] = field(default_factory=Counter)
    ids: dict[str, str] = field(default_factory=dict)  # respondent or application id -> row
    respondents: int = 0
    affected: int = 0
    applications: int | None = None
    approvals: int | None = None
    stoppages: Counter[str] = field(default_factory=Counter)


def _read_microdata(table: _Table, shape: str, result: _Result) -> None:
    surveys: dict[str, _Survey] = {}
    for row in table.data_rows():
        try:
            cells = _cells(table, row, result)
            fields = _survey_fields(cells, table.meta)
            survey_id = fields["survey_id"]
            if not survey_id:
                raise _RowError(
                    "survey_id_given",
                    "no survey_id: give a '# survey_id: …' line above the header or a survey_id column",
                )
            survey = surveys.setdefault(survey_id, _Survey(fields))
            disagreement = _disagreement(survey.seen, {**fields, "source_row": row.ref})
            if disagreement:
                raise _RowError("survey_fields_agree", f"survey {survey_id}: {disagreement}")
            if shape == APPLICATIONS:
                _count_application(cells, fields, survey, row.ref)
            else:
                _count_respondent(cells, survey, row.ref)
        except _RowError as exc:
            result.reject(row.ref, exc.rule, str(exc))
            continue
        survey.refs.append(row.ref)
    for survey_id, survey in surveys.items():
        if survey.refs:
            _settle_microdata(survey_id, survey, shape, result)


def _count_application(cells: dict[str, str], fields: dict[str, Any], survey: _Survey, ref: str) -> None:
    respondent = cells.get("respondent_id", "")
    if not respondent:
        raise _RowError("respondent_id_given", "no respondent_id")
    status_text = cells.get("status", "")
    status = STATUSES.get(_key(status_text))
    if status is None:
        raise _RowError("unknown_status", f"status {status_text!r} is none of approved, pending, rejected")
    dates: dict[str, date | None] = {}
    for name in ("applied_on", "decided_on"):
        try:
            dates[name] = _date(cells.get(name, ""))
        except ValueError:
            raise _RowError("date_parses", f"{name} {cells.get(name)!r} is not a date (YYYY-MM-DD)") from None
    applied, decided = dates["applied_on"], dates["decided_on"]
    if applied and decided and decided < applied:
        raise _RowError("decided_after_applied", f"decided_on {decided} is before applied_on {applied}")
    if status == "pending" and decided:
        raise _RowError("pending_undecided", f"status pending, but decided_on {decided} is given")
    cutoff = fields["as_of"] or fields["fieldwork_end"]
    for name, day in dates.items():
        if cutoff and day and day > cutoff:
            raise _RowError("dated_by_as_of", f"{name} {day} is after the survey's as-of date {cutoff}")
    application = cells.get("application_id", "")
    if application:
        if application in survey.ids:
            raise _RowError(
                "duplicate_application", f"application_id {application} is also in row {survey.ids[application]}"
            )
        survey.ids[application] = ref
    survey.statuses[status] += 1


def _count_respondent(cells: dict[str, str], survey: _Survey, ref: str) -> None:
    respondent = cells.get("respondent_id", "")
    if not respondent:
        raise _RowError("respondent_id_given", "no respondent_id")
    if respondent in survey.ids:
        raise _RowError("duplicate_respondent", f"respondent_id {respondent} is also in row {survey.ids[respondent]}")
    affected_text = cells.get("affected", "")
    if _key(affected_text) not in _YES | _NO:
        raise _RowError("unknown_affected", f"affected {affected_text!r} is neither yes nor no")
    applications, approvals = _count(cells, "applications"), _count(cells, "approvals")
    if approvals is not None and (applications is None or approvals > applications):
        raise _RowError(
            "approved_within_applications",
            f"respondent {respondent}: approvals {approvals} exceed applications "
            f"{'(not given)' if applications is None else applications}",
        )
    month_text = cells.get("expected_stoppage_month", "")
    try:
        month = _month(month_text)
    except ValueError:
        raise _RowError("month_parses", f"expected_stoppage_month {month_text!r} is not a month (YYYY-MM)") from None
    survey.ids[respondent] = ref
    survey.respondents += 1
    survey.affected += _key(affected_text) in _YES
    if applications is not None:
        survey.applications = (survey.applications or 0) + applications
    if approvals is not None:
        survey.approvals = (survey.approvals or 0) + approvals
    if month is not None:
        survey.stoppages[month] += 1


def _count(cells: dict[str, str], name: str) -> int | None:
    text = cells.get(name, "")
    try:
        number = parse_number(text)
    except ValueError:
        number = -1.0
    if number is None:
        return None
    if number < 0 or not number.is_integer():
        raise _RowError("count_parses", f"{name} {text!r} is not a whole number ≥ 0")
    return int(number)


def _settle_microdata(survey_id: str, survey: _Survey, shape: str, result: _Result) -> None:
    """The survey's metrics; if they break the contract or an identity, every row counted is quarantined."""
    span = _span(survey.refs)
    metrics: list[tuple[str, float, str, str]] = []  # metric, value, unit, unit_of_count
    if shape == APPLICATIONS:
        metrics.append(("applications", survey.statuses.total(), "count", "application"))
        metrics += [(status, survey.statuses[status], "count", "application") for status in _STATUS]
    else:
        metrics.append(("respondents", survey.respondents, "count", "company"))
        metrics.append(("affected", survey.affected, "count", "company"))
        metrics.append(("affected_share", round(100 * survey.affected / survey.respondents, 1), "pct", "company"))
        if survey.applications is not None:
            metrics.append(("applications", survey.applications, "count", "application"))
        if survey.approvals is not None:
            metrics.append(("approved", survey.approvals, "count", "application"))
        for month in sorted(survey.stoppages):
            metrics.append((f"production_stoppages_expected_{month}", survey.stoppages[month], "count", "company"))
    rows = [
        {
            **survey.fields,
            "source_row": span,
            "unit_of_count": counted,
            "metric": metric,
            "value": float(value),
            "unit": unit,
            "basis": "microdata",
        }
        for metric, value, unit, counted in metrics
    ]
    _, violations = validate(SURVEY_RESULTS, pl.from_pandas(_frame(rows)))
    violations += survey_identity_violations(rows)
    if not violations:
        result.rows += rows
        return
    problems = {(v.rule, v.message) for v in violations}
    for ref in survey.refs:
        for rule, message in sorted(problems):
            result.reject(
                ref,
                rule,
                f"{message} — aggregated from microdata {span}; none of the survey's {len(survey.refs)} counted "
                "rows is loaded",
            )


def _span(refs: list[str]) -> str:
    """Rows counted, as runs: 'lines 2-56, 58-142' (CSV) or 'Sheet1!2-142' (workbook)."""
    sheet, _, _ = refs[0].rpartition("!")
    numbers = sorted(int(ref.rpartition("!")[2]) for ref in refs)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)
    return f"{sheet}!{text}" if sheet else f"line{'s' if len(numbers) > 1 else ''} {text}"


# --- the table handed to the loader -------------------------------------------------------------------------------


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """survey_results rows as a frame with Arrow types, so an all-empty date column is still a date column."""
    data: dict[str, Any] = {}
    for column in COLUMNS:
        values = [row.get(column) for row in rows]
        if column in DATE_FIELDS:
            data[column] = pd.array(values, dtype="date32[pyarrow]")
        elif column == "value":
            data[column] = pd.array(values, dtype="double[pyarrow]")
        else:
            data[column] = pd.array(values, dtype="string[pyarrow]")
    return pd.DataFrame(data, columns=COLUMNS)


def _num(value: float | None) -> str:
    return "no value" if value is None else f"{value:g}"
