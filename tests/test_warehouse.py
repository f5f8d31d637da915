"""DuckDB with the pinned extensions offline, migrations, the S3 secret, and the writer lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from conftest import PLANTED_SECRET, new_bucket
from reewatch.config import S3Settings, load_settings
from reewatch.lake import open_lake
from reewatch.warehouse import LakeBusy, Warehouse, WriterLock, connect, inline, migrate


def test_extensions_load_from_the_wheels_with_autoinstall_off(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb", extensions=("httpfs", "excel", "ducklake"))
    loaded = {
        name for name, is_loaded in con.execute(
            "SELECT extension_name, loaded FROM duckdb_extensions()"
        ).fetchall() if is_loaded
    }  # fmt: skip
    assert {"httpfs", "excel", "ducklake"} <= loaded
    assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone() == (False,)


def test_migrations_apply_once(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert migrate(con) == ["001_core.sql", "002_surveys_reference_claims.sql", "003_latest_survey_results.sql"]
    assert migrate(con) == []
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"releases", "observations", "quarantined_rows", "publications", "runs"} <= tables


def test_inline_values_read_back_exactly() -> None:
    values = [None, True, 7, -(2**62), 1.5, 1e-300, float("-inf"), "it's \\ a ? \"quote\"", "稀土",
              datetime(2024, 1, 2, 3, 4, 5, 678901), date(2024, 2, 29), ["preliminary", "o'brien"]]  # fmt: skip
    sql = inline("SELECT " + ", ".join("?" for _ in values), values)
    assert duckdb.connect().execute(sql).fetchone() == tuple(values)
    with pytest.raises(ValueError, match="placeholder"):
        inline("SELECT ?, ?", [1])


def test_opening_the_writer_of_a_local_lake_twice_imports_neither_pandas_nor_boto3(tmp_path: Path) -> None:
    """DuckDB imports pandas (~1 s) when it binds a parameter: what every run does at the start must not bind any.
    boto3 (~0.3 s) is for S3 lakes only."""
    script = textwrap.dedent(f"""
        import sys
        from reewatch.config import load_settings
        from reewatch.lake import open_lake
        from reewatch.warehouse import Warehouse, inline

        settings = load_settings({str(tmp_path / "lake")!r})
        for _ in range(2):  # migrations applied, then found applied; abandoned runs closed
            with Warehouse(settings, open_lake(settings.lake)).writer() as con:
                con.execute(inline("INSERT INTO runs (run_id, command, started_at, status) VALUES (?, ?, now(), ?)",
                                   [f"r{{_}}", "run", "running"]))
        assert "pandas" not in sys.modules, "pandas was imported"
        assert "boto3" not in sys.modules, "boto3 was imported"
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_s3_secret_is_not_persisted_or_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PLANTED_SECRET)
    path = tmp_path / "w.duckdb"
    con = connect(path, s3=S3Settings("http://127.0.0.1:9", "us-east-1"))
    shown = con.execute("SELECT * FROM duckdb_secrets()").fetchall()
    assert shown and PLANTED_SECRET not in repr(shown)  # DuckDB redacts it
    con.execute("CREATE TABLE t AS SELECT 1")
    con.close()
    assert PLANTED_SECRET.encode() not in path.read_bytes()


def test_local_writer_lock_says_who_holds_it(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    first = WriterLock(lake, tmp_path / "lake" / "_state")
    first.acquire()
    second = WriterLock(lake, tmp_path / "lake" / "_state")
    with pytest.raises(LakeBusy, match=r"lake busy: .* is being written by .*pid"):
        second.acquire(wait_seconds=0.3)
    first.release()
    second.acquire()
    second.release()


def test_s3_writer_lock_and_stale_lease(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    lake = open_lake(f"s3://{new_bucket(s3_endpoint)}/lake")
    first = WriterLock(lake, Path("/nonexistent"), lease_seconds=4)
    assert first.holder() is None
    first.acquire()
    with pytest.raises(LakeBusy, match="lake busy"):
        WriterLock(lake, Path("/nonexistent")).acquire()
    assert f"pid {os.getpid()} since " in (WriterLock(lake, Path("/nonexistent")).holder() or "")  # `status` says so
    first._stop.set()  # the holder "dies": its lease is no longer renewed
    first._renewer.join()  # type: ignore[union-attr]
    import time

    time.sleep(4.5)
    assert first.holder() is None  # a dead run's lease holds nothing
    taker = WriterLock(lake, Path("/nonexistent"))
    taker.acquire()  # the expired lease is taken over
    taker.release()
    assert not lake.exists("_state/writer.lock")


def test_s3_warehouse_lives_in_the_lake(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    settings = load_settings(url, state_dir=tmp_path / "machine-a")
    with Warehouse(settings, open_lake(url)).writer() as con:
        con.execute("INSERT INTO runs (run_id, started_at) VALUES ('r1', now())")
    # A different machine (empty state folder) sees what the first one wrote.
    other = load_settings(url, state_dir=tmp_path / "machine-b")
    with Warehouse(other, open_lake(url)).writer() as con:
        assert con.execute("SELECT run_id FROM runs").fetchall() == [("r1",)]
