"""The quality gate: the Great Expectations suites of `expectations/` run inside the warehouse's DuckDB, before
anything is published.

One suite per curated table (`expectations/<table>.json`, GX 1.x suite JSON). Every expectation carries
`meta.severity` — `error` blocks the publication (CLI exit 3), `warning` is reported — and `meta.why` in words.
Row-level rules are GX column expectations; rules across rows (YTD identity, parts ≤ whole, recomputed percent
changes, freshness) are `unexpected_rows_expectation` SQL, where `{batch}` is the table and `{today}` the gate's date
(the JSON may write a query as a list of lines, for reading: the gate joins them).

Everything runs in DuckDB on the caller's open connection (`gx_duckdb`): no table is copied into pandas and the
warehouse file is not opened a second time. Or, given a `GxWorker` (a run's: reewatch.gx_worker), on a snapshot of
the curated tables in that worker's process, where GX was imported while the run loaded its files. A check that
cannot run (a SQL error) counts as failed at its own severity: an error check that cannot tell fails closed.

GX is imported only inside `run_gate` (it costs seconds; STACK.md §6): importing this module is cheap.
"""

from __future__ import annotations

import copy
import html
import json
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb

from reewatch.warehouse import connect, sql_literal, transaction

if TYPE_CHECKING:
    from reewatch.gx_worker import GxWorker

log = logging.getLogger(__name__)

SEVERITIES = ("error", "warning")
# GX's own severity field, kept in step with meta.severity so Data Docs show it too.
_GX_SEVERITY = {"error": "critical", "warning": "warning"}
EXAMPLES = 5  # example offending rows kept per failing expectation
DOCS_SITE = "reewatch"
_UNEXPECTED_ROWS = "unexpected_rows_expectation"


class QualityConfigError(ValueError):
    """A suite file is missing or malformed."""


def suites_dir() -> Path:
    """Where the suites live: `REEWATCH_EXPECTATIONS_DIR`, else `reewatch/expectations` inside the installed package
    (when the build force-includes it), else `expectations/` at the root of the source tree."""
    if env := os.environ.get("REEWATCH_EXPECTATIONS_DIR"):
        return Path(env)
    packaged = Path(str(resources.files("reewatch"))) / "expectations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "expectations"


def load_suites(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every `<table>.json` suite as plain JSON (no GX needed), checked: each expectation has a severity, a why and
    a description unique within its suite."""
    directory = directory or suites_dir()
    if not directory.is_dir():
        raise QualityConfigError(f"no such folder: {directory}")
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise QualityConfigError(f"no expectation suites (*.json) in {directory}")
    suites: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            suite = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise QualityConfigError(f"{path.name}: not valid JSON: {exc}") from exc
        _check_suite(suite, path.name)
        suites[suite["name"]] = suite
    return suites


def _check_suite(suite: Mapping[str, Any], file_name: str) -> None:
    name = suite.get("name")
    if name != Path(file_name).stem:
        raise QualityConfigError(f"{file_name}: suite name {name!r} must match the file name")
    meta = suite.get("meta") or {}
    if not meta.get("table") or not isinstance(meta.get("grain"), list):
        raise QualityConfigError(f"{file_name}: meta.table and meta.grain (a list of columns) are required")
    seen: set[str] = set()
    for number, expectation in enumerate(suite.get("expectations") or [], start=1):
        where = f"{file_name} expectation {number}"
        description = expectation.get("description")
        if not expectation.get("type") or not description:
            raise QualityConfigError(f"{where}: type and description are required")
        if description in seen:
            raise QualityConfigError(f"{where}: description {description!r} is used twice in the suite")
        seen.add(description)
        severity = (expectation.get("meta") or {}).get("severity")
        if severity not in SEVERITIES:
            raise QualityConfigError(
                f"{where} ({description}): meta.severity must be error or warning, not {severity!r}"
            )
        if not (expectation.get("meta") or {}).get("why"):
            raise QualityConfigError(f"{where} ({description}): meta.why is required")
        query = (expectation.get("kwargs") or {}).get("unexpected_rows_query")
        if query is not None and not (
            isinstance(query, str) or (isinstance(query, list) and all(isinstance(line, str) for line in query))
        ):
            raise QualityConfigError(f"{where} ({description}): unexpected_rows_query must be a string or lines")


def bind_suite(suite: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The suite as GX gets it: SQL written as a list of lines joined with newlines, `{today}` in SQL replaced by the
    date, GX's own severity field set from meta.severity."""
    bound = copy.deepcopy(dict(suite))
    for expectation in bound["expectations"]:
        kwargs = expectation["kwargs"]
        query = kwargs.get("unexpected_rows_query")
        if isinstance(query, list):
            query = "\n".join(query)
        if isinstance(query, str):
            kwargs["unexpected_rows_query"] = query.replace("{today}", today.isoformat())
        expectation["severity"] = _GX_SEVERITY[expectation["meta"]["severity"]]
    return bound


@dataclass(frozen=True)
class Outcome:
    """One expectation's verdict."""

    suite: str
    table_name: str
    expectation: str  # the expectation's description, in words
    expectation_type: str
    severity: str  # error | warning
    success: bool
    unexpected_count: int | None  # rows that broke it (None for table-level checks)
    observed: str  # what was seen, short
    why: str
    examples: tuple[dict[str, Any], ...] = ()  # a few offending rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite, "table_name": self.table_name, "expectation": self.expectation,
            "expectation_type": self.expectation_type, "severity": self.severity, "success": self.success,
            "unexpected_count": self.unexpected_count, "observed": self.observed, "why": self.why,
            "examples": list(self.examples),
        }  # fmt: skip


@dataclass(frozen=True)
class SuiteCounts:
    passed: int
    warnings: int  # failed expectations of severity warning
    failed: int  # failed expectations of severity error


@dataclass(frozen=True)
class GateResult:
    run_id: str
    checked_at: datetime  # UTC, naive (as stored)
    today: date
    outcomes: tuple[Outcome, ...]
    docs_index: Path | None  # the Data Docs' index.html (see wait_for_docs)
    seconds: dict[str, float] = field(default_factory=dict)
    # Returns once the Data Docs are built (a GX worker builds them after its answer): their index, or None.
    docs_built: Callable[[], Path | None] | None = field(default=None, compare=False, repr=False)

    def wait_for_docs(self) -> Path | None:
        """The Data Docs' index once they are in place (None if they could not be built): a GX worker builds them
        while the run goes on to publish."""
        return self.docs_built() if self.docs_built is not None else self.docs_index

    @property
    def blocked(self) -> bool:
        """True when any error expectation failed: do not publish."""
        return any(not o.success and o.severity == "error" for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        """Failed error expectations (what blocks)."""
        return [o for o in self.outcomes if not o.success and o.severity == "error"]

    @property
    def warnings(self) -> list[Outcome]:
        """Failed warning expectations (reported, not blocking)."""
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]

    @property
    def counts(self) -> dict[str, SuiteCounts]:
        counts: dict[str, SuiteCounts] = {}
        for suite in dict.fromkeys(o.suite for o in self.outcomes):
            mine = [o for o in self.outcomes if o.suite == suite]
            counts[suite] = SuiteCounts(
                passed=sum(o.success for o in mine),
                warnings=sum(not o.success and o.severity == "warning" for o in mine),
                failed=sum(not o.success and o.severity == "error" for o in mine),
            )
        return counts

    def summary(self) -> str:
        """One line for logs and the CLI."""
        head = "quality gate blocked publishing" if self.blocked else "quality gate passed"
        text = f"{head}: {len(self.failures)} error(s), {len(self.warnings)} warning(s) in {len(self.outcomes)} checks"
        if self.failures:
            text += " — " + "; ".join(f"{o.suite}: {o.expectation} ({o.observed})" for o in self.failures[:3])
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for summary.json and the report."""
        return {
            "run_id": self.run_id,
            "checked_at": self.checked_at.isoformat(),
            "today": self.today.isoformat(),
            "blocked": self.blocked,
            "counts": {name: vars(c) for name, c in self.counts.items()},
            "failures": [o.to_dict() for o in self.failures],
            "warnings": [o.to_dict() for o in self.warnings],
            "docs_index": str(self.docs_index) if self.docs_index else None,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class Validation:
    """What GX validates, in the run's process or in its GX worker's (reewatch.gx_worker)."""

    suites: dict[str, dict[str, Any]]  # the suites whose tables are present, bound to the gate's date
    schema: str
    run_id: str
    checked_at: datetime
    docs_dir: Path  # where the Data Docs are built
    template_cache: Path | None = None  # where their compiled templates are kept from run to run (gx_tuning)


def run_gate(
    warehouse: duckdb.DuckDBPyConnection | str | Path,
    run_id: str,
    docs_dir: Path,
    today: date | None = None,
    *,
    schema: str = "curated",
    suites: Sequence[str] | None = None,
    suites_directory: Path | None = None,
    record: bool = True,
    worker: GxWorker | None = None,
    meanwhile: Callable[[], object] = lambda: None,
    template_cache: Path | None = None,
) -> GateResult:
    """Validate the curated tables against their suites inside DuckDB, record one `quality_results` row per
    expectation (and refresh `curated.quality_results`), and build offline Data Docs under `docs_dir`.

    `warehouse` is the caller's open connection (the writer's: call outside any open transaction, after the curated
    tables are built and committed) or a path to a warehouse file, opened and closed here. `today` (default: today
    in UTC) is the date freshness and future-period checks compare against. `suites` limits the run to some suites.
    `meanwhile` is called once the validation is under way: with a `worker`, as soon as it holds its snapshot of
    the tables, so that what the caller does beside the gate (a run draws its report's charts) never delays that
    copy; without one, just before validating here. `template_cache` is a folder where the Data Docs' compiled
    templates are kept for the next gates (without it, each build compiles them again).
    """
    started = time.monotonic()
    today = today or datetime.now(UTC).date()
    checked_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    definitions = load_suites(suites_directory)
    if suites is not None:
        unknown = sorted(set(suites) - set(definitions))
        if unknown:
            raise QualityConfigError(f"unknown suite(s): {', '.join(unknown)}")
        definitions = {name: definitions[name] for name in suites}

    own = connect(warehouse) if isinstance(warehouse, str | Path) else None
    con = own if own is not None else warehouse
    assert isinstance(con, duckdb.DuckDBPyConnection)
    try:
        tables = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? AND database_name = current_database()",
                [schema],
            ).fetchall()
        }
        outcomes: list[Outcome] = []
        present: dict[str, dict[str, Any]] = {}
        for name, suite in definitions.items():
            table = suite["meta"]["table"]
            if table in tables:
                present[name] = bind_suite(suite, today)
            else:
                outcomes.append(
                    Outcome(name, table, f"table {schema}.{table} exists", "table_exists", "error", False, None,
                            "table missing", "A curated table without data cannot be checked or published.")
                )  # fmt: skip
        job = Validation(present, schema, run_id, checked_at, docs_dir, template_cache)
        docs_built: Callable[[], Path | None] | None = None
        if worker is not None:
            validated, docs_built, seconds = _validate_in_worker(worker, con, tables, job, meanwhile)
            docs_index = docs_dir / "index.html" if present else None  # once docs_built returns
        else:
            meanwhile()
            validated, docs_index, seconds = _validate(con, job)
        outcomes.extend(validated)
        seconds["total"] = round(time.monotonic() - started, 3)
        result = GateResult(run_id, checked_at, today, tuple(outcomes), docs_index, seconds, docs_built)
        if record:
            record_results(con, result)
        log.info("%s", result.summary())
        return result
    finally:
        if own is not None:
            own.close()


def load_gx() -> None:
    """Import GX and our DuckDB bridge for it: seconds (STACK.md §6), so the gate does it, or a run's GX worker
    (reewatch.gx_worker) earlier. No telemetry, no version check, no network: GX is only asked to compute and render;
    the variable must be set before the first import."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401
    import great_expectations.core.run_identifier  # noqa: F401
    import great_expectations.data_context.types.base  # noqa: F401

    # GX logs housekeeping at INFO, one module forcing its own level (the temporary folder of its ephemeral docs
    # site): the gate's own line is what a run's log needs. GX's warnings and errors still show.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)

    import reewatch.gx_duckdb  # noqa: F401
    from reewatch.gx_tuning import speed_up_kwargs

    speed_up_kwargs()


def _validate_in_worker(
    worker: GxWorker,
    con: duckdb.DuckDBPyConnection,
    tables: set[str],
    job: Validation,
    meanwhile: Callable[[], object],
) -> tuple[list[Outcome], Callable[[], Path | None], dict[str, float]]:
    """`_validate` in the worker's process, on a copy of the schema's `tables` (every one, so that a suite's query
    may read another curated table beside {batch}; their committed state, which is what GX reads here too); if the
    worker cannot answer, here after all. Returns the outcomes, what waits for the Data Docs (the worker builds them
    after answering) and the timings."""
    from reewatch.gx_worker import GxWorkerError, Request

    with tempfile.TemporaryDirectory(prefix="reewatch-gate-") as tmp:  # the curated tables are small: KBs to MBs
        # Not `<schema>.duckdb`: a database file's name is its catalog's, and a catalog named like the schema makes
        # every `curated.<table>` in a suite's query ambiguous.
        snapshot = Path(tmp) / "snapshot.duckdb"
        clock = time.monotonic()
        write_snapshot(con, job.schema, tables, snapshot)
        copied = round(time.monotonic() - clock, 3)
        try:
            try:
                worker.submit(Request(snapshot, job))
            finally:  # taken or not, the snapshot is made: the caller's work beside the gate may start
                meanwhile()
            outcomes, seconds = worker.answer()
        except GxWorkerError as exc:
            log.warning("%s; validating in this process instead", exc)
            outcomes, docs_index, seconds = _validate(con, job)
            return outcomes, lambda: docs_index, seconds

    def docs_built() -> Path | None:
        try:
            return cast("Path | None", worker.docs())
        except GxWorkerError as exc:  # the verdict stands; the docs are built again here
            log.warning("%s; building the Data Docs in this process instead", exc)
            return _validate(con, job)[1]

    return outcomes, docs_built, {"snapshot": copied, **seconds}


def write_snapshot(con: duckdb.DuckDBPyConnection, schema: str, tables: Iterable[str], snapshot: Path) -> None:
    """Copy `schema`'s `tables` into a new DuckDB file, as they are committed: what the GX worker validates."""
    con.execute(f"ATTACH {sql_literal(str(snapshot))} AS gate_snapshot")
    try:
        con.execute(f"CREATE SCHEMA gate_snapshot.{schema}")
        for table in sorted(tables):
            con.execute(f"CREATE TABLE gate_snapshot.{schema}.{table} AS FROM {schema}.{table}")  # noqa: S608
    finally:
        con.execute("DETACH gate_snapshot")


def _validate(
    con: duckdb.DuckDBPyConnection,
    job: Validation,
    *,
    others: Callable[[], list[Outcome]] | None = None,
    other_pages: Callable[[], None] | None = None,
    answer: Callable[[tuple[list[Outcome], dict[str, float]]], None] | None = None,
    offline: bool = True,
) -> tuple[list[Outcome], Path | None, dict[str, float]]:
    """Validate `job`'s suites and build their Data Docs in `job.docs_dir`: the pages alone if `offline` is False
    (another process then adds them to its folder), else with the offline index. `others`, if given, returns the
    outcomes of suites validated beside this; `other_pages` puts their pages into this folder, and is called after
    this process's docs are built, as GX's index build removes the pages of suites it did not validate itself.
    `answer`, if given, gets (outcomes, seconds) once every suite is validated, before the docs are built."""
    suites, schema, run_id, checked_at, docs_dir = job.suites, job.schema, job.run_id, job.checked_at, job.docs_dir
    seconds: dict[str, float] = {}
    clock = time.monotonic()
    load_gx()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from reewatch.gx_duckdb import DuckDBCursors, close_gx, enable_duckdb
    from reewatch.gx_tuning import cache_compiled_templates

    seconds["import"] = round(time.monotonic() - clock, 3)
    cache_compiled_templates(job.template_cache)
    clock = time.monotonic()
    enable_duckdb()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    docs_dir.mkdir(parents=True, exist_ok=True)
    site: Any = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_how_to_buttons": False},
        "show_how_to_buttons": False,  # no "how to" tutorial footer
    }
    context.add_data_docs_site(DOCS_SITE, site)
    cursors = DuckDBCursors(con, schema)
    outcomes: list[Outcome] = []
    try:
        # The URL only picks duckdb-engine's dialect: connections come from `cursors` (the caller's database).
        datasource = context.data_sources.add_sql(  # type: ignore[call-arg]  # kwargs: GX's generated signature
            name="warehouse", connection_string="duckdb:///:memory:", kwargs={"creator": cursors}
        )
        gx_run = RunIdentifier(run_name=run_id, run_time=checked_at.replace(tzinfo=UTC))
        for name, suite in suites.items():
            table = suite["meta"]["table"]
            asset = datasource.add_table_asset(name=name, table_name=table)
            batch = asset.add_batch_definition_whole_table(name=f"{table} (whole table)")
            gx_suite = context.suites.add(
                gx.ExpectationSuite(name=name, expectations=suite["expectations"], meta=suite["meta"])
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=gx_suite)
            )
            result_format = {
                "result_format": "SUMMARY",
                "unexpected_index_column_names": list(suite["meta"]["grain"]),
                "partial_unexpected_count": EXAMPLES,
            }
            results = definition.run(result_format=result_format, run_id=gx_run)
            outcomes.extend(_outcomes(con, schema, suite, results.results))
        if others is not None:
            outcomes += others()
        seconds["validate"] = round(time.monotonic() - clock, 3)
        if answer is not None:
            answer((outcomes, dict(seconds)))
        clock = time.monotonic()
        docs_index: Path | None = None
        if suites:
            context.build_data_docs(site_names=[DOCS_SITE], build_index=offline)
            if other_pages is not None:
                other_pages()
            if offline:
                make_offline(docs_dir, _suite_status(outcomes), run_id)
                docs_index = docs_dir / "index.html"
        seconds["docs"] = round(time.monotonic() - clock, 3)
    finally:
        close_gx(context, cursors)
    return outcomes, docs_index, seconds


def _outcomes(
    con: duckdb.DuckDBPyConnection, schema: str, suite: Mapping[str, Any], results: Iterable[Any]
) -> list[Outcome]:
    by_description = {e["description"]: e for e in suite["expectations"]}
    order = {e["description"]: number for number, e in enumerate(suite["expectations"])}
    outcomes = []
    for validation in results:
        config = validation.expectation_config
        definition = by_description.get(config.description or "")
        if definition is None:  # GX dropped the description: fall back to the order-independent meta
            definition = next(e for e in suite["expectations"] if e["meta"] == config.meta and e["type"] == config.type)
        result: dict[str, Any] = dict(validation.result or {})
        exception = _raised(validation.exception_info)
        raised = exception is not None
        success = bool(validation.success) and not raised
        count, observed = _observed(definition["type"], result, exception)
        examples: tuple[dict[str, Any], ...] = ()
        if not success and not raised:
            examples = _examples(con, schema, suite["meta"]["table"], definition, result)
        outcomes.append(
            Outcome(
                suite=suite["name"],
                table_name=suite["meta"]["table"],
                expectation=definition["description"],
                expectation_type=definition["type"],
                severity=definition["meta"]["severity"],
                success=success,
                unexpected_count=count,
                observed=observed,
                why=definition["meta"]["why"],
                examples=examples,
            )
        )
    return sorted(outcomes, key=lambda o: order.get(o.expectation, len(order)))


def _raised(info: Any) -> Mapping[str, Any] | None:
    """The exception a check raised, if any: GX puts it at the top of `exception_info`, or under each failed metric."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return info
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return value
    return None


def _observed(kind: str, result: Mapping[str, Any], exception: Mapping[str, Any] | None) -> tuple[int | None, str]:
    if exception is not None:
        message = str(exception.get("exception_message") or "unknown error").strip().splitlines()[0]
        return None, f"check could not run: {message[:300]}"
    if kind == _UNEXPECTED_ROWS:
        count = int(result.get("observed_value") or 0)
        return count, "no offending rows" if count == 0 else f"{count:,} offending row(s)"
    if "unexpected_count" in result:
        count = int(result["unexpected_count"] or 0)
        total = int(result.get("element_count") or 0)
        text = f"{count:,} of {total:,} row(s) unexpected"
        values = [v for v in result.get("partial_unexpected_list") or [] if v is not None and not isinstance(v, dict)]
        if count and values:
            text += " (e.g. " + ", ".join(_short(v) for v in values[:3]) + ")"
        return count, text
    if "observed_value" in result:
        return None, f"observed {_short(result['observed_value'])}"
    return None, "no observation"


def _short(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)[:60]


def _examples(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, definition: Mapping[str, Any], result: Mapping[str, Any]
) -> tuple[dict[str, Any], ...]:
    """A few offending rows: GX's partial index list for column checks; for SQL checks the query itself, re-run in
    DuckDB with a LIMIT (only for checks that failed)."""
    if definition["type"] != _UNEXPECTED_ROWS:
        rows = result.get("partial_unexpected_index_list") or result.get("partial_unexpected_list") or []
        return tuple(_jsonable_row(r) for r in rows[:EXAMPLES] if isinstance(r, dict))
    qualified = f'"{schema}"."{table}"'
    query = definition["kwargs"]["unexpected_rows_query"].format(batch=qualified)
    try:
        # Ordered: the same rows, in the same order, every time (a GROUP BY's rows come in any order).
        cursor = con.execute(f"SELECT * FROM ({query}) AS unexpected ORDER BY ALL LIMIT {EXAMPLES}")  # noqa: S608
        names = [d[0] for d in cursor.description or []]
        return tuple(_jsonable_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall())
    except duckdb.Error as exc:  # the examples are a courtesy: the verdict stands without them
        log.warning("could not fetch example rows for %s: %s", definition["description"], exc)
        return ()


def _jsonable_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _jsonable(v) for k, v in row.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record_results(con: duckdb.DuckDBPyConnection, result: GateResult) -> None:
    """Replace this run's rows in `quality_results` and refresh `curated.quality_results` when it exists."""
    rows = [
        (result.run_id, o.suite, o.table_name, o.expectation, o.severity, o.success, o.unexpected_count, o.observed,
         result.checked_at)
        for o in result.outcomes
    ]  # fmt: skip
    curated = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'curated' AND table_name = 'quality_results' "
        "AND database_name = current_database()"
    ).fetchone()
    with transaction(con):
        con.execute("DELETE FROM quality_results WHERE run_id = ?", [result.run_id])
        if rows:
            con.executemany(
                "INSERT INTO quality_results (run_id, suite, table_name, expectation, severity, success, "
                "unexpected_count, observed, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        if curated and curated[0]:
            from reewatch.curate import load_model

            con.execute(f"CREATE OR REPLACE TABLE curated.quality_results AS {load_model('quality_results').sql}")


# --- Data Docs, offline -------------------------------------------------------------------------------------------
# GX's pages pull Bootstrap, jQuery, Vega and Font Awesome from CDNs (STACK.md §5). Offline they would render as
# unstyled text with stray modal dialogs and invisible pass/fail icons. The pages are static HTML rendered by GX, so
# every external <script>/<link>/<img> is removed, external links are made plain text, remote CSS url()s dropped,
# and a small inline stylesheet stands in for the parts of Bootstrap the pages use.

_EXTERNAL = r"""(?:https?:)?//"""
_SCRIPT_TAG = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_LINK_EXTERNAL = re.compile(rf"""<link\b[^>]*\bhref\s*=\s*["']{_EXTERNAL}[^>]*>""", re.IGNORECASE)
_IMG_EXTERNAL = re.compile(rf"""<img\b[^>]*\bsrc\s*=\s*["']{_EXTERNAL}[^>]*>""", re.IGNORECASE | re.DOTALL)
_ATTR_EXTERNAL = re.compile(rf"""\s(?:href|src|srcset|action|poster|data-src)\s*=\s*["']{_EXTERNAL}[^"']*["']""",
                            re.IGNORECASE)  # fmt: skip
_CSS_URL_EXTERNAL = re.compile(rf"""url\(\s*["']?{_EXTERNAL}[^)]*\)""", re.IGNORECASE)
_JS_BUTTON = re.compile(r"<button\b[^>]*\bonclick\s*=[^>]*>.*?</button\s*>", re.IGNORECASE | re.DOTALL)
_INDEX_TABLE = re.compile(r"<table\b([^>]*\bge-index-page-[^>]*)>.*?</table\s*>", re.IGNORECASE | re.DOTALL)
_CSS_IMPORT_EXTERNAL = re.compile(rf"""@import\s+(?:url\()?\s*["']?{_EXTERNAL}[^;]*;""", re.IGNORECASE)

OFFLINE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:14px;
  line-height:1.45;color:#212529;background:#fff;margin:0}
a{color:#0b5ed7;text-decoration:none} a:hover{text-decoration:underline}
.container-fluid{padding:0 16px} .row{display:flex;flex-wrap:wrap;margin:0}
.col-12,.col-sm-12,.col-xs-12{flex:0 0 100%;max-width:100%}
@media (min-width:768px){.col-md-2{flex:0 0 16.6%;max-width:16.6%}.col-md-10{flex:0 0 83.3%;max-width:83.3%}
  .col-md-4{flex:0 0 33.3%;max-width:33.3%}.col-md-6{flex:0 0 50%;max-width:50%}
  .col-md-8{flex:0 0 66.6%;max-width:66.6%}}
.modal,.ge-walkthrough-modal,.sr-only,.d-none:not([class*="d-md-"]):not([class*="d-sm-"]){display:none!important}
footer{display:none!important}
.navbar{display:flex;align-items:center;gap:12px;padding:8px 16px;border-bottom:1px solid #dee2e6;background:#f8f9fa}
.nav{display:flex;flex-wrap:wrap;gap:6px;list-style:none;padding:0;margin:8px 0}
.nav-link{display:block;padding:4px 10px;border:1px solid #dee2e6;border-radius:4px}
.nav-link.active{background:#0b5ed7;color:#fff}
.breadcrumb{display:flex;gap:6px;list-style:none;padding:6px 0;margin:0}
.breadcrumb-item+.breadcrumb-item::before{content:"/";padding-right:6px;color:#6c757d}
.card{border:1px solid #dee2e6;border-radius:6px;margin:12px 0;background:#fff}
.card-header{padding:8px 12px;background:#f8f9fa;border-bottom:1px solid #dee2e6;font-weight:600}
.card-body{padding:12px}
.table{width:100%;border-collapse:collapse;margin:8px 0}
.table th,.table td{border:1px solid #dee2e6;padding:4px 8px;vertical-align:top;text-align:left}
.table thead th{background:#f1f3f5}
.table-responsive{overflow-x:auto}
.badge{display:inline-block;padding:1px 6px;border-radius:4px;font-size:12px;background:#e9ecef;color:#212529}
.badge-success{background:#d1e7dd;color:#0f5132} .badge-danger{background:#f8d7da;color:#842029}
.badge-warning{background:#fff3cd;color:#664d03} .badge-info{background:#cff4fc;color:#055160}
.alert{padding:8px 12px;border:1px solid #dee2e6;border-radius:6px;margin:8px 0;background:#f8f9fa}
.alert-secondary{background:#f1f3f5} .alert-danger{background:#f8d7da} .alert-success{background:#d1e7dd}
.btn{display:inline-block;padding:3px 10px;border:1px solid #adb5bd;border-radius:4px;background:#f8f9fa}
.text-success{color:#198754} .text-danger{color:#dc3545} .text-warning{color:#b58100} .text-muted{color:#6c757d}
.fas,.far,.fa{font-style:normal;font-weight:700}
.fa-check-circle::before,.fa-check::before{content:"\\2714"}
.fa-times::before,.fa-times-circle::before{content:"\\2718"}
.fa-exclamation-triangle::before,.fa-exclamation-circle::before{content:"\\26A0"}
.fa-info-circle::before,.fa-question-circle::before{content:"\\24D8"}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;white-space:pre-wrap}
.ge-navigation-sidebar-link{display:block;padding:2px 0}
""".strip()


def _suite_status(outcomes: Sequence[Outcome]) -> dict[str, str]:
    status: dict[str, str] = {}
    for suite in dict.fromkeys(o.suite for o in outcomes):
        mine = [o for o in outcomes if o.suite == suite]
        errors = sum(not o.success and o.severity == "error" for o in mine)
        warnings = sum(not o.success and o.severity == "warning" for o in mine)
        head = "blocked" if errors else "passed with warnings" if warnings else "passed"
        status[suite] = f"{head}: {sum(o.success for o in mine)} passed, {warnings} warning(s), {errors} error(s)"
    return status


def make_offline(docs_dir: Path, suite_status: Mapping[str, str] | None = None, run_name: str | None = None) -> int:
    """Rewrite every page and stylesheet under `docs_dir` so that nothing is fetched from the network, and give the
    index static tables of its validation results and suites (GX fills them with JavaScript); return the number of
    files changed. `suite_status` (suite → outcome in words) labels the results of run `run_name` in the index."""
    changed = 0
    style = f"<style>\n{OFFLINE_CSS}\n</style>\n"
    for path in sorted(docs_dir.rglob("*")):
        suffix = path.suffix.lower()
        if suffix not in (".html", ".htm", ".css"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        new = _CSS_IMPORT_EXTERNAL.sub("", text)
        new = _CSS_URL_EXTERNAL.sub("none", new)
        if suffix != ".css":
            # jQuery/Bootstrap UI sugar (filters, modals, sortable tables): the pages are rendered server-side, and
            # without the libraries these scripts and their buttons would only throw errors.
            new = _SCRIPT_TAG.sub("", new)
            new = _JS_BUTTON.sub("", new)
            new = _LINK_EXTERNAL.sub("", new)
            logo = docs_dir / "static" / "images" / "logo-long.png"  # GX ships it; the pages link the CDN copy
            local_logo = f'<img src="{os.path.relpath(logo, path.parent)}" alt="Great Expectations" height="28">'
            new = _IMG_EXTERNAL.sub(local_logo if logo.exists() else "", new)
            new = _ATTR_EXTERNAL.sub("", new)
            if path == docs_dir / "index.html":
                new = _static_index(docs_dir, new, suite_status or {}, run_name)
            if OFFLINE_CSS not in new:
                new = re.sub(r"</head\s*>", lambda m: style + m.group(0), new, count=1, flags=re.IGNORECASE)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    _prune_static(docs_dir)
    return changed


_LOCAL_REFERENCE = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']|url\(\s*["']?)([^"')#?]+)""", re.IGNORECASE)


def _prune_static(docs_dir: Path) -> None:
    """Drop the files of GX's static/ folder (walkthrough GIFs, unused fonts: ~4 MB a run) that no page uses."""
    static = docs_dir / "static"
    if not static.is_dir():
        return
    used: set[Path] = set()
    for page in docs_dir.rglob("*"):
        if page.suffix.lower() in (".html", ".htm", ".css"):
            for match in _LOCAL_REFERENCE.finditer(page.read_text(encoding="utf-8", errors="replace")):
                used.add((page.parent / match.group(1)).resolve())
    for path in sorted(static.rglob("*"), reverse=True):
        if path.is_file() and path.suffix.lower() != ".css" and path.resolve() not in used:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _static_index(docs_dir: Path, page: str, suite_status: Mapping[str, str], run_name: str | None) -> str:
    """Put static tables where GX's index has empty, script-filled ones (or at the top of the body)."""
    validations = []
    for path in (docs_dir / "validations").rglob("*.html") if (docs_dir / "validations").is_dir() else []:
        parts = path.relative_to(docs_dir / "validations").parts  # suite / run name / run time / batch.html
        if len(parts) >= 4:
            validations.append((parts[-2], parts[0], parts[-3], path.relative_to(docs_dir).as_posix()))
    rows = "".join(
        f'<tr><td><a href="{html.escape(link)}">{html.escape(suite)}</a></td><td>{html.escape(run)}</td>'
        f"<td>{html.escape(run_time)}</td><td>{html.escape(suite_status.get(suite, '') if run == run_name else '')}"
        "</td></tr>"
        for run_time, suite, run, link in sorted(validations, reverse=True)
    )
    validation_table = (
        '<table class="table"><thead><tr><th>Suite (validation result)</th><th>Run</th><th>Run time (UTC)</th>'
        f"<th>Outcome</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    suites = sorted((docs_dir / "expectations").rglob("*.html")) if (docs_dir / "expectations").is_dir() else []
    suite_rows = "".join(
        f'<tr><td><a href="{html.escape(p.relative_to(docs_dir).as_posix())}">{html.escape(p.stem)}</a></td></tr>'
        for p in suites
    )
    suite_table = (
        f'<table class="table"><thead><tr><th>Expectation suite</th></tr></thead><tbody>{suite_rows}</tbody></table>'
    )
    new, found = _INDEX_TABLE.subn(
        lambda m: validation_table if "validation-results" in m.group(1) else suite_table, page
    )
    if found == 0:
        new = re.sub(r"<body\b[^>]*>", lambda m: m.group(0) + validation_table + suite_table, page, count=1)
    return new


def external_references(docs_dir: Path) -> list[str]:
    """Every reference in the docs that a browser would fetch (or follow) off this machine: for tests."""
    found: list[str] = []
    attribute = r"""\b(?:src|href|srcset|action|poster)\s*=\s*["']|url\(\s*["']?|@import\s+["']?"""
    pattern = re.compile(f"(?:{attribute}){_EXTERNAL}", re.IGNORECASE)
    for path in sorted(docs_dir.rglob("*")):
        if path.suffix.lower() in (".html", ".htm", ".css", ".js", ".svg"):
            text = path.read_text(encoding="utf-8", errors="replace")
            found.extend(f"{path.relative_to(docs_dir)}: {m.group(0)}" for m in pattern.finditer(text))
    return found
