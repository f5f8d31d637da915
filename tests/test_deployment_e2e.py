"""reewatch deployed as in production, end to end: a real `prefect server start` (SQLite, and PostgreSQL where its
binaries are installed), the `reewatch` process work pool, `prefect deploy --all` from infra/prefect.yaml, a process
worker, `prefect deployment run` on a moto S3 lake, and the published catalog read back by a second process.

Also: the warehouse slot (global concurrency limit) makes a second writer wait, and the automations of
infra/automations.yaml route reewatch's events to a notification block (a webhook on 127.0.0.1).
Every wait is bounded and every process started here is stopped at the end.
"""

from __future__ import annotations

import contextlib
import glob
import http.server
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import duckdb
import httpx
import pytest

from conftest import ROOT, SAMPLES, new_bucket, query_catalog, server_events
from reewatch.prefect_server import free_port, prefect_server

pytestmark = pytest.mark.e2e

PREFECT = Path(sys.executable).with_name("prefect")
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
RUN_TIMEOUT = 300  # seconds for a deployment run to finish, from trigger to Completed


# --------------------------------------------------------------------------------------------- helpers


def _client_env(api: str, home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(home), "DO_NOT_TRACK": "1", **extra}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    return env


def _prefect(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run the prefect CLI from the repository root (where `prefect deploy` records the flow's directory)."""
    done = subprocess.run(
        [str(PREFECT), "--no-prompt", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@contextlib.contextmanager
def _process_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`prefect worker start` for the reewatch pool, in its own process group; the group is stopped after."""
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(PREFECT), "worker", "start", "--pool", "reewatch", "--type", "process", "--name", "e2e-worker"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            yield worker
        finally:
            _stop_group(worker)


def _stop_group(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _trigger(env: dict[str, str], deployment: str, lake: str) -> str:
    output = _prefect(env, "deployment", "run", deployment, "--param", f"lake={lake}")
    match = re.search(r"UUID:\s*([0-9a-f-]{36})", output)
    assert match, output
    return match.group(1)


def _wait_final(api: str, run_ids: list[str], timeout: float, worker_log: Path) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {rid: httpx.get(f"{api}/flow_runs/{rid}", timeout=10).json()["state"]["type"] for rid in run_ids}
        if all(state in FINAL_STATES for state in states.values()):
            return states
        time.sleep(1)
    raise AssertionError(f"runs not finished after {timeout} s: {states}\n{_tail(worker_log)}")


def _wait_state_name(api: str, run_id: str, name: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]["name"] == name:
            return True
        time.sleep(1)
    return False


def _event_names(api: str, prefix: str, expected: set[str]) -> set[str]:
    """Names of the events the server recorded with this prefix, once `expected` are in (or after 30 s)."""
    names: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        names = {str(event["event"]) for event in server_events(api, {"event": {"prefix": [prefix]}})}
        if expected <= names:
            return names
        time.sleep(1)
    return names


def _tail(path: Path, chars: int = 6000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else f"({path} missing)"


def _land_samples(endpoint: str, bucket: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    names = []
    for path in sorted((SAMPLES / "headline").glob("2025-0*.csv")):
        s3.upload_file(str(path), bucket, f"lake/landing/{path.name}")
        names.append(path.name)
    return names


def _warehouse_runs(endpoint: str, bucket: str, tmp: Path) -> list[tuple[Any, ...]]:
    """The warehouse's own `runs` table, from the copy the runs put back into the lake."""
    target = tmp / "warehouse.duckdb"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").download_file(
        bucket, "lake/_state/warehouse.duckdb", str(target)
    )
    with duckdb.connect(str(target), read_only=True) as con:
        return con.execute("SELECT status, files_in, started_at, finished_at FROM runs ORDER BY finished_at").fetchall()


def _deploy(env: dict[str, str], lake: str) -> None:
    """infra/deploy.sh, as scripts/serve.sh and the compose `deploy` service run it: pool, warehouse slot,
    deployments (`prefect deploy --all --prefect-file infra/prefect.yaml`), automations."""
    done = subprocess.run(
        ["bash", "infra/deploy.sh"], env={**env, "REEWATCH_LAKE": lake, "PREFECT": str(PREFECT), "PYTHON": sys.executable},
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"infra/deploy.sh failed:\n{done.stdout}\n{done.stderr}"
    for name in ("preliminary", "bulletin", "detailed", "sweep"):
        assert f"'reewatch-run/{name}' successfully created" in done.stdout, done.stdout


def test_the_deploy_script_runs_as_documented_from_a_plain_shell(tmp_path: Path) -> None:
    """docs/deploy.md says to run infra/deploy.sh from the repository root: from a shell without .venv/bin on PATH
    its bare `prefect` and `python` were not found (exit 127). It uses the repository's .venv when there is one."""
    with prefect_server(tmp_path / "server") as api:
        env = {**_client_env(api, tmp_path / "client"), "REEWATCH_LAKE": str(tmp_path / "lake"), "PATH": "/usr/bin:/bin"}
        env.pop("PREFECT", None), env.pop("PYTHON", None)
        done = subprocess.run(["infra/deploy.sh"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"infra/deploy.sh failed:\n{done.stdout}\n{done.stderr}"
        assert "'reewatch-run/sweep' successfully created" in done.stdout, done.stdout
        assert "automation(s) applied" in done.stdout, done.stdout  # python -m flows.deployments ran too


# ------------------------------------------------------------------------------------------ PostgreSQL


def _postgres_bin() -> Path | None:
    candidates = [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate).resolve().parent
    return None


@contextlib.contextmanager
def local_postgres() -> Iterator[tuple[str, list[str]]]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, no fsync); yields (SQLAlchemy URL, psql argv).

    Root may not run postgres: as root the cluster belongs to the `postgres` user (Debian's package creates it).
    """
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install -y postgresql")
    run_as: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="reewatch-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(data)
            pytest.skip("running as root and there is no `postgres` user to own a cluster: apt-get install postgresql")
        os.chown(data, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def pg(*argv: str, timeout: float = 60) -> None:
        done = subprocess.run([*run_as, *argv], capture_output=True, text=True, timeout=timeout, cwd=data)
        assert done.returncode == 0, f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}"

    pg(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "prefect", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    pg(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l", str(data / "postgres.log"), "-w", "start")
    try:
        pg(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "prefect", "prefect")
        psql = [*run_as, str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "prefect", "-d", "prefect"]
        yield f"postgresql+asyncpg://prefect@127.0.0.1:{port}/prefect", psql
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "-w", "stop"],
            capture_output=True, timeout=60, cwd=data,
        )  # fmt: skip
        shutil.rmtree(data, ignore_errors=True)


def _alive(pids: set[int]) -> list[str]:
    """Processes still in the process groups `pids` (a group's id is its leader's pid)."""
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) in pids and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
                left.append(stat.parent.name)
    return left


@contextlib.contextmanager
def _make_serve(tmp: Path, lake: str) -> Iterator[tuple[str, Path]]:
    """scripts/serve.sh as `make serve` runs it; at the end a Ctrl-C (SIGINT to its foreground process group)
    must stop the worker and the server, and leave no process of theirs behind."""
    port = free_port()
    env = {
        **os.environ, "REEWATCH_SERVE_PORT": str(port), "PREFECT_HOME": str(tmp / "serve-home"),
        "REEWATCH_LAKE": lake, "PREFECT_WORKER_QUERY_SECONDS": "1",
    }  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    log = tmp / "serve.log"
    groups: set[int] = set()
    with log.open("wb") as out:
        serve = subprocess.Popen(
            ["bash", "scripts/serve.sh"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while not (ready := re.search(r"server pid (\d+), worker pid (\d+)", log.read_text(errors="replace"))):
                assert serve.poll() is None, f"serve.sh exited early:\n{_tail(log)}"
                assert time.monotonic() < deadline, f"serve.sh not ready after 300 s:\n{_tail(log)}"
                time.sleep(0.5)
            groups = {int(ready.group(1)), int(ready.group(2))}
            yield f"http://127.0.0.1:{port}/api", log

            os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C
            assert serve.wait(timeout=90) == 130, _tail(log)
            assert "stopped." in log.read_text(), _tail(log)
            assert _alive(groups) == [], f"left running after Ctrl-C: {_alive(groups)}\n{_tail(log)}"
        finally:
            for group in (serve.pid, *groups):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                serve.wait(timeout=10)


@contextlib.contextmanager
def _postgres_stack(tmp: Path, lake: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path, list[str]]]:
    """The same pieces by hand, the server's database in PostgreSQL: prefect_server, infra/deploy.sh, a worker."""
    with local_postgres() as (url, psql):
        monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", url)
        with prefect_server(tmp / "server", timeout=180) as api:
            monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL")
            _deploy(_client_env(api, tmp / "client"), lake)
            worker_log = tmp / "worker.log"
            with _process_worker(_client_env(api, tmp / "worker", PREFECT_WORKER_QUERY_SECONDS="1"), worker_log):
                yield api, worker_log, psql


# ------------------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("stack", ["make-serve-sqlite", "postgresql"])
def test_deployments_run_on_a_process_worker_against_s3(
    stack: str, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(s3_endpoint)
    lake = f"s3://{bucket}/lake"
    landed = _land_samples(s3_endpoint, bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)  # the worker, and the flow runs it starts, inherit it

    with contextlib.ExitStack() as running:
        psql: list[str] | None = None
        if stack == "postgresql":
            api, log, psql = running.enter_context(_postgres_stack(tmp_path, lake, monkeypatch))
        else:
            api, log = running.enter_context(_make_serve(tmp_path, lake))
        env = _client_env(api, tmp_path / "client")
        sweep = httpx.get(f"{api}/deployments/name/reewatch-run/sweep", timeout=10).json()
        assert sweep["parameters"] == {"lake": lake, "command": "run", "wait_seconds": 10800}
        assert sweep["work_pool_name"] == "reewatch"
        assert sweep["concurrency_options"]["collision_strategy"] == "ENQUEUE"
        assert sweep["global_concurrency_limit"]["limit"] == 1
        assert sweep["schedules"][0]["schedule"] == {"cron": "30 6 * * *", "timezone": "Asia/Shanghai", "day_or": True}

        # Two deployments triggered at once: both write the same warehouse, so one must wait for the other.
        runs = [_trigger(env, "reewatch-run/sweep", lake), _trigger(env, "reewatch-run/preliminary", lake)]
        # A run that fails is retried (the deployments' job variables), not left Failed.
        broken = _trigger(env, "reewatch-run/detailed", "gs://not-a-lake")
        states = _wait_final(api, runs, RUN_TIMEOUT, log)
        assert set(states.values()) == {"COMPLETED"}, f"{states}\n{_tail(log)}"
        assert _wait_state_name(api, broken, "AwaitingRetry", 120), _tail(log)

        if "emit_run_event" in (ROOT / "flows" / "pipeline.py").read_text():  # the flow reports its outcome
            # The sample releases stop in 2025: the freshness check also finds the preliminary release late.
            expected = {"reewatch.run.published", "reewatch.run.nothing_new", "reewatch.release.overdue"}
            names = _event_names(api, "reewatch.", expected)
            assert expected <= names, names

        if psql is not None:  # the server really kept its state in PostgreSQL
            count = subprocess.run(
                [*psql, "-tAc", "SELECT count(*) FROM flow_run WHERE state_type = 'COMPLETED'"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert count.stdout.strip() == "2", count.stdout + count.stderr

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.head_object(Bucket=bucket, Key="lake/catalog.duckdb")  # published
    # One run published everything; the other waited for it, then found nothing new. Had they overlapped, both
    # would have loaded the 8 files, and the second's copy of the warehouse would have lost the first's run.
    runs_table = _warehouse_runs(s3_endpoint, bucket, tmp_path)
    assert [(status, files) for status, files, *_ in runs_table] == [
        ("published", len(landed)),
        ("nothing_new", 0),
    ], runs_table
    # An analyst's process reads the published catalog over S3.
    rows = query_catalog(
        f"{lake}/catalog.duckdb",
        "SELECT quantity_t FROM ree.exports_monthly WHERE series_id='gacc_rare_earths' "
        "AND period='2025-08-01' AND partner='WORLD'",
        env={"AWS_ENDPOINT_URL": s3_endpoint},
    )
    assert rows == [(5792.0,)]


@pytest.fixture(scope="module")
def ops_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prefect server with the warehouse slot (global concurrency limit) created, for the tests below."""
    with prefect_server(tmp_path_factory.mktemp("ops-server")) as api:
        env = _client_env(api, tmp_path_factory.mktemp("ops-client"))
        _prefect(env, "gcl", "create", "reewatch-warehouse", "--limit", "1")
        yield api


def _slot_program(wait: float, hold: float) -> str:
    return (
        "import sys, time\n"
        "from flows.deployments import warehouse_slot\n"
        "from reewatch.warehouse import LakeBusy\n"
        "started = time.monotonic()\n"
        "try:\n"
        f"    with warehouse_slot({wait}) as held:\n"
        "        print('held', held, round(time.monotonic() - started, 1), flush=True)\n"
        f"        time.sleep({hold})\n"
        "except LakeBusy as exc:\n"
        "    print('busy', exc, flush=True)\n"
    )


def test_warehouse_slot_makes_a_second_writer_wait(ops_api: str, tmp_path: Path) -> None:
    env = _client_env(ops_api, tmp_path / "client")
    holder = subprocess.Popen(
        [sys.executable, "-c", _slot_program(0, 8)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().startswith("held True"), "the first writer did not get the slot"

        def second(wait: float) -> str:
            done = subprocess.run(
                [sys.executable, "-c", _slot_program(wait, 0)], env=env, cwd=ROOT, capture_output=True, text=True,
                timeout=90,
            )  # fmt: skip
            return done.stdout.strip()

        # No waiting allowed: "lake busy", as the CLI reports it (exit 1).
        assert second(0).startswith("busy lake busy: another run holds the Prefect concurrency slot")
        # Allowed to wait: it waits for the holder to finish, then writes.
        out = second(60)
        assert out.startswith("held True"), out
        assert float(out.split()[2]) >= 2, f"the second writer did not wait: {out}"
    finally:
        holder.kill()
        holder.wait(timeout=10)


class _Webhook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_automations_route_blocked_runs_and_overdue_releases_to_a_notification_block(
    ops_api: str, tmp_path: Path
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    _Webhook.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = _client_env(ops_api, tmp_path / "client")
    try:
        # Named before it exists (REEWATCH_NOTIFY in infra/.env on a first `docker compose up`): the automations are
        # made without notifications and the operator is told, and deploy.sh goes on to let the worker start.
        early = subprocess.run(
            [sys.executable, "-m", "flows.deployments", "automations", "--notify", "custom-webhook/reewatch-ops"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert early.returncode == 0, early.stderr
        assert "warning: there is no notification block custom-webhook/reewatch-ops" in early.stderr
        assert "without notifications (do-nothing)" in early.stdout

        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        setup = (
            "from prefect.blocks.notifications import CustomWebhookNotificationBlock\n"
            "from flows.deployments import apply_automations\n"
            f"CustomWebhookNotificationBlock(name='ops', url={hook!r}, "
            "json_data={'subject': '{{subject}}', 'body': '{{body}}'}).save('reewatch-ops', overwrite=True)\n"
            "print(apply_automations(notify='custom-webhook/reewatch-ops'))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", setup], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "reewatch release overdue" in done.stdout

        # What the flow emits: a blocked run, and the freshness check on a warehouse whose preliminary data stops
        # at August 2025 while it is 22 October 2025 in Beijing.
        emit = (
            "import datetime, duckdb\n"
            "from flows.notifications import check_freshness, emit_run_event\n"
            "emit_run_event({'status': 'blocked', 'lake': 's3://ops/lake', 'run_id': 'r-1', 'files_in': 2,\n"
            "    'message': 'quality gate: 1 error-severity expectation failed', 'started_at': datetime.datetime(2025, 10, 22)})\n"
            "con = duckdb.connect()\n"
            "con.execute(\"CREATE TABLE releases AS SELECT 'a' AS release_id, 'preliminary' AS vintage, 'loaded' AS status\")\n"
            "con.execute(\"CREATE TABLE observations AS SELECT 'a' AS release_id, DATE '2025-08-01' AS period\")\n"
            "print(check_freshness(con, 's3://ops/lake', today=datetime.date(2025, 10, 22)))\n"
        )
        deadline = time.monotonic() + 90
        wanted = {"publishing blocked", "is late"}
        # The server loads new automations within seconds; emit until both notifications have arrived.
        while time.monotonic() < deadline:
            done = subprocess.run(
                [sys.executable, "-c", emit], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            assert "September 2025 is overdue" in done.stdout
            time.sleep(3)
            subjects = " | ".join(str(message.get("subject")) for message in _Webhook.received)
            if all(word in subjects for word in wanted):
                break
        else:
            raise AssertionError(f"notifications not delivered within 90 s: {_Webhook.received}")
    finally:
        server.shutdown()
        server.server_close()

    blocked = next(m for m in _Webhook.received if "publishing blocked" in str(m["subject"]))
    assert blocked["subject"] == "reewatch: publishing blocked on s3://ops/lake"
    assert "quality gate: 1 error-severity expectation failed" in blocked["body"]
    late = next(m for m in _Webhook.received if "is late" in str(m["subject"]))
    assert late["subject"] == "reewatch: GACC preliminary release (快讯) is late"
    assert "for September 2025 is overdue" in late["body"] and "Lake: s3://ops/lake" in late["body"]
