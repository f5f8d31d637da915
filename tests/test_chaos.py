"""Chaos: whole `reewatch` runs (separate processes, the session's Prefect server) meeting storage faults that
outlast the clients' retries, SIGKILL at every stage, and a second run on the same lake at the same time — while
readers keep querying. Run by `make chaos` (and CI), not by `make test`: they take a few minutes.

What must hold every time: readers see one complete publication (the previous or the new one), a rerun finishes
the work with the same tables a fault-free run publishes, no observation is loaded twice, and for every release
rows_in = rows_loaded + rows_quarantined.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import PLANTED_SECRET, REEWATCH, ROOT, CliResult, new_bucket
from faultproxy import Fault, FaultProxy
from reewatch.lake import open_lake, sha256_file
from test_bi_clients import HEADLINES, publish_files
from test_faults import assert_one_complete_version, fingerprint, snapshot

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]

# quality_results is each run's own record of its checks (run ids, times), not data a rerun must reproduce.
RUN_RECORDS = ("quality_results",)


class Run:
    """A `reewatch` command in the background, its output collected line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [str(REEWATCH), *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._collect, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._collect, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _collect(stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.append(line)

    def wait_until(self, ready: Callable[[], bool], timeout: float = 120, poll: float = 0.005) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended before the moment to kill it:\n{self.output[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the moment to kill never came:\n{self.output[-3000:]}")
            time.sleep(poll)

    def logged(self, pattern: str) -> Callable[[], bool]:
        return lambda: any(re.search(pattern, line) for line in list(self.stderr))

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.finish()

    def finish(self, timeout: float = 300) -> CliResult:
        self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return CliResult(self.process.returncode, "".join(self.stdout), "".join(self.stderr))

    @property
    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)


@pytest.fixture
def start(prefect_api: str, tmp_path: Path) -> Callable[..., Run]:
    """Start `reewatch ARGS...` in the background, like the `cli` fixture does in the foreground."""

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        full_env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_HOME": str(tmp_path / "prefect-client"),
                    **(env or {})}  # fmt: skip
        return Run(list(args), full_env, tmp_path)

    return run


def assert_clean_failure(result: CliResult) -> None:
    """Exit 1, one `reewatch:` line saying what failed and where, no traceback, no secret."""
    assert result.code == 1, result.output
    # Prefect's event worker may still log after our last word, so look for our line rather than the last one.
    said = [line for line in result.stderr.splitlines() if line.startswith("reewatch: ")]
    assert len(said) == 1 and said[0].startswith("reewatch: storage error, the run stopped: S3 "), result.output
    assert "nothing half-written is visible to readers" in said[0]
    assert "Traceback" not in result.output
    assert PLANTED_SECRET not in result.output


# ------------------------------------------------------------------------------------------- storage faults


def test_faults_beyond_boto3s_retries_fail_the_run_cleanly_and_task_retries_ride_out_shorter_ones(
    cli, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # The fault-free reference: the same two landings, straight to moto.
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    reference_url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(reference_url, HEADLINES[:4], "v1")
    before = snapshot(f"{reference_url}/catalog.duckdb", s3_endpoint)
    publish_files(reference_url, HEADLINES[4:], "v2")
    reference = snapshot(f"{reference_url}/catalog.duckdb", s3_endpoint)

    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(url, HEADLINES[:4], "v1")
    with FaultProxy(s3_endpoint) as proxy:
        # One attempt per boto3 call, so every fault reaches Prefect's task retries (1 s, 4 s, 15 s apart).
        env = {"AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1", "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET}
        # A landed file cannot be read back: its ingest task is retried three times, then the run fails.
        proxy.set_faults(Fault("503", method="GET", key_contains="/landing/2025-06", times=0))
        failed = cli("ingest", *map(str, HEADLINES[4:]), "--lake", url, env=env)
        assert_clean_failure(failed)
        assert "landing/2025-06_major_exports_usd.csv: SlowDown" in failed.stderr
        assert len(proxy.requests("GET", "/landing/2025-06")) == 4  # the first try and three task retries
        assert failed.stderr.count("Retry ") == 3
        seen = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
        assert_one_complete_version(seen, "v1")  # the previous publication, whole
        assert fingerprint(seen) == fingerprint(before)

        # The rerun meets shorter faults on each kind of storage call: a task retry gets each through.
        plan = proxy.set_faults(
            Fault("500", method="GET", key_contains="/landing/2025-07"),  # downloading a landed file
            Fault("reset", method="HEAD", key_contains="/raw/"),  # is it archived yet?
            Fault("503", method="PUT", key_contains="/lake/catalog.duckdb", times=2),  # the swap, twice
            Fault("reset", method="PUT", key_contains="/reports/latest/index.html"),  # the report
        )
        rerun = cli("run", "--lake", url, env=env)
        assert rerun.code == 0 and rerun.stdout.startswith("published"), rerun.output
        assert [rule.fired for rule in plan.rules] == [1, 1, 2, 1]
        assert "Traceback" not in rerun.output and PLANTED_SECRET not in rerun.output
    seen = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
    assert_one_complete_version(seen, seen["publications"][-1])  # type: ignore[index]
    assert len(seen["publications"]) == 2  # type: ignore[arg-type]
    assert fingerprint(seen, RUN_RECORDS) == fingerprint(reference, RUN_RECORDS)


# ------------------------------------------------------------------------------------------------- crashes


@pytest.fixture(scope="session")
def large_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A detailed export big enough that loading takes seconds (250k rows, 12 months, in yuan)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    return generate(250_000, tmp_path_factory.mktemp("large-export"), months=12)[0]


def warehouse_facts(path: Path) -> dict[str, object]:
    """What the warehouse holds, read-only: observations per release, the row identity, doubles, open runs."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "observations_per_release": dict(
                con.execute("SELECT release_id, count(*) FROM observations GROUP BY ALL").fetchall()
            ),
            "rows_per_release": con.execute(
                "SELECT release_id, rows_in, rows_loaded, rows_quarantined FROM releases "
                "WHERE status <> 'duplicate' ORDER BY release_id"
            ).fetchall(),
            "identity_breaks": con.execute(
                "SELECT count(*) FROM releases WHERE rows_in <> rows_loaded + rows_quarantined"
            ).fetchone()[0],  # type: ignore[index]
            "releases_loaded_twice": con.execute(
                "SELECT count(*) FROM (SELECT release_id FROM releases WHERE status <> 'duplicate' "
                "GROUP BY release_id HAVING count(*) > 1)"
            ).fetchone()[0],  # type: ignore[index]
            "observations_doubled": con.execute(
                "SELECT count(*) FROM (SELECT * FROM observations GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()[0],  # type: ignore[index]
            "runs": dict(con.execute("SELECT status, count(*) FROM runs GROUP BY ALL").fetchall()),
        }
    finally:
        con.close()


def detail_rows(lake: Path) -> dict[str, int]:
    """Rows per file of `_state/observations/` (every line of each detailed export)."""
    return {
        path.name: duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]  # type: ignore[index]
        for path in sorted((lake / "_state" / "observations").glob("*.parquet"))
    }


def test_a_run_killed_at_every_stage_is_finished_by_the_next_with_nothing_lost_or_doubled(
    start, cli, tmp_path: Path, large_export: Path
) -> None:  # type: ignore[no-untyped-def]
    reference = tmp_path / "reference"
    publish_files(str(reference), HEADLINES[:4], "v1")
    reference_v1 = snapshot(str(reference / "catalog.duckdb"))
    publish_files(str(reference), [large_export], "v2")
    reference_v2 = snapshot(str(reference / "catalog.duckdb"))
    expected = warehouse_facts(reference / "_state" / "warehouse.duckdb")

    lake = tmp_path / "lake"
    publish_files(str(lake), HEADLINES[:4], "v1")
    catalog = str(lake / "catalog.duckdb")
    release_id = sha256_file(large_export)
    archived = lake / "raw" / release_id
    staging = lake / "_state" / "stage" / release_id / "observations.parquet"  # parsed rows, being checked
    committing = lake / "_state" / "observations" / f"{release_id}.parquet"  # kept just before the commit

    def committed() -> bool:
        con = duckdb.connect(str(lake / "_state" / "warehouse.duckdb"), read_only=True)
        try:
            return con.execute("SELECT count(*) FROM releases WHERE release_id = ?", [release_id]).fetchone() != (0,)
        finally:
            con.close()

    def unfinished_versions() -> list[str]:
        return sorted(p.name for p in (lake / "published").iterdir() if p.name != "v1")

    def parquet_being_written() -> bool:
        return any(any(folder.glob("*.parquet")) for folder in (lake / "published").iterdir() if folder.name != "v1")

    # Each run is killed at a later stage; each starts by picking up what the killed one left.
    # The stages are seen from outside: files in the lake and the run's own log lines.
    first = start("ingest", str(large_export), "--lake", str(lake))
    first.wait_until(archived.exists)  # the bytes are in raw/; nothing parsed yet
    first.kill()

    loading = start("run", "--lake", str(lake))
    # Parsing into the stage: this run's own stage file, made after it logs "staging" (the killed ingest may have
    # begun staging beside its archive copy, and its leftover is cleared only by this run).
    staging_now = loading.logged(rf"staging {re.escape(large_export.name)}")
    loading.wait_until(lambda: staging_now() and staging.exists())
    loading.kill()

    committing_run = start("run", "--lake", str(lake))
    committing_run.wait_until(committing.exists, poll=0.001)  # the stage is checked; the commit begins
    committing_run.kill()
    assert not committed(), "the release was committed before the kill"  # its transaction died with the run

    gating = start("run", "--lake", str(lake))
    gating.wait_until(gating.logged(r"Task run 'build curated tables"), poll=0.05)  # the gate starts next
    time.sleep(1.0)
    assert not gating.logged(r"quality gate (passed|blocked)")(), "the gate ended before the kill"
    gating.kill()

    publishing = start("run", "--lake", str(lake))
    publishing.wait_until(parquet_being_written, poll=0.002)  # its first Parquet files are written
    publishing.kill()
    assert unfinished_versions()  # a half-written version sits in published/ ...
    seen = snapshot(catalog)  # ... and no reader sees it: the catalog is still v1, whole
    assert_one_complete_version(seen, "v1")
    assert fingerprint(seen) == fingerprint(reference_v1)

    final = cli("run", "--lake", str(lake))
    assert final.code == 0 and final.stdout.startswith("published"), final.output
    seen = snapshot(catalog)
    newest = seen["publications"][-1]  # type: ignore[index]
    assert seen["publications"] == ["v1", newest]
    assert_one_complete_version(seen, newest)
    assert fingerprint(seen, RUN_RECORDS) == fingerprint(reference_v2, RUN_RECORDS)
    assert unfinished_versions() == [newest]  # the killed run's half version is gone

    facts = warehouse_facts(lake / "_state" / "warehouse.duckdb")
    assert facts["identity_breaks"] == 0 and facts["releases_loaded_twice"] == 0
    assert facts["observations_doubled"] == expected["observations_doubled"] == 0
    assert facts["observations_per_release"] == expected["observations_per_release"]
    assert facts["rows_per_release"] == expected["rows_per_release"]
    assert detail_rows(lake) == detail_rows(reference) != {}  # the other HS codes, kept beside the warehouse
    # The five killed runs are closed as failed, not left "running"; the last one published.
    assert facts["runs"] == {"failed": 5, "published": 1}


def test_a_run_killed_mid_publish_on_s3_leaves_its_lease_and_the_next_run_takes_over(
    start, cli, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    reference_url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(reference_url, HEADLINES, "v1")
    reference = snapshot(f"{reference_url}/catalog.duckdb", s3_endpoint)
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(url, HEADLINES[:4], "v1")
    before = snapshot(f"{url}/catalog.duckdb", s3_endpoint)

    with FaultProxy(s3_endpoint) as proxy:
        # The store stops answering the version's second Parquet file: the run is caught mid-publish, and killed.
        plan = proxy.set_faults(Fault("timeout", method="PUT", key_contains="/published/", nth=2, delay=120))
        env = {"AWS_ENDPOINT_URL": proxy.endpoint, "REEWATCH_LOCK_LEASE_SECONDS": "8"}
        killed = start("ingest", *map(str, HEADLINES[4:]), "--lake", url, env=env)
        killed.wait_until(lambda: plan.rules[0].fired > 0, poll=0.05)
        killed.kill()
        proxy.clear()
        seen = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
        assert_one_complete_version(seen, "v1")
        assert fingerprint(seen) == fingerprint(before)
        assert {o.key.split("/")[1] for o in open_lake(url).list("published/")} - {"v1"}  # a half-written version
        assert open_lake(url).exists("_state/writer.lock")  # the killed run's lease is still in the lake

        # The next run waits for that lease to run out, takes the lock over and publishes everything.
        rerun = cli("run", "--lake", url, "--wait", "60", env=env)
    assert rerun.code == 0 and rerun.stdout.startswith("published"), rerun.output
    assert "took over the writer lock of" in rerun.stderr
    seen = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
    newest = seen["publications"][-1]  # type: ignore[index]
    assert_one_complete_version(seen, newest)
    assert fingerprint(seen, RUN_RECORDS) == fingerprint(reference, RUN_RECORDS)
    kept = {o.key.split("/")[1] for o in open_lake(url).list("published/")}
    assert kept == {"v1", newest}  # the killed run's half version is gone
    assert not open_lake(url).exists("_state/writer.lock")


# ---------------------------------------------------------------------------------------------- concurrency

READER = """
import json, os, sys, time
from reewatch.config import S3Settings
from reewatch.warehouse import connect
catalog, stop = sys.argv[1], sys.argv[2]
answers, errors = 0, []
while not os.path.exists(stop):  # until the test says the runs are over
    con = connect(s3=S3Settings.from_environment() if catalog.startswith("s3://") else None)
    step = "attach"
    try:
        con.execute(f"ATTACH '{catalog}' AS ree (READ_ONLY)")
        step = "query"
        newest, releases, rows = con.execute(
            "SELECT (SELECT version FROM ree.publications ORDER BY published_at DESC LIMIT 1), "
            "(SELECT count(*) FROM ree.releases), (SELECT count(*) FROM ree.exports_monthly)").fetchone()
        read = {sql.split('/published/')[1].split('/')[0] for (sql,) in con.execute(
            "SELECT sql FROM duckdb_views() WHERE database_name = 'ree' AND view_name <> 'publications'").fetchall()}
        assert read == {newest}, (read, newest)  # every view reads the newest publication: never a mix
        assert releases in (4, 11), releases  # v1 (four files) or the whole year: never a part of it
        answers += 1
    except Exception as exc:
        errors.append([step, type(exc).__name__, str(exc)[:300], answers])
    finally:
        con.close()
    time.sleep(0.05)  # an eager analyst, not a busy loop that starves the runs of CPU
print(json.dumps({"answers": answers, "errors": errors}))
"""


class Reader:
    """An analyst's process attaching the catalog and querying it in a loop until told to stop."""

    def __init__(self, catalog: str, stop: Path) -> None:
        self.stop = stop
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, catalog, str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    def outcome(self) -> dict[str, object]:
        import json

        self.stop.touch()
        out, err = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, err
        return dict(json.loads(out))


def assert_one_wrote_and_the_other_stood_aside(first: CliResult, second: CliResult) -> None:
    outcomes = sorted([first, second], key=lambda r: not r.stdout.startswith("published"))
    writer, other = outcomes
    assert writer.code == 0 and writer.stdout.startswith("published"), writer.output
    if other.code == 0:  # it waited for the lock, then found the other run had done the work
        assert other.stdout.startswith("nothing_new"), other.output
    else:  # it stood aside at once, saying who holds the lake
        assert other.code == 1, other.output
        said = [line for line in other.stderr.splitlines() if line.startswith("reewatch: ")]
        assert len(said) == 1 and said[0].startswith("reewatch: lake busy: "), other.output
        assert "is being written by" in said[0] and "Traceback" not in other.output, other.output


def test_two_runs_at_once_on_a_local_lake_one_writes_the_other_is_told_the_lake_is_busy(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reference = tmp_path / "reference"
    publish_files(str(reference), HEADLINES, "v1")
    lake = tmp_path / "lake"
    publish_files(str(lake), HEADLINES[:4], "v1")
    landing = lake / "landing"
    for path in HEADLINES[4:]:
        (landing / path.name).write_bytes(path.read_bytes())
    reader = Reader(str(lake / "catalog.duckdb"), tmp_path / "stop-reading")
    runs = [start("run", "--lake", str(lake)), start("run", "--lake", str(lake))]
    first, second = (run.finish() for run in runs)
    assert_one_wrote_and_the_other_stood_aside(first, second)
    seen = reader.outcome()
    assert seen["errors"] == [] and seen["answers"] > 20, seen  # type: ignore[operator]
    print(f"local reader: {seen['answers']} answers, no errors")
    final = snapshot(str(lake / "catalog.duckdb"))
    assert fingerprint(final, RUN_RECORDS) == fingerprint(snapshot(str(reference / "catalog.duckdb")), RUN_RECORDS)
    facts = warehouse_facts(lake / "_state" / "warehouse.duckdb")
    assert facts["releases_loaded_twice"] == 0 and facts["observations_doubled"] == 0


def test_two_runs_at_once_on_s3_one_writes_the_other_waits_and_finds_nothing_new(
    start, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    reference_url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(reference_url, HEADLINES, "v1")
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(url, HEADLINES[:4], "v1")
    lake = open_lake(url)
    for path in HEADLINES[4:]:
        lake.write_file(f"landing/{path.name}", path)
    reader = Reader(f"{url}/catalog.duckdb", tmp_path / "stop-reading")
    # Two machines (state folders of their own), both willing to wait for the lock.
    runs = [
        start("run", "--lake", url, "--wait", "120", env={"REEWATCH_STATE_DIR": str(tmp_path / f"machine-{n}")})
        for n in (1, 2)
    ]
    first, second = (run.finish() for run in runs)
    assert_one_wrote_and_the_other_stood_aside(first, second)
    assert {first.stdout.split(":")[0], second.stdout.split(":")[0]} == {"published", "nothing_new"}
    seen = reader.outcome()
    assert seen["answers"] > 10  # type: ignore[operator]
    # Over S3 an ATTACH that meets the catalog's swap can fail to read (README: S3 pins no object version across
    # DuckDB's range reads); only that is allowed, and the next attempt must answer.
    for step, _kind, message, answers_before in seen["errors"]:  # type: ignore[attr-defined]
        assert step == "attach", message
        assert seen["answers"] > answers_before  # type: ignore[operator]  # attaching again answered
    assert len(seen["errors"]) <= 2, seen["errors"]  # type: ignore[arg-type]
    print(f"S3 reader: {seen['answers']} answers, attach errors at a swap: {seen['errors']}")
    final = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
    assert fingerprint(final, RUN_RECORDS) == fingerprint(snapshot(f"{reference_url}/catalog.duckdb", s3_endpoint),
                                                          RUN_RECORDS)  # fmt: skip
    warehouse = tmp_path / "warehouse.duckdb"
    lake.download("_state/warehouse.duckdb", warehouse)
    facts = warehouse_facts(warehouse)
    assert facts["releases_loaded_twice"] == 0 and facts["observations_doubled"] == 0
