"""Test fixtures: an isolated environment per test, moto's S3 and a Prefect server on 127.0.0.1 per session.

No test reads the developer's own config (HOME, PREFECT_HOME and AWS files point into temp folders) and nothing
leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import duckdb
import httpx
import pytest

from s3server import moto_s3

ROOT = Path(__file__).resolve().parents[1]
REEWATCH = ROOT / ".venv" / "bin" / "reewatch"
SAMPLES = ROOT / "samples"
FIXTURES = ROOT / "tests" / "fixtures"
# A secret planted in every test's environment: it must never show up in anything a run produces.
PLANTED_SECRET = "SECRETplanted-9f8e7d6c5b4a"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("REEWATCH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in (
        "REEWATCH_LAKE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_DEFAULT_REGION",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


def new_bucket(endpoint: str) -> str:
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)  # fmt: skip
    return bucket


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real `prefect server start` (SQLite) for the session: CLI runs talk to it instead of each
    starting a temporary server (~10 s each)."""
    from reewatch.prefect_server import prefect_server

    with prefect_server(tmp_path_factory.mktemp("prefect-home")) as api:
        yield api


def server_events(api: str, event_filter: dict[str, object]) -> list[dict[str, object]]:
    """The events the Prefect server at `api` has stored that match `event_filter` (the `filter` of its
    /events/filter body), at most 50. The server stores events in batches: callers poll until what they wait for
    is in."""
    page = httpx.post(f"{api}/events/filter", json={"filter": event_filter, "limit": 50}, timeout=10)
    page.raise_for_status()
    events: list[dict[str, object]] = page.json()["events"]
    return events


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli(prefect_api: str, tmp_path: Path) -> object:
    """Run the real `reewatch` command in a separate process, against the session's Prefect server."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> CliResult:
        full_env = {**os.environ, "PREFECT_API_URL": prefect_api, **(env or {})}
        full_env["PREFECT_HOME"] = str(tmp_path / "prefect-client")
        done = subprocess.run(
            [str(REEWATCH), *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run


def query_catalog(catalog: str, sql: str, env: dict[str, str] | None = None) -> list[tuple[object, ...]]:
    """Query a catalog from a second, separate Python process, as an analyst would."""
    program = (
        "import duckdb, json, sys\n"
        "from reewatch.warehouse import connect\n"
        "from reewatch.config import S3Settings\n"
        "catalog, sql = sys.argv[1], sys.argv[2]\n"
        "con = connect(s3=S3Settings.from_environment() if catalog.startswith('s3://') else None)\n"
        "con.execute(f\"ATTACH '{catalog}' AS ree (READ_ONLY)\")\n"
        "print(json.dumps(con.execute(sql).fetchall(), default=str))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, catalog, sql], env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    import json

    return [tuple(row) for row in json.loads(done.stdout)]


@contextlib.contextmanager
def loaded_lake(root: Path, *files: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Land files into a local lake and load them as `run` would (without Prefect): a warehouse to query."""
    from reewatch.config import load_settings
    from reewatch.curate import build_curated
    from reewatch.identities import record_identity_warnings
    from reewatch.ingest import ingest_landed, new_landing_files
    from reewatch.lake import open_lake
    from reewatch.landing import land_file
    from reewatch.warehouse import Warehouse

    settings = load_settings(str(root))
    lake = open_lake(settings.lake)
    for path in files:
        land_file(lake, path, settings.state_dir)
    warehouse = Warehouse(settings, lake)
    with warehouse.writer() as con:
        for obj in new_landing_files(lake, con):
            ingest_landed(lake, con, obj, "test-run", warehouse.work_dir)
        build_curated(con)
        record_identity_warnings(con, "test-run")
        yield con
