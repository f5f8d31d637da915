"""Publishing for BI, proven with real clients in separate processes: the DuckDB shell, Python duckdb and
SQLAlchemy + duckdb-engine, on a local lake and over S3; readers during a publication; a publisher killed
mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES, new_bucket, query_catalog
from reewatch.warehouse import extension_file

pytestmark = pytest.mark.e2e

AUG_2025 = (
    "SELECT quantity_t FROM ree.exports_monthly WHERE series_id = 'gacc_rare_earths' "
    "AND period = '2025-08-01' AND partner = 'WORLD'"
)
HEADLINES = sorted((SAMPLES / "headline").glob("2025-*_major_exports_usd.csv"))


def publish_files(url: str, files: list[Path], run_id: str) -> None:
    """Land files and run the pipeline's steps (without Prefect): one new publication."""
    from reewatch.config import load_settings
    from reewatch.curate import build_curated
    from reewatch.ingest import ingest_landed, new_landing_files
    from reewatch.lake import open_lake
    from reewatch.landing import land_file
    from reewatch.publish import publish
    from reewatch.warehouse import Warehouse

    settings = load_settings(url)
    lake = open_lake(settings.lake, settings.s3() if settings.is_s3 else None)
    for path in files:
        land_file(lake, path, settings.state_dir)
    warehouse = Warehouse(settings, lake)
    with warehouse.writer() as con:
        for obj in new_landing_files(lake, con):
            ingest_landed(lake, con, obj, run_id, warehouse.work_dir)
        build_curated(con)
        publish(con, lake, settings, run_id, run_id)


def s3_preamble(endpoint: str) -> str:
    host = endpoint.removeprefix("http://")
    return (
        f"LOAD '{extension_file('httpfs')}'; "
        f"CREATE SECRET (TYPE s3, KEY_ID 'testing', SECRET 'testing', REGION 'us-east-1', ENDPOINT '{host}', "
        "URL_STYLE 'path', USE_SSL false); "
    )


def duckdb_shell(sql: str) -> str:
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "duckdb"), "-csv", "-noheader", "-c", sql],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]  # the last statement's answer (CREATE SECRET prints 'true')


def sqlalchemy_client(catalog: str, sql: str, preamble: str = "") -> str:
    program = (
        "import sys, sqlalchemy as sa\n"
        "catalog, sql, preamble = sys.argv[1:4]\n"
        "if preamble:\n"
        "    engine = sa.create_engine('duckdb:///:memory:')\n"
        "    @sa.event.listens_for(engine, 'connect')\n"
        "    def attach(dbapi, record):\n"
        "        for statement in (preamble + f\"ATTACH '{catalog}' AS ree (READ_ONLY)\").split('; '):\n"
        "            dbapi.execute(statement)\n"
        "    sql = sql\n"
        "else:\n"
        "    engine = sa.create_engine(f'duckdb:///{catalog}', connect_args={'read_only': True})\n"
        "    sql = sql.replace('ree.', '')\n"
        "with engine.connect() as con:\n"
        "    print(con.execute(sa.text(sql)).scalar())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, catalog, sql, preamble], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_three_clients_read_a_local_catalog(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    publish_files(str(lake), HEADLINES, "v1")
    catalog = str(lake / "catalog.duckdb")
    assert duckdb_shell(f"ATTACH '{catalog}' AS ree (READ_ONLY); {AUG_2025}") == "5792.0"
    assert query_catalog(catalog, AUG_2025) == [(5792.0,)]
    assert sqlalchemy_client(catalog, AUG_2025) == "5792.0"
    comment = duckdb_shell(
        f"ATTACH '{catalog}' AS ree (READ_ONLY); SELECT comment FROM duckdb_views() "
        "WHERE database_name = 'ree' AND view_name = 'exports_monthly'"
    )
    assert "latest vintage" in comment


def test_three_clients_read_a_catalog_over_s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(url, HEADLINES, "v1")
    catalog = f"{url}/catalog.duckdb"
    preamble = s3_preamble(s3_endpoint)
    assert duckdb_shell(f"{preamble}ATTACH '{catalog}' AS ree (READ_ONLY); {AUG_2025}") == "5792.0"
    assert query_catalog(catalog, AUG_2025, env={"AWS_ENDPOINT_URL": s3_endpoint}) == [(5792.0,)]
    assert sqlalchemy_client(catalog, AUG_2025, preamble) == "5792.0"


READER = """
import sys, time
from reewatch.config import S3Settings
from reewatch.warehouse import connect
catalog, seconds, retries_allowed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
answers, retries, deadline = 0, 0, time.monotonic() + seconds
while time.monotonic() < deadline:
    con = connect(s3=S3Settings.from_environment() if catalog.startswith("s3://") else None)
    try:
        con.execute(f"ATTACH '{catalog}' AS ree (READ_ONLY)")
    except Exception:
        # Over S3 DuckDB reads the catalog in byte ranges, and S3 pins no object version across them: an ATTACH
        # that coincides with a swap can fail to read. It never yields a mixed version; attaching again works.
        retries += 1
        if retries > retries_allowed:
            raise
        con.close()
        continue
    versions, releases = con.execute(
        "SELECT (SELECT count(*) FROM ree.publications), (SELECT count(*) FROM ree.releases)").fetchone()
    # Version n was published after landing n files: a mixed or half-written version would break this.
    assert versions == releases, (versions, releases)
    con.close()
    answers += 1
print(answers, retries)
"""


def test_readers_always_see_one_complete_version_while_publishing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REEWATCH_KEEP_VERSIONS", "50")
    lake = tmp_path / "lake"
    publish_files(str(lake), HEADLINES[:1], "v01")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(lake / "catalog.duckdb"), "12", "0"],  # locally: no retry, ever
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for number, path in enumerate(HEADLINES[1:8], start=2):
        publish_files(str(lake), [path], f"v{number:02d}")
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    answers, retries = map(int, out.split())
    assert answers > 10 and retries == 0  # it really queried throughout, and never failed
    assert query_catalog(str(lake / "catalog.duckdb"), "SELECT count(*) FROM ree.publications") == [(8,)]


def test_a_publisher_killed_mid_write_leaves_the_previous_version_and_the_next_run_completes(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    publish_files(str(lake), HEADLINES[:6], "v1")
    catalog = str(lake / "catalog.duckdb")
    before = query_catalog(catalog, "SELECT count(*) FROM ree.releases")
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); from test_bi_clients import publish_files; "
        "from pathlib import Path; publish_files(sys.argv[2], [Path(p) for p in sys.argv[3:]], 'v2')"
    )
    publisher = subprocess.Popen(
        [sys.executable, "-c", program, str(ROOT / "tests"), str(lake), *map(str, HEADLINES[6:])],
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'tests'}:{ROOT / 'src'}"},
    )
    published = lake / "published"
    deadline = time.monotonic() + 60
    while not (published / "v2").exists() and time.monotonic() < deadline and publisher.poll() is None:
        time.sleep(0.005)
    os.kill(publisher.pid, signal.SIGKILL)  # the new version's files have started; its catalog swap has not
    publisher.wait()
    assert (published / "v2").exists()
    assert query_catalog(catalog, "SELECT count(*) FROM ree.releases") == before  # still the previous version
    assert query_catalog(catalog, AUG_2025) == []  # August lands with the killed version, so not yet
    result = cli("run", "--lake", str(lake))
    assert result.code == 0 and result.stdout.startswith("published"), result.output
    assert query_catalog(catalog, "SELECT count(*) FROM ree.releases") == [(len(HEADLINES),)]
    assert query_catalog(catalog, AUG_2025) == [(5792.0,)]


def test_an_older_version_stays_queryable_through_its_own_catalog(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    publish_files(str(lake), HEADLINES[:6], "v1")
    publish_files(str(lake), HEADLINES[6:], "v2")
    catalog = str(lake / "catalog.duckdb")
    versions = query_catalog(catalog, "SELECT version, catalog FROM ree.publications ORDER BY version")
    assert [v for v, _ in versions] == ["v1", "v2"]
    old_catalog = versions[0][1]
    assert query_catalog(old_catalog, "SELECT count(*) FROM ree.releases") == [(6,)]  # as it was
    assert query_catalog(catalog, "SELECT count(*) FROM ree.releases") == [(len(HEADLINES),)]


def test_readers_over_s3_see_one_complete_version_while_publishing(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("REEWATCH_KEEP_VERSIONS", "50")
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(url, HEADLINES[:1], "v01")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, f"{url}/catalog.duckdb", "15", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for number, path in enumerate(HEADLINES[1:5], start=2):
        publish_files(url, [path], f"v{number:02d}")
    out, err = reader.communicate(timeout=180)
    assert reader.returncode == 0, err
    answers, retries = map(int, out.split())
    assert answers > 3 and retries <= 4  # every answer one whole version; an ATTACH during a swap is retried


def test_a_catalog_attached_over_s3_answers_from_its_own_version_after_the_next_swap(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The swap lands between an analyst's ATTACH and their first query: every answer still comes from the version
    they attached (DuckDB reads a table's rows only at the first query, so the catalog must hold none)."""
    from reewatch.config import S3Settings
    from reewatch.lake import open_lake
    from reewatch.warehouse import connect

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    url = f"s3://{new_bucket(s3_endpoint)}/lake"
    publish_files(url, HEADLINES[:4], "v1")
    publish_files(url, HEADLINES, "v2")
    lake = open_lake(url)
    for version in ("v1", "v2"):
        lake.download(f"published/{version}/catalog.duckdb", tmp_path / f"{version}.duckdb")
    lake.write_file("catalog.duckdb", tmp_path / "v1.duckdb")  # an analyst attaches while v1 is current
    con = connect(s3=S3Settings.from_environment())
    try:
        con.execute(f"ATTACH '{url}/catalog.duckdb' AS ree (READ_ONLY)")
        lake.write_file("catalog.duckdb", tmp_path / "v2.duckdb")  # the next publication's swap
        kept = con.execute("SELECT version FROM ree.publications ORDER BY published_at").fetchall()
        views = con.execute(
            "SELECT sql FROM duckdb_views() WHERE database_name = 'ree' AND view_name <> 'publications'"
        ).fetchall()
        releases = con.execute("SELECT count(*) FROM ree.releases").fetchone()
    finally:
        con.close()
    assert kept == [("v1",)]
    assert {sql.split("/published/")[1].split("/")[0] for (sql,) in views} == {"v1"}
    assert releases == (4,)
