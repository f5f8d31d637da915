"""The command line's promises that need no pipeline: fast help without heavy imports, usage errors."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3

from conftest import PLANTED_SECRET, SAMPLES, new_bucket
from s3server import moto_s3_enforcing_iam

PROBE = """
import sys
from typer.testing import CliRunner
from reewatch.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("prefect", "great_expectations", "duckdb", "pandas", "polars") if m in sys.modules)
print(",".join(heavy))
"""


def test_help_imports_neither_prefect_nor_gx_nor_duckdb() -> None:
    for args in (["--help"], ["run", "--help"], ["ingest", "--help"], ["replay", "--help"], ["demo", "--help"]):
        done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "", (args, done.stdout)


def test_status_of_a_folder_that_does_not_exist_says_so_and_makes_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    typo = tmp_path / "lkae"
    done = subprocess.run(
        [sys.executable, "-m", "reewatch.cli", "status", "--lake", str(typo)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"reewatch: no lake at {typo}: no such folder (`reewatch ingest` or `run` makes one)"
    assert not typo.exists()
    empty = tmp_path / "empty"
    empty.mkdir()  # an empty folder is a lake with nothing in it yet
    done = subprocess.run(
        [sys.executable, "-m", "reewatch.cli", "status", "--lake", str(empty)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "releases:\n  none yet" in done.stdout, done.stderr


def test_ingest_of_a_folder_or_a_missing_file_is_a_usage_error_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    for argument, said in (
        (tmp_path, f"reewatch: a folder, not a file: {tmp_path} (give the files in it, e.g. {tmp_path}/*)"),
        (tmp_path / "nope.csv", f"reewatch: no such file: {tmp_path / 'nope.csv'}"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "reewatch.cli", "ingest", str(argument), "--lake", str(lake)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert (done.returncode, done.stderr.strip()) == (2, said)
    assert not lake.exists()  # nothing was landed


def test_ingest_into_a_lake_that_cannot_be_made_fails_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The files land in a thread while Prefect imports (cli._run_pipeline): its failure still ends the command with
    one line and exit 1, before any flow starts."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    release = tmp_path / "2025-07_major_exports_usd.csv"
    release.write_text("anything")
    done = subprocess.run(
        [sys.executable, "-m", "reewatch.cli", "ingest", str(release), "--lake", str(blocker / "lake")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "landed" not in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"reewatch: storage error, the run stopped: cannot create lake folder {blocker / 'lake'}: ")


def test_a_lake_that_is_a_file_is_a_usage_error_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    afile = tmp_path / "lake.csv"
    afile.write_text("not a folder")
    for command in (["status"], ["run"], ["replay", "--all"], ["demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "reewatch.cli", *command, "--lake", str(afile)], capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.strip().endswith("is a file, not a folder") or "is a file: give --lake" in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert afile.read_text() == "not a folder"


def test_an_s3_bucket_that_does_not_exist_is_a_usage_error_not_an_empty_lake(s3_endpoint: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "AWS_ENDPOINT_URL": s3_endpoint, "REEWATCH_STATE_DIR": str(tmp_path / "state")}
    release = tmp_path / "2025-07_major_exports_usd.csv"
    release.write_text("anything")
    for command in (["status"], ["ingest", str(release)]):
        done = subprocess.run(
            [sys.executable, "-m", "reewatch.cli", *command, "--lake", "s3://no-such-bucket-here/lake"],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert done.stderr.strip().splitlines()[-1] == (
            f"reewatch: there is no bucket 'no-such-bucket-here' at {s3_endpoint}: create it, or check the name "
            "and AWS_ENDPOINT_URL"
        )
        assert "Traceback" not in done.stderr


def test_a_negative_wait_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "reewatch.cli", "run", "--wait", "-5", "--lake", str(tmp_path / "lake")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "--wait" in done.stderr, done.stderr
    assert not (tmp_path / "lake").exists()


def test_credentials_in_the_lake_url_are_never_printed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lake = "s3://AKIAHOSTILEKEY99:supersecret123@bucket/p"
    release = tmp_path / "2025-07_major_exports_usd.csv"
    release.write_text("anything")
    for command, env in (
        (["ingest", str(release), "--lake", lake], {}), (["run", "--lake", lake], {}),
        (["status"], {"REEWATCH_LAKE": lake}),
    ):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "reewatch.cli", *command], capture_output=True, text=True, timeout=60,
            env={**os.environ, **env},
        )  # fmt: skip
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.startswith("reewatch: invalid --lake / REEWATCH_LAKE: 's3://***@bucket/p' holds credentials")
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "supersecret123" not in done.stdout + done.stderr and "AKIAHOSTILE" not in done.stdout + done.stderr


def test_a_bad_expectations_dir_is_a_configuration_error_before_any_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Found at the gate, it failed the run after staging and committing, with tracebacks and exit 1."""
    empty, broken = tmp_path / "empty", tmp_path / "broken"
    empty.mkdir()
    broken.mkdir()
    (broken / "exports_monthly.json").write_text("{bad")
    release = tmp_path / "2025-07_major_exports_usd.csv"
    release.write_text("anything")
    lake = tmp_path / "lake"
    for folder, said in (
        (tmp_path / "nope", f"no such folder: {tmp_path / 'nope'}"),
        (empty, f"no expectation suites (*.json) in {empty}"),
        (broken, "exports_monthly.json: not valid JSON: Expecting property name enclosed in double quotes"),
    ):
        for command in (["ingest", str(release), "--lake", str(lake)], ["run", "--lake", str(lake)]):
            done = subprocess.run(
                [sys.executable, "-m", "reewatch.cli", *command], capture_output=True, text=True, timeout=120,
                env={**os.environ, "REEWATCH_EXPECTATIONS_DIR": str(folder)},
            )  # fmt: skip
            assert done.returncode == 2, (command, done.stderr)
            assert done.stderr.startswith(f"reewatch: invalid REEWATCH_EXPECTATIONS_DIR: {said}"), done.stderr
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert not lake.exists()  # nothing landed, nothing staged


def test_missing_s3_credentials_are_a_configuration_error_in_one_line(s3_endpoint: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No key in the environment, no profile, no instance role: running again would not fix it (was: exit 1,
    'storage error … running again finishes the work')."""
    lake = f"s3://{new_bucket(s3_endpoint)}/lake"
    env = {**os.environ, "AWS_ENDPOINT_URL": s3_endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    for command in (["run"], ["status"]):
        done = subprocess.run(
            [sys.executable, "-m", "reewatch.cli", *command, "--lake", lake], capture_output=True, text=True,
            timeout=120, env=env,
        )  # fmt: skip
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.startswith(
            "reewatch: no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ), done.stderr
        assert "AWS_PROFILE" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "reewatch.cli", "status", "--lake", lake], capture_output=True, text=True, timeout=120,
        env={**env, "AWS_ACCESS_KEY_ID": "AKIAONLYTHEKEY"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("reewatch: incomplete S3 credentials (") and "AWS_SECRET_ACCESS_KEY" in done.stderr


def test_credentials_s3_refuses_are_a_configuration_error_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with moto_s3_enforcing_iam(tmp_path / "moto.log", setup_calls=1) as endpoint:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="reewatch")
        env = {
            **os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNTOS3",
            "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET,
        }  # fmt: skip
        for command in (["run"], ["status"]):
            done = subprocess.run(
                [sys.executable, "-m", "reewatch.cli", *command, "--lake", "s3://reewatch/lake"], capture_output=True,
                text=True, timeout=120, env=env,
            )  # fmt: skip
            assert done.returncode == 2, (command, done.stderr)
            assert done.stderr.strip() == (
                f"reewatch: S3 at {endpoint} refused the credentials for bucket 'reewatch' (InvalidAccessKeyId): check "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), and that they may list the bucket "
                "(s3:ListBucket, infra/iam-policy.json)"
            )
            assert PLANTED_SECRET not in done.stdout + done.stderr


def test_an_empty_lake_option_is_a_usage_error_not_the_default_lake(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`--lake ""` (an unset shell variable, say) must not run on $REEWATCH_LAKE or ./lake instead."""
    other = tmp_path / "other"
    for command in (["run"], ["status"], ["replay", "--all"], ["demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "reewatch.cli", *command, "--lake", ""], capture_output=True, text=True,
            timeout=120, cwd=tmp_path, env={**os.environ, "REEWATCH_LAKE": str(other)},
        )  # fmt: skip
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.strip().endswith("the lake location is empty"), done.stderr
        assert done.stderr.startswith("reewatch: invalid --lake") and len(done.stderr.strip().splitlines()) == 1
    assert not other.exists() and not (tmp_path / "lake").exists()


def test_an_unreachable_prefect_api_is_one_line_naming_it_without_its_credentials(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Was a 138-line traceback ending in `RuntimeError: Failed to reach API`. Exit 1: infrastructure, like storage."""
    from reewatch.prefect_server import free_port

    api = f"http://admin:supersecret123@127.0.0.1:{free_port()}/api"  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "reewatch.cli", "ingest", str(SAMPLES / "headline" / "2025-08_major_exports_usd.csv"),
         "--lake", str(tmp_path / "lake")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "prefect")},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    masked = api.replace("admin:supersecret123@", "***@")
    said = f"reewatch: cannot reach the Prefect API at {masked} (PREFECT_API_URL): ConnectError: "
    assert done.stderr.startswith(said), done.stderr  # then the reason, e.g. "[Errno 111] Connection refused"
    assert len(done.stderr.strip().splitlines()) == 1 and "supersecret123" not in done.stdout + done.stderr


def test_a_temporary_prefect_server_that_does_not_start_in_time_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "0"}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "reewatch.cli", "run", "--lake", str(tmp_path / "lake")], capture_output=True, text=True,
        timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-2] == (
        "reewatch: the temporary Prefect server this run starts did not answer within 0 s "
        "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS): allow it longer, or set PREFECT_API_URL to a running "
        "Prefect server"
    ), done.stderr  # the last line is Prefect's own: "Stopping temporary server on …"


PROBE_STARTUP_TIMEOUT = """
from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS
from reewatch.cli import _command_line_prefect_settings
with _command_line_prefect_settings():
    print(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
"""


def test_the_temporary_prefect_server_gets_90_seconds_to_start_unless_told_otherwise(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Prefect's 20 s ran out on a loaded machine ("Timed out while attempting to connect to ephemeral Prefect API
    server"); a value the user set (environment, profile, prefect.toml) stands."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    for setting, seconds in ((None, "90"), ("7", "7")):
        if setting is not None:
            env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = setting
        done = subprocess.run([sys.executable, "-c", PROBE_STARTUP_TIMEOUT], capture_output=True, text=True,
                              timeout=60, env=env)  # fmt: skip
        assert (done.returncode, done.stdout.strip()) == (0, seconds), done.stderr


PRINT_TRY_QUERY = """
import sys
from reewatch.cli import _try_query_command
if len(sys.argv) > 2:
    sys.executable = sys.argv[2]  # a Python with no DuckDB shell beside it
print(_try_query_command(sys.argv[1]))
"""


def test_the_demos_query_to_try_works_as_printed_without_duckdb_on_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """It was `duckdb -c …`, and there is no `duckdb` on PATH: the DuckDB shell is in .venv/bin, if anywhere."""
    import duckdb

    catalog = tmp_path / "lake dir" / "catalog.duckdb"  # a space, as a user's folder may have
    catalog.parent.mkdir()
    with duckdb.connect(str(catalog)) as con:
        con.execute(
            "CREATE TABLE exports_monthly AS SELECT DATE '2025-08-01' AS period, 5792.0 AS quantity_t, 1.5 AS mom_pct, "
            "-2.5 AS yoy_pct, false AS is_record, 'gacc_rare_earths' AS series_id, 'WORLD' AS partner"
        )
    bare = tmp_path / "bin" / "python"  # the same Python and library, but no DuckDB shell beside it
    bare.parent.mkdir()
    bare.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    bare.chmod(0o755)
    for python in ([], [str(bare)]):
        printed = subprocess.run(
            [sys.executable, "-c", PRINT_TRY_QUERY, str(catalog), *python], capture_output=True, text=True, timeout=60
        )
        command = printed.stdout.strip()
        assert printed.returncode == 0 and "ATTACH" in command, printed.stderr
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60, cwd=tmp_path,  # noqa: S602
                              env={**os.environ, "PATH": "/usr/bin:/bin"})  # fmt: skip
        assert done.returncode == 0 and "2025-08-01" in done.stdout and "5792" in done.stdout, (command, done.stderr)
