"""The stakeholder report: one self-contained HTML page and `summary.json`, with the same facts.

Every value from the data goes through Jinja's autoescaping; the charts are static SVG drawn by a chart library
(`charts.py`), whose text the library escapes. The page loads nothing: no script, no stylesheet, no font, no image
from anywhere, so it opens offline, as an e-mail attachment, on a phone and on paper.
"""

from __future__ import annotations

import html
import json
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from reewatch.lake import Lake

REPORTS = "reports/"
# The series whose last twelve months the report tabulates month by month (DOMAIN.md §1): never mixed, side by side.
RECENT_SERIES = ("gacc_rare_earths", "gacc_magnets_850511")
RECENT_MONTHS = 12
# What the report calls the series a reader meets first (DOMAIN.md §1); any other is shown by its id. Latin letters
# only: a chart's text is drawn in the fonts of the machine that renders the report.
SERIES_NAMES = {
    "gacc_rare_earths": "Rare earths (GACC headline)",
    "gacc_magnets_850511": "Rare-earth magnets (HS 8505.11)",
    "bloomberg_re_products": "Bloomberg rare-earth products",
}
EXAMPLE_ROWS = 5  # example offending rows shown per failing expectation
LISTED_ROWS = 500  # rows a long list shows (quarantine, releases, revisions, claims); the catalog has every one
# Published tables, the warehouse tables their lineage is read from, and the query giving their releases' ids.
_LINEAGE: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("exports_monthly", ("curated.exports_monthly",), "SELECT release_id FROM curated.exports_monthly"),
    ("revisions", ("curated.revisions",),
     "SELECT first_release_id AS release_id FROM curated.revisions "
     "UNION SELECT latest_release_id FROM curated.revisions"),
    ("licence_surveys", ("curated.licence_surveys",), "SELECT release_id FROM curated.licence_surveys"),
    ("survey_metrics", ("curated.survey_metrics",), "SELECT release_id FROM curated.survey_metrics"),
    ("world_production", ("main.usgs_figures",),
     "SELECT release_id FROM usgs_figures JOIN releases USING (release_id) "
     "WHERE status IN ('loaded', 'partly_quarantined')"),
    ("claim_checks", ("main.press_claims",),
     "SELECT release_id FROM press_claims JOIN releases USING (release_id) "
     "WHERE status IN ('loaded', 'partly_quarantined')"),
    ("quarantined_rows", ("curated.quarantined_rows",), "SELECT release_id FROM curated.quarantined_rows"),
)  # fmt: skip
_SAFE_RELATIVE_LINK = re.compile(r"^(?!/)(?!.*\.\.)[\w.\-/]+\.html?$")


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
    # The quality gate's verdict as `GateResult.to_dict()` gives it, when the run has one: the report takes the
    # failing expectations' example rows from it (`curated.quality_results` keeps counts, not rows).
    quality: dict[str, Any] | None = None


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def series_name(series_id: object) -> str:
    """A series as the report names it: its name where it has one, else its id."""
    return SERIES_NAMES.get(str(series_id), str(series_id))


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
        "AND database_name = current_database()",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class Figures:
    """What the report shows of the curated tables, and its charts. The quality gate changes none of it, so a run
    reads and draws it while the gate runs (`figures_in_background`)."""

    facts: dict[str, Any]
    charts: dict[str, str]  # standalone SVG by chart name (charts.CHARTS)


def figures_in_background(con: duckdb.DuckDBPyConnection) -> Future[Figures]:
    """`read_figures` on a cursor of `con`, in a thread of its own: drawing the charts takes up to a second (a
    detailed export's years of history), which the run's process would otherwise spend after the gate, whose
    validation runs in the GX worker while this process waits."""
    cursor = con.cursor()

    def read() -> Figures:
        try:
            return read_figures(cursor)
        finally:
            cursor.close()

    pool = ThreadPoolExecutor(1, thread_name_prefix="report figures")
    try:
        return pool.submit(read)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def read_figures(con: duckdb.DuckDBPyConnection) -> Figures:
    """The curated tables' figures for the report, and their charts drawn."""
    from reewatch.report.charts import render_charts

    facts = _figures(con)
    return Figures(facts, render_charts(facts))


def gather(con: duckdb.DuckDBPyConnection, summary: RunSummary, figures: Figures | None = None) -> dict[str, Any]:
    """The report's facts: the run's summary, its quality gate and the curated tables' figures (read here unless
    `figures` holds them already)."""
    run = asdict(summary)
    gate = run.pop("quality")
    return {
        "run": run,
        "data_docs": None,  # a relative link to the run's GX Data Docs (data_docs/index.html) when they exist
        "current_publication": _current_publication(con),
        **(figures.facts if figures is not None else _figures(con)),
        "quality": _quality(con, summary.run_id, gate),
        "lineage": _lineage(con),
    }


def _current_publication(con: duckdb.DuckDBPyConnection) -> str | None:
    """The version readers of the catalog see now: after a blocked run, still the one before it."""
    if not _has_table(con, "main", "publications"):
        return None
    row = con.execute("SELECT max(version) FROM publications").fetchone()
    return row[0] if row else None


def _figures(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
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
    recent = _rows(
        con,
        f"""
        SELECT series_id, period, period_kind, quantity_t, ytd_quantity_t, mom_pct, yoy_pct, is_record,
               highest_since, vintage, release_id
        FROM curated.exports_monthly
        WHERE partner = 'WORLD' AND list_contains(?, series_id)
        QUALIFY period > max(period) OVER () - INTERVAL {RECENT_MONTHS} MONTH
        ORDER BY period DESC, series_id
        """,  # noqa: S608 - a constant
        [list(RECENT_SERIES)],
    )
    commodities = _rows(
        con,
        """
        SELECT series_id, substr(series_id, length('gacc_commodity:') + 1) AS commodity, period, period_kind,
               quantity_t, value_usd, value_cny, yoy_pct, release_id
        FROM curated.exports_monthly
        WHERE partner = 'WORLD' AND series_id LIKE 'gacc_commodity:%'
        QUALIFY row_number() OVER (PARTITION BY series_id ORDER BY period DESC) = 1
        ORDER BY commodity
        """,
    )
    history = _rows(
        con,
        """
        SELECT series_id, period, period_kind, quantity_t, is_record FROM curated.exports_monthly
        WHERE partner = 'WORLD' AND series_id NOT LIKE 'gacc_commodity:%' ORDER BY series_id, period
        """,
    )
    # One entry per row and rule a row broke (a row can break several): a hostile file can set aside a million
    # rows, so the page lists the first LISTED_ROWS and counts them all.
    quarantine = _rows(
        con,
        f"""
        SELECT q.release_id, r.file_name, q.source_row, q.rule, q.message, q.raw_record
        FROM curated.quarantined_rows q
        LEFT JOIN (SELECT DISTINCT release_id, file_name FROM curated.releases WHERE status <> 'duplicate') r
        USING (release_id)
        WHERE q.source_row IS NOT NULL  -- a whole file that could not be read is listed with the failed files
        ORDER BY r.file_name, q.source_row, q.rule
        LIMIT {LISTED_ROWS}
        """,  # noqa: S608 - a constant
    )
    counted = con.execute(
        "SELECT count(*), count(DISTINCT (release_id, source_row)) FROM curated.quarantined_rows "
        "WHERE source_row IS NOT NULL"
    ).fetchone()
    quarantine_entries, quarantined_rows = counted if counted else (0, 0)
    failed = _rows(
        con,
        "SELECT release_id, file_name, message FROM curated.releases WHERE status = 'failed' ORDER BY file_name",
    )
    releases = _rows(
        con,
        f"""
        SELECT release_id, file_name, layout, vintage, status, rows_in, rows_loaded, rows_quarantined, message
        FROM curated.releases ORDER BY ingested_at DESC, file_name LIMIT {LISTED_ROWS}
        """,  # noqa: S608 - a constant
    )
    revisions = _rows(con, f"SELECT * FROM curated.revisions ORDER BY series_id, period LIMIT {LISTED_ROWS}")  # noqa: S608
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
    from reewatch.partners import partner_name

    for row in destinations:  # English names: the published ones may be Chinese
        row["partner_label"] = partner_name(row["partner"])
    surveys = _rows(con, "SELECT * FROM curated.licence_surveys")
    survey_metrics = _rows(con, "SELECT * FROM curated.survey_metrics ORDER BY survey_id, metric")
    world_production = _rows(
        con,
        """
        WITH latest AS (
            SELECT edition, max(year) AS year FROM curated.world_production
            WHERE edition = (SELECT max(edition) FROM curated.world_production) AND mine_production_t_reo IS NOT NULL
            GROUP BY edition
        )
        SELECT w.* FROM curated.world_production w JOIN latest USING (edition, year)
        ORDER BY w.country LIKE 'World%', w.mine_production_t_reo DESC NULLS LAST, w.country
        """,
    )
    claim_checks = _rows(
        con, f"SELECT * FROM curated.claim_checks ORDER BY series_id, period, basis LIMIT {LISTED_ROWS}"  # noqa: S608
    )
    return {
        "key_figures": key_figures,
        "recent": recent,
        "commodities": commodities,
        "history": history,
        "quarantine": quarantine,
        "quarantine_entries": quarantine_entries,
        "quarantined_rows": quarantined_rows,
        "failed_files": failed,
        "releases": releases,
        "revisions": revisions,
        "warnings": warnings,
        "destinations": destinations,
        "surveys": surveys,
        "survey_metrics": survey_metrics,
        "world_production": world_production,
        "claim_checks": claim_checks,
    }


def _quality(con: duckdb.DuckDBPyConnection, run_id: str, gate: dict[str, Any] | None) -> dict[str, Any]:
    """Every suite's passed / warnings / failed of this run's checks (else of the latest run that has checks), and
    the failing expectations with a few example rows."""
    empty: dict[str, Any] = {"run_id": None, "checked_at": None, "this_run": False, "suites": [], "failing": []}
    if not _has_table(con, "curated", "quality_results"):
        return empty
    found = con.execute(
        "SELECT run_id, max(checked_at) FROM curated.quality_results GROUP BY run_id "
        "ORDER BY run_id = ? DESC, max(checked_at) DESC NULLS LAST LIMIT 1",
        [run_id],
    ).fetchone()
    if found is None:
        return empty
    checked_run, checked_at = found
    rows = _rows(
        con, "SELECT * FROM curated.quality_results WHERE run_id = ? ORDER BY suite, expectation", [checked_run]
    )
    examples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for outcome in (gate or {}).get("failures", []) + (gate or {}).get("warnings", []):
        examples[(outcome.get("suite"), outcome.get("expectation"))] = list(outcome.get("examples") or [])
    suites: dict[str, dict[str, Any]] = {}
    failing = []
    for row in rows:
        suite = suites.setdefault(
            row["suite"],
            {"suite": row["suite"], "table_name": row["table_name"], "passed": 0, "warnings": 0, "failed": 0},
        )
        if row["success"]:
            suite["passed"] += 1
            continue
        suite["failed" if row["severity"] == "error" else "warnings"] += 1
        stored = _json_list(row.get("examples"))  # should the table ever keep example rows itself
        failing.append(
            {
                "suite": row["suite"],
                "table_name": row["table_name"],
                "expectation": row["expectation"],
                "severity": row["severity"],
                "unexpected_count": row["unexpected_count"],
                "observed": row["observed"],
                "examples": (stored or examples.get((row["suite"], row["expectation"]), []))[:EXAMPLE_ROWS],
            }
        )
    for suite in suites.values():
        suite["status"] = "failed" if suite["failed"] else "warnings" if suite["warnings"] else "passed"
    failing.sort(key=lambda f: (f["severity"] != "error", f["suite"], f["expectation"]))
    return {
        "run_id": checked_run,
        "checked_at": checked_at,
        "this_run": checked_run == run_id,
        "suites": list(suites.values()),
        "failing": failing,
    }


def _json_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _lineage(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """For each published table, the releases its rows came from: file name, SHA-256, layout, vintage."""
    lineage = []
    for table, sources, sql in _LINEAGE:
        if not all(_has_table(con, *source.split(".")) for source in sources):
            continue
        releases = _rows(
            con,
            f"""
            WITH used AS (SELECT DISTINCT release_id FROM ({sql})),
            files AS (
                SELECT release_id, string_agg(DISTINCT file_name, ', ' ORDER BY file_name) AS file_name,
                       any_value(layout) AS layout, any_value(vintage) AS vintage,
                       any_value(published_on) AS published_on
                FROM releases WHERE status <> 'duplicate' GROUP BY release_id
            )
            SELECT u.release_id, f.file_name, f.layout, f.vintage, f.published_on
            FROM used u
            JOIN files f USING (release_id)
            ORDER BY f.file_name, u.release_id
            """,  # noqa: S608 - constants
        )
        lineage.append({"table_name": table, "releases": releases})
    return lineage


def _json_default(value: object) -> str | float:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _month(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m")
    return "" if value is None else str(value)[:7]


def _recent_table(recent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recent rows pivoted: one row per month, the named series side by side (latest month first)."""
    months: dict[str, dict[str, Any]] = {}
    for row in recent:
        month = months.setdefault(_month(row["period"]), {"month": _month(row["period"]), "series": {}})
        month["series"][row["series_id"]] = row
    return sorted(months.values(), key=lambda m: m["month"], reverse=True)


def render_html(facts: dict[str, Any], charts: dict[str, str] | None = None) -> str:
    """The page. `charts`: the figures' charts when drawn already (`Figures.charts`), else drawn here."""
    # Imported here, not at the top: every run imports this module (RunSummary), and one with nothing new writes no
    # report; Jinja costs ~0.15 s to import.
    import jinja2
    from markupsafe import Markup

    from reewatch.report.charts import render_charts

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
    env.filters["month"] = _month
    env.filters["series_name"] = series_name
    env.filters["columns"] = lambda rows: list(dict.fromkeys(key for row in rows for key in row))
    env.filters["cell"] = lambda v: "" if v is None else _json_default(v) if isinstance(v, date | Decimal) else v
    # Charts are SVG markup drawn by the chart library, which escapes the data inside; `safe_svg` has vetted it.
    drawn = render_charts(facts) if charts is None else charts
    marked = {name: Markup(svg) for name, svg in drawn.items()}
    docs = facts.get("data_docs")
    context = {
        "data_docs": None,
        "recent": [],
        "commodities": [],
        "surveys": [],
        "survey_metrics": [],
        "world_production": [],
        "claim_checks": [],
        "current_publication": None,
        "quarantine_entries": len(facts.get("quarantine", [])),
        "quarantined_rows": len({(q.get("release_id"), q.get("source_row")) for q in facts.get("quarantine", [])}),
        "quality": {"run_id": None, "checked_at": None, "this_run": False, "suites": [], "failing": []},
        "lineage": [],
        **facts,
    }
    context["data_docs"] = docs if isinstance(docs, str) and _SAFE_RELATIVE_LINK.match(docs) else None
    context["charts"] = marked
    context["recent_table"] = _recent_table(context["recent"])
    context["recent_series"] = RECENT_SERIES
    return _CONTROL_CHARS.sub("\ufffd", env.get_template("report.html.j2").render(**context))


# Control characters (NUL above all) are no HTML text: one from a label would reach the page as is, since escaping
# leaves them be. The parsers refuse files with NULs; this is the second line, shown as browsers show them (U+FFFD).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def write_data_docs(lake: Lake, run_id: str, docs_dir: Path) -> str | None:
    """Copy the run's (offline) GX Data Docs beside its report; return the report's relative link to them."""
    if not (docs_dir / "index.html").exists():
        return None
    files = [path for path in sorted(docs_dir.rglob("*")) if path.is_file()]
    for folder in (f"{REPORTS}{run_id}/data_docs/", f"{REPORTS}latest/data_docs/"):
        for path in files:
            lake.write_file(folder + path.relative_to(docs_dir).as_posix(), path)
    return "data_docs/index.html"


def write_report(lake: Lake, facts: dict[str, Any], charts: dict[str, str] | None = None) -> str:
    """Write reports/<run_id>/ and then reports/latest/; return the latest page's location."""
    run_id = facts["run"]["run_id"]
    page = render_html(facts, charts).encode("utf-8")
    summary = json.dumps(facts, default=_json_default, ensure_ascii=False, indent=2).encode("utf-8")
    for folder in (f"{REPORTS}{run_id}/", f"{REPORTS}latest/"):
        lake.write_bytes(f"{folder}summary.json", summary)
        lake.write_bytes(f"{folder}index.html", page)
    return lake.uri(f"{REPORTS}latest/index.html")


def write_nothing_new(lake: Lake, con: duckdb.DuckDBPyConnection, summary: RunSummary) -> str:
    """The report of a run that found nothing new: a small page (and its summary.json) in reports/<run_id>/ saying
    so, and which publication is current, with a link to that publication's own report. Cheap: no figures read, no
    template engine, as a run with nothing new takes ~2.5 s. reports/latest/ stays the latest run that loaded
    something (published or blocked): a note there would hide the report stakeholders open."""
    # No bound parameters (`_has_table`): binding one imports pandas, 0.7 s a run with nothing new never pays.
    published = con.execute("SELECT version, published_at FROM publications ORDER BY version DESC LIMIT 1").fetchone()
    # A version is the id of the run that published it, whose report is reports/<version>/.
    version = published[0] if published else None
    run = asdict(summary)
    run.pop("quality")
    facts = {
        "run": run,
        "current_publication": version,
        "current_publication_report": f"../{version}/index.html" if version else None,
    }
    when = f"{summary.finished_at or summary.started_at:%Y-%m-%d %H:%M} UTC"
    if published:
        about = (
            f"<p>The current publication is <strong>{html.escape(published[0])}</strong>, published "
            f"{published[1]:%Y-%m-%d %H:%M} UTC: <a href=\"{html.escape(str(facts['current_publication_report']))}\">"
            "its report</a>. The report of the latest run that loaded files (published or blocked): "
            "<a href=\"../latest/index.html\">reports/latest/</a>.</p>"
        )
    else:
        about = "<p>Nothing has been published yet: land files in <code>landing/</code>.</p>"
    page = (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>reewatch: nothing new ({html.escape(summary.run_id)})</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5;color:#222}code{font-size:.95em}</style></head><body>"
        f"<h1>Nothing new</h1><p>Run <code>{html.escape(summary.run_id)}</code> ({html.escape(summary.command)}), "
        f"{when}: {html.escape(summary.message)}.</p>"
        f"{about}</body></html>\n"
    )
    folder = f"{REPORTS}{summary.run_id}/"
    lake.write_bytes(f"{folder}summary.json", json.dumps(facts, default=_json_default, indent=2).encode("utf-8"))
    lake.write_bytes(f"{folder}index.html", page.encode("utf-8"))
    return lake.uri(f"{folder}index.html")
