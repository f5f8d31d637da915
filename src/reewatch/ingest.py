"""From landing/ into the warehouse: archive the bytes first, then detect, parse, check and load one release.

Every data row of a release ends up either loaded or quarantined (`rows_in = rows_loaded + rows_quarantined`);
a file that cannot be parsed at all is recorded as `failed`, and the run goes on with the other files.
"""

from __future__ import annotations

import logging
import posixpath
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from reewatch.contracts import Violation, check_observations, check_table
from reewatch.identities import suspected_unit_errors
from reewatch.lake import Lake, LakeError, LakeObject
from reewatch.sources import ParsedRelease, UnreadableRelease, parse_release_file
from reewatch.sources.base import record_json
from reewatch.warehouse import transaction

log = logging.getLogger(__name__)

LANDING = "landing/"
# Warehouse tables holding a release's rows (keyed by release_id and source_row).
RELEASE_TABLES = ("observations", "survey_results", "usgs_figures", "press_claims")


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


def ingest_landed(
    lake: Lake, con: duckdb.DuckDBPyConnection, obj: LakeObject, run_id: str, work_dir: Path
) -> ReleaseOutcome:
    """Archive one landing object to raw/ and load it (or record it as a duplicate or a failure)."""
    file_name = posixpath.basename(obj.key)
    landed_at = _naive_utc(obj.modified)
    with lake.local_copy(obj.key, work_dir) as path:
        release_id, _ = lake.archive_file(path)  # bytes are safe in raw/ before any parser touches them
        earlier = con.execute(
            "SELECT file_name, ingested_at FROM releases WHERE release_id = ? AND status <> 'duplicate' "
            "ORDER BY ingested_at LIMIT 1",
            [release_id],
        ).fetchone()
        if earlier is not None:
            message = f"same bytes as {earlier[0]} (ingested {earlier[1]:%Y-%m-%d %H:%M}); not loaded again"
            outcome = ReleaseOutcome(release_id, file_name, "duplicate", 0, 0, 0, message)
            _record_release(con, outcome, obj.key, None, landed_at, obj.size, run_id)
        else:
            outcome = load_release(con, release_id, path, file_name, obj.key, landed_at, run_id)
    con.execute(
        "INSERT INTO landing_seen VALUES (?, ?, ?, ?, ?)", [obj.key, obj.size, landed_at, release_id, utc_now()]
    )
    return outcome


def load_release(
    con: duckdb.DuckDBPyConnection,
    release_id: str,
    path: Path,
    file_name: str,
    landing_key: str | None,
    landed_at: datetime,
    run_id: str,
) -> ReleaseOutcome:
    """Parse, check and (re)load one release, replacing any rows it had before.

    Rows go in batch by batch, each committed on its own: one transaction over ten million rows would hold them
    all in memory. That is safe because a release counts only once its `releases` row is written (in the final
    transaction), and a reload first clears whatever a crashed or failed load left behind.
    """
    size = path.stat().st_size
    try:
        _clear_release(con, release_id)
        parsed, violations = _load_rows(con, release_id, path, file_name)
    except (UnreadableRelease, _ParserBug) as exc:
        outcome = ReleaseOutcome(release_id, file_name, "failed", 0, 0, 0, f"{file_name}: {exc}")
        log.error("%s", outcome.message)
        with transaction(con):
            _clear_release(con, release_id)
            _record_release(con, outcome, landing_key, None, landed_at, size, run_id)
        return outcome

    quarantine = [(r.source_row, r.rule, r.message) for r in parsed.rejects]
    quarantine += [(v.source_row, v.rule, v.message) for v in violations]
    # One entry per source row and rule: a row's quantity and value may break the same rule twice.
    quarantine = list({(row, rule): (row, rule, message) for row, rule, message in quarantine}.values())
    bad_rows = {row for row, _, _ in quarantine}
    raw = parsed.raw_records_for(bad_rows)
    parsed.close()
    for source_row, rule, detail in quarantine:
        log.warning("%s row %s: rule %s: %s", file_name, source_row, rule, detail)
    rows_quarantined = len(bad_rows)
    rows_loaded = parsed.rows_in - rows_quarantined
    status = "loaded" if not bad_rows else ("quarantined" if rows_loaded == 0 else "partly_quarantined")
    message = _summary(file_name, parsed, rows_loaded, quarantine)
    outcome = ReleaseOutcome(release_id, file_name, status, parsed.rows_in, rows_loaded, rows_quarantined, message)
    with transaction(con):
        if bad_rows:
            # A source row loads whole or not at all: one bad figure quarantines the row it came from.
            for table in RELEASE_TABLES:
                con.execute(
                    f"DELETE FROM {table} WHERE release_id = ? AND source_row IN (SELECT unnest(?))",  # noqa: S608
                    [release_id, sorted(bad_rows)],
                )
        if quarantine:
            con.executemany(
                "INSERT INTO quarantined_rows VALUES (?, ?, ?, ?, ?)",
                [
                    (release_id, row, rule, f"{file_name} row {row}: {detail}", record_json(raw.get(row, {})))
                    for row, rule, detail in quarantine
                ],
            )
        for warning in parsed.warnings:
            con.execute(
                "INSERT INTO load_warnings VALUES (?, 'parser', ?, ?)", [release_id, f"{file_name}: {warning}", run_id]
            )
        _record_release(con, outcome, landing_key, parsed, landed_at, size, run_id)
    log.debug("%s", message)
    return outcome


def _insert_table(con: duckdb.DuckDBPyConnection, table: str, release_id: str, rows: pl.DataFrame) -> None:
    """Insert a parser's rows into a warehouse table by column name (the table names come from our parsers)."""
    if rows.is_empty():
        return
    if table not in RELEASE_TABLES:
        raise ValueError(f"parsers may only fill {RELEASE_TABLES}, not {table!r}")
    con.register("incoming_rows", rows.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT ? AS release_id, * FROM incoming_rows", [release_id])  # noqa: S608
    finally:
        con.unregister("incoming_rows")


class Progress:
    """Rows read so far and the rate, for long files: an updating line on a terminal, log lines otherwise."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.shown = False

    def update(self, rows: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        if elapsed < 2 and not self.shown:  # small files finish before progress is worth showing
            return
        text = f"{self.file_name}: {rows:,} rows read ({rows / elapsed:,.0f} rows/s)"
        if self.tty:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()
        else:
            log.info("%s", text)
        self.shown = True

    def done(self) -> None:
        if self.tty and self.shown:
            sys.stderr.write("\n")


class _ParserBug(Exception):
    """A parser failed in a way it should have named: the file is recorded as failed and the run goes on."""


def _load_rows(
    con: duckdb.DuckDBPyConnection, release_id: str, path: Path, file_name: str
) -> tuple[ParsedRelease, list[Violation]]:
    """Parse, check and insert a release's rows (batch by batch); return the parse and the rule violations."""
    parsed: ParsedRelease | None = None
    try:
        parsed = parse_release_file(path, file_name)
        violations: list[Violation] = []
        progress = Progress(file_name)
        for batch in parsed.batches():
            passed, found = check_observations(batch)
            violations += found
            _insert_batch(con, release_id, passed)
            progress.update(parsed.rows_in)
        progress.done()
        violations += suspected_unit_errors(con, release_id)
        for table, frame in parsed.tables.items():
            passed_rows, found = check_table(table, pl.from_pandas(frame))
            violations += found
            _insert_table(con, table, release_id, passed_rows)
    except (UnreadableRelease, LakeError, duckdb.IOException, MemoryError):
        if parsed is not None:
            parsed.close()
        raise
    except Exception as exc:  # a parser bug must not stop the other files; replay fixes the file later
        if parsed is not None:
            parsed.close()
        log.exception("unexpected error while parsing %s", file_name)
        raise _ParserBug(
            f"reewatch could not parse it ({type(exc).__name__}: {exc}) — a bug to report; the bytes are kept in "
            f"raw/{release_id}, `reewatch replay {release_id[:12]}` loads it once fixed"
        ) from exc
    return parsed, violations


def _summary(file_name: str, parsed: ParsedRelease, loaded: int, quarantine: list[tuple[str, str, str]]) -> str:
    text = f"{file_name}: {parsed.layout} ({parsed.vintage}), {parsed.rows_in:,} rows, {loaded:,} loaded"
    if quarantine:
        rules = sorted({rule for _, rule, _ in quarantine})
        text += f", {len({r for r, _, _ in quarantine}):,} quarantined ({', '.join(rules)})"
    return text


def _clear_release(con: duckdb.DuckDBPyConnection, release_id: str) -> None:
    for table in (*RELEASE_TABLES, "quarantined_rows", "load_warnings"):
        con.execute(f"DELETE FROM {table} WHERE release_id = ?", [release_id])  # noqa: S608 - fixed names
    con.execute("DELETE FROM releases WHERE release_id = ? AND status <> 'duplicate'", [release_id])


def _insert_batch(con: duckdb.DuckDBPyConnection, release_id: str, rows: pl.DataFrame) -> None:
    if rows.is_empty():
        return
    arrow = rows.to_arrow()
    con.register("incoming_batch", arrow)
    try:
        con.execute(
            """
            INSERT INTO observations (release_id, source_row, series_id, commodity, hs_code, period, basis, partner,
                                      partner_name, measure, value, published_value, published_unit, trade_mode)
            SELECT ?, source_row, series_id, commodity, hs_code, period, basis, partner, partner_name, measure,
                   value, published_value, published_unit, trade_mode
            FROM incoming_batch
            """,
            [release_id],
        )
    finally:
        con.unregister("incoming_batch")


def _record_release(
    con: duckdb.DuckDBPyConnection,
    outcome: ReleaseOutcome,
    landing_key: str | None,
    parsed: ParsedRelease | None,
    landed_at: datetime,
    size: int,
    run_id: str,
) -> None:
    con.execute(
        "INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            outcome.release_id,
            outcome.file_name,
            landing_key,
            parsed.layout if parsed else None,
            parsed.vintage if parsed else None,
            parsed.vintage_rank if parsed else None,
            parsed.published_on if parsed else None,
            parsed.published_on_estimated if parsed else None,
            landed_at,
            utc_now(),  # ingested_at, in UTC like every timestamp reewatch writes
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
    enough), or all of them. Unknown ids raise UnknownRelease naming them."""
    known = con.execute(
        "SELECT release_id, file_name, landing_key FROM releases WHERE status <> 'duplicate' ORDER BY ingested_at"
    ).fetchall()
    if release_ids is None:
        return known
    chosen = []
    for wanted in release_ids:
        matches = [row for row in known if row[0].startswith(wanted.lower())]
        if len(matches) != 1:
            raise UnknownRelease(
                f"release '{wanted}' is {'unknown' if not matches else 'ambiguous'}: see `reewatch status`"
            )
        chosen.append(matches[0])
    return chosen


def replay_release(
    lake: Lake, con: duckdb.DuckDBPyConnection, release: tuple[str, str, str | None], run_id: str, work_dir: Path
) -> ReleaseOutcome:
    """Re-parse an archived release from raw/ and reload it, replacing its rows and quarantine."""
    release_id, file_name, landing_key = release
    landed = con.execute("SELECT min(landed_at) FROM releases WHERE release_id = ?", [release_id]).fetchone()
    landed_at = landed[0] if landed and landed[0] else utc_now()
    with lake.local_copy(f"raw/{release_id}", work_dir) as path:
        return load_release(con, release_id, path, file_name, landing_key, landed_at, run_id)
