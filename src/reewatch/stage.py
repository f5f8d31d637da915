"""Parse and check one release, away from the warehouse: the part of loading that can run anywhere, in parallel.

`stage_release` turns an archived file into a stage directory: `observations.parquet` (every parsed row, typed),
one Parquet file per other warehouse table it fills (rows that passed their contract), and a `StagedRelease`
saying what the file was, how many rows it had and which rows are quarantined with which rule. It never touches
the warehouse, so many releases can be staged at once on Dask workers; `ingest.commit_release` then loads stages
one by one under the single writer.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from reewatch.config import load_settings
from reewatch.lake import Lake, LakeError, LocalLake, fsync_file, open_lake

if TYPE_CHECKING:
    from reewatch.sources import ParsedRelease
    from reewatch.violations import Violation

log = logging.getLogger(__name__)

OBSERVATIONS_FILE = "observations.parquet"
# Where remote (Dask) workers leave their stages for the writer: <prefix><run_id>/<release_id>/<table>.parquet
STAGING_PREFIX = "_state/staging/"


@dataclass(frozen=True)
class QuarantineEntry:
    source_row: str
    rule: str
    detail: str  # what is wrong, with the row's values
    raw_record: str  # the row as it stood in the file, JSON


@dataclass
class StagedRelease:
    """What staging learnt about one release; its rows wait in the stage directory's Parquet files."""

    release_id: str
    file_name: str
    size: int
    layout: str | None = None
    vintage: str | None = None
    vintage_rank: int | None = None
    published_on: date | None = None
    published_on_estimated: bool | None = None
    rows_in: int = 0
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # warehouse tables with a `<table>.parquet` in the stage
    failure: str | None = None  # the file could not be parsed at all: why

    @property
    def bad_rows(self) -> set[str]:
        return {entry.source_row for entry in self.quarantine}


def load_parsers() -> None:
    """Import what staging needs (pandas, polars, Pandera: ~0.5 s) ahead of the first stage, e.g. while another
    thread hashes a file (hashing hardly needs the GIL; importing does)."""
    import reewatch.contracts
    import reewatch.sources  # noqa: F401


def stage_release(path: Path, file_name: str, release_id: str, stage_dir: Path) -> StagedRelease:
    """Parse and check one release file into `stage_dir`. A file that cannot be parsed comes back with
    `failure` set (the run goes on with the other files); storage errors propagate, so the task retries."""
    # The parsers and contracts (pandas, polars, Pandera) load on first use: a run with nothing new never needs them.
    from reewatch.sources import UnreadableRelease, parse_release_file

    stage_dir.mkdir(parents=True, exist_ok=True)
    staged = StagedRelease(release_id, file_name, path.stat().st_size)
    parsed: ParsedRelease | None = None
    try:
        parsed = parse_release_file(path, file_name, scratch=stage_dir)  # working files stay for the commit
        violations = _stage_rows(parsed, stage_dir, staged)
        _describe(staged, parsed, violations)
    except UnreadableRelease as exc:
        staged.failure = f"{file_name}: {exc}"
    except (LakeError, duckdb.IOException, MemoryError):
        raise
    except Exception as exc:  # a parser bug must not stop the other files; replay fixes the file later
        log.exception("unexpected error while parsing %s", file_name)
        staged.failure = (
            f"{file_name}: reewatch could not parse it ({type(exc).__name__}: {exc}) — a bug to report; the bytes "
            f"are kept in raw/{release_id}, `reewatch replay {release_id[:12]}` loads it once fixed"
        )
    finally:
        if parsed is not None:
            parsed.close()
    if staged.failure:
        staged.tables.clear()
        for leftover in stage_dir.glob("*.parquet"):
            leftover.unlink()
    return staged


def _stage_rows(parsed: ParsedRelease, stage_dir: Path, staged: StagedRelease) -> list[Violation]:
    """Write the release's rows to Parquet and check them against their contracts."""
    import polars as pl

    from reewatch.contracts import check_observations_file, check_table

    observations = stage_dir / OBSERVATIONS_FILE
    parsed.write_observations(observations)
    # A streamed (detailed) export's file is the one the commit keeps as it is (Lake.adopt_file): it goes to disk
    # while Pandera checks it. Other layouts' files are small and not kept.
    streamed = parsed.copy_observations is not None
    with _written_to_disk(observations) if streamed else contextlib.nullcontext():
        violations = check_observations_file(observations)
    staged.tables.append("observations")
    for table, frame in parsed.tables.items():
        passed, found = check_table(table, pl.from_pandas(frame))
        violations += found
        passed.write_parquet(stage_dir / f"{table}.parquet")
        staged.tables.append(table)
    return violations


@contextlib.contextmanager
def _written_to_disk(path: Path) -> Iterator[None]:
    """fsync `path` in a thread while the caller works: the commit's own fsync of the kept detail then finds its
    bytes on disk already (10M lines: 266 MB, 0.8 s of this machine's disk, beside Pandera's 1.3 s of CPU)."""

    def sync() -> None:
        with contextlib.suppress(OSError):  # only a head start: the commit's fsync is the one that counts
            fsync_file(path)

    thread = threading.Thread(target=sync, name=f"fsync {path.name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _describe(staged: StagedRelease, parsed: ParsedRelease, violations: list[Violation]) -> None:
    """Fill in what the release is and which rows are quarantined (one entry per source row and rule)."""
    from reewatch.sources.base import record_json

    found = [(r.source_row, r.rule, r.message) for r in parsed.rejects]
    found += [(v.source_row, v.rule, v.message) for v in violations]
    # A row's quantity and value may break the same rule twice: keep one entry per (row, rule).
    unique = list({(row, rule): (row, rule, message) for row, rule, message in found}.values())
    raw = parsed.raw_records_for({row for row, _, _ in unique})
    staged.quarantine = [
        QuarantineEntry(row, rule, message, record_json(raw.get(row, {})))
        for row, rule, message in unique
    ]
    staged.layout, staged.vintage, staged.vintage_rank = parsed.layout, parsed.vintage, parsed.vintage_rank
    staged.published_on, staged.published_on_estimated = parsed.published_on, parsed.published_on_estimated
    if parsed.published_on_without is not None and unique:
        staged.published_on = parsed.published_on_without({row for row, _, _ in unique})
    staged.rows_in = parsed.rows_in
    staged.warnings = [f"{staged.file_name}: {warning}" for warning in parsed.warnings]


def stage_in_lake(lake_url: str, release_id: str, file_name: str, run_id: str) -> StagedRelease:
    """On a Dask worker: stage raw/<release_id> and leave its Parquet files in the lake for the writer (the worker
    may be another machine: the lake is the one place both can reach)."""
    settings = load_settings(lake_url)
    lake = open_lake(settings.lake, settings.s3() if settings.is_s3 else None)
    with tempfile.TemporaryDirectory(prefix="reewatch-stage-") as scratch:
        work = Path(scratch)
        with lake.local_copy(f"raw/{release_id}", work) as path:
            staged = stage_release(path, file_name, release_id, work / "stage")
        for table in staged.tables:
            lake.write_file(f"{staging_prefix(run_id, release_id)}{table}.parquet", work / "stage" / f"{table}.parquet")
    return staged


def staging_prefix(run_id: str, release_id: str) -> str:
    return f"{STAGING_PREFIX}{run_id}/{release_id}/"


@contextlib.contextmanager
def fetched_stage(lake: Lake, run_id: str, staged: StagedRelease, work_dir: Path) -> Iterator[Path]:
    """The writer's local view of a stage a worker left in the lake (downloaded from S3, in place on a folder)."""
    prefix = staging_prefix(run_id, staged.release_id)
    if isinstance(lake, LocalLake):
        yield Path(lake.uri(prefix.rstrip("/")))
        return
    with local_stage(work_dir, staged.release_id) as stage_dir:
        stage_dir.mkdir(parents=True)
        for table in staged.tables:
            lake.download(f"{prefix}{table}.parquet", stage_dir / f"{table}.parquet")
        yield stage_dir


@contextlib.contextmanager
def local_stage(work_dir: Path, release_id: str) -> Iterator[Path]:
    """A scratch stage directory for one release under the writer's work folder, removed afterwards."""
    stage_dir = work_dir / "stage" / release_id
    shutil.rmtree(stage_dir, ignore_errors=True)
    try:
        yield stage_dir
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
