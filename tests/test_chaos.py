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
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from conftest import PLANTED_SECRET, REEWATCH, ROOT, CliResult, new_bucket
from faultproxy import Fault, FaultProxy
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
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("reewatch: storage error, the run stopped: S3 "), last
    assert "nothing half-written is visible to readers" in last
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
        # The catalog swap never gets through: the publish task is retried three times, then the run fails.
        proxy.set_faults(Fault("503", method="PUT", key_contains="/lake/catalog.duckdb", times=0))
        failed = cli("ingest", *map(str, HEADLINES[4:]), "--lake", url, env=env)
        assert_clean_failure(failed)
        assert "catalog.duckdb: SlowDown" in failed.stderr
        assert len(proxy.requests("PUT", "/lake/catalog.duckdb")) == 4  # the first try and three task retries
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
