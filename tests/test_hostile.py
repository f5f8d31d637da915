"""The hostile corpus (tests/fixtures/hostile/) through the real pipeline: every file gets a clear outcome, its bytes
are archived, nothing in it runs, the good release beside it is published, and no secret leaks anywhere.

The expected outcome of each file is the table in tests/fixtures/hostile/README.md: the test reads it, so the table
and the test cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import boto3
import duckdb
import httpx
import pytest

from conftest import FIXTURES, PLANTED_SECRET, REEWATCH, ROOT, SAMPLES, new_bucket, query_catalog
from reewatch.sources import parse_release_file
from reewatch.sources.base import UnreadableRelease

HOSTILE = FIXTURES / "hostile"
GOOD = SAMPLES / "headline" / "2025-08_major_exports_usd.csv"
AUG_2025 = (
    "SELECT quantity_t FROM ree.exports_monthly WHERE series_id = 'gacc_rare_earths' "
    "AND period = '2025-08-01' AND partner = 'WORLD'"
)
FORMULA_MARKER = "HOSTILE-FORMULA-RAN"  # scripts/make_hostile.py points its formulas at files of this name
SQL = "'; DROP TABLE releases; --"


@dataclass(frozen=True)
class Expected:
    file: str
    status: str
    rules: frozenset[str]  # quarantine rules, for (partly_)quarantined files
    words: str  # words of the failure message, or of the warning of a file that loads nothing


def expectations() -> list[Expected]:
    """The table of tests/fixtures/hostile/README.md."""
    found = []
    for line in (HOSTILE / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 4 or cells[0] in ("file", "---"):
            continue
        name, _, status, expected = cells
        quarantine = status in ("quarantined", "partly_quarantined")
        rules = frozenset(r.strip() for r in expected.split(",")) if quarantine else frozenset()
        words = "" if quarantine else expected.removeprefix("warning:").strip()
        found.append(Expected(name, status, rules, words))
    return found


EXPECTED = expectations()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the corpus itself ----------------------------------------------------------------------------------------------


def test_the_corpus_is_what_the_generator_writes_and_the_readme_lists(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_hostile.py"), "--out-dir", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    generated = {p.name: p.read_bytes() for p in out.iterdir()}
    committed = {p.name: p.read_bytes() for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert generated == committed  # deterministic, and nothing committed by hand
    assert len(committed) >= 30 and all(len(data) < 200 * 1024 for data in committed.values())
    assert sorted(e.file for e in EXPECTED) == sorted(committed)
    assert len({hashlib.sha256(d).digest() for d in committed.values()}) == len(committed)  # no two alike
    families = {name.split("_")[0] for name in committed}
    assert {"headline", "detailed", "comtrade", "survey", "usgs", "press"} <= families


BOMBS = ["headline_zip_bomb.xlsx", "headline_sparse_bomb.xlsx", "headline_xml_bomb.xlsx", "survey_sparse_bomb.xlsx"]


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_are_refused_quickly_in_little_memory(name: str) -> None:
    """Small files that unpack to gigabytes (zip), billions of cells (sparse sheet) or of characters (entities)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(UnreadableRelease) as refused:
            parse_release_file(HOSTILE / name, name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 20
    assert peak < 100 * 1024 * 1024, f"{name} took {peak:,} bytes before it was refused"
    expected = next(e for e in EXPECTED if e.file == name)
    assert expected.words in str(refused.value)


def _long_headline() -> list[str]:
    """The good headline release, 80 more commodity rows making it longer than the first 4 KB that detection reads."""
    lines = GOOD.read_text(encoding="utf-8").splitlines()
    fillers = [f'Hostile filler {i},Ton,"1.0","2.0","3.0","4.0","5.0","6.0",1.0,1.0' for i in range(80)]
    return lines[:5] + fillers + lines[5:]


@pytest.mark.parametrize(
    "source",
    [
        "headline",
        SAMPLES / "press" / "reported_export_figures.csv",
        SAMPLES / "surveys" / "euccc_2025_09_licences_applications.csv",
        FIXTURES / "comtrade" / "china_exports_850511_2025.csv",
        FIXTURES / "comtrade" / "china_exports_2805_2846.json",
    ],
    ids=lambda source: source if isinstance(source, str) else source.name,
)
def test_a_nul_byte_past_the_first_4_kb_fails_a_small_text_file(tmp_path: Path, source: str | Path) -> None:
    # Only the first 4 KB were looked at: a NUL further down loaded as part of a label ('Filler\x0070') and reached
    # the report. These layouts are small: the whole file is checked.
    if source == "headline":
        data = ("\n".join(_long_headline()) + "\n").encode()
        name = "2025-08_long.csv"
    else:
        data, name = Path(source).read_bytes(), Path(source).name
    at = data.rstrip().rfind(b"\n") + 3  # inside the last line
    assert at > 4096, "the file is too short for the test"
    path = tmp_path / name
    path.write_bytes(data[:at] + b"\x00" + data[at:])
    with pytest.raises(UnreadableRelease, match=r"binary content \(NUL bytes"):
        parse_release_file(path, name, tmp_path / "scratch")


def test_the_zip_bomb_really_is_one() -> None:
    """The guard is tested against a real bomb: its members declare gigabytes and really inflate ~1,000×."""
    import zipfile

    with zipfile.ZipFile(HOSTILE / "headline_zip_bomb.xlsx") as archive:
        members = archive.infolist()
        assert sum(m.file_size for m in members) > 4 * 1024**3
        sheet = next(m for m in members if m.filename == "xl/worksheets/sheet1.xml")
        assert sheet.file_size > 1000 * sheet.compress_size * 0.9


# --- one run over the whole corpus --------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag and attribute name of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


def _warehouse(lake: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(lake / "_state" / "warehouse.duckdb"), read_only=True)


def _check_outcomes(con: duckdb.DuckDBPyConnection) -> None:
    """Each hostile file has the release status, quarantine rules or message the README table gives it."""
    problems = []
    for expected in EXPECTED:
        rows = con.execute(
            "SELECT release_id, status, message FROM releases WHERE file_name = ?", [expected.file]
        ).fetchall()
        if len(rows) != 1:
            problems.append(f"{expected.file}: {len(rows)} release rows")
            continue
        release_id, status, message = rows[0]
        if status != expected.status or not message.startswith(f"{expected.file}: "):
            problems.append(f"{expected.file}: {status} '{message}', expected {expected.status}")
        quarantined = con.execute(
            "SELECT source_row, rule, message FROM quarantined_rows WHERE release_id = ?", [release_id]
        ).fetchall()
        rules = {rule for _, rule, _ in quarantined}
        if rules != expected.rules:
            problems.append(f"{expected.file}: rules {sorted(rules)}, expected {sorted(expected.rules)}")
        for source_row, _, text in quarantined:  # each row's message names the file and the row
            if not text.startswith(f"{expected.file} row {source_row}: "):
                problems.append(f"{expected.file}: quarantine message {text!r} names no file and row")
        if not all(rule in message for rule in expected.rules):  # the release's message names the rules
            problems.append(f"{expected.file}: '{message}' does not name {sorted(expected.rules)}")
        if status == "failed" and expected.words not in message:
            problems.append(f"{expected.file}: failure '{message}' lacks '{expected.words}'")
        if status == "loaded" and expected.words:
            warnings = [w for (w,) in con.execute("SELECT message FROM load_warnings WHERE release_id = ?",
                                                  [release_id]).fetchall()]  # fmt: skip
            if not any(expected.words in w and w.startswith(f"{expected.file}: ") for w in warnings):
                problems.append(f"{expected.file}: no warning with '{expected.words}' in {warnings}")
    assert not problems, "\n".join(problems)


@pytest.mark.e2e
def test_hostile_corpus_through_one_run(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    files = [GOOD, *sorted(p for p in HOSTILE.iterdir() if p.name != "README.md")]
    result = cli("ingest", *map(str, files), "--lake", str(lake), env={"AWS_SECRET_ACCESS_KEY": PLANTED_SECRET})

    # Bad files and rows are allowed: the run publishes (CONTRACT.md §1, exit 0) and says what it set aside.
    assert result.code == 0, result.output[-3000:]
    assert f"files in: {len(files)}" in result.stdout
    assert "Traceback" not in result.output and "could not parse it" not in result.output  # no parser bug
    assert query_catalog(str(lake / "catalog.duckdb"), AUG_2025) == [(5792.0,)]

    # Every byte that was landed is archived, whatever became of the file.
    for path in files:
        archived = lake / "raw" / sha256(path)
        assert archived.is_file() and archived.read_bytes() == path.read_bytes(), path.name

    with _warehouse(lake) as con:
        _check_outcomes(con)
        # SQL in labels is data: the tables it names are intact and the label is stored as written.
        assert con.execute("SELECT count(*) FROM releases").fetchone() == (len(files),)
        assert con.execute("SELECT count(*) FROM observations WHERE commodity = ?", [SQL]).fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM survey_results WHERE survey_id = ?", [SQL]).fetchone()[0] > 0
    quoted = SQL.lower().replace("'", "''")
    assert query_catalog(
        str(lake / "catalog.duckdb"),
        f"SELECT count(*) FROM ree.exports_monthly WHERE series_id = 'gacc_commodity:{quoted}'",
    ) == [(1,)]

    # No formula ran: nothing was created by one, and the DDE payload is plain text in the catalog.
    assert not list(tmp_path.rglob(f"*{FORMULA_MARKER}*")) and not Path("/tmp", FORMULA_MARKER).exists()
    assert query_catalog(
        str(lake / "catalog.duckdb"),
        "SELECT count(*) FROM ree.exports_monthly WHERE series_id LIKE 'gacc_commodity:=cmd|%'",
    ) == [(2,)]  # from the CSV (July 2019) and the workbook (February 2019)

    # The report shows the hostile labels as text: no element or event handler of theirs made it into the page.
    page = (lake / "reports" / "latest" / "index.html").read_text(encoding="utf-8")
    elements = _Elements()
    elements.feed(page)
    assert "script" not in elements.tags and "img" not in elements.tags and "b" not in elements.tags
    assert not [name for name in elements.attributes if name.startswith("on")]
    assert "&lt;script&gt;alert(&#34;reewatch&#34;)&lt;/script&gt;" in page  # shown, escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:alert(1)" not in re.findall(r"href=\"([^\"]*)\"", page)
    summary = json.loads((lake / "reports" / "latest" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["status"] == "published"

    # reewatch exports no CSV or XLSX (Parquet, JSON and HTML only), so no spreadsheet could run the DDE payload.
    exported = {p.suffix for p in lake.rglob("*") if p.is_file() and "landing" not in p.parts and "raw" not in p.parts}
    assert not exported & {".csv", ".xlsx", ".xls"}, exported

    # The planted secret is nowhere in what the run wrote or said.
    assert PLANTED_SECRET not in result.output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PLANTED_SECRET.encode() not in path.read_bytes(), path


# --- landing keys that try to escape ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_symlink_in_local_landing_is_never_read(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The local form of a '../' key: a link in landing/ that points outside the lake (a credentials file, say)."""
    lake = tmp_path / "lake"
    bait = tmp_path / "credentials.csv"
    bait.write_text(f"aws_secret_access_key,{PLANTED_SECRET}\n")
    (lake / "landing").mkdir(parents=True)
    (lake / "landing" / "escape.csv").symlink_to(bait)
    (lake / "landing" / "up.csv").symlink_to(Path("..") / ".." / "credentials.csv")
    result = cli("ingest", str(GOOD), "--lake", str(lake))
    assert result.code == 0, result.output[-3000:]
    assert "landing/escape.csv" in result.stderr and "unsafe" in result.stderr  # said, every run
    assert query_catalog(str(lake / "catalog.duckdb"), AUG_2025) == [(5792.0,)]
    assert not (lake / "raw" / sha256(bait)).exists()
    assert [p.name for p in (lake / "raw").iterdir()] == [sha256(GOOD)]
    assert PLANTED_SECRET not in result.output
    for path in lake.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert PLANTED_SECRET.encode() not in path.read_bytes(), path


def _bucket_objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]  # fmt: skip
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _prefect_records(api: str) -> str:
    """Everything the Prefect server keeps about runs — logs, artifacts, flow and task runs, events — as JSON text."""
    records = []
    with httpx.Client(base_url=api, timeout=30) as client:
        for path in ("/logs/filter", "/artifacts/filter", "/flow_runs/filter", "/task_runs/filter"):
            offset = 0
            while True:
                page = client.post(path, json={"limit": 200, "offset": offset})
                page.raise_for_status()
                batch = page.json()
                records += batch
                if len(batch) < 200:
                    break
                offset += 200
        events = client.post("/events/filter", json={"limit": 50})
        if events.status_code == 200:
            records.append(events.json())
    return json.dumps(records, ensure_ascii=False)


ESCAPING_KEYS = [
    "landing/../../outside.csv",  # normalised, team/outside.csv: outside the lake
    "landing/a/../../../outside.csv",
    "landing/../raw/0000",
    "landing/./dot.csv",
    "landing//double-slash.csv",
]


@pytest.mark.e2e
def test_s3_run_with_escaping_keys_and_a_planted_secret(
    cli, s3_endpoint: str, prefect_api: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(s3_endpoint)
    url = f"s3://{bucket}/team/lake"
    env = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET, "AWS_MAX_ATTEMPTS": "1"}
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    bait = b"series_id,period\nnever-read,2019-01\n"
    s3.put_object(Bucket=bucket, Key="team/outside.csv", Body=bait)  # what the escaping keys point at
    for key in ESCAPING_KEYS:
        s3.put_object(Bucket=bucket, Key=f"team/lake/{key}", Body=bait + key.encode())
    files = [GOOD, *sorted(p for p in HOSTILE.iterdir() if p.name != "README.md")]
    for path in files:
        s3.put_object(Bucket=bucket, Key=f"team/lake/landing/hostile/{path.name}", Body=path.read_bytes())

    result = cli("run", "--lake", url, env=env)
    status = cli("status", "--lake", url, env=env)

    assert result.code == 0, result.output[-3000:]
    assert "Traceback" not in result.output
    for key in ESCAPING_KEYS:  # each refused by name, never read, still there for its owner to rename
        assert repr(key) in result.stderr
    objects = _bucket_objects(s3_endpoint, bucket)
    assert all(f"team/lake/{key}" in objects for key in ESCAPING_KEYS)
    raw = {key.rsplit("/", 1)[1]: data for key, data in objects.items() if key.startswith("team/lake/raw/")}
    assert sorted(raw) == sorted(sha256(p) for p in files)  # every landed file, and nothing an escaping key named
    assert all(hashlib.sha256(data).hexdigest() == name for name, data in raw.items())
    assert not any(k.startswith("team/") and not k.startswith(("team/lake/", "team/outside.csv")) for k in objects)
    assert query_catalog(f"{url}/catalog.duckdb", AUG_2025, env=env) == [(5792.0,)]

    # The secret is in no output, no object (warehouse, catalogs, Parquet, reports), no local state, no Prefect record.
    secret = PLANTED_SECRET.encode()
    assert PLANTED_SECRET not in result.output + status.output
    assert "team/lake/_state/warehouse.duckdb" in objects and any(k.endswith(".parquet") for k in objects)
    leaked = [key for key, data in objects.items() if secret in data]
    assert not leaked, leaked
    state = Path(os.environ["REEWATCH_STATE_DIR"])
    assert state.is_dir()
    for path in [*state.rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file():
            assert secret not in path.read_bytes(), path
    prefect = _prefect_records(prefect_api)
    assert "headline_zip_bomb.xlsx" in prefect and bucket in prefect  # the records of this very run were read
    assert PLANTED_SECRET not in prefect


# --- the 1 GB line --------------------------------------------------------------------------------------------------


def _write_with_huge_line(path: Path, before: str, size: int, after: str) -> None:
    """Text, then one line of `size` bytes, streamed in 1 MB chunks (never held in memory)."""
    chunk = b"x" * (1 << 20)
    with path.open("wb") as out:
        out.write(before.encode())
        for _ in range(size // len(chunk)):
            out.write(chunk)
        out.write(after.encode())


@pytest.mark.chaos
def test_a_one_gigabyte_line_is_refused_without_reading_it_into_memory(tmp_path: Path, prefect_api: str) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_hostile import DETAILED_HEADER

    gigabyte = 1 << 30
    headline = tmp_path / "headline_gigabyte_line.csv"
    _write_with_huge_line(
        headline,
        "Table 5 China's Major Exports by Quantity and Value (in USD), March 2019\r\nUnit: USD1 Million\r\n"
        "Commodity,Unit,March,,January to March,\r\n,,Quantity,Value,Quantity,Value\r\nHostile ",
        gigabyte,
        ",Ton,1.0,1.0,1.0,1.0\r\n",
    )
    detailed = tmp_path / "detailed_gigabyte_line.csv"
    _write_with_huge_line(
        detailed, f"{DETAILED_HEADER}\r\n201903,2846901100,", gigabyte, ",502,美国,一般贸易,1,千克,,,5\r\n"
    )
    lake = tmp_path / "lake"
    # A separate wrapper process, so that its children's peak memory is this run's alone.
    program = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(done.stdout + done.stderr)\n"
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_HOME": str(tmp_path / "prefect-client")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", program, str(REEWATCH), "ingest", str(GOOD), str(headline), str(detailed),
         "--lake", str(lake)],
        capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    code, peak_kb = map(int, done.stdout.split())
    assert code == 0, done.stderr[-3000:]
    assert peak_kb < 1_500_000, f"peak RSS {peak_kb:,} kB: the 1 GB line was read into memory"
    assert time.monotonic() - started < 600
    with _warehouse(lake) as con:
        outcomes = dict(con.execute("SELECT file_name, message FROM releases WHERE status = 'failed'").fetchall())
    assert "reewatch reads for a headline file" in outcomes[headline.name]
    assert "a line is longer than 2 MB" in outcomes[detailed.name]
    assert query_catalog(str(lake / "catalog.duckdb"), AUG_2025) == [(5792.0,)]


def test_a_raw_record_nested_too_deeply_is_stored_as_a_note() -> None:
    """A JSON record deep enough to pass the parser can still break json.dumps in the loader's quarantine."""
    from reewatch.sources.base import record_json

    nested: dict[str, object] = {}
    inner = nested
    for _ in range(100_000):
        inner["x"] = {}
        inner = inner["x"]  # type: ignore[assignment]
    assert "nested too deeply" in json.loads(record_json({"netWgt": nested}))["unstorable_record"]
    assert json.loads(record_json({"a": "<script>"})) == {"a": "<script>"}
