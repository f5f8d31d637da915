"""`reewatch status`: what the lake holds — releases, recent runs, quarantine, publications — in plain text."""

from __future__ import annotations

from reewatch.config import Settings
from reewatch.lake import Lake
from reewatch.warehouse import Warehouse


def describe(settings: Settings, lake: Lake) -> str:
    lines = [f"lake: {lake.url}"]
    with Warehouse(settings, lake).reader() as con:
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
        lines.append("last runs:")
        runs = con.execute(
            "SELECT run_id, command, status, files_in, published_version, message FROM runs "
            "ORDER BY started_at DESC LIMIT 5"
        ).fetchall()
        if not runs:
            lines.append("  none yet")
        for run_id, command, status, files_in, _version, message in runs:
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
    return "\n".join(lines)
