"""Storage faults between reewatch and S3: a proxy in front of moto's server answers chosen requests with 5xx
errors, resets, stalls, slow or cut bodies. boto3 (the lake) and DuckDB's httpfs (Parquet, catalog) both go
through it. After every fault a reader sees one complete publication (the previous or the new one, never a mix),
and a rerun without faults publishes exactly what a fault-free run publishes.

The long scenarios (whole `reewatch` runs with Prefect's task retries) are in test_chaos.py (`make chaos`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from conftest import new_bucket
from faultproxy import Fault, FaultProxy
from reewatch.config import S3Settings, load_settings
from reewatch.lake import Lake, LakeError, open_lake
from reewatch.lake_s3 import S3Lake
from reewatch.warehouse import LakeBusy, Warehouse, WriterLock, connect
from test_bi_clients import HEADLINES, publish_files

# Columns that differ between two runs of the same data: who ran it and when.
VOLATILE_COLUMNS = {"run_id", "landed_at", "ingested_at", "checked_at", "published_at"}


def snapshot(catalog: str, endpoint: str | None = None) -> dict[str, object]:
    """What a reader attaching `catalog` sees, on a connection of its own: the kept publications, the version(s)
    its views read, and per table the row count and a hash of its rows (sorted; run ids and timestamps left out).
    Over S3 it reads moto directly (`endpoint`), not through the fault proxy."""
    con = connect(s3=S3Settings(endpoint, "us-east-1") if catalog.startswith("s3://") else None)
    try:
        con.execute(f"ATTACH '{catalog}' AS ree (READ_ONLY)")
        views = con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'ree' AND view_name <> 'publications' "
            "ORDER BY view_name"
        ).fetchall()
        publications = [
            v for (v,) in con.execute("SELECT version FROM ree.publications ORDER BY published_at").fetchall()
        ]
        tables, read_versions = {}, set()
        for name, sql in views:
            read_versions.add(sql.split("/published/")[1].split("/")[0])
            columns = [
                c for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = 'ree' AND table_name = ? "
                    "ORDER BY column_index", [name],
                ).fetchall() if c not in VOLATILE_COLUMNS
            ]  # fmt: skip
            rows = con.execute(f"SELECT {', '.join(columns)} FROM ree.{name}").fetchall()
            tables[name] = (len(rows), hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest())
    finally:
        con.close()
    return {"publications": publications, "read_versions": sorted(read_versions), "tables": tables}


def assert_one_complete_version(seen: dict[str, object], version: str) -> None:
    """Every view reads the newest kept publication, and that is `version`: never a mix, never a half."""
    assert seen["read_versions"] == [version], seen["read_versions"]
    assert seen["publications"][-1] == version  # type: ignore[index]


def fingerprint(seen: dict[str, object], leave_out: tuple[str, ...] = ()) -> dict[str, object]:
    return {name: value for name, value in seen["tables"].items() if name not in leave_out}  # type: ignore[attr-defined]


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[FaultProxy]:
    with FaultProxy(s3_endpoint) as running:
        yield running


_REFERENCE: dict[str, dict[str, object]] = {}


@pytest.fixture
def reference(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    """A fault-free lake, made once per session: the first four months published as v1, the rest as v2."""
    if not _REFERENCE:
        with monkeypatch.context() as patch:
            patch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
            url = f"s3://{new_bucket(s3_endpoint)}/lake"
            publish_files(url, HEADLINES[:4], "v1")
            _REFERENCE["v1"] = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
            publish_files(url, HEADLINES[4:], "v2")
            _REFERENCE["v2"] = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
    return _REFERENCE


def lake_with_v1(s3_endpoint: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh S3 lake with v1 published (straight to moto); from here on reewatch talks to S3 through the proxy."""
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    with monkeypatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
        publish_files(url, HEADLINES[:4], "v1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
    return url


def test_the_proxy_faults_exactly_the_requests_its_plan_names(s3_endpoint: str, proxy: FaultProxy) -> None:
    client = boto3.client(
        "s3", endpoint_url=proxy.endpoint, config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    )
    bucket = new_bucket(s3_endpoint)
    plan = proxy.set_faults(Fault("503", method="PUT", key_contains="/b/", nth=2, times=2))
    for number in range(1, 5):
        try:
            client.put_object(Bucket=bucket, Key=f"a/b/{number}", Body=b"x")
        except client.exceptions.ClientError as exc:
            assert exc.response["Error"]["Code"] == "SlowDown"
    client.put_object(Bucket=bucket, Key="a/c/other", Body=b"x")  # not matched: not counted
    assert [(s.path.rsplit("/", 1)[1], s.status) for s in proxy.requests("PUT")] == [
        ("1", 200), ("2", 503), ("3", 503), ("4", 200), ("other", 200),
    ]  # fmt: skip
    assert (plan.rules[0].seen, plan.rules[0].fired) == (4, 2)
    # Faulted requests never reached moto; the others did.
    stored = {o["Key"] for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]}
    assert stored == {"a/b/1", "a/b/4", "a/c/other"}


SLOW = {"stalled requests", "warehouse upload always reset"}  # run by `make chaos`, to keep `make test` quick


def _params(table: dict[str, object]) -> list[object]:
    return [
        pytest.param(*(value if isinstance(value, tuple) else (value,)), id=name,
                     marks=[pytest.mark.chaos] if name in SLOW else [])
        for name, value in table.items()
    ]  # fmt: skip


# Transient faults, a few of one family per run; the clients' own retries ride them out, no task retry needed.
TRANSIENT = {
    # DuckDB's httpfs writes the version's Parquet files and reads them back for the catalog's views.
    "duckdb parquet": [
        Fault("503", method="PUT", key_contains="/published/v2/exports_monthly", times=2),
        Fault("reset", method="PUT", key_contains="/published/v2/releases"),
        Fault("500", method="HEAD", key_contains="/published/v2/revisions"),
        Fault("503", method="GET", key_contains="/published/v2/exports_monthly", times=2),
    ],
    # boto3 swaps the catalog: errors, a reset, then an answer lost after the PUT was applied.
    "boto3 catalog swap": [
        Fault("500", method="PUT", key_contains="/lake/catalog.duckdb", nth=1, times=2),
        Fault("reset", method="PUT", key_contains="/lake/catalog.duckdb", nth=3),
        Fault("reset_after", method="PUT", key_contains="/lake/catalog.duckdb", nth=4),
    ],
    # boto3 lists landing/, downloads the warehouse (cut short, then slow), archives into raw/, takes the lock.
    "boto3 list, download, archive, lock": [
        Fault("500", method="GET", key_contains="", nth=1),
        Fault("truncated", method="GET", key_contains="/_state/warehouse.duckdb"),
        Fault("slow_body", method="GET", key_contains="/_state/warehouse.duckdb", nth=2, delay=0.2),
        Fault("503", method="PUT", key_contains="/raw/"),
        Fault("reset_after", method="PUT", key_contains="/_state/writer.lock"),
    ],
    # Requests that hang: abandoned after REEWATCH_S3_TIMEOUT (1 s here) and retried, by boto3 and by DuckDB.
    "stalled requests": [
        Fault("timeout", method="HEAD", key_contains="/landing/", delay=2.5),
        Fault("timeout", method="GET", key_contains="/_state/warehouse.duckdb", delay=2.5),
        Fault("timeout", method="PUT", key_contains="/published/v2/claim_checks", delay=2.5),
    ],
}


@pytest.mark.parametrize("faults", _params(TRANSIENT))
def test_transient_faults_are_retried_and_the_publication_is_whole(
    faults: list[Fault], s3_endpoint: str, proxy: FaultProxy, reference: dict[str, dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url = lake_with_v1(s3_endpoint, proxy, monkeypatch)
    monkeypatch.setenv("REEWATCH_S3_TIMEOUT", "1")
    plan = proxy.set_faults(*faults)
    publish_files(url, HEADLINES[4:], "v2")
    assert [rule.fired for rule in plan.rules] == [rule.times or 1 for rule in plan.rules], proxy.faults_fired()
    seen = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
    assert_one_complete_version(seen, "v2")
    assert fingerprint(seen) == fingerprint(reference["v2"])


# Permanent faults: the request fails every time, the clients give up. What readers see afterwards: the previous
# version ("v1") when the fault came before the catalog swap, the new one ("v2") when it came after.
PERMANENT = {
    "catalog PUT always 503": ([Fault("503", method="PUT", key_contains="/lake/catalog.duckdb", times=0)], "v1"),
    "parquet PUT always 500": ([Fault("500", method="PUT", key_contains="/published/v2/revisions", times=0)], "v1"),
    "warehouse upload always reset": (
        [Fault("reset", method="PUT", key_contains="/_state/warehouse.duckdb", times=0)], "v2",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("faults", "visible"), _params(PERMANENT))
def test_a_permanent_fault_fails_cleanly_and_a_rerun_publishes_the_same_tables(
    faults: list[Fault], visible: str, s3_endpoint: str, proxy: FaultProxy,
    reference: dict[str, dict[str, object]], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip

    url = lake_with_v1(s3_endpoint, proxy, monkeypatch)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # boto3 gives up sooner; the outcome is the same
    plan = proxy.set_faults(*faults)
    with pytest.raises(LakeError) as failure:
        publish_files(url, HEADLINES[4:], "v2")
    assert plan.rules[0].fired >= 2  # retried before giving up
    assert "s3://" in str(failure.value) and "testing" not in str(failure.value)  # names the object, not the keys
    seen = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
    assert_one_complete_version(seen, visible)
    assert fingerprint(seen) == fingerprint(reference[visible])

    proxy.clear()
    publish_files(url, [], "v2")  # the rerun: the landed files are still in landing/
    seen = snapshot(f"{url}/catalog.duckdb", s3_endpoint)
    assert_one_complete_version(seen, "v2")
    assert seen["publications"] == ["v1", "v2"]
    assert fingerprint(seen) == fingerprint(reference["v2"])


def _plant_expired_lock(lake: Lake) -> None:

    assert isinstance(lake, S3Lake)
    record = {"owner": "ghost@gone pid 1", "acquired_at": "2020-01-01T00:00:00+00:00",
              "expires_at": "2020-01-01T00:02:00+00:00"}  # fmt: skip
    lake.write_bytes("_state/writer.lock", json.dumps(record).encode())


def test_two_runs_taking_over_a_dead_runs_lock_cannot_both_get_it(
    s3_endpoint: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    _plant_expired_lock(open_lake(url))
    # Every contender asks at once and reads the dead run's expired lease, but the answers arrive staggered: the
    # later ones are stale by the time they arrive, after an earlier contender has taken the lock over.
    proxy.set_faults(*(
        Fault("slow_body", method="GET", key_contains="/_state/writer.lock", nth=n, delay=0.1 * n)
        for n in range(1, 5)
    ))  # fmt: skip
    locks = [WriterLock(open_lake(url), Path("/nonexistent")) for _ in range(4)]
    start, winners, busy = threading.Barrier(len(locks)), [], []

    def contend(lock: WriterLock) -> None:
        start.wait()
        try:
            lock.acquire()
            winners.append(lock)
        except LakeBusy as exc:
            busy.append(str(exc))

    threads = [threading.Thread(target=contend, args=(lock,)) for lock in locks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(winners) == 1, f"{len(winners)} runs hold the lock at once"
    assert len(busy) == len(locks) - 1 and all("lake busy" in message for message in busy)
    proxy.clear()
    assert json.loads(open_lake(url).read_bytes("_state/writer.lock"))["token"] == winners[0].token
    winners[0].release()
    assert not open_lake(url).exists("_state/writer.lock")


@pytest.mark.chaos
def test_a_run_that_stalls_past_its_lease_loses_the_lock_and_does_not_save_its_warehouse(
    s3_endpoint: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:

    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    settings = load_settings(url, lock_lease_seconds=5, state_dir=tmp_path / "a")
    warehouse = Warehouse(settings, open_lake(url))
    with pytest.raises(LakeError, match="taken over by another run while this one held it"):
        with warehouse.writer() as con:
            con.execute("INSERT INTO runs (run_id, started_at) VALUES ('stalled', now())")
            # This run's renewals cannot get through; its lease runs out and a second run takes the lock over.
            proxy.set_faults(Fault("503", method="PUT", key_contains="/_state/writer.lock", times=0))
            time.sleep(5.5)
            monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)  # the other run reaches S3 directly
            other = WriterLock(open_lake(url), Path("/nonexistent"))
            other.acquire()
            proxy.clear()
            deadline = time.monotonic() + 30  # the stalled run's next renewal finds the lock is no longer its own
            while not warehouse.lock.lost and time.monotonic() < deadline:
                time.sleep(0.2)
    assert open_lake(url).exists("_state/writer.lock")  # the new holder's lock stays in place
    assert not open_lake(url).exists("_state/warehouse.duckdb")  # the stalled run's warehouse was not put back
    other.release()
