"""The whole pipeline through the real `reewatch` command, on a local lake and on moto's S3 over HTTP,
with a second process reading the published catalog as an analyst would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import boto3
import duckdb
import pytest

from conftest import FIXTURES, PLANTED_SECRET, ROOT, SAMPLES, new_bucket, query_catalog, server_events

pytestmark = pytest.mark.e2e

AUG_2025 = (
    "SELECT quantity_t FROM ree.exports_monthly WHERE series_id='gacc_rare_earths' "
    "AND period='2025-08-01' AND partner='WORLD'"
)


def test_demo_publishes_a_catalog_a_second_process_can_query(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    result = cli("demo", "--lake", str(lake), env={"AWS_SECRET_ACCESS_KEY": PLANTED_SECRET})
    assert result.code == 0, result.output
    assert f"report: {lake}/reports/latest/index.html" in result.stdout
    assert "ATTACH" in result.stdout and "exports_monthly" in result.stdout  # a query to try
    # ... that works as printed, from the repository's root, with no `duckdb` on PATH (it was a bare `duckdb -c`).
    try_it = result.stdout.split("Try a query:\n", 1)[1].splitlines()[0].strip()
    done = subprocess.run(try_it, shell=True, cwd=ROOT, env={**os.environ, "PATH": "/usr/bin:/bin"},  # noqa: S602
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and "2025-11-01" in done.stdout and "is_record" in done.stdout, (try_it, done.stderr)
    assert "great_expectations" not in result.stderr  # GX's housekeeping stays out of the run's log
    # The gate's Data Docs are beside the report, and their working copy in the lake's _state/ is gone.
    assert (lake / "reports" / "latest" / "data_docs" / "index.html").is_file()
    assert not (lake / "_state" / "quality").exists() or not any((lake / "_state" / "quality").iterdir())
    assert query_catalog(str(lake / "catalog.duckdb"), AUG_2025) == [(5792.0,)]
    # The summary's row counts are those published, quality_results included (the gate fills it after the build).
    summary = next(line for line in result.stdout.splitlines() if line.startswith("published: "))
    said = dict(re.findall(r"(\w+) ([\d,]+) rows", summary))
    for table in ("exports_monthly", "releases", "quality_results"):
        published = query_catalog(str(lake / "catalog.duckdb"), f"SELECT count(*) FROM ree.{table}")  # noqa: S608
        assert int(said[table].replace(",", "")) == published[0][0] > 0, (table, said)

    rows = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT period, period_kind, ytd_quantity_t, mom_pct, is_record, highest_since "
        "FROM ree.exports_monthly WHERE series_id='gacc_rare_earths' AND partner='WORLD' "
        "AND period IN ('2025-02-01', '2025-06-01', '2025-07-01') ORDER BY period",
    )
    assert rows[0][:3] == ("2025-02-01", "jan_feb", 8511.0)
    assert rows[1][2:] == (32569.0, 32.02, True, "2023-03-01")  # June 2025: the record of the bundle
    assert rows[2][4:] == (False, "2025-07-01")  # July tops nothing: it is highest only since itself
    # A month without a quantity (cars, phones: counted in units, not tonnes) is no record and tops nothing.
    without_quantity = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT count(*), count(is_record), count(highest_since) FROM ree.exports_monthly "
        "WHERE quantity_t IS NULL AND period_kind = 'month'",
    )
    assert without_quantity[0][0] > 0 and without_quantity[0][1:] == (0, 0)
    # Magnets by destination from the detailed exports (CNY and USD files merged), and the bulletin's revision.
    magnets = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT partner, quantity_t, mom_pct, value_usd IS NOT NULL AND value_cny IS NOT NULL "
        "FROM ree.exports_monthly WHERE series_id = 'gacc_magnets_850511' AND period = '2025-07-01' "
        "AND partner IN ('WORLD', 'US') ORDER BY partner",
    )
    assert magnets[0][:2] == ("US", 619.0) and magnets[0][3]
    assert magnets[1][:2] == ("WORLD", 5577.0) and abs(magnets[1][2] - 74.94) < 0.01  # ≈ +75% on June
    revisions = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT period, first_value, latest_value FROM ree.revisions "
        "WHERE series_id = 'gacc_rare_earths' AND measure = 'quantity_t'",
    )
    assert revisions == [("2025-11-01", 5493.9, 5494.2)]
    # Surveys, reference statistics and press claims (issue 4).
    survey = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT applications, approved, pending, rejected, approval_rate_pct, unit_of_count "
        "FROM ree.licence_surveys WHERE survey_id = 'euccc_2025_09_licences'",
    )
    assert survey == [(141.0, 19.0, 121.0, 1.0, 13.5, "application")]
    china = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT share_of_world_production_pct, share_of_world_reserves_pct FROM ree.world_production "
        "WHERE edition = 'MCS2025' AND year = 2024 AND country = 'China'",
    )
    assert china == [(69.2, 48.9)]
    reference_rows = len((SAMPLES / "press" / "reported_export_figures.csv").read_text().splitlines()) - 1
    claims = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT count(*), count(verdict) FROM ree.claim_checks WHERE outlet NOT LIKE 'demo%'",
    )
    assert claims == [(reference_rows, reference_rows)]
    bloomberg = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT verdict, matched_series_id, customs_value FROM ree.claim_checks "
        "WHERE series_id = 'bloomberg_re_products' AND period = '2025-08-01'",
    )
    assert bloomberg == [("matches_other_series", "bloomberg_re_products", 5792.0)]
    # Every table and column carries a comment.
    missing = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name='ree' AND comment IS NULL",
    )
    assert missing == []
    report = (lake / "reports" / "latest" / "index.html").read_text()
    assert "4,392.0" in report  # the latest month, December 2025
    # Its charts, drawn while the gate ran (report.figures_in_background).
    assert 'id="chart-series"' in report and 'id="chart-destinations"' in report and report.count("<svg") >= 3
    # The planted secret appears nowhere the run wrote or printed.
    assert PLANTED_SECRET not in result.output
    for path in lake.rglob("*"):
        if path.is_file():
            assert PLANTED_SECRET.encode() not in path.read_bytes(), path


def test_same_file_twice_is_ingested_once_and_nothing_new_changes_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    original = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
    renamed = tmp_path / "august-copy.csv"
    shutil.copy(original, renamed)
    assert cli("ingest", str(original), "--lake", str(lake)).code == 0
    second = cli("ingest", str(renamed), "--lake", str(lake))
    assert second.code == 0, second.output
    releases = query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT file_name, status, rows_loaded FROM ree.releases ORDER BY status",
    )
    assert releases == [("august-copy.csv", "duplicate", 0), ("2025-08_major_exports_usd.csv", "loaded", 7)]
    assert query_catalog(str(lake / "catalog.duckdb"), AUG_2025) == [(5792.0,)]

    status = cli("status", "--lake", str(lake))
    assert status.code == 0, status.output
    assert "duplicate" in status.stdout and "loaded" in status.stdout and "published: " in status.stdout
    catalog_before = (lake / "catalog.duckdb").read_bytes()
    versions_before = sorted(p.name for p in (lake / "published").iterdir())
    latest_before = (lake / "reports" / "latest" / "index.html").read_bytes()
    again = cli("run", "--lake", str(lake))
    assert again.code == 0 and "nothing_new" in again.stdout, again.output
    assert (lake / "catalog.duckdb").read_bytes() == catalog_before
    assert sorted(p.name for p in (lake / "published").iterdir()) == versions_before
    # Every run has its report (CONTRACT.md §2), one with nothing new a short page naming the current publication
    # and linking to that publication's report; reports/latest/ stays the report of the run that published.
    (page,) = re.findall(r"^report: (.*/reports/[^/]+/index\.html)$", again.stdout, re.M)
    note = Path(page).read_text()
    assert "Nothing new" in note and f'href="../{versions_before[-1]}/index.html"' in note, note
    assert (lake / "reports" / versions_before[-1] / "index.html").is_file()
    assert json.loads((Path(page).parent / "summary.json").read_text())["run"]["status"] == "nothing_new"
    assert (lake / "reports" / "latest" / "index.html").read_bytes() == latest_before
    # The GX worker each ingest started (used by the first, not by the duplicate's) ended with its run.
    assert gx_workers(os.environ["REEWATCH_STATE_DIR"]) == []


def test_one_ingest_of_two_files_of_the_same_name_lands_both(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # GACC's downloads often share a name. The second file's landing compares it with the first, which the one
    # landing thread had queued for hashing behind itself: that wait once hung the command for ever.
    lake = tmp_path / "lake"
    august, september = tmp_path / "aug" / "export.csv", tmp_path / "sep" / "export.csv"
    for source, target in ((SAMPLES / "headline" / "2025-08_major_exports_usd.csv", august),
                           (SAMPLES / "headline" / "2025-09_major_exports_usd.csv", september)):  # fmt: skip
        target.parent.mkdir()
        shutil.copy(source, target)
    done = cli("ingest", str(august), str(september), str(august), "--lake", str(lake), timeout=120)
    assert done.code == 0, done.output
    landed = sorted(path.name for path in (lake / "landing").iterdir())
    assert len(landed) == 2 and "export.csv" in landed, landed  # the second under a content suffix
    releases = query_catalog(str(lake / "catalog.duckdb"), "SELECT status, count(*) FROM ree.releases GROUP BY ALL")
    assert releases == [("loaded", 2)]


def test_status_while_a_run_writes_a_local_lake_shows_the_last_publication(cli, prefect_api: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    assert cli("ingest", str(SAMPLES / "headline" / "2025-08_major_exports_usd.csv"), "--lake", str(lake)).code == 0
    (release_id,) = query_catalog(str(lake / "catalog.duckdb"), "SELECT release_id FROM ree.releases")[0]
    # What a run holds while it writes: the warehouse open for writing (DuckDB then refuses every other process)
    # and the writer lock, naming it.
    (lake / "_state" / "writer.lock").write_text("etl@host pid 4242 since 2026-12-01 04:00:00Z", encoding="utf-8")
    writing = duckdb.connect(str(lake / "_state" / "warehouse.duckdb"))
    try:
        status = cli("status", "--lake", str(lake))
    finally:
        writing.close()
    assert status.code == 0, status.output
    assert "writing now: etl@host pid 4242" in status.stdout
    assert "loaded" in status.stdout and "published: " in status.stdout and "Traceback" not in status.output
    # Each release is listed by the id prefix `reewatch replay` takes.
    assert f"  {str(release_id)[:12]}  loaded" in status.stdout

    # A replay of an id the lake does not hold is a usage error, and its run is recorded as stopped by it (not left
    # 'running' for the next run to report killed).
    unknown = cli("replay", "0000deadbeef", "--lake", str(lake))
    assert unknown.code == 2 and "release '0000deadbeef' is unknown" in unknown.stderr, unknown.output
    after = cli("status", "--lake", str(lake))
    assert "replay  failed       files    0  stopped: release '0000deadbeef' is unknown" in after.stdout, after.output
    assert " running " not in after.stdout
    # ... and the operators hear of it: the event the "run failed" automation listens for.
    deadline = time.monotonic() + 60  # the server stores events in batches
    while not (failed := _events(prefect_api, "reewatch.run.failed", f"reewatch.lake.{lake}")):
        assert time.monotonic() < deadline, "no reewatch.run.failed event"
        time.sleep(0.5)
    payload = failed[0]["payload"]
    assert isinstance(payload, dict) and "release '0000deadbeef' is unknown" in str(payload["message"])
    # The same release named twice (a prefix and the whole id) is replayed once: it was "files in: 2" and twice
    # its rows loaded.
    twice = cli("replay", str(release_id)[:10], str(release_id), "--lake", str(lake))
    assert twice.code == 0 and "files in: 1, rows loaded: 7," in twice.stdout, twice.output


def gx_workers(state_dir: str) -> list[str]:
    """The command lines of the GX worker processes on this machine started by runs with this state folder (each
    test has its own: other test processes' runs may have workers of their own meanwhile)."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            text = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environment = (process / "environ").read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile
            continue
        if "reewatch.gx_worker" in text and f"REEWATCH_STATE_DIR={state_dir}".encode() in environment:
            found.append(text)
    return found


def test_malformed_rows_are_quarantined_and_good_files_still_publish(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    files = [
        SAMPLES / "headline" / "2025-08_major_exports_usd.csv",
        FIXTURES / "headline" / "malformed_2025-09.csv",
        FIXTURES / "headline" / "no_title.csv",
    ]
    result = cli("ingest", *map(str, files), "--lake", str(lake))
    assert result.code == 0, result.output
    # Clear messages naming file, row and rule.
    assert "malformed_2025-09.csv row 6: rule number_parses: '1,0l9.9'" in result.stderr
    assert "malformed_2025-09.csv row 7: rule non_negative" in result.stderr
    assert "malformed_2025-09.csv row 8: rule row_shape" in result.stderr
    # The unreadable file is named in the summary too, not only in the log.
    assert "files not loaded: 1 (their bytes are kept in raw/)\n  no_title.csv: no known layout" in result.stdout
    catalog = str(lake / "catalog.duckdb")
    quarantined = query_catalog(catalog, "SELECT source_row, rule, message FROM ree.quarantined_rows ORDER BY 1")
    assert [(row, rule) for row, rule, _ in quarantined] == [
        ("6", "number_parses"), ("7", "non_negative"), ("8", "row_shape"), (None, "unreadable_file"),
    ]  # fmt: skip
    assert all(message.startswith("malformed_2025-09.csv row ") for _, _, message in quarantined[:3])
    assert quarantined[3][2].startswith("no_title.csv: no known layout")  # the file, as one row
    raw = query_catalog(catalog, "SELECT raw_record->>'Commodity' FROM ree.quarantined_rows WHERE source_row = '7'")
    assert raw == [("Fertilizers",)]
    statuses = dict(query_catalog(catalog, "SELECT file_name, status FROM ree.releases"))
    assert statuses == {
        "2025-08_major_exports_usd.csv": "loaded",
        "malformed_2025-09.csv": "partly_quarantined",
        "no_title.csv": "failed",
    }
    failed = query_catalog(catalog, "SELECT message FROM ree.releases WHERE status = 'failed'")
    assert "no_title.csv: no known layout" in failed[0][0]
    assert query_catalog(
        catalog, "SELECT count(*) FROM ree.releases WHERE rows_in <> rows_loaded + rows_quarantined"
    ) == [(0,)]
    # The good rows of the partly bad file are published; the bad ones are not.
    sept = query_catalog(
        catalog,
        "SELECT quantity_t FROM ree.exports_monthly WHERE series_id='gacc_rare_earths' AND period='2025-09-01'",
    )
    assert sept == [(4000.3,)]
    assert query_catalog(
        catalog,
        "SELECT count(*) FROM ree.exports_monthly WHERE series_id LIKE '%fertilizers' AND period='2025-09-01'",
    ) == [(0,)]
    # Every landed byte is archived, the unreadable file too.
    assert len(list((lake / "raw").iterdir())) == 3
    report = (lake / "reports" / "latest" / "index.html").read_text()
    assert "row_shape" in report and "no_title.csv" in report


def test_s3_lake_end_to_end_with_a_second_reader(cli, s3_endpoint: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(s3_endpoint)
    url = f"s3://{bucket}/team/lake"
    env = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_SECRET_ACCESS_KEY": "testing"}
    samples = sorted((SAMPLES / "headline").glob("2025-*.csv"))
    result = cli("ingest", *map(str, samples), "--lake", url, env=env)
    assert result.code == 0, result.output
    keys = {
        obj["Key"] for page in boto3.client("s3", endpoint_url=s3_endpoint).get_paginator("list_objects_v2")
        .paginate(Bucket=bucket) for obj in page.get("Contents", [])
    }  # fmt: skip
    assert "team/lake/catalog.duckdb" in keys and "team/lake/_state/warehouse.duckdb" in keys
    assert any(k.startswith("team/lake/published/") and k.endswith("exports_monthly.parquet") for k in keys)
    assert "team/lake/reports/latest/index.html" in keys
    assert sum(k.startswith("team/lake/raw/") for k in keys) == len(samples)
    rows = query_catalog(f"{url}/catalog.duckdb", AUG_2025, env=env)
    assert rows == [(5792.0,)]
    # A new machine (fresh state folder) continues from the lake's own warehouse: nothing new to do.
    again = cli("run", "--lake", url, env={**env, "REEWATCH_STATE_DIR": str(tmp_path / "other-machine")})
    assert again.code == 0 and "nothing_new" in again.stdout, again.output
    (page,) = re.findall(rf"^report: {url}/(reports/[^/]+/index\.html)$", again.stdout, re.M)  # its own, short
    note = boto3.client("s3", endpoint_url=s3_endpoint).get_object(Bucket=bucket, Key=f"team/lake/{page}")
    assert b"Nothing new" in note["Body"].read()


def test_usage_errors_exit_2_in_one_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("run", "--lake", "gs://elsewhere")
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0 and "neither a local folder nor an s3" in result.stderr
    missing = cli("ingest", str(tmp_path / "nope.csv"), "--lake", str(tmp_path / "lake"))
    assert missing.code == 2 and "no such file" in missing.stderr


def test_a_run_killed_before_publishing_is_published_by_the_next_run(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from conftest import loaded_lake

    lake = tmp_path / "lake"
    # Load without publishing: the state a run leaves when it dies between loading and the catalog swap.
    with loaded_lake(lake, SAMPLES / "headline" / "2025-08_major_exports_usd.csv"):
        pass
    assert not (lake / "catalog.duckdb").exists()
    result = cli("run", "--lake", str(lake))
    assert result.code == 0 and result.stdout.startswith("published"), result.output
    assert query_catalog(str(lake / "catalog.duckdb"), AUG_2025) == [(5792.0,)]


def test_the_gate_blocks_a_hidden_unit_error_and_the_old_catalog_stays(cli, prefect_api: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    detailed = sorted((SAMPLES / "detailed").glob("*.csv"))
    first = cli("ingest", *map(str, detailed), "--lake", str(lake))
    assert first.code == 0, first.output
    catalog = lake / "catalog.duckdb"
    before = catalog.read_bytes()
    us_july = (
        "SELECT quantity_t FROM ree.exports_monthly WHERE series_id = 'gacc_magnets_850511' "
        "AND period = '2025-07-01' AND partner = 'US'"
    )
    assert query_catalog(str(catalog), us_july) == [(619.0,)]
    # A corrected file of the same release: the US July general-trade row filed 5x too heavy. Row rules let it
    # through (they look for ~1,000x slips); the gate's unit values do not.
    text = detailed[1].read_text(encoding="utf-8-sig")
    line = "202507,8505111000,稀土永磁体,502,美国,一般贸易,478736,千克,,,"
    assert line in text
    bad = tmp_path / "2025_magnets_8505111000_usd_corrected.csv"
    bad.write_text(text.replace(line, line.replace(",478736,", ",2393680,")), encoding="utf-8-sig")
    blocked = cli("ingest", str(bad), "--lake", str(lake))
    assert blocked.code == 3, blocked.output
    assert "\nblocked: quality gate blocked publishing" in blocked.stdout and "unit value" in blocked.stdout
    assert catalog.read_bytes() == before  # the previous publication stays exactly as it was
    assert query_catalog(str(catalog), us_july) == [(619.0,)]
    report = (lake / "reports" / "latest" / "index.html").read_text(encoding="utf-8")
    assert "blocked" in report and "unit value" in report
    assert 'id="chart-destinations"' in report  # a blocked run's report still draws the curated tables
    docs = lake / "reports" / "latest" / "data_docs" / "index.html"
    assert docs.exists() and "https://" not in docs.read_text(encoding="utf-8")
    # The run left a Prefect artifact: suites with their counts, and the report's location.
    import json
    import urllib.request

    with urllib.request.urlopen(f"{prefect_api}/artifacts/reewatch-quality-gate/latest", timeout=10) as response:
        artifact = json.load(response)
    assert "quality gate blocked publishing" in artifact["data"]
    assert "| exports_monthly |" in artifact["data"] and "index.html" in artifact["data"]


def test_a_command_line_run_sends_flow_run_heartbeats_only_if_their_frequency_is_set(  # type: ignore[no-untyped-def]
    cli, prefect_api: str, tmp_path: Path
) -> None:
    """Prefect's heartbeats cost a command-line run up to a second at its end; they are sent only when asked for."""
    release = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
    heartbeats: dict[bool, list[dict[str, object]]] = {}
    for asked in (False, True):
        lake = tmp_path / f"lake-{asked}"
        env = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"} if asked else {}
        done = cli("ingest", str(release), "--lake", str(lake), env=env)
        assert done.code == 0, done.output
        flow_run = _flow_run_of(prefect_api, lake)
        heartbeats[asked] = _events(prefect_api, "prefect.flow-run.heartbeat", f"prefect.flow-run.{flow_run}")
    assert heartbeats[True], "a run with the frequency set sends Prefect's heartbeat at its start"
    assert heartbeats[False] == []


def _events(api: str, name: str, resource: str) -> list[dict[str, object]]:
    return server_events(api, {"event": {"name": [name]}, "resource": {"id": [resource]}})


def _flow_run_of(api: str, lake: Path) -> str:
    """The id of the flow run that published `lake`, once the server has stored the run's final state (the server
    writes events in batches: by then it holds everything the run sent)."""
    deadline = time.monotonic() + 60  # generous: other test processes share the cores
    while time.monotonic() < deadline:
        published = _events(api, "reewatch.run.published", f"reewatch.lake.{lake}")
        if published:
            related = published[0]["related"]
            assert isinstance(related, list)
            flow_run = next(r["prefect.resource.id"] for r in related if r["prefect.resource.role"] == "flow-run")
            flow_run = flow_run.removeprefix("prefect.flow-run.")
            if _events(api, "prefect.flow-run.Completed", f"prefect.flow-run.{flow_run}"):
                return str(flow_run)
        time.sleep(0.5)
    raise AssertionError(f"the server recorded no finished run publishing {lake} within 60 s")
