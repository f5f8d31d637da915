"""Time `reewatch ingest` of a large detailed export beside bare DuckDB reading the same file.

Each path runs in its own process (wall time and peak RSS of that process tree), alternating, repeated; the
medians go into benchmarks/RESULTS.md. reewatch talks to a local Prefect server started here, as a deployed
worker would, so Prefect's temporary-server start-up is not counted.

    .venv/bin/python benchmarks/ingest_detailed.py --rows 10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

from reewatch.prefect_server import prefect_server  # noqa: E402

BIN = Path(sys.executable).parent


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one command and its children."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:2]} failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def bare_duckdb(csv: Path, work: Path) -> list[str]:
    program = (
        "import duckdb, sys; duckdb.sql(f\"COPY (FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)\")"
    )
    return [str(BIN / "python"), "-c", program, str(csv), str(work / "bare.parquet")]


def reewatch_ingest(csv: Path, work: Path) -> list[str]:
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    return [str(BIN / "reewatch"), "ingest", str(csv), "--lake", str(lake)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()

    csv = args.data / f"detailed_{args.rows}_cny.csv"
    if not csv.exists():
        generate(args.rows, args.data)
    size_mb = csv.stat().st_size / 1e6
    timings: dict[str, list[tuple[float, float]]] = {"bare": [], "reewatch": []}
    with tempfile.TemporaryDirectory(prefix="reewatch-bench-") as tmp:
        work = Path(tmp)
        with prefect_server(work / "prefect") as api:
            env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(work / "prefect-client"),
                   "REEWATCH_STATE_DIR": str(work / "state"), "REEWATCH_LOG_LEVEL": "WARNING"}  # fmt: skip
            for round_ in range(args.repeat):
                for name, build in (("bare", bare_duckdb), ("reewatch", reewatch_ingest)):
                    wall, rss = measure(build(csv, work), env)
                    timings[name].append((wall, rss))
                    print(f"round {round_ + 1} {name:<9} {wall:7.1f} s  {rss:7.0f} MB", flush=True)

    bare = statistics.median(w for w, _ in timings["bare"])
    ours = statistics.median(w for w, _ in timings["reewatch"])
    bare_rss = max(r for _, r in timings["bare"])
    ours_rss = max(r for _, r in timings["reewatch"])
    row = (
        f"| {date.today()} | {os.cpu_count()} cores, {platform.machine()} | {args.rows:,} rows ({size_mb:,.0f} MB) "
        f"| {bare:.1f} s / {bare_rss:,.0f} MB | {ours:.1f} s / {ours_rss:,.0f} MB | {ours / bare:.2f} "
        f"| {args.rows / ours:,.0f} |"
    )
    print(row)
    with args.results.open("a", encoding="utf-8") as out:
        out.write(row + "\n")


if __name__ == "__main__":
    main()
