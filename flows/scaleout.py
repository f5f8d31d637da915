"""Scale-out for backfills: many releases parsed and checked at once on Dask, committed by the single writer.

With `--workers N` (N > 1) or `REEWATCH_DASK_ADDRESS`, a run first archives every new file, then stages them in a
subflow whose task runner is prefect-dask's DaskTaskRunner — a LocalCluster of N worker processes, or the existing
cluster at the address. Each worker reads raw/<release_id> from the lake and leaves its Parquet stage under
`_state/staging/<run_id>/` (the lake is the one place a remote worker and the writer both reach). The writer then
commits the stages one by one, in landing order, exactly as an in-process run does, so the results are the same.

Workers report to the run's Prefect API: run a Prefect server (without one, each worker process would start a
temporary server of its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from prefect import flow, get_run_logger, task

from flows.retries import STORAGE_RETRIES
from reewatch.config import Settings
from reewatch.ingest import (
    Admission,
    ReleaseOutcome,
    admit,
    commit_release,
    first_landed_at,
    record_duplicate,
)  # fmt: skip
from reewatch.lake import Lake, LakeObject
from reewatch.stage import STAGING_PREFIX, StagedRelease, fetched_stage, stage_in_lake

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner


@task(name="stage release", task_run_name="stage {file_name}", **STORAGE_RETRIES)
def stage_on_worker(lake_url: str, release_id: str, file_name: str, run_id: str) -> StagedRelease:
    return stage_in_lake(lake_url, release_id, file_name, run_id)


# No retries of its own, whatever PREFECT_FLOWS_DEFAULT_RETRIES says (a deployment sets 1): the run that starts it
# retries whole, and a retry here would stage everything again while that run holds the writer lock.
@flow(name="reewatch-stage", log_prints=False, retries=0)
def stage_releases(lake_url: str, releases: list[tuple[str, str]], run_id: str) -> list[StagedRelease]:
    """Stage (release_id, file_name) pairs in parallel on the flow's Dask task runner."""
    get_run_logger().info("staging %d release(s) on Dask", len(releases))
    futures = [stage_on_worker.submit(lake_url, release_id, name, run_id) for release_id, name in releases]
    return [future.result() for future in futures]


def dask_runner(settings: Settings) -> DaskTaskRunner:
    from prefect_dask import DaskTaskRunner  # Dask loads only for a backfill (a second of every run otherwise)

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    # One thread per worker process: parsing holds the GIL in places, and DuckDB brings its own threads.
    cluster = {"n_workers": settings.workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
    return DaskTaskRunner(cluster_kwargs=cluster)


@task(name="archive landed file", task_run_name="archive {obj.key}", **STORAGE_RETRIES)
def archive_landed(
    lake: Lake, con: duckdb.DuckDBPyConnection, obj: LakeObject, run_id: str, work_dir: Path,
    admitted: dict[str, str],
) -> Admission:  # fmt: skip
    with lake.local_copy(obj.key, work_dir) as path:
        return admit(lake, con, obj, path, run_id, admitted)


@task(name="commit release", task_run_name="commit {staged.file_name}", **STORAGE_RETRIES)
def commit_staged(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    staged: StagedRelease,
    run_id: str,
    work_dir: Path,
    landing_key: str | None,
    landed_at: datetime,
    seen: Admission | None,
) -> ReleaseOutcome:
    with fetched_stage(lake, run_id, staged, work_dir) as stage_dir:
        return commit_release(lake, con, staged, stage_dir, run_id, work_dir, landing_key=landing_key,
                              landed_at=landed_at, seen=seen)  # fmt: skip


def backfill_landed(
    lake: Lake, con: duckdb.DuckDBPyConnection, settings: Settings, landed: list[LakeObject], run_id: str,
    work_dir: Path,
) -> Iterator[ReleaseOutcome]:  # fmt: skip
    """Archive every landed file, stage the new ones on Dask, commit them in landing order."""
    admitted: dict[str, str] = {}
    admissions = [archive_landed(lake, con, obj, run_id, work_dir, admitted) for obj in landed]
    fresh = [a for a in admissions if not a.duplicate_of]
    staged = _stage(settings, [(a.release_id, a.file_name) for a in fresh], run_id)
    try:
        for admission in admissions:
            if admission.duplicate_of:
                yield record_duplicate(con, admission, run_id)
                continue
            yield commit_staged(lake, con, staged[admission.release_id], run_id, work_dir, admission.obj.key,
                                admission.landed_at, admission)  # fmt: skip
    finally:
        lake.delete_prefix(f"{STAGING_PREFIX}{run_id}/")


def backfill_archived(
    lake: Lake, con: duckdb.DuckDBPyConnection, settings: Settings, releases: list[tuple[str, str, str | None]],
    run_id: str, work_dir: Path,
) -> Iterator[ReleaseOutcome]:  # fmt: skip
    """Replay archived releases: stage them all on Dask from raw/, commit them in order."""
    staged = _stage(settings, [(release_id, name) for release_id, name, _ in releases], run_id)
    try:
        for release_id, _, landing_key in releases:
            landed_at = first_landed_at(con, release_id)
            yield commit_staged(lake, con, staged[release_id], run_id, work_dir, landing_key, landed_at, None)
    finally:
        lake.delete_prefix(f"{STAGING_PREFIX}{run_id}/")


def _stage(settings: Settings, releases: list[tuple[str, str]], run_id: str) -> dict[str, StagedRelease]:
    if not releases:
        return {}
    stage_flow = stage_releases.with_options(task_runner=dask_runner(settings))
    return {staged.release_id: staged for staged in stage_flow(settings.lake, releases, run_id)}
