"""The stakeholder report: one self-contained HTML page and `summary.json`, with the same facts.

Every value from the data goes through Jinja's autoescaping; the page makes no external request.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any

import duckdb
import jinja2

from reewatch.lake import Lake

REPORTS = "reports/"


@dataclass
class RunSummary:
    run_id: str
    command: str
    lake: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # published | blocked | failed | nothing_new
    files_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    published_version: str | None = None
    message: str = ""
    releases: list[dict[str, Any]] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def gather(con: duckdb.DuckDBPyConnection, summary: RunSummary) -> dict[str, Any]:
    """The report's facts, read from the curated tables just built."""
    key_figures = _rows(
        con,
        """
        SELECT series_id, period, period_kind, quantity_t, ytd_quantity_t, mom_pct, yoy_pct, is_record,
               highest_since, vintage, release_id
        FROM curated.exports_monthly
        WHERE partner = 'WORLD' AND series_id NOT LIKE 'gacc_commodity:%'
        QUALIFY row_number() OVER (PARTITION BY series_id ORDER BY period DESC) = 1
        ORDER BY series_id
        """,
    )
    history = _rows(
        con,
        """
        SELECT series_id, period, period_kind, quantity_t, is_record FROM curated.exports_monthly
        WHERE partner = 'WORLD' AND series_id NOT LIKE 'gacc_commodity:%' ORDER BY series_id, period
        """,
    )
    quarantine = _rows(
        con,
        """
        SELECT q.release_id, r.file_name, q.source_row, q.rule, q.message, q.raw_record
        FROM curated.quarantined_rows q
        LEFT JOIN (SELECT DISTINCT release_id, file_name FROM curated.releases WHERE status <> 'duplicate') r
        USING (release_id)
        ORDER BY r.file_name, q.source_row
        """,
    )
    failed = _rows(
        con,
        "SELECT release_id, file_name, message FROM curated.releases WHERE status = 'failed' ORDER BY file_name",
    )
    releases = _rows(
        con,
        """
        SELECT release_id, file_name, layout, vintage, status, rows_in, rows_loaded, rows_quarantined, message
        FROM curated.releases ORDER BY ingested_at DESC, file_name LIMIT 500
        """,
    )
    revisions = _rows(con, "SELECT * FROM curated.revisions ORDER BY series_id, period LIMIT 500")
    warnings = _rows(
        con,
        """
        SELECT w.rule, w.message, r.file_name
        FROM load_warnings w
        LEFT JOIN (SELECT DISTINCT release_id, file_name FROM releases WHERE status <> 'duplicate') r
        USING (release_id)
        ORDER BY w.rule, w.message
        """,
    )
    destinations = _rows(
        con,
        """
        SELECT series_id, period, partner, partner_name, quantity_t, share_of_world_pct, mom_pct
        FROM curated.exports_monthly
        WHERE partner <> 'WORLD' AND series_id = 'gacc_magnets_850511'
        QUALIFY period = max(period) OVER ()
        ORDER BY quantity_t DESC
        """,
    )
    return {
        "run": asdict(summary),
        "key_figures": key_figures,
        "history": history,
        "quarantine": quarantine,
        "failed_files": failed,
        "releases": releases,
        "revisions": revisions,
        "warnings": warnings,
        "destinations": destinations,
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def render_html(facts: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: (resources.files("reewatch") / "report" / "templates" / name).read_text(encoding="utf-8")
        ),
        autoescape=True,  # every value from the data is HTML-escaped
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = lambda v, digits=1: "–" if v is None else f"{v:,.{digits}f}"
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:+.1f}%"
    env.filters["short"] = lambda v: "" if v is None else str(v)[:12]
    return env.get_template("report.html.j2").render(**facts)


def write_report(lake: Lake, facts: dict[str, Any]) -> str:
    """Write reports/<run_id>/ and then reports/latest/; return the latest page's location."""
    run_id = facts["run"]["run_id"]
    page = render_html(facts).encode("utf-8")
    summary = json.dumps(facts, default=_json_default, ensure_ascii=False, indent=2).encode("utf-8")
    for folder in (f"{REPORTS}{run_id}/", f"{REPORTS}latest/"):
        lake.write_bytes(f"{folder}summary.json", summary)
        lake.write_bytes(f"{folder}index.html", page)
    return lake.uri(f"{REPORTS}latest/index.html")
