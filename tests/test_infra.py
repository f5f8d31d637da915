"""The files in infra/ say what the code does: deployments load the real flow with its real parameters on the GACC
calendar, the compose stack sets only settings that exist, the IAM policy grants exactly the S3 calls the lake
makes, the automations listen to the events the flow emits. Plus the calendar arithmetic of the freshness check.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from conftest import ROOT, SAMPLES, query_catalog
from s3server import moto_s3_enforcing_iam

INFRA = ROOT / "infra"
PREFECT_YAML = INFRA / "prefect.yaml"
COMPOSE = INFRA / "docker-compose.yml"
SERVE = ROOT / "scripts" / "serve.sh"
DEPLOY = INFRA / "deploy.sh"


def _deployments() -> list[dict[str, Any]]:
    return list(yaml.safe_load(PREFECT_YAML.read_text())["deployments"])


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


# ------------------------------------------------------------------------------------------ prefect.yaml


def test_every_deployment_entrypoint_is_the_pipeline_flow_and_its_parameters_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    deployments = _deployments()
    assert {d["name"] for d in deployments} == {"preliminary", "bulletin", "detailed", "sweep", "backfill"}
    # Loading a script entrypoint puts its folder on sys.path and the script in sys.modules: undo both after.
    monkeypatch.setattr(sys, "path", list(sys.path))
    loaded_before = set(sys.modules)
    try:
        for deployment in deployments:
            path, _, function = deployment["entrypoint"].partition(":")
            assert (ROOT / path).is_file() and function, deployment["entrypoint"]
            flow = load_flow_from_entrypoint(str(ROOT / path) + ":" + function)
            assert isinstance(flow, Flow) and flow.name == "reewatch-run"
            signature = inspect.signature(flow.fn)
            parameters = deployment["parameters"]
            unknown = set(parameters) - set(signature.parameters)
            assert not unknown, f"{deployment['name']}: parameters the flow does not take: {unknown}"
            required = {n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty}
            assert required <= set(parameters), f"{deployment['name']}: missing {required - set(parameters)}"
            assert parameters["command"] == "run" and parameters["wait_seconds"] >= 3600
            # The lake comes from the deploying environment, which serve.sh and the compose `deploy` service set.
            assert parameters["lake"] == "{{ $REEWATCH_LAKE }}"
    finally:
        for name in set(sys.modules) - loaded_before:
            if name == Path(path).stem or name.startswith("__prefect_loader_"):
                del sys.modules[name]


def test_every_deployment_uses_the_process_pool_one_at_a_time_with_retries() -> None:
    from prefect.settings import Settings
    from prefect.settings.legacy import _get_valid_setting_names

    prefect_settings = _get_valid_setting_names(Settings)
    for deployment in _deployments():
        pool = deployment["work_pool"]
        assert pool["name"] == "reewatch", deployment["name"]
        env = pool["job_variables"]["env"]
        assert int(env["PREFECT_FLOWS_DEFAULT_RETRIES"]) >= 1
        assert int(env["PREFECT_FLOWS_DEFAULT_RETRY_DELAY_SECONDS"]) >= 60
        assert {name for name in env if name.startswith("PREFECT_")} <= prefect_settings
        assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
    # The pool is created as a process pool wherever the deployments are registered.
    assert "work-pool create reewatch --type process" in DEPLOY.read_text()
    assert "--pool reewatch --type process" in SERVE.read_text()
    assert "--pool reewatch --type process" in (INFRA / "Dockerfile").read_text().replace('", "', " ")


def test_the_warehouse_slot_is_the_limit_that_is_created() -> None:
    from flows.deployments import WAREHOUSE_LIMIT

    assert f"gcl create {WAREHOUSE_LIMIT} --limit 1" in DEPLOY.read_text()
    assert WAREHOUSE_LIMIT in PREFECT_YAML.read_text()


def _fire_days(cron: str, timezone: str, year: int, month: int) -> list[datetime]:
    from prefect.client.schemas.schedules import CronSchedule as ClientCron
    from prefect.server.schemas.schedules import CronSchedule

    ClientCron(cron=cron, timezone=timezone)  # what `prefect deploy` validates
    schedule = CronSchedule(cron=cron, timezone=timezone)
    tz = ZoneInfo(timezone)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return [d.astimezone(tz) for d in asyncio.run(schedule.get_dates(n=200, start=start, end=end))]


@pytest.mark.parametrize(
    ("name", "days"),
    [
        ("preliminary", set(range(7, 15))),  # 快讯, between the 7th and the 14th
        ("bulletin", {18, 19}),  # 月刊 on the 18th, and a catch-up the next day
        ("detailed", {20, 21}),  # detailed online data around the 20th
        ("sweep", set(range(1, 32))),  # every day
    ],
)
def test_schedules_follow_the_gacc_calendar_in_beijing_time(name: str, days: set[int]) -> None:
    deployment = next(d for d in _deployments() if d["name"] == name)
    for schedule in deployment["schedules"]:
        assert schedule["timezone"] == "Asia/Shanghai"
        for year, month in [(2025, 10), (2026, 2)]:
            fired = _fire_days(schedule["cron"], schedule["timezone"], year, month)
            assert fired, f"{name} never fires in {year}-{month:02}"
            expected = {day for day in days if day <= (28 if month == 2 else 31)}
            assert {d.day for d in fired} == expected, f"{name}: {sorted({d.day for d in fired})}"
            # After GACC's mid-morning publication, or (the sweep) early in the morning, Beijing time.
            assert all(6 <= d.hour <= 20 for d in fired)


# ------------------------------------------------------------------------------------------ compose & image


def _settings_variables() -> set[str]:
    from reewatch.config import Settings

    return {f"REEWATCH_{name.upper()}" for name in Settings.model_fields}


AWS_VARIABLES = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
}  # fmt: skip
# Variables documented by the third-party images, per service.
IMAGE_VARIABLES = {
    "minio": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"},
    "minio-init": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"},
    "postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"},
}


def test_compose_services_set_only_settings_that_exist() -> None:
    from prefect.settings import Settings
    from prefect.settings.legacy import _get_valid_setting_names

    prefect_settings = _get_valid_setting_names(Settings)
    reewatch_settings = _settings_variables()
    script_variables = set(re.findall(r"\b(REEWATCH_[A-Z_]+)\b", DEPLOY.read_text()))
    services = _compose()["services"]
    assert {"minio", "minio-init", "postgres", "prefect-server", "deploy", "worker"} <= set(services)
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("PREFECT_"):
                assert variable in prefect_settings, f"{name}: {variable} is not a Prefect setting"
            elif variable.startswith("REEWATCH_"):
                assert variable in reewatch_settings | script_variables, f"{name}: {variable} is read by nothing"
            elif variable.startswith("AWS_"):
                assert variable in AWS_VARIABLES, f"{name}: {variable} is not an AWS variable boto3 and DuckDB read"
            else:
                assert variable in IMAGE_VARIABLES.get(name, set()) | {"DO_NOT_TRACK"}, f"{name}: {variable}"


def test_compose_wires_the_worker_to_the_server_the_lake_and_postgres() -> None:
    compose = _compose()
    services = compose["services"]
    server = services["prefect-server"]["environment"]
    db = server["PREFECT_API_DATABASE_CONNECTION_URL"]
    postgres = services["postgres"]["environment"]
    assert db.startswith(f"postgresql+asyncpg://{postgres['POSTGRES_USER']}:") and db.endswith(
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert services["prefect-server"]["image"].startswith("prefecthq/prefect:3.9.1-")
    for name in ("deploy", "worker"):
        env = services[name]["environment"]
        assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
        assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
        assert env["REEWATCH_LAKE"] == "s3://reewatch/lake"
        assert env["AWS_ACCESS_KEY_ID"] != "${MINIO_ROOT_USER}"  # the pipeline never uses MinIO's root account
        assert services[name]["build"]["dockerfile"] == "infra/Dockerfile"
    assert services["deploy"]["command"] == ["bash", "infra/deploy.sh"]
    assert services["worker"]["depends_on"]["deploy"]["condition"] == "service_completed_successfully"
    init = services["minio-init"]["command"][0]
    assert "mc mb --ignore-existing lake/reewatch" in init
    assert "policy attach lake reewatch-pipeline --user" in init
    assert "./iam-policy.json:/policies/reewatch-pipeline.json:ro" in services["minio-init"]["volumes"]


def test_every_compose_interpolation_is_in_the_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in (INFRA / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert used == example, f"in compose only: {used - example}; in .env.example only: {example - used}"


def test_the_worker_image_installs_the_locked_dependencies_on_python_311_slim() -> None:
    dockerfile = (INFRA / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert "uv sync --frozen --no-dev" in dockerfile
    copied = set(re.findall(r"^COPY (\S+)", dockerfile, re.M))
    # Everything the code reads at run time is in the image, and in the build context the ignore file leaves.
    assert {"src", "flows", "infra", "expectations"} <= copied
    kept = set(re.findall(r"^!(\S+?)/?$", (INFRA / "Dockerfile.dockerignore").read_text(), re.M))
    assert {"pyproject.toml", "uv.lock", "README.md", "src", "flows", "infra", "expectations", "samples"} <= kept
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "the worker must not run as root"


# ------------------------------------------------------------------------------------------------ IAM

# Each boto3 S3 client call lake_s3.py makes, and the IAM actions it needs. A new call fails the test below until it
# is mapped here and granted in infra/iam-policy.json.
S3_CALL_ACTIONS: dict[str, set[str]] = {
    "get_paginator:list_objects_v2": {"s3:ListBucket"},
    "head_bucket": {"s3:ListBucket"},  # the command line's check that the bucket exists
    "list_objects_v2": {"s3:ListBucket"},  # ... and, after a 403 there, whether the credentials were refused
    "get_object": {"s3:GetObject"},
    "head_object": {"s3:GetObject"},  # a missing key answers 404 (not 403) only with s3:ListBucket as well
    "put_object": {"s3:PutObject"},  # also the conditional create (IfNoneMatch) of raw/ and the writer lock
    "upload_file": {"s3:PutObject", "s3:AbortMultipartUpload"},  # multipart above 8 MB; aborted on failure
    "download_fileobj": {"s3:GetObject"},  # HEAD then ranged GETs
    "download_file": {"s3:GetObject"},
    "delete_object": {"s3:DeleteObject"},
    "delete_objects": {"s3:DeleteObject"},  # checked per key
}
# DuckDB's httpfs, with the same credentials: COPY ... TO 's3://...parquet' (multipart PUT) and read_parquet /
# ATTACH (HEAD + ranged GET) need nothing beyond these.
DUCKDB_ACTIONS = {"s3:PutObject", "s3:GetObject"}


def _lake_s3_calls() -> set[str]:
    tree = ast.parse((ROOT / "src" / "reewatch" / "lake_s3.py").read_text())
    calls = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func.value
        if isinstance(target, ast.Attribute) and target.attr == "client":  # self.client.<method>(...)
            method = node.func.attr
            if method == "get_paginator":
                assert isinstance(node.args[0], ast.Constant), "get_paginator with a computed operation name"
                method = f"get_paginator:{node.args[0].value}"
            calls.add(method)
    return calls


def _policy_actions(path: Path) -> dict[str, set[str]]:
    """Resource -> actions granted on it."""
    policy = json.loads(path.read_text())
    assert policy["Version"] == "2012-10-17"
    granted: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        for resource in statement["Resource"]:
            granted.setdefault(resource, set()).update(statement["Action"])
    return granted


def test_the_iam_policy_grants_exactly_the_s3_calls_the_lake_makes() -> None:
    calls = _lake_s3_calls()
    assert calls, "found no self.client.<method>(...) call in lake_s3.py"
    unmapped = calls - set(S3_CALL_ACTIONS)
    assert not unmapped, f"lake_s3.py makes S3 calls with no IAM mapping here: {unmapped}"
    needed = set().union(*(S3_CALL_ACTIONS[call] for call in calls)) | DUCKDB_ACTIONS
    granted = _policy_actions(INFRA / "iam-policy.json")
    assert set().union(*granted.values()) == needed, (
        f"missing: {needed - set().union(*granted.values())}, extra: {set().union(*granted.values()) - needed}"
    )
    # Bucket-level actions on the bucket, object actions on its objects, nothing on any other bucket.
    assert granted == {
        "arn:aws:s3:::reewatch": {"s3:ListBucket"},
        "arn:aws:s3:::reewatch/*": needed - {"s3:ListBucket"},
    }
    assert _compose()["x-pipeline-env"]["REEWATCH_LAKE"].startswith("s3://reewatch/")


def test_the_reader_policy_reads_the_publication_only() -> None:
    granted = _policy_actions(INFRA / "iam-policy-reader.json")
    assert set().union(*granted.values()) == {"s3:GetObject"}
    from reewatch.publish import CATALOG_KEY, PUBLISHED

    lake = "arn:aws:s3:::reewatch/lake/"
    assert set(granted) == {lake + CATALOG_KEY, f"{lake}{PUBLISHED}*", f"{lake}reports/*"}


@pytest.fixture
def iam_enforcing_s3(tmp_path: Path) -> Any:
    """A moto S3+IAM server of its own that enforces IAM policies after its first `setup_calls` requests."""
    setup_calls = 7  # create_bucket; then per user: create_user, put_user_policy, create_access_key
    with moto_s3_enforcing_iam(tmp_path / "moto.log", setup_calls) as endpoint:
        admin = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        boto3.client("s3", **admin).create_bucket(Bucket="reewatch")
        iam = boto3.client("iam", **admin)
        keys = {}
        for user, policy in [("pipeline", "iam-policy.json"), ("bi", "iam-policy-reader.json")]:
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName=user, PolicyDocument=(INFRA / policy).read_text())
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        yield endpoint, keys


@pytest.mark.e2e
def test_the_pipeline_runs_with_nothing_but_the_policy_and_bi_reads_with_the_reader_policy(
    cli: Any, iam_enforcing_s3: tuple[str, dict[str, dict[str, str]]]
) -> None:
    """Not a single permission missing: land, archive, lock, load, publish and report as the `pipeline` user.

    (Pruning old versions is not exercised: moto checks a DeleteObjects request against the bucket's ARN, where
    AWS and MinIO check s3:DeleteObject per key, which is what the policy grants.)
    """
    endpoint, keys = iam_enforcing_s3
    pipeline = {"AWS_ENDPOINT_URL": endpoint, **keys["pipeline"]}
    files = [str(p) for p in sorted((SAMPLES / "headline").glob("2025-0*.csv"))]
    result = cli("ingest", *files, "--lake", "s3://reewatch/lake", env=pipeline)
    assert result.code == 0, result.output
    again = cli("run", "--lake", "s3://reewatch/lake", env=pipeline)  # lock, read the warehouse back, nothing new
    assert again.code == 0, again.output

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_lower(keys["pipeline"]))
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.create_bucket(Bucket="elsewhere")

    bi = {"AWS_ENDPOINT_URL": endpoint, **keys["bi"]}
    rows = query_catalog(
        "s3://reewatch/lake/catalog.duckdb",
        "SELECT quantity_t FROM ree.exports_monthly WHERE series_id='gacc_rare_earths' AND period='2025-08-01' "
        "AND partner='WORLD'",
        env=bi,
    )
    assert rows == [(5792.0,)]
    reader = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_lower(keys["bi"]))
    for key in ("lake/_state/warehouse.duckdb", f"lake/landing/{Path(files[0]).name}"):
        with pytest.raises(ClientError, match="AccessDenied"):
            reader.get_object(Bucket="reewatch", Key=key)


def _lower(credentials: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in credentials.items()}


# ------------------------------------------------------------------------------------------ automations


def test_automations_are_valid_and_listen_to_the_events_the_flow_emits() -> None:
    from flows.deployments import load_automations
    from flows.notifications import OVERDUE_EVENT, RUN_EVENT_PREFIX

    block = str(uuid.uuid4())
    automations = load_automations(INFRA / "automations.yaml", block)
    expected = {name for automation in automations for name in automation.trigger.expect}
    assert expected == {
        RUN_EVENT_PREFIX + "blocked", RUN_EVENT_PREFIX + "failed", OVERDUE_EVENT,
        "prefect.flow-run.Failed", "prefect.flow-run.Crashed",
    }  # fmt: skip
    for automation in automations:
        assert automation.enabled
        assert [action.type for action in automation.actions] == ["send-notification"]
        assert str(automation.actions[0].block_document_id) == block
        assert "{{" in automation.actions[0].body  # says what happened, not just that something did
    # Without a block, the automations still fire, with nothing to send.
    assert {a.actions[0].type for a in load_automations(INFRA / "automations.yaml")} == {"do-nothing"}


# ------------------------------------------------------------------------------------------ notifications


def test_emit_run_event_names_the_status_and_carries_plain_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.events
    from flows.notifications import emit_run_event

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda **kwargs: sent.append(kwargs))
    emit_run_event(
        {
            "status": "blocked", "lake": "s3://b/lake", "run_id": "r1", "message": "gate blocked: 2 errors",
            "files_in": 3, "started_at": datetime(2025, 10, 22, 9, 30), "releases": [{"big": "list"}], "report": None,
        }
    )  # fmt: skip
    (event,) = sent
    assert event["event"] == "reewatch.run.blocked"
    assert event["resource"]["prefect.resource.id"] == "reewatch.lake.s3://b/lake"
    assert event["payload"] == {
        "run_id": "r1", "status": "blocked", "message": "gate blocked: 2 errors", "files_in": 3,
        "started_at": "2025-10-22 09:30:00",
    }  # fmt: skip
    json.dumps(event["payload"])


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # Sept 2025 preliminary is due on 14 Oct: late from the 16th (two days after), not before.
        (date(2025, 10, 15), {"preliminary": date(2025, 8, 1), "bulletin": date(2025, 8, 1)}),
        (date(2025, 10, 16), {"preliminary": date(2025, 9, 1), "bulletin": date(2025, 8, 1)}),
        (date(2025, 10, 20), {"bulletin": date(2025, 9, 1), "detailed": date(2025, 8, 1)}),
        (date(2025, 10, 22), {"detailed": date(2025, 9, 1)}),
        # January is never released alone: in February the newest month due is December...
        (date(2025, 2, 27), {"preliminary": date(2024, 12, 1), "detailed": date(2024, 12, 1)}),
        # ...and in March the combined Jan–Feb figure, on the February period.
        (date(2025, 3, 16), {"preliminary": date(2025, 2, 1), "bulletin": date(2024, 12, 1)}),
        (date(2026, 1, 22), {"preliminary": date(2025, 12, 1), "detailed": date(2025, 12, 1)}),
    ],
)
def test_expected_period_follows_the_release_calendar(today: date, expected: dict[str, date]) -> None:
    from flows.notifications import RELEASE_CALENDAR, expected_period

    for kind, period in expected.items():
        assert expected_period(RELEASE_CALENDAR[kind], today) == period, kind


def test_overdue_releases_says_what_is_late_and_since_when() -> None:
    from flows.notifications import overdue_releases

    latest = {"preliminary": date(2025, 8, 1), "bulletin": date(2025, 9, 1), "detailed": date(2025, 9, 1)}
    assert overdue_releases(latest, date(2025, 10, 15)) == []
    (message,) = overdue_releases(latest, date(2025, 10, 16))
    assert message.startswith("GACC preliminary release (快讯) for September 2025 is overdue")
    assert "due 2025-10-14" in message and "on 2025-10-16, 2 days later" in message and "August 2025" in message
    # Kinds this lake never received, and kinds outside the calendar, are not expected.
    assert overdue_releases({"mirror": date(2020, 1, 1)}, date(2025, 10, 30)) == []
    jan_feb = overdue_releases({"preliminary": datetime(2024, 12, 1)}, date(2025, 3, 20))
    assert jan_feb and "Jan–Feb 2025 (combined)" in jan_feb[0]


def test_latest_periods_reads_loaded_releases_from_the_warehouse_tables() -> None:
    import duckdb
    from flows.notifications import latest_periods

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE releases AS SELECT * FROM (VALUES ('a', 'preliminary', 'loaded'), ('b', 'preliminary', "
        "'quarantined'), ('c', 'detailed', 'partly_quarantined'), ('d', 'mirror', 'loaded')) t(release_id, vintage, status)"
    )
    con.execute(
        "CREATE TABLE observations AS SELECT release_id, period::DATE AS period FROM (VALUES ('a', '2025-08-01'), "
        "('a', '2025-07-01'), ('b', '2025-09-01'), ('c', '2025-07-01'), ('d', '2025-09-01')) t(release_id, period)"
    )
    assert latest_periods(con) == {"preliminary": date(2025, 8, 1), "detailed": date(2025, 7, 1)}


# ------------------------------------------------------------------------------------------ scripts


def test_serve_script_and_make_target() -> None:
    for script in (SERVE, DEPLOY):
        assert script.stat().st_mode & 0o111, f"{script} is not executable"
        subprocess.run(["bash", "-n", str(script)], check=True)
    serve = SERVE.read_text()
    assert "set -m" in serve and "trap cleanup EXIT" in serve and 'kill -TERM -- "-$pid"' in serve
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^serve: setup\n\tscripts/serve.sh$", makefile, re.M)


def test_deployed_runs_retry_whole_and_their_dask_staging_does_not_retry_on_its_own() -> None:
    # prefect.yaml sets PREFECT_FLOWS_DEFAULT_RETRIES=1 for the runs' process: it reaches every flow without retries
    # of its own, and a staging subflow retried inside its run would stage everything again holding the writer lock.
    probe = "from flows.pipeline import reewatch_run; from flows.scaleout import stage_releases; " \
            "print(reewatch_run.retries, stage_releases.retries)"  # fmt: skip
    env = {**os.environ, "PREFECT_FLOWS_DEFAULT_RETRIES": "1"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "0"]
