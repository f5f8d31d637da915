"""The reewatch pipeline as a Prefect flow: landing → raw → warehouse → curated → publication → report.

Tasks that touch storage retry with backoff on storage errors; everything else fails fast. One run at a time
owns the warehouse (the writer lock); a second run waits up to `wait_seconds` and then says the lake is busy.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun
from prefect.states import State

from flows.deployments import warehouse_slot
from flows.notifications import check_freshness, emit_run_event
from flows.retries import STORAGE_RETRIES
from flows.scaleout import backfill_archived, backfill_landed
from reewatch import warmup
from reewatch.config import ConfigError, load_settings, mask_userinfo
from reewatch.curate import build_curated
from reewatch.gx_worker import GxWorker
from reewatch.identities import record_identity_warnings
from reewatch.ingest import (
    ReleaseOutcome,
    archived_releases,
    clear_leftover_stages,
    ingest_landed,
    new_landing_files,
    replay_release,
    upgrade_kept_detail,
)  # fmt: skip
from reewatch.lake import Lake, LakeObject, open_lake
from reewatch.publish import Publication, publish
from reewatch.quality import GateResult, run_gate
from reewatch.report import (
    Figures,
    RunSummary,
    figures_in_background,
    gather,
    write_data_docs,
    write_nothing_new,
    write_report,
)
from reewatch.runtime import tune_gc_for_a_run
from reewatch.warehouse import Warehouse, inline


@task(name="list landing", **STORAGE_RETRIES)
def list_landing(lake: Lake, con: duckdb.DuckDBPyConnection) -> list[LakeObject]:
    return new_landing_files(lake, con)


@task(name="ingest release", task_run_name="ingest {obj.key}", **STORAGE_RETRIES)
def ingest_release(
    lake: Lake, con: duckdb.DuckDBPyConnection, obj: LakeObject, run_id: str, work_dir: Path
) -> ReleaseOutcome:
    return ingest_landed(lake, con, obj, run_id, work_dir)


@task(name="replay release", task_run_name="replay {release[1]}", **STORAGE_RETRIES)
def replay(
    lake: Lake, con: duckdb.DuckDBPyConnection, release: tuple[str, str, str | None], run_id: str, work_dir: Path
) -> ReleaseOutcome:
    return replay_release(lake, con, release, run_id, work_dir)


@task(name="build curated tables", cache_policy=NO_CACHE)
def curate(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    counts = build_curated(con)
    warnings = record_identity_warnings(con, run_id)
    if warnings:
        get_run_logger().warning("%d identity warning(s): see load_warnings and the report", warnings)
    return counts


# Not persisted, whatever Prefect's settings: the result holds a live handle on the GX worker (GateResult.docs_built).
@task(name="quality gate", cache_policy=NO_CACHE, persist_result=False)
def quality_gate(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    docs_dir: Path,
    report_uri: str,
    gx: GxWorker | None,
    meanwhile: Callable[[], object],
    template_cache: Path,
) -> GateResult:
    gate = run_gate(con, run_id, docs_dir, worker=gx, meanwhile=meanwhile, template_cache=template_cache)
    create_markdown_artifact(markdown=gate_markdown(gate, report_uri), key="reewatch-quality-gate",
                             description=gate.summary())  # fmt: skip
    return gate


def gate_markdown(gate: GateResult, report_uri: str) -> str:
    """The Prefect artifact of a gate: one row per suite, then the failing expectations and the report's link."""
    lines = [
        f"**{gate.summary()}**",
        "",
        "| suite | passed | warnings | failed |",
        "|---|---:|---:|---:|",
        *(f"| {suite} | {c.passed} | {c.warnings} | {c.failed} |" for suite, c in gate.counts.items()),
        "",
        *(f"- {o.severity}: {o.suite} — {o.expectation} ({o.observed})" for o in [*gate.failures, *gate.warnings]),
        "",
        f"Report: {report_uri}",
    ]
    return "\n".join(lines)


@task(name="publish version", **STORAGE_RETRIES)
def publish_version(
    con: duckdb.DuckDBPyConnection, lake: Lake, settings: Any, version: str, run_id: str
) -> Publication:
    return publish(con, lake, settings, version, run_id)


@task(name="write report", **STORAGE_RETRIES)
def report(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    summary: RunSummary,
    docs_dir: Path | None,
    figures: futures.Future[Figures] | None = None,
) -> str:
    drawn = figures.result() if figures is not None else None
    facts = gather(con, summary, drawn)
    facts["data_docs"] = write_data_docs(lake, summary.run_id, docs_dir) if docs_dir else None
    return write_report(lake, facts, drawn.charts if drawn is not None else None)


def unpublished_changes(con: duckdb.DuckDBPyConnection) -> bool:
    """True when releases were loaded after the newest publication (its run was killed before the swap)."""
    row = con.execute(
        "SELECT (SELECT max(ingested_at) FROM releases) > "
        "coalesce((SELECT max(published_at) FROM publications), TIMESTAMP '1970-01-01')"
    ).fetchone()
    return bool(row and row[0])


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@flow(name="reewatch-run", log_prints=False)
def reewatch_run(
    lake: str | None = None,
    command: str = "run",
    wait_seconds: float = 0.0,
    replay_ids: list[str] | None = None,
    replay_all: bool = False,
    workers: int | None = None,
) -> dict[str, Any]:
    """Process everything new in landing/ (or, for a replay, re-parse archived releases from raw/), rebuild the
    curated tables, publish them and write the report."""
    tune_gc_for_a_run()  # a deployment's run: its process was started by Prefect, not by our command line
    logger = get_run_logger()
    settings = load_settings(lake, workers=workers)
    store = open_lake(settings.lake, settings.s3() if settings.is_s3 else None)
    run_id = new_run_id()
    summary = RunSummary(run_id=run_id, command=command, lake=store.url, started_at=_now())
    warehouse = Warehouse(settings, store)
    docs_dir: Path | None = None
    gate: GateResult | None = None
    figures: futures.Future[Figures] | None = None
    with (
        warmup.until_the_run_ends(),
        warehouse_slot(wait_seconds),
        warehouse.writer(wait_seconds) as con,
        contextlib.ExitStack() as before_the_writer_closes,
    ):
        # Values inline (`warehouse.inline`): a bound parameter would import pandas, which a no-op run never needs.
        con.execute(inline(
            "INSERT INTO runs (run_id, command, started_at, status) VALUES (?, ?, ?, 'running')",
            [run_id, command, summary.started_at],
        ))  # fmt: skip
        before_the_writer_closes.push(_failure_recorder(con, run_id))
        work_dir = warehouse.work_dir
        clear_leftover_stages(store, work_dir)  # what a killed run left; this run holds the lock now
        upgrade_kept_detail(store, con, work_dir)  # once per lake: an older reewatch kept long rows
        if replay_ids or replay_all:
            releases = archived_releases(con, None if replay_all else replay_ids)
            logger.info("replaying %d archived release(s) from raw/", len(releases))
            files = len(releases)
            if settings.scale_out and releases:
                outcomes = backfill_archived(store, con, settings, releases, run_id, work_dir)
            else:
                outcomes = (replay(store, con, release, run_id, work_dir) for release in releases)
        else:
            landed = list_landing(store, con)
            logger.info("%d new file(s) in %slanding/", len(landed), store.url.rstrip("/") + "/")
            files = len(landed)
            if settings.scale_out and landed:
                outcomes = backfill_landed(store, con, settings, landed, run_id, work_dir)
            else:
                outcomes = (ingest_release(store, con, obj, run_id, work_dir) for obj in landed)
        # The outcomes are generators: nothing has staged yet. GX loads in a worker while the files stage
        # (reewatch.warmup); with nothing to validate, the worker the command line started goes now.
        if files:
            warmup.start()
        else:
            warmup.stop()
        started = time.monotonic()
        for number, outcome in enumerate(outcomes, start=1):
            summary.files_in += 1
            summary.rows_loaded += outcome.rows_loaded
            summary.rows_quarantined += outcome.rows_quarantined
            summary.releases.append(asdict(outcome))
            rate = summary.rows_loaded / max(time.monotonic() - started, 1e-6)
            (logger.warning if outcome.status != "loaded" else logger.info)(
                "[%d/%d] %s (%s rows/s so far)", number, files, outcome.message, f"{rate:,.0f}"
            )

        has_publication = con.execute("SELECT count(*) FROM publications").fetchone() != (0,)
        # A run that died after loading but before its publication swapped left work to finish.
        resume = not files and unpublished_changes(con)
        if resume:
            logger.warning("the warehouse holds releases loaded after the last publication: publishing them now")
        if not files and not resume:
            summary.status = "nothing_new"
            summary.message = (
                "nothing new in landing/; the publication is unchanged"
                if has_publication
                else "landing/ is empty: nothing to publish yet"
            )
        else:
            curate(con, run_id)
            # The report's figures are read and its charts drawn while the GX worker validates (the gate leaves the
            # curated tables as they are), not before it has its snapshot: drawing holds the GIL for most of a
            # second, and the copy would wait. However the run ends, the thread's cursor is closed before the
            # writer's connection.
            drawing: list[futures.Future[Figures]] = []
            before_the_writer_closes.callback(futures.wait, drawing)
            docs_dir = warehouse.work_dir / "quality" / run_id
            logger.info("running the quality gate")
            # No worker when this run only publishes what a killed run loaded: the gate then imports GX itself.
            gate = quality_gate(con, run_id, docs_dir, store.uri(f"reports/{run_id}/index.html"), warmup.gx_worker(),
                                lambda: drawing.append(figures_in_background(con)),
                                settings.state_dir / "cache" / "gx-templates")  # fmt: skip
            figures = drawing[0] if drawing else None
            summary.quality = gate.to_dict()
            if gate.blocked:
                # Nothing new is published: the previous publication stays exactly as it was (exit code 3).
                summary.status, summary.message = "blocked", gate.summary()
                logger.error("quality gate blocked publishing: %s", gate.summary())
            else:
                # A run that stalled past its S3 lease must not swap the catalog under the run that took over.
                warehouse.ensure_still_writer("nothing was published")
                logger.info("publishing version %s", run_id)
                publication = publish_version(con, store, settings, run_id, run_id)
                summary.status = "published"
                summary.published_version = publication.version
                # The rows as published: quality_results is filled by the gate, after the curated build counted.
                summary.message = f"published version {publication.version}: " + ", ".join(
                    f"{name} {count:,} rows" for name, count in publication.rows.items()
                )
                if gate.warnings:
                    summary.message += f"; {len(gate.warnings)} quality warning(s), see the report"
        summary.finished_at = _now()
        con.execute(inline(
            "UPDATE runs SET finished_at = ?, status = ?, files_in = ?, rows_loaded = ?, rows_quarantined = ?, "
            "published_version = ?, message = ? WHERE run_id = ?",
            [summary.finished_at, summary.status, summary.files_in, summary.rows_loaded, summary.rows_quarantined,
             summary.published_version, summary.message, run_id],
        ))  # fmt: skip
        if gate is not None:  # the GX worker builds the Data Docs after its answer, while this run publishes
            gate.wait_for_docs()
        if summary.status == "nothing_new":
            # Every run has its report (CONTRACT.md §2), this one a short page; written without a task, whose run
            # would cost a no-op run more than its two small writes do (boto3 retries those itself).
            report_path = write_nothing_new(store, con, summary)
        else:
            report_path = report(con, store, summary, docs_dir, figures)
        if docs_dir is not None:  # the report copied them beside itself (reports/<run_id>/data_docs/)
            shutil.rmtree(docs_dir, ignore_errors=True)
        overdue = check_freshness(con, store.url) if command != "demo" else []
    logger.info("%s", summary.message)
    for message in overdue:
        logger.warning("%s", message)
    result = asdict(summary)
    result["report"] = report_path
    result["catalog"] = store.uri("catalog.duckdb") if summary.status == "published" else None
    emit_run_event(result)
    return result


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@reewatch_run.on_failure
def _report_failure(_flow: object, flow_run: FlowRun, state: State) -> None:
    """`reewatch.run.failed` for a run that ended on an error (after its retries): the other outcomes are emitted
    where the run ends, and this one is what the "run failed" automation listens for."""
    try:
        lake = load_settings(flow_run.parameters.get("lake")).lake
    except ConfigError:  # the very error that failed the run; the location as given may hold credentials
        lake = mask_userinfo(str(flow_run.parameters.get("lake") or "unknown-lake"))
    message = (state.message or "the run failed").strip().splitlines()[0]
    emit_run_event({"status": "failed", "lake": lake, "message": message})


def _failure_recorder(con: duckdb.DuckDBPyConnection, run_id: str) -> Callable[..., bool]:
    """An exit callback that marks the run failed, with what stopped it, when it ends on an error (an unknown
    release id, storage): else the next run would find it 'running' and report it killed."""

    def record(kind: type[BaseException] | None, error: BaseException | None, _trace: object) -> bool:
        if error is not None:
            why = str(error).strip().splitlines()[0] if str(error).strip() else kind.__name__ if kind else "error"
            with contextlib.suppress(duckdb.Error):  # a warehouse that broke with the run stays as it is
                con.execute(inline(
                    "UPDATE runs SET status = 'failed', finished_at = ?, message = ? "
                    "WHERE run_id = ? AND status = 'running'",
                    [_now(), f"stopped: {why}"[:500], run_id],
                ))  # fmt: skip
        return False  # the error goes on to the command line, which says it and sets the exit code

    return record
