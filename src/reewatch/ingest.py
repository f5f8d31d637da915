"""From landing/ into the warehouse: archive the bytes, stage the release (parse and check), then commit it.

Every data row of a release ends up either loaded or quarantined (`rows_in = rows_loaded + rows_quarantined`);
a file that cannot be parsed at all is recorded as `failed`, and the run goes on with the other files.

Staging (stage.py) needs no warehouse, so a backfill can stage many releases at once on Dask workers; committing
is one transaction per release under the single writer. The warehouse keeps the rows the curated tables read;
a detailed export's rows for every HS code stay beside it as Parquet in the lake (`_state/observations/`).
"""

from __future__ import annotations

import logging
import posixpath
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from reewatch.identities import duplicate_lines, suspected_unit_errors
from reewatch.lake import Lake, LakeObject, sha256_file
from reewatch.observation_pairs import is_paired, long_sql, pairs_from_long_sql
from reewatch.stage import (
    STAGING_PREFIX,
    QuarantineEntry,
    StagedRelease,
    load_parsers,
    local_stage,
    stage_release,
)
from reewatch.warehouse import inline, sql_literal, transaction

log = logging.getLogger(__name__)

LANDING = "landing/"
# Warehouse tables holding a release's rows (keyed by release_id and source_row).
RELEASE_TABLES = ("observations", "survey_results", "usgs_figures", "press_claims")
# Where the observations the warehouse does not keep (HS codes outside the named series) live, per release.
DETAIL_PREFIX = "_state/observations/"
# Recorded in schema_migrations once every kept-detail file of the lake is observation pairs (see upgrade_kept_detail).
KEPT_DETAIL_AS_PAIRS = "kept_detail_as_pairs"


class UnknownRelease(ValueError):
    """A release id given to replay that the warehouse does not know (a usage error)."""


@dataclass(frozen=True)
class ReleaseOutcome:
    release_id: str
    file_name: str
    status: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    message: str


@dataclass(frozen=True)
class Admission:
    """A landing object and what its bytes are: a new release to load, or a duplicate to record."""

    obj: LakeObject
    release_id: str
    file_name: str
    landed_at: datetime
    duplicate_of: str | None  # why it is not loaded again, when these bytes were loaded before


def new_landing_files(lake: Lake, con: duckdb.DuckDBPyConnection) -> list[LakeObject]:
    """Landing objects not seen before with this size and modification time (unchanged files are not re-read)."""
    seen = {
        (key, size, modified)
        for key, size, modified in con.execute("SELECT landing_key, size_bytes, modified FROM landing_seen").fetchall()
    }
    fresh = []
    for obj in lake.list(LANDING):
        if (obj.key, obj.size, _naive_utc(obj.modified)) not in seen:
            fresh.append(obj)
    return fresh


def admit(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    obj: LakeObject,
    path: Path,
    run_id: str,
    admitted: dict[str, str] | None = None,
) -> Admission:
    """Archive a landed file (its local copy at `path`) to raw/ and say whether it is new. `admitted` maps the
    release ids a backfill admitted earlier in this run to their file names (not committed yet)."""
    release_id = archive(lake, obj, path)  # bytes are safe in raw/ before any worker parses them
    return recognise(con, obj, release_id, run_id, admitted)


def archive(lake: Lake, obj: LakeObject, path: Path, release_id: str | None = None) -> str:
    """Copy a landed file to raw/<sha256> (unless there already) and return that release id."""
    release_id, _ = lake.archive_file(path, release_id)
    log.info("archived %s as raw/%s", obj.key, release_id)
    return release_id


def recognise(
    con: duckdb.DuckDBPyConnection,
    obj: LakeObject,
    release_id: str,
    run_id: str,
    admitted: dict[str, str] | None = None,
) -> Admission:
    """Whether a landed file's bytes are new or were loaded before (or earlier in this backfill)."""
    file_name = posixpath.basename(obj.key)
    earlier = con.execute(
        "SELECT file_name, ingested_at, run_id FROM releases WHERE release_id = ? AND status <> 'duplicate' "
        "ORDER BY ingested_at LIMIT 1",
        [release_id],
    ).fetchone()
    if admitted is not None and release_id in admitted:
        earlier = (admitted[release_id], None, run_id)
    duplicate_of = None
    if earlier is not None:
        when = "landed in the same run" if earlier[2] == run_id else f"ingested {earlier[1]:%Y-%m-%d %H:%M}"
        duplicate_of = f"same bytes as {earlier[0]} ({when}); not loaded again"
    elif admitted is not None:
        admitted[release_id] = file_name
    return Admission(obj, release_id, file_name, _naive_utc(obj.modified), duplicate_of)


def record_duplicate(con: duckdb.DuckDBPyConnection, admission: Admission, run_id: str) -> ReleaseOutcome:
    outcome = ReleaseOutcome(admission.release_id, admission.file_name, "duplicate", 0, 0, 0,
                             admission.duplicate_of or "")  # fmt: skip
    with transaction(con):
        _record_release(con, outcome, admission.obj.key, None, admission.landed_at, admission.obj.size, run_id)
        mark_seen(con, admission)
    return outcome


def mark_seen(con: duckdb.DuckDBPyConnection, admission: Admission) -> None:
    """Remember the landing object, so an unchanged file is not read again."""
    obj = admission.obj
    con.execute(
        "INSERT INTO landing_seen VALUES (?, ?, ?, ?, ?)",
        [obj.key, obj.size, admission.landed_at, admission.release_id, utc_now()],
    )


def ingest_landed(
    lake: Lake, con: duckdb.DuckDBPyConnection, obj: LakeObject, run_id: str, work_dir: Path
) -> ReleaseOutcome:
    """Archive one landing object to raw/, stage it here and commit it (or record it as a duplicate).

    The file is hashed in a thread while the parsers import (unless `reewatch ingest` hashed it as it landed it:
    lake.hash_in_background), and the copy to raw/ (for a large export, about a second of disk, or seconds of
    network) runs in that thread while the file stages. Nothing is committed before the copy is done, and until the
    commit marks it seen the landing file still holds the bytes: a crash in between loses nothing, and the next run
    takes the file again."""
    with lake.local_copy(obj.key, work_dir) as path, ThreadPoolExecutor(1, thread_name_prefix="archive") as pool:
        hashing = pool.submit(sha256_file, path)
        load_parsers()  # meanwhile, on this thread (1 GB: 0.7 s of hashing beside 0.5 s of imports)
        release_id = hashing.result()
        archived = pool.submit(archive, lake, obj, path, release_id)
        admission = recognise(con, obj, release_id, run_id)
        if admission.duplicate_of:
            archived.result()
            return record_duplicate(con, admission, run_id)
        with local_stage(work_dir, admission.release_id) as stage_dir:
            log.info("staging %s", admission.file_name)
            staged = stage_release(path, admission.file_name, admission.release_id, stage_dir)
            archived.result()  # raw/ holds the bytes before anything about them is committed
            log.info("committing %s", admission.file_name)
            return commit_release(lake, con, staged, stage_dir, run_id, work_dir, landing_key=obj.key,
                                  landed_at=admission.landed_at, seen=admission, release_file=path)  # fmt: skip


def clear_leftover_stages(lake: Lake, work_dir: Path) -> None:
    """Remove what a killed run left behind: its stages (locally, and the Dask workers' ones in the lake) and its
    Data Docs not yet copied beside its report."""
    shutil.rmtree(work_dir / "stage", ignore_errors=True)
    shutil.rmtree(work_dir / "quality", ignore_errors=True)
    if lake.list(STAGING_PREFIX):
        lake.delete_prefix(STAGING_PREFIX)


def commit_release(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    staged: StagedRelease,
    stage_dir: Path,
    run_id: str,
    work_dir: Path,
    *,
    landing_key: str | None,
    landed_at: datetime,
    seen: Admission | None = None,
    release_file: Path | None = None,
) -> ReleaseOutcome:
    """Load one staged release in one transaction, replacing any rows it had before (a replay, or what a crashed
    run left). `seen` is the landing object it came from, marked seen in the same transaction. `release_file` is
    the release's bytes when this process staged it into `stage_dir` (rows the commit quarantines are then looked
    up there, with the stage's working files, instead of in raw/)."""
    release_id = staged.release_id
    ingested_at = first_ingested_at(con, release_id)  # a reload (replay, backfill, retry) keeps it
    if staged.failure:
        outcome = ReleaseOutcome(release_id, staged.file_name, "failed", 0, 0, 0, staged.failure)
        log.error("%s", outcome.message)
        lake.delete(f"{DETAIL_PREFIX}{release_id}.parquet")
        with transaction(con):
            _clear_release(con, release_id)
            _record_release(con, outcome, landing_key, None, landed_at, staged.size, run_id, ingested_at)
            if seen:
                mark_seen(con, seen)
        return outcome

    quarantine = list(staged.quarantine)
    observations = stage_dir / "observations.parquet"
    # Kept before the release commits, so a loaded release always has it (a crash leaves a file a reload replaces).
    _keep_detail(lake, con, release_id, observations, staged.bad_rows, work_dir)
    with transaction(con):
        _clear_release(con, release_id)
        for table in staged.tables:
            _insert_staged(con, table, release_id, stage_dir / f"{table}.parquet", staged.bad_rows)
        # Unit errors need the neighbouring months of other releases, and a detailed export's repeated lines are
        # found among the few it loads (not over all ten million): only the warehouse can tell.
        found = suspected_unit_errors(con, release_id) + duplicate_lines(con, release_id)
        violations = [v for v in found if v.source_row not in staged.bad_rows]
        if violations:
            from reewatch.sources.base import record_json

            rows = {v.source_row for v in violations}
            if release_file is not None:  # staged here: the stage folder holds the working files (a UTF-8 copy)
                raw = _raw_records(release_file, staged.file_name, rows, scratch=stage_dir)
            else:
                with lake.local_copy(f"raw/{release_id}", work_dir) as path:
                    raw = _raw_records(path, staged.file_name, rows)
            quarantine += [
                QuarantineEntry(v.source_row, v.rule, v.message, record_json(raw.get(v.source_row, {})))
                for v in violations
            ]
            for table in RELEASE_TABLES:  # a source row loads whole or not at all
                con.execute(
                    f"DELETE FROM {table} WHERE release_id = ? AND source_row IN (SELECT unnest(?))",  # noqa: S608
                    [release_id, sorted(rows)],
                )
        outcome = _outcome(staged, quarantine)
        name = staged.file_name
        for entry in quarantine:
            log.warning("%s row %s: rule %s: %s", name, entry.source_row, entry.rule, entry.detail)
        if quarantine:
            con.executemany(
                "INSERT INTO quarantined_rows VALUES (?, ?, ?, ?, ?)",
                [(release_id, e.source_row, e.rule, f"{name} row {e.source_row}: {e.detail}", e.raw_record)
                 for e in quarantine],
            )  # fmt: skip
        for warning in staged.warnings:
            con.execute("INSERT INTO load_warnings VALUES (?, 'parser', ?, ?)", [release_id, warning, run_id])
        _record_release(con, outcome, landing_key, staged, landed_at, staged.size, run_id, ingested_at)
        if seen:
            mark_seen(con, seen)
        if violations:  # rare: the writer quarantined rows the stage had passed, which the kept lines leave out
            # Inside the transaction: should the lake refuse the file, nothing is committed and the task's retry
            # loads the release again (after the commit, the retry would find it loaded and call it a duplicate).
            _keep_detail(lake, con, release_id, observations, staged.bad_rows | {v.source_row for v in violations},
                         work_dir)  # fmt: skip
    log.debug("%s", outcome.message)
    return outcome


def _outcome(staged: StagedRelease, quarantine: list[QuarantineEntry]) -> ReleaseOutcome:
    bad_rows = {entry.source_row for entry in quarantine}
    loaded = staged.rows_in - len(bad_rows)
    status = "loaded" if not bad_rows else ("quarantined" if loaded == 0 else "partly_quarantined")
    text = f"{staged.file_name}: {staged.layout} ({staged.vintage}), {staged.rows_in:,} rows, {loaded:,} loaded"
    if bad_rows:
        rules = sorted({entry.rule for entry in quarantine})
        text += f", {len(bad_rows):,} quarantined ({', '.join(rules)})"
    return ReleaseOutcome(staged.release_id, staged.file_name, status, staged.rows_in, loaded, len(bad_rows), text)


def _insert_staged(con: duckdb.DuckDBPyConnection, table: str, release_id: str, path: Path, bad: set[str]) -> None:
    """Insert a stage's rows into their warehouse table by column name, leaving out quarantined source rows and
    (for observations) the HS codes the curated tables do not read."""
    from reewatch.sources.detailed import OTHER_HS_SERIES

    if table not in RELEASE_TABLES:
        raise ValueError(f"parsers may only fill {RELEASE_TABLES}, not {table!r}")
    passed = "source_row NOT IN (SELECT unnest($bad::VARCHAR[]))"
    parameters: dict[str, object] = {"release": release_id, "bad": sorted(bad)}
    if table == "observations":  # long rows, also from a detailed export's pairs
        rows = long_sql(path, f"{passed} AND series_id NOT LIKE $other_hs || '%'")
        parameters["other_hs"] = OTHER_HS_SERIES
    else:
        rows = f"(FROM read_parquet({sql_literal(str(path))}) WHERE {passed})"
    con.execute(f"INSERT INTO {table} BY NAME SELECT $release AS release_id, * FROM {rows}", parameters)  # noqa: S608


def _keep_detail(
    lake: Lake, con: duckdb.DuckDBPyConnection, release_id: str, observations: Path, bad: set[str], work_dir: Path
) -> None:
    """Keep a detailed export's observations, every HS code, as `_state/observations/<release>.parquet` (one row per
    line, its quantity and value side by side: reewatch.observation_pairs) without its quarantined rows; the
    warehouse itself only takes the named series. Every detailed export keeps one, even of the named series alone,
    so that one query reads every line of every export (its trade mode is nowhere else); other layouts keep none.
    The stage's file is kept as it is when no row is quarantined (the common case): a local lake hard-links it."""
    key = f"{DETAIL_PREFIX}{release_id}.parquet"
    if not observations.exists() or not is_paired(observations):  # only a detailed export is staged as pairs
        lake.delete(key)
        return
    source = str(observations)
    if not bad:
        lake.adopt_file(key, observations)  # the stage's file is not written again, only removed with its folder
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    detail = work_dir / f"detail-{release_id}.parquet"
    try:
        con.execute(
            "COPY (SELECT * FROM read_parquet($source) WHERE source_row NOT IN (SELECT unnest($bad::VARCHAR[]))) "  # noqa: S608
            f"TO {sql_literal(str(detail))} (FORMAT parquet)",
            {"source": source, "bad": sorted(bad)},
        )
        lake.adopt_file(key, detail)
    finally:
        detail.unlink(missing_ok=True)


def upgrade_kept_detail(lake: Lake, con: duckdb.DuckDBPyConnection, work_dir: Path) -> int:
    """Once per lake: rewrite the kept-detail files an older reewatch wrote as long rows (two per line) as
    observation pairs, so that one query reads every release alike. Each file is replaced atomically and pairs are
    skipped, so a killed upgrade resumes on the next run. Returns how many files were rewritten."""
    done = con.execute(inline("SELECT count(*) FROM schema_migrations WHERE name = ?", [KEPT_DETAIL_AS_PAIRS]))
    if done.fetchone() != (0,):
        return 0
    rewritten = 0
    for obj in lake.list(DETAIL_PREFIX):
        with lake.local_copy(obj.key, work_dir) as path:
            if is_paired(path):
                continue
            pairs = work_dir / f"pairs-{posixpath.basename(obj.key)}"
            try:
                con.execute(f"COPY ({pairs_from_long_sql(path)}) TO {sql_literal(str(pairs))} (FORMAT parquet)")
                lake.write_file(obj.key, pairs)
            finally:
                pairs.unlink(missing_ok=True)
        log.info("rewrote %s as observation pairs (one row per line)", obj.key)
        rewritten += 1
    con.execute(inline("INSERT INTO schema_migrations VALUES (?, now())", [KEPT_DETAIL_AS_PAIRS]))
    return rewritten


def _raw_records(
    path: Path, file_name: str, rows: set[str], scratch: Path | None = None
) -> dict[str, dict[str, object]]:
    """The rows as they stood in the file (only when the writer quarantines rows); `scratch` is the folder the
    release was staged in, whose working files (a GB18030 export's UTF-8 copy) the parser reuses."""
    from reewatch.sources import parse_release_file

    parsed = parse_release_file(path, file_name, scratch)
    try:
        return parsed.raw_records_for(rows)  # a detailed export: one more scan of the file, for these lines
    finally:
        parsed.close()


def _clear_release(con: duckdb.DuckDBPyConnection, release_id: str) -> None:
    for table in (*RELEASE_TABLES, "quarantined_rows", "load_warnings"):
        con.execute(f"DELETE FROM {table} WHERE release_id = ?", [release_id])  # noqa: S608 - fixed names
    con.execute("DELETE FROM releases WHERE release_id = ? AND status <> 'duplicate'", [release_id])


def _record_release(
    con: duckdb.DuckDBPyConnection,
    outcome: ReleaseOutcome,
    landing_key: str | None,
    staged: StagedRelease | None,
    landed_at: datetime,
    size: int,
    run_id: str,
    ingested_at: datetime | None = None,
) -> None:
    con.execute(
        "INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            outcome.release_id,
            outcome.file_name,
            landing_key,
            staged.layout if staged else None,
            staged.vintage if staged else None,
            staged.vintage_rank if staged else None,
            staged.published_on if staged else None,
            staged.published_on_estimated if staged else None,
            landed_at,
            ingested_at or utc_now(),  # in UTC like every timestamp reewatch writes
            size,
            outcome.rows_in,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            outcome.status,
            outcome.message,
            run_id,
        ],
    )


def utc_now() -> datetime:
    """Now, as naive UTC (DuckDB TIMESTAMP has no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(moment: datetime) -> datetime:
    """DuckDB TIMESTAMP has no zone: store UTC wall time."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def archived_releases(
    con: duckdb.DuckDBPyConnection, release_ids: list[str] | None
) -> list[tuple[str, str, str | None]]:
    """(release_id, file_name, landing_key) of archived releases to replay: the given ids (a unique prefix is
    enough), or all of them, each once. Unknown ids raise UnknownRelease naming them."""
    known = con.execute(
        "SELECT release_id, file_name, landing_key FROM releases WHERE status <> 'duplicate' ORDER BY ingested_at"
    ).fetchall()
    if release_ids is None:
        return known
    chosen = []
    for wanted in release_ids:
        matches = [row for row in known if row[0].startswith(wanted.lower())]
        if not matches:
            raise UnknownRelease(f"release '{wanted}' is unknown: `reewatch status` lists the latest releases' ids")
        if len(matches) > 1:
            some = ", ".join(f"{release_id[:12]} ({file_name})" for release_id, file_name, _ in matches[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise UnknownRelease(f"release '{wanted}' is ambiguous: it begins {some}{more}; give more of the id")
        if matches[0] not in chosen:  # named twice, or by two prefixes: replayed (and counted) once
            chosen.append(matches[0])
    return chosen


def replay_release(
    lake: Lake, con: duckdb.DuckDBPyConnection, release: tuple[str, str, str | None], run_id: str, work_dir: Path
) -> ReleaseOutcome:
    """Re-parse an archived release from raw/ and reload it, replacing its rows and quarantine."""
    release_id, file_name, landing_key = release
    landed_at = first_landed_at(con, release_id)
    with lake.local_copy(f"raw/{release_id}", work_dir) as path, local_stage(work_dir, release_id) as stage_dir:
        staged = stage_release(path, file_name, release_id, stage_dir)
        return commit_release(lake, con, staged, stage_dir, run_id, work_dir, landing_key=landing_key,
                              landed_at=landed_at, release_file=path)  # fmt: skip


def first_ingested_at(con: duckdb.DuckDBPyConnection, release_id: str) -> datetime | None:
    """When a release was first loaded, None when it never was. A reload keeps it: the curated tables break ties
    between files of one release date by it, and re-parsing a superseded file must not make it current again."""
    row = con.execute(
        "SELECT min(ingested_at) FROM releases WHERE release_id = ? AND status <> 'duplicate'", [release_id]
    ).fetchone()
    return row[0] if row else None


def first_landed_at(con: duckdb.DuckDBPyConnection, release_id: str) -> datetime:
    """When a release's bytes first landed (a replay keeps it)."""
    landed = con.execute("SELECT min(landed_at) FROM releases WHERE release_id = ?", [release_id]).fetchone()
    return landed[0] if landed and landed[0] else utc_now()
