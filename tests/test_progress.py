"""Progress of a native read: what polars' threads read of a file, not what Python threads beside them read."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import polars as pl
import pytest

from reewatch import progress


def _csv(path: Path, rows: int = 400_000) -> Path:
    pl.DataFrame({"n": range(rows), "text": ["稀土永磁 rare-earth magnets"] * rows}).write_csv(path)
    return path


def test_what_polars_reads_counts_and_what_a_python_thread_reads_does_not(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "lines.csv")
    size = csv.stat().st_size
    before = progress._read_by_native_threads()
    assert before is not None
    pl.scan_csv(csv).sink_parquet(tmp_path / "lines.parquet")
    after_polars = progress._read_by_native_threads()
    assert after_polars is not None and after_polars - before >= size

    read, done = threading.Event(), threading.Event()

    def archive_like() -> None:  # a Python thread reading the same file, as the archive copy does beside the stage
        csv.read_bytes()
        read.set()
        done.wait(10)

    reader = threading.Thread(target=archive_like)
    reader.start()
    try:
        read.wait(10)
        now = progress._read_by_native_threads()
        assert now is not None and now - after_polars < size // 10
    finally:
        done.set()
        reader.join()


def test_a_long_read_logs_how_long_and_how_much_of_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _csv(tmp_path / "lines.csv")
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.0)  # every poll speaks
    finished = threading.Event()
    with caplog.at_level(logging.INFO, logger="reewatch.progress"):
        with progress.ReadProgress(csv, "lines.csv (typing)", every=0.02):
            pl.scan_csv(csv).sink_parquet(tmp_path / "lines.parquet")
            finished.wait(0.2)  # polls after the read: the whole file counted, shown as at most 99 %
    said = [r.getMessage() for r in caplog.records if r.name == "reewatch.progress"]
    assert said, "no progress line"
    assert all(re.fullmatch(r"lines\.csv \(typing\): working for \d+ s, about \d+% of the file read", s) for s in said)
    assert said[-1].endswith("about 99% of the file read")
