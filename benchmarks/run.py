"""Issue 9's benchmark: reewatch beside bare DuckDB, dlt and the naive pandas path, on the same generated file.

Paths, each in its own process, alternating a,b,c,d / d,c,b,a from one repeat to the next, each with a fresh
target (a new lake folder or DuckDB file) every time:

  a  bare DuckDB: `COPY (FROM read_csv(...)) TO parquet` — the floor.
  b  `reewatch ingest` end to end: archive to raw/, parse, units, contracts, load, curated build, quality gate,
     publication, report. reewatch talks to a Prefect server started here (as a deployed worker would), so the
     start-up of Prefect's temporary server is not counted.
  c  dlt 1.31 into DuckDB with no checks, the way dlt documents loading a big CSV: its filesystem source piped
     into its DuckDB CSV reader (`read_csv_duckdb`, Arrow batches of 500k rows), `SCHEMA__NAMING=direct` (the default
     naming turns every Chinese header into `x`), telemetry off.
  d  the naive path: pandas.read_csv (every column as str, so dirty values reach the checks), kg → t, unpivot to
     one row per measure as reewatch does, a Pandera pandas schema with the row rules of reewatch's observation
     contract, a GX pandas validation (ephemeral context: not null, value ≥ 0, unique compound key), good rows to
     Parquet. One process.

Wall time is the median of the repeats, peak RSS the largest of the repeats: the larger of the process's own
ru_maxrss (os.wait4) and the sum of RSS over its whole process tree sampled every 0.1 s (worker processes count),
taken by a small launcher process (see measure). CPU time is user + system time on all cores, of the command and
every child it waited for (os.wait4, median of the repeats): on 2 cores, a path's wall time cannot go below half of
it. With two sizes or more, b/a is also given at the margin: b's extra time from the smallest to the largest over
a's, which leaves out what a run of reewatch costs whatever its size.

Also, selected with --only: `help` (`reewatch --help`, median of 5), `incremental` (a lake holding ten years of
monthly detailed releases, then one more month into it against the same month into an empty lake; medians) and
`noop` (`reewatch run` with nothing new on that ten-year lake, or on path b's lake; median of 3) and `small` (one
monthly headline release, 7 rows, into a new lake with `reewatch ingest`: the fixed cost every run pays; median of 3).

    make bench                                         # 1M rows, repeat 3, everything, appended to RESULTS.md
    make bench BENCH_ARGS="--rows 10000000 --only a,b,c,d"
    .venv/bin/python benchmarks/run.py --rows 1000000 10000000 --repeat 3 --only a,b,c,d,help,noop,incremental,small
    .venv/bin/python benchmarks/run.py --repeat 1 --no-write     # a trial: console only
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## Issue 9: reewatch beside DuckDB, dlt and pandas (`benchmarks/run.py`)"
PATHS = {
    "a": "bare DuckDB `COPY (FROM read_csv) TO parquet`",
    "b": "`reewatch ingest` end to end",
    "c": "dlt → DuckDB, no checks",
    "d": "pandas + Pandera pandas + GX pandas",
}
EXTRAS = ("help", "noop", "incremental", "small")
SEED = 2025  # generate.py's default
SMALL_RELEASE = HERE.parent / "samples" / "headline" / "2025-08_major_exports_usd.csv"  # GACC's monthly table
HISTORY_START = date(2016, 1, 1)  # ten years of months, then one more: 2026-01
# Issue 9's targets on a 2-core machine.
TARGET_B_OVER_A = 2.0  # at 10M rows
TARGET_B_OVER_C = 1.0
TARGET_RSS_MB = 1500  # at 10M rows
TARGET_HELP_S = 0.5
TARGET_NOOP_S = 5.0
TARGET_INCREMENTAL = 2.0


# ---------------------------------------------------------------------------------------------------------------
# Measuring one process


@dataclass
class Sample:
    wall: float  # seconds
    rss_mb: float  # peak of the process tree: RSS summed over its processes
    pss_mb: float = 0.0  # peak of the PSS summed over them: a page two processes share counts half in each
    at_peak: str = ""  # when the RSS sum peaked, and each process's RSS then: for the log, to see what made a peak
    cpu_s: float = 0.0  # CPU time (user + system) of the command and every child it waited for, on all cores


def _tree_memory_mb(root: int, with_pss: bool = True) -> tuple[float, float, dict[int, float]]:
    """RSS and (if `with_pss`, else 0) PSS summed over the descendants of `root`, from /proc, and each descendant's
    RSS by pid. RSS costs microseconds a process; PSS is read from smaps_rollup, for which the kernel walks the
    process's page tables: 16 ms of CPU for a process of 1 GB.

    RSS counts every resident page of each process, so a page that a forked child shares with its parent (the GX
    worker's fork: its whole heap) counts twice; PSS splits each shared page between the processes that map it,
    which makes the sum what the tree holds in memory (and about what a container's memory limit is charged)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        parent[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21])
    tree: set[int] = set()
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, ppid in parent.items():
            if ppid == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    page_mb = os.sysconf("SC_PAGE_SIZE") / 1e6
    pss_kb = 0
    for pid in tree if with_pss else ():
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                pss_kb += next((int(line.split()[1]) for line in f if line.startswith(b"Pss:")), 0)
        except OSError:  # it ended meanwhile
            continue
    by_pid = {pid: rss.get(pid, 0) * page_mb for pid in tree}
    return sum(by_pid.values()), pss_kb * 1024 / 1e6, by_pid


def _process_name(pid: int) -> str:
    """`python -m reewatch.gx_worker` → reewatch.gx_worker; `.venv/bin/reewatch ingest …` → reewatch."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except OSError:  # it ended meanwhile
        return str(pid)
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1]
    return Path(argv[1] if len(argv) > 1 else argv[0]).name


PSS_EVERY = 5  # memory samples: PSS in one of this many (see measure)


# The measured command runs under this small launcher. A child's ru_maxrss starts at the memory of the process it
# was forked from (exec records the old address space's high-water mark): forked from the harness, it would
# report at least the harness's own peak. The launcher is a fresh, small process, and it times the command itself,
# so its own start-up is not counted either.
_LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - started} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(min(255, abs(os.waitstatus_to_exitcode(status))))
"""


def measure(command: list[str], env: dict[str, str], log: Path, ok: tuple[int, ...] = (0,)) -> Sample:
    """Wall time and peak RSS of one command and its children; its output goes to `log` (a pipe could fill up).

    Peak RSS: the larger of the command's own ru_maxrss and the RSS summed over its process tree, sampled every
    0.1 s (worker processes count). Peak PSS: sampled every 0.5 s, as reading it costs the kernel a walk of every
    page table (at 0.1 s, a sixth of a core beside the measured command while it held a gigabyte)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    measured = log.with_suffix(".measured")
    launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(measured), *command]
    with log.open("wb") as out:
        process = subprocess.Popen(launcher, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak, peak_pss, peak_parts = 0.0, 0.0, ""
        done = threading.Event()
        started = time.perf_counter()

        def sample() -> None:
            nonlocal peak, peak_pss, peak_parts
            samples = 0
            while not done.wait(0.1):
                samples += 1
                try:
                    rss, pss, by_pid = _tree_memory_mb(process.pid, with_pss=samples % PSS_EVERY == 1)
                except (OSError, ValueError, IndexError):  # a process ended while we read it
                    continue
                if rss > peak:  # what each process held then, named only now
                    parts = " + ".join(f"{_process_name(pid)} {mb:,.0f}" for pid, mb in
                                       sorted(by_pid.items(), key=lambda item: -item[1]))  # fmt: skip
                    peak_parts = f"{time.perf_counter() - started:.1f} s: {parts}"
                peak, peak_pss = max(peak, rss), max(peak_pss, pss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        done.set()
        sampler.join()
    if code not in ok:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command[:3])} … exited {code}:\n{tail}")
    wall, maxrss_kb, cpu = measured.read_text().split()
    measured.unlink()
    return Sample(float(wall), max(peak, int(maxrss_kb) / 1024), peak_pss, peak_parts, float(cpu))


# ---------------------------------------------------------------------------------------------------------------
# The paths, each run as `run.py --child NAME CSV WORK` in a process of its own


def child_bare(csv: Path, work: Path) -> int:
    import duckdb

    target = work / "bare.parquet"
    duckdb.sql(f"COPY (FROM read_csv('{csv}')) TO '{target}' (FORMAT parquet)")
    return int(duckdb.sql(f"SELECT count(*) FROM '{target}'").fetchone()[0])  # type: ignore[index]


def child_dlt(csv: Path, work: Path) -> int:
    # No telemetry, no network; keep the Chinese column names (dlt's default snake_case makes each of them `x`).
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    os.environ["SCHEMA__NAMING"] = "direct"
    os.environ["DLT_DATA_DIR"] = str(work / "dlt-home")
    import dlt
    from dlt.sources.filesystem import filesystem, read_csv_duckdb

    pipeline = dlt.pipeline(
        pipeline_name="customs_bench",
        destination=dlt.destinations.duckdb(str(work / "dlt.duckdb")),
        dataset_name="customs",
        pipelines_dir=str(work / "dlt-pipelines"),
    )
    files = filesystem(bucket_url=str(csv.parent), file_glob=csv.name)
    info = pipeline.run((files | read_csv_duckdb(use_pyarrow=True, chunk_size=500_000)).with_name("detailed_exports"))
    info.raise_on_failed_jobs()
    with pipeline.sql_client() as client:
        counted = client.execute_sql("SELECT count(*) FROM detailed_exports")
    return int(counted[0][0]) if counted else -1


def child_naive(csv: Path, work: Path) -> int:
    """What a team without reewatch would write: pandas, Pandera's pandas backend, GX on pandas."""
    import warnings

    import great_expectations as gx
    import numpy as np
    import pandas as pd
    import pandera.pandas as pa
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from reewatch.contracts.observations import BASES, HARD_RANGES_T, LEVELS, MEASURES
    from reewatch.partners import partner_table
    from reewatch.units import mass_spellings

    warnings.filterwarnings("ignore")
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    value_column = raw.columns[-1]
    value_measure = "value_cny" if value_column in ("人民币", "CNY") else "value_usd"
    partners = dict(partner_table())
    hs = raw["商品编码"].str.replace(r"[^0-9]", "", regex=True)
    wide = pd.DataFrame(
        {
            "source_row": (raw.index + 2).astype(str),
            "series_id": np.where(hs == "8505111000", "gacc_magnets_850511", "gacc_hs:" + hs),
            "hs_code": hs,
            "period": pd.to_datetime(raw["数据年月"].str.strip(), format="%Y%m", errors="coerce"),
            "basis": "month",
            "partner": raw["贸易伙伴名称"].str.strip().str.lower().map(partners),
            "partner_name": raw["贸易伙伴名称"].str.strip(),
            "trade_mode": raw["贸易方式"].str.strip(),
        }
    )
    kg_to_t = raw["第一计量单位"].str.strip().str.lower().map(mass_spellings())
    quantity = pd.to_numeric(raw["第一数量"].str.replace(",", ""), errors="coerce")
    value = pd.to_numeric(raw[value_column].str.replace(",", ""), errors="coerce")
    # One row per measure, as reewatch stores observations.
    long = pd.concat(
        [
            wide.assign(measure=np.where(kg_to_t.notna(), "quantity_t", "quantity"),
                        value=quantity * kg_to_t.fillna(1), published_value=raw["第一数量"]),
            wide.assign(measure=value_measure, value=value, published_value=raw[value_column]),
        ],
        ignore_index=True,
    )  # fmt: skip
    del raw, wide

    def in_series_range(df: pd.DataFrame) -> pd.Series:
        bad = pd.Series(False, index=df.index)
        world_t = (df["measure"] == "quantity_t") & (df["partner"] == "WORLD")
        for (series_id, basis), (low, high) in HARD_RANGES_T.items():
            scope = world_t & (df["series_id"] == series_id) & (df["basis"] == basis)
            bad |= scope & ((df["value"] < low) | (df["value"] > high))
        return ~bad

    this_month = pd.Timestamp(date.today().replace(day=1))
    schema = pa.DataFrameSchema(
        {
            "source_row": pa.Column(str),
            "series_id": pa.Column(str, pa.Check.str_length(min_value=1)),
            "period": pa.Column(nullable=True),
            "basis": pa.Column(str, pa.Check.isin(BASES)),
            "partner": pa.Column(str, pa.Check.str_matches(r"^([A-Z]{2}|WORLD)$"), nullable=True),
            "measure": pa.Column(str, pa.Check.isin(MEASURES)),
            "value": pa.Column(float, nullable=True),
        },
        checks=[
            pa.Check(lambda df: df["period"].notna(), name="period_parses"),
            pa.Check(lambda df: df["partner"].notna(), name="known_partner"),
            pa.Check(lambda df: df["value"].notna(), name="number_parses"),
            pa.Check(lambda df: ~(df["measure"].isin(LEVELS) & (df["value"] < 0)), name="non_negative"),
            pa.Check(in_series_range, name="series_range"),
            pa.Check(lambda df: ~(df["measure"].str.endswith("_pct") & (df["value"] < -100)), name="pct_floor"),
            pa.Check(lambda df: df["period"].isna() | (df["period"] <= this_month), name="period_not_in_future"),
        ],
    )
    try:
        good = schema.validate(long, lazy=True)
    except pa.errors.SchemaErrors as errors:
        bad = errors.failure_cases["index"].dropna().unique()
        good = long.drop(index=bad)
        print(f"quarantined {len(bad):,} rows", flush=True)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm bar per validation
    batch = (
        context.data_sources.add_pandas("naive")
        .add_dataframe_asset("observations")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(gx.ExpectationSuite(name="observations"))
    for column in ("series_id", "period", "partner", "measure", "value"):
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(column="value", min_value=0))
    suite.add_expectation(
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["series_id", "period", "partner", "trade_mode", "measure"]
        )
    )
    validation = context.validation_definitions.add(gx.ValidationDefinition(name="gate", data=batch, suite=suite))
    result = validation.run(batch_parameters={"dataframe": good})
    print(f"GX: {sum(bool(r.success) for r in result.results)} of {len(result.results)} expectations met", flush=True)
    good.to_parquet(work / "observations.parquet")
    return len(good) // 2  # rows of the file that passed (two measures each)


CHILDREN: dict[str, Callable[[Path, Path], int]] = {"a": child_bare, "c": child_dlt, "d": child_naive}


# ---------------------------------------------------------------------------------------------------------------
# The harness


@dataclass
class Comparison:
    rows: int
    size_mb: float
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def wall(self, path: str) -> float:
        return statistics.median(s.wall for s in self.samples[path])

    def cpu(self, path: str) -> float:
        return statistics.median(s.cpu_s for s in self.samples[path])

    def rss(self, path: str) -> float:
        return max(s.rss_mb for s in self.samples[path])

    def pss(self, path: str) -> float:
        return max(s.pss_mb for s in self.samples[path])


@dataclass
class Extras:
    help: list[float] = field(default_factory=list)
    noop: list[float] = field(default_factory=list)
    noop_lake: str = ""
    small: list[float] = field(default_factory=list)
    history_build: float = 0.0
    history_months: int = 0
    history_rows: int = 0
    history_files: int = 0
    new_rows: int = 0
    into_history: list[Sample] = field(default_factory=list)
    into_empty: list[Sample] = field(default_factory=list)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, api: str) -> None:
        self.args = args
        self.work = work
        self.env = {
            **os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(work / "prefect-client"),
            "REEWATCH_STATE_DIR": str(work / "state"), "REEWATCH_LOG_LEVEL": "WARNING", "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "RUNTIME__DLTHUB_TELEMETRY": "false",
        }  # fmt: skip
        self.b_lake: tuple[Path, Path] | None = None  # (lake, csv) of path b's last run, for the no-op
        self.history_lake: Path | None = None

    def command(self, path: str, csv: Path, target: Path) -> list[str]:
        if path == "b":
            return [str(BIN / "reewatch"), "ingest", str(csv), "--lake", str(target / "lake")]
        return [sys.executable, str(Path(__file__).resolve()), "--child", path, str(csv), str(target)]

    def compare(self, rows: int, paths: list[str]) -> Comparison:
        csv = ensure_data(self.args.data, rows)
        _warm(csv)
        result = Comparison(rows, csv.stat().st_size / 1e6, {p: [] for p in paths})
        for repeat in range(self.args.repeat):
            for path in paths if repeat % 2 == 0 else paths[::-1]:
                target = self.work / f"{rows}" / f"{path}-{repeat}"
                target.mkdir(parents=True)
                sample = measure(self.command(path, csv, target), self.env, target / "output.log")
                _check_rows(path, target / "output.log", rows)
                result.samples[path].append(sample)
                memory = f"{sample.rss_mb:7,.0f} MB RSS  {sample.pss_mb:7,.0f} MB PSS  (peak at {sample.at_peak})"
                timing = f"{sample.wall:8.2f} s  CPU {sample.cpu_s:6.1f} s"
                _say(f"{rows:>11,} rows  repeat {repeat + 1}  {path}  {timing}  {memory}")
                if path == "b":  # keep the latest lake for the no-op run
                    if self.b_lake:
                        shutil.rmtree(self.b_lake[0].parent, ignore_errors=True)
                    self.b_lake = (target / "lake", csv)
                else:
                    shutil.rmtree(target, ignore_errors=True)
        return result

    def help(self, extras: Extras) -> None:
        for _ in range(5):
            sample = measure([str(BIN / "reewatch"), "--help"], self.env, self.work / "help.log")
            extras.help.append(sample.wall)
        _say(f"reewatch --help: median {statistics.median(extras.help):.2f} s of {_seconds(extras.help)}")

    def incremental(self, extras: Extras) -> None:
        """Ten years of monthly detailed releases in one lake; then one more month into it, and into an empty one."""
        per_month, months = self.args.history_rows_per_month, self.args.history_months
        history = ensure_monthly(self.args.data, per_month, months, HISTORY_START)
        new = ensure_monthly(self.args.data, per_month, 1, _add_months(HISTORY_START, months))
        extras.history_rows, extras.history_files, extras.new_rows = per_month * months * 2, len(history), per_month * 2
        extras.history_months = months
        lake = self.work / "history" / "lake"
        _say(f"building the history lake: {len(history)} files, {extras.history_rows:,} rows …")
        sample = measure(
            [str(BIN / "reewatch"), "ingest", *map(str, history), "--lake", str(lake)],
            self.env,
            lake.parent / "build.log",
        )
        extras.history_build = sample.wall
        _say(f"history lake built in {sample.wall:.1f} s, peak {sample.rss_mb:,.0f} MB")
        # Every repeat lands the new month into a fresh copy of the history, restored at the same path (the lake
        # records absolute paths), and into a fresh empty lake.
        master = lake.parent / "master"
        lake.rename(master)
        for repeat in range(self.args.repeat):
            for into in ("history", "empty") if repeat % 2 == 0 else ("empty", "history"):
                if into == "history":
                    shutil.rmtree(lake, ignore_errors=True)
                    shutil.copytree(master, lake, symlinks=True)
                    target = lake
                else:
                    target = self.work / "empty" / f"lake-{repeat}"
                command = [str(BIN / "reewatch"), "ingest", *map(str, new), "--lake", str(target)]
                sample = measure(command, self.env, self.work / f"incremental-{into}-{repeat}.log")
                (extras.into_history if into == "history" else extras.into_empty).append(sample)
                _say(f"one more month into the {into} lake, repeat {repeat + 1}: {sample.wall:.2f} s")
                if into == "empty":
                    shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(lake, ignore_errors=True)
        shutil.copytree(master, lake, symlinks=True)
        self.history_lake = lake

    def noop(self, extras: Extras) -> None:
        if self.history_lake:
            lake = self.history_lake
            releases = f"{extras.history_files} releases, {extras.history_rows:,} rows"
            extras.noop_lake = f"the {extras.history_months}-month lake ({releases})"
        else:
            if self.b_lake is None:  # build one, untimed
                csv = ensure_data(self.args.data, self.args.rows[0])
                target = self.work / "noop"
                target.mkdir(parents=True, exist_ok=True)
                measure(self.command("b", csv, target), self.env, target / "build.log")
                self.b_lake = (target / "lake", csv)
            lake = self.b_lake[0]
            extras.noop_lake = f"path b's lake ({_rows_of(self.b_lake[1]):,} rows)"
        for _ in range(3):
            sample = measure([str(BIN / "reewatch"), "run", "--lake", str(lake)], self.env, self.work / "noop.log")
            extras.noop.append(sample.wall)
        _say(f"no-op reewatch run: median {statistics.median(extras.noop):.2f} s of {_seconds(extras.noop)}")

    def small(self, extras: Extras) -> None:
        """One small monthly release into a new lake: what every run pays, however little it loads."""
        for repeat in range(3):
            lake = self.work / "small" / f"lake-{repeat}"
            command = [str(BIN / "reewatch"), "ingest", str(SMALL_RELEASE), "--lake", str(lake)]
            extras.small.append(measure(command, self.env, self.work / "small.log").wall)
        _say(f"one small release: median {statistics.median(extras.small):.2f} s of {_seconds(extras.small)}")


def _check_rows(path: str, log: Path, rows: int) -> None:
    """Every path must have read the whole file: a fast path that dropped rows would not be a result."""
    text = log.read_text(errors="replace")
    if path == "b":
        found = re.search(r"rows loaded: (\d+), rows quarantined: (\d+)", text)
        counted = int(found[1]) + int(found[2]) if found else -1
    else:
        found = re.search(r"^rows: (\d+)$", text, re.M)
        counted = int(found[1]) if found else -1
        if path == "d" and found:  # the naive path reports the rows that passed its checks
            counted = rows if 0.99 * rows <= counted <= rows else counted
    if counted != rows:
        raise RuntimeError(f"path {path} accounted for {counted:,} of {rows:,} rows; see {log}")


def _fresh(paths: list[Path], folder: Path, name: str) -> bool:
    """The files exist and the current generator made them (older data would not be the same benchmark)."""
    from generate import stamp, stamp_text

    made_by = stamp(folder, name)
    return all(p.exists() for p in paths) and made_by.exists() and made_by.read_text() == stamp_text(SEED)


def ensure_data(data: Path, rows: int) -> Path:
    csv = data / f"detailed_{rows}_cny.csv"
    if not _fresh([csv, data / f"detailed_{rows}_usd.csv"], data, f"detailed_{rows}"):
        _say(f"generating {rows:,} rows into {data} …")
        _generate("--rows", str(rows), "--out", str(data))
    return csv


def ensure_monthly(data: Path, per_month: int, months: int, start: date) -> list[Path]:
    folder = data / f"monthly_{per_month}"
    name = f"detailed_{per_month * months}" if months > 1 else f"detailed_{per_month}"
    periods = [f"{_add_months(start, k):%Y%m}" for k in range(months)]
    paths = [folder / f"{name}_{p}_{c}.csv" for p in periods for c in ("cny", "usd")]
    if not _fresh(paths, folder, name):
        _say(f"generating {months} monthly releases of {per_month:,} rows into {folder} …")
        _generate("--rows", str(per_month * months), "--months", str(months), "--start", f"{start:%Y-%m}",
                  "--name", name, "--monthly-files", "--out", str(folder))  # fmt: skip
    return paths


def _generate(*arguments: str) -> None:
    # In a process of its own: the harness stays small, so that no measured child inherits its memory (a forked
    # child's ru_maxrss starts at the parent's RSS).
    subprocess.run([sys.executable, str(HERE / "generate.py"), "--seed", str(SEED), *arguments], check=True)


def _add_months(start: date, k: int) -> date:
    return date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1)


def _rows_of(csv: Path) -> int:
    return int(csv.name.split("_")[1])


def _warm(csv: Path) -> None:
    """Read the file once so that no path pays for a cold page cache."""
    with csv.open("rb") as f:
        while f.read(1 << 24):
            pass


def _seconds(walls: list[float]) -> str:
    return ", ".join(f"{w:.2f}" for w in walls)


def _say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Reporting


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def render(comparisons: list[Comparison], extras: Extras, args: argparse.Namespace, load: float) -> str:
    cores = f"{os.cpu_count()} cores, {platform.machine()}"
    lines = [f"### {date.today()} — {cores}, load {load:.1f} at start, repeat {args.repeat}", ""]
    for c in comparisons:
        lines += [
            f"**{c.rows:,} rows** ({c.size_mb:,.0f} MB CSV, CNY file)",
            "",
            "| path | wall (median) | CPU time (median) | peak RSS | peak PSS | rows/s | runs (s) |",
            "|---|---|---|---|---|---|---|",
        ]
        for path in (p for p in PATHS if p in c.samples):
            runs = ", ".join(f"{s.wall:.1f}" for s in c.samples[path])
            lines.append(
                f"| ({path}) {PATHS[path]} | {c.wall(path):.1f} s | {c.cpu(path):.1f} s | {c.rss(path):,.0f} MB "
                f"| {c.pss(path):,.0f} MB | {c.rows / c.wall(path):,.0f} | {runs} |"
            )
        ratios = []
        at_10m = "" if c.rows >= 10_000_000 else " (target set at 10M rows)"
        if {"a", "b"} <= c.samples.keys():
            r = c.wall("b") / c.wall("a")
            ratios.append(f"| b/a | {r:.2f} | ≤ {TARGET_B_OVER_A}{at_10m} | {_mark(r <= TARGET_B_OVER_A)} |")
        if {"b", "c"} <= c.samples.keys():
            r = c.wall("b") / c.wall("c")
            ratios.append(f"| b/c | {r:.2f} | ≤ {TARGET_B_OVER_C} | {_mark(r <= TARGET_B_OVER_C)} |")
        if {"b", "d"} <= c.samples.keys():
            ratios.append(f"| d/b | {c.wall('d') / c.wall('b'):.2f} | (no target; above 1: reewatch is faster) | |")
        if "b" in c.samples:
            ok = c.rss("b") <= TARGET_RSS_MB
            ratios.append(f"| peak RSS of b | {c.rss('b'):,.0f} MB | ≤ {TARGET_RSS_MB:,} MB{at_10m} | {_mark(ok)} |")
            ratios.append(f"| peak PSS of b (shared pages once) | {c.pss('b'):,.0f} MB | (no target) | |")
        if ratios:
            lines += ["", "| measure | value | target | |", "|---|---|---|---|", *ratios]
        lines.append("")
    lines += _margin(comparisons)
    if extras.help or extras.noop or extras.into_history or extras.small:
        lines += ["| measure | value | target | |", "|---|---|---|---|"]
    if extras.help:
        h = statistics.median(extras.help)
        lines.append(
            f"| `reewatch --help` (median of 5) | {h:.2f} s | ≤ {TARGET_HELP_S} s | {_mark(h <= TARGET_HELP_S)} |"
        )
    if extras.noop:
        n = statistics.median(extras.noop)
        lines.append(
            f"| no-op `reewatch run` on {extras.noop_lake} (median of 3) | {n:.2f} s | ≤ {TARGET_NOOP_S:.0f} s "
            f"| {_mark(n <= TARGET_NOOP_S)} |"
        )
    if extras.small:
        lines.append(
            f"| one monthly headline release (7 rows) into a new lake, `reewatch ingest` (median of 3) "
            f"| {statistics.median(extras.small):.2f} s | (no target: the fixed cost of every run) | |"
        )
    if extras.into_history:
        into_history = statistics.median(s.wall for s in extras.into_history)
        into_empty = statistics.median(s.wall for s in extras.into_empty)
        r = into_history / into_empty
        lines += [
            f"| one more month ({extras.new_rows:,} rows, 2 files) into the {extras.history_months}-month lake "
            f"| {into_history:.1f} s, "
            f"{max(s.rss_mb for s in extras.into_history):,.0f} MB | | |",
            f"| the same month into an empty lake | {into_empty:.1f} s, "
            f"{max(s.rss_mb for s in extras.into_empty):,.0f} MB | | |",
            f"| incremental ratio (history / empty) | {r:.2f} | ≤ {TARGET_INCREMENTAL:.0f} | "
            f"{_mark(r <= TARGET_INCREMENTAL)} |",
            f"| building the {extras.history_months}-month lake ({extras.history_files} files, "
            f"{extras.history_rows:,} rows, one `reewatch ingest`) "
            f"| {extras.history_build:.0f} s | (setup, not a target) | |",
        ]
    return "\n".join(lines).rstrip() + "\n"


def _margin(comparisons: list[Comparison]) -> list[str]:
    """b/a at the margin, from the smallest and the largest input that ran both: what each further line costs b
    against a. A run of reewatch pays seconds whatever its size (Prefect's start, GX's validation of the curated
    tables, the report), which b/a at one size counts against a's bare read; the difference of two sizes leaves
    that fixed cost out."""
    sized = sorted((c for c in comparisons if {"a", "b"} <= c.samples.keys()), key=lambda c: c.rows)
    if len(sized) < 2 or sized[0].rows == sized[-1].rows:
        return []
    small, large = sized[0], sized[-1]
    a, b = large.wall("a") - small.wall("a"), large.wall("b") - small.wall("b")
    if a <= 0:  # a noisy hour: no margin to divide by
        return []
    return [
        "| measure | value | target | |",
        "|---|---|---|---|",
        f"| b/a at the margin: b's extra time from {small.rows:,} to {large.rows:,} rows over a's "
        f"| {b / a:.2f} ({b:.1f} s / {a:.1f} s) | (no target: a run's fixed cost left out) | |",
        "",
    ]


def write_results(block: str, results: Path) -> None:
    """Append the run's block at the end of this script's section of RESULTS.md (other sections stay as they are)."""
    text = results.read_text(encoding="utf-8")
    if SECTION not in text:
        raise SystemExit(f"{results} has no section '{SECTION}'")
    start = text.index(SECTION)
    following = text.find("\n## ", start + len(SECTION))
    end = len(text) if following < 0 else following + 1
    text = text[:end].rstrip("\n") + "\n\n" + block + ("\n" + text[end:] if following >= 0 else "")
    results.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000], help="sizes of the input (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per path; medians are reported (default 3)")
    parser.add_argument(
        "--only", default=",".join([*PATHS, *EXTRAS]), help="what to run (default: everything)"
    )
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="append the results to benchmarks/RESULTS.md (default; --no-write for a trial)",
    )
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where generated inputs are kept")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--work", type=Path, help="keep the lakes, targets and logs here (default: a temp folder)")
    parser.add_argument("--history-rows-per-month", type=int, default=50_000, help="incremental: rows per file")
    parser.add_argument("--history-months", type=int, default=120, help="incremental: months already in the lake")
    parser.add_argument("--child", nargs=3, metavar=("PATH", "CSV", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        path, csv, work = args.child
        rows = CHILDREN[path](Path(csv).resolve(), Path(work).resolve())
        print(f"rows: {rows}", flush=True)
        return

    sys.path.insert(0, str(HERE))
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = set(only) - set(PATHS) - set(EXTRAS)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))} (choose from {', '.join([*PATHS, *EXTRAS])})")
    args.data = args.data.resolve()
    load = os.getloadavg()[0]
    from reewatch.prefect_server import prefect_server

    comparisons: list[Comparison] = []
    extras = Extras()
    with tempfile.TemporaryDirectory(prefix="reewatch-bench-") as tmp:
        work = args.work.resolve() if args.work else Path(tmp)
        if args.work and work.exists() and any(work.iterdir()):
            parser.error(f"--work {work} is not empty")
        with prefect_server(work / "prefect-server") as api:
            bench = Bench(args, work, api)
            paths = [p for p in PATHS if p in only]
            for rows in args.rows if paths else []:
                comparisons.append(bench.compare(rows, paths))
            if "help" in only:
                bench.help(extras)
            if "incremental" in only:
                bench.incremental(extras)
            if "noop" in only:
                bench.noop(extras)
            if "small" in only:
                bench.small(extras)
    block = render(comparisons, extras, args, load)
    print("\n" + block)
    if args.write:
        write_results(block, args.results)
        print(f"appended to {args.results}")


if __name__ == "__main__":
    main()
