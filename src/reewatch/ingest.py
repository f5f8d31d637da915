"""From landing/ into the warehouse: archive the bytes first, then detect, parse, check and load one release.

Every data row of a release ends up either loaded or quarantined (`rows_in = rows_loaded + rows_quarantined`);
a file that cannot be parsed at all is recorded as `failed`, and the run goes on with the other files.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

from reewatch.contracts import check_observations
from reewatch.lake import Lake, LakeObject
from reewatch.sources import ParsedRelease, UnreadableRelease, parse_release
from reewatch.sources.base import OBSERVATION_COLUMNS, record_json

log = logging.getLogger(__name__)

LANDING = "landing/"


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


def ingest_landed(lake: Lake, con: duckdb.DuckDBPyConnection, obj: LakeObject, run_id: str) -> ReleaseOutcome:
    """Archive one landing object to raw/ and load it (or record it as a duplicate or a failure)."""
    data = lake.read_bytes(obj.key)
    release_id, _ = lake.archive(data)  # bytes are safe in raw/ before any parser touches them
    file_name = posixpath.basename(obj.key)
    landed_at = _naive_utc(obj.modified)
    earlier = con.execute(
        "SELECT file_name, ingested_at FROM releases WHERE release_id = ? AND status <> 'duplicate' "
        "ORDER BY ingested_at LIMIT 1",
        [release_id],
    ).fetchone()
    if earlier is not None:
        message = f"same bytes as {earlier[0]} (ingested {earlier[1]:%Y-%m-%d %H:%M}); not loaded again"
        outcome = ReleaseOutcome(release_id, file_name, "duplicate", 0, 0, 0, message)
        _record_release(con, outcome, obj.key, None, landed_at, len(data), run_id)
    else:
        outcome = load_release(con, release_id, data, file_name, obj.key, landed_at, run_id)
    con.execute("INSERT INTO landing_seen VALUES (?, ?, ?, ?, now())", [obj.key, obj.size, landed_at, release_id])
    return outcome


def load_release(
    con: duckdb.DuckDBPyConnection,
    release_id: str,
    data: bytes,
    file_name: str,
    landing_key: str | None,
    landed_at: datetime,
    run_id: str,
) -> ReleaseOutcome:
    """Parse, check and (re)load one release in one transaction, replacing any rows it had before."""
    try:
        parsed = parse_release(data, file_name)
    except UnreadableRelease as exc:
        outcome = ReleaseOutcome(release_id, file_name, "failed", 0, 0, 0, f"{file_name}: {exc}")
        log.error("%s", outcome.message)
        con.execute("BEGIN")
        _clear_release(con, release_id)
        _record_release(con, outcome, landing_key, None, landed_at, len(data), run_id)
        con.execute("COMMIT")
        return outcome

    passed, violations = check_observations(parsed.observations)
    quarantine = [(r.source_row, r.rule, r.message) for r in parsed.rejects]
    quarantine += [(v.source_row, v.rule, v.message) for v in violations]
    bad_rows = {row for row, _, _ in quarantine}
    # A source row loads whole or not at all: one bad figure quarantines the row it came from.
    loadable = passed[~passed["source_row"].isin(bad_rows)] if not passed.empty else passed
    rows_quarantined = len(bad_rows)
    rows_loaded = parsed.rows_in - rows_quarantined
    status = "loaded" if not bad_rows else ("quarantined" if rows_loaded == 0 else "partly_quarantined")
    message = _summary(file_name, parsed, rows_loaded, quarantine)
    for source_row, rule, detail in quarantine:
        log.warning("%s row %s: rule %s: %s", file_name, source_row, rule, detail)

    con.execute("BEGIN")
    _clear_release(con, release_id)
    _insert_observations(con, release_id, parsed, loadable)
    for source_row, rule, detail in quarantine:
        raw = parsed.raw_records.get(source_row, {})
        con.execute(
            "INSERT INTO quarantined_rows VALUES (?, ?, ?, ?, ?)",
            [release_id, source_row, rule, f"{file_name} row {source_row}: {detail}", record_json(raw)],
        )
    outcome = ReleaseOutcome(release_id, file_name, status, parsed.rows_in, rows_loaded, rows_quarantined, message)
    _record_release(con, outcome, landing_key, parsed, landed_at, len(data), run_id)
    con.execute("COMMIT")
    log.debug("%s", message)
    return outcome


def _summary(file_name: str, parsed: ParsedRelease, loaded: int, quarantine: list[tuple[str, str, str]]) -> str:
    text = f"{file_name}: {parsed.layout} ({parsed.vintage}), {parsed.rows_in} rows, {loaded} loaded"
    if quarantine:
        rules = sorted({rule for _, rule, _ in quarantine})
        text += f", {len({r for r, _, _ in quarantine})} quarantined ({', '.join(rules)})"
    return text


def _clear_release(con: duckdb.DuckDBPyConnection, release_id: str) -> None:
    for table in ("observations", "quarantined_rows", "load_warnings"):
        con.execute(f"DELETE FROM {table} WHERE release_id = ?", [release_id])  # noqa: S608 - fixed names
    con.execute("DELETE FROM releases WHERE release_id = ? AND status <> 'duplicate'", [release_id])


def _insert_observations(
    con: duckdb.DuckDBPyConnection, release_id: str, parsed: ParsedRelease, rows: pd.DataFrame
) -> None:
    if rows.empty:
        return
    frame = rows[OBSERVATION_COLUMNS].copy()
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    frame.insert(0, "release_id", release_id)
    frame["vintage"] = parsed.vintage
    frame["vintage_rank"] = parsed.vintage_rank
    frame["published_on"] = parsed.published_on
    con.register("incoming_observations", frame)
    try:
        con.execute(
            """
            INSERT INTO observations
            SELECT release_id, source_row, series_id, commodity, period::DATE, basis, partner, partner_name,
                   measure, value, published_value, published_unit, vintage, vintage_rank, published_on::DATE
            FROM incoming_observations
            """
        )
    finally:
        con.unregister("incoming_observations")


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
        "INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
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
            size,
            outcome.rows_in,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            outcome.status,
            outcome.message,
            run_id,
        ],
    )


def _naive_utc(moment: datetime) -> datetime:
    """DuckDB TIMESTAMP has no zone: store UTC wall time."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)
