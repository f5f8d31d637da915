"""A backfill of 24 detailed monthly releases, staged in the run's own process or on Dask, against a running
Prefect server; the medians go into benchmarks/RESULTS.md.

Setups: one process; an existing Dask cluster of 1, then 2, worker processes (`REEWATCH_DASK_ADDRESS`, started here
once, so its start-up is not counted); and `--workers 2`, where the run starts its own LocalCluster (counted).

    .venv/bin/python benchmarks/backfill.py --rows-per-month 100000 --repeat 2
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

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

from reewatch.prefect_server import prefect_server  # noqa: E402

BIN = Path(sys.executable).parent
MONTHS = 24
SETUPS = ("one process", "Dask cluster, 1 worker", "Dask cluster, 2 workers", "--workers 2 (own cluster)")


def monthly_releases(rows_per_month: int, out: Path) -> list[Path]:
    """24 detailed exports (yuan), one per month, cut from one generated two-year export."""
    cny, usd = generate(rows_per_month * MONTHS, out / "all", months=MONTHS)
    usd.unlink()
    con = duckdb.connect()
    periods = [p for (p,) in con.execute(f"SELECT DISTINCT 数据年月 FROM read_csv('{cny}') ORDER BY 1").fetchall()]
    paths = []
    for period in periods:
        path = out / f"detailed_{period}_cny.csv"
        con.execute(
            f"COPY (FROM read_csv('{cny}', all_varchar = true) WHERE 数据年月 = '{period}') TO '{path}' (HEADER true)"  # noqa: S608
        )
        paths.append(path)
    shutil.rmtree(out / "all")
    return paths


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one command: Linux counts the largest of the process and the descendants
    it waited for (the Dask workers)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:3]} failed: {process.stderr.read().decode()[-3000:] if process.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def one_run(releases: list[Path], work: Path, extra: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Land the releases into a fresh lake and time `reewatch run` over them."""
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    (lake / "landing").mkdir(parents=True)
    for path in releases:
        shutil.copyfile(path, lake / "landing" / path.name)
    return measure([str(BIN / "reewatch"), "run", "--lake", str(lake), *extra], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-month", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reewatch-backfill-") as scratch:
        work = Path(scratch)
        releases = monthly_releases(args.rows_per_month, work / "input")
        size_mb = sum(p.stat().st_size for p in releases) / 1e6
        with prefect_server(work / "prefect") as api:
            os.environ.update(PREFECT_API_URL=api, PREFECT_HOME=str(work / "prefect-client"))  # the clusters inherit it
            from distributed import LocalCluster

            one_worker = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
            two_workers = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            setups = {
                SETUPS[0]: ({}, []),
                SETUPS[1]: ({"REEWATCH_DASK_ADDRESS": one_worker.scheduler_address}, []),
                SETUPS[2]: ({"REEWATCH_DASK_ADDRESS": two_workers.scheduler_address}, []),
                SETUPS[3]: ({}, ["--workers", "2"]),
            }
            times: dict[str, list[float]] = {label: [] for label in SETUPS}
            peaks: dict[str, list[float]] = {label: [] for label in SETUPS}
            try:
                for round_ in range(args.repeat):
                    order = list(SETUPS) if round_ % 2 == 0 else list(reversed(SETUPS))  # alternate
                    for label in order:
                        extra_env, extra_args = setups[label]
                        wall, rss = one_run(releases, work, extra_args, {**os.environ, **extra_env})
                        times[label].append(wall)
                        peaks[label].append(rss)
                        print(f"round {round_ + 1}: {label}: {wall:.1f} s, {rss:,.0f} MB", flush=True)
            finally:
                one_worker.close()
                two_workers.close()
    medians = {label: statistics.median(times[label]) for label in SETUPS}
    base = medians["one process"]
    cells = " | ".join(
        f"{medians[label]:.1f} s / {statistics.median(peaks[label]):,.0f} MB ({base / medians[label]:.2f}×)"
        for label in SETUPS
    )
    line = (
        f"| {date.today()} | {os.cpu_count()} cores, {platform.machine()}, load {os.getloadavg()[0]:.1f} "
        f"| {len(releases)} × {args.rows_per_month:,} rows ({size_mb:,.0f} MB) | {cells} |"
    )
    print(line)
    if not args.no_write:
        results = HERE / "RESULTS.md"
        text = results.read_text()
        marker = "<!-- backfill rows -->"
        results.write_text(text.replace(marker, f"{line}\n{marker}"))


if __name__ == "__main__":
    main()
