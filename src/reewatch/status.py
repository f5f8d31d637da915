"""`reewatch status`: what the lake holds — releases, recent runs, quarantine, publications — in plain text."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from reewatch.config import Settings
from reewatch.lake import Lake
from reewatch.warehouse import Warehouse, WarehouseBusy, connect, sql_literal

RECENT_RELEASES = 10  # listed with their ids, which `reewatch replay` takes


def describe(settings: Settings, lake: Lake) -> str:
    lines = [f"lake: {lake.url}"]
    warehouse = Warehouse(settings, lake)
    try:
        with warehouse.reader() as con:
            holder = warehouse.lock.holder()
            if holder:  # an S3 lake's copy of the warehouse is as that run found it, until it publishes
                lines.append(f"writing now: {holder}")
            lines += _described(con, lake)
    except WarehouseBusy as busy:
        # DuckDB lets no one open a local warehouse while a run writes it; its last publication is there to read.
        lines.append(f"writing now: {busy.holder}; until that run ends, this is what the last publication holds")
        with _last_publication(lake) as published:
            lines += _described(published, lake, runs=False) if published else ["published: nothing yet"]
    return "\n".join(lines)


@contextlib.contextmanager
def _last_publication(lake: Lake) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The catalog's tables (views over the published files), as the warehouse's names; None before a publication."""
    if not lake.exists("catalog.duckdb"):
        yield None
        return
    con = connect(extensions=())  # a local lake: busy only when a run holds its warehouse file
    try:
        con.execute(f"ATTACH {sql_literal(lake.uri('catalog.duckdb'))} AS ree (READ_ONLY)")
        con.execute("USE ree")
        yield con
    finally:
        con.close()


def _described(con: duckdb.DuckDBPyConnection, lake: Lake, runs: bool = True) -> list[str]:
    lines = []
    by_status = con.execute(
        "SELECT status, count(*), sum(rows_in), sum(rows_loaded), sum(rows_quarantined) "
        "FROM releases GROUP BY status ORDER BY status"
    ).fetchall()
    lines.append("releases:")
    if not by_status:
        lines.append("  none yet")
    for status, files, rows_in, loaded, quarantined in by_status:
        lines.append(
            f"  {status:<20} {files:>5} files  rows in {rows_in or 0:>9,}  loaded {loaded or 0:>9,}  "
            f"quarantined {quarantined or 0:>7,}"
        )
    recent = con.execute(
        f"SELECT release_id, file_name, status FROM releases ORDER BY ingested_at DESC, file_name "  # noqa: S608
        f"LIMIT {RECENT_RELEASES}"
    ).fetchall()
    if recent:
        lines.append("latest releases (an id prefix is enough for `reewatch replay`):")
        lines += [f"  {release_id[:12]}  {status:<20} {file_name}" for release_id, file_name, status in recent]
    if runs:
        lines.append("last runs:")
        last = con.execute(
            "SELECT run_id, command, status, files_in, published_version, message FROM runs "
            "ORDER BY started_at DESC LIMIT 5"
        ).fetchall()
        if not last:
            lines.append("  none yet")
        for run_id, command, status, files_in, _version, message in last:
            lines.append(f"  {run_id}  {command:<7} {status:<12} files {files_in or 0:>4}  {message or ''}")
    quarantined = con.execute(
        "SELECT r.file_name, q.source_row, q.rule, q.message FROM quarantined_rows q "
        "JOIN releases r ON r.release_id = q.release_id AND r.status <> 'duplicate' "
        "ORDER BY r.file_name, q.source_row LIMIT 20"
    ).fetchall()
    failed = con.execute("SELECT file_name, message FROM releases WHERE status = 'failed'").fetchall()
    lines.append(f"quarantine: {len(quarantined)} row(s) shown, {len(failed)} failed file(s)")
    for _, _, rule, message in quarantined:
        lines.append(f"  [{rule}] {message}")
    for _file_name, message in failed:
        lines.append(f"  [failed] {message}")
    latest = con.execute("SELECT version, published_at FROM publications ORDER BY version DESC LIMIT 1").fetchone()
    kept = con.execute("SELECT count(*) FROM publications").fetchone()
    if latest:
        lines.append(
            f"published: {latest[0]} at {latest[1]:%Y-%m-%d %H:%M} UTC ({kept[0] if kept else 0} kept); "
            f"catalog {lake.uri('catalog.duckdb')}"
        )
    else:
        lines.append("published: nothing yet")
    return lines
