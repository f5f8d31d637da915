"""The stakeholder report: its facts, its sections, its escaping, and the demo's page as headless Chromium renders it.

Chromium is Debian's `chromium` (`make test` and `.ci/run` install it when it is missing). "No failed network
requests" is shown three ways, each covering the others' blind spots:
1. statically: no tag or attribute of the page references anything outside it (src, href, url(), @import …);
2. Chromium runs with every host name resolving to nothing (`--host-resolver-rules=MAP * ~NOTFOUND`), so even a
   request the static check missed could not leave the machine;
3. through the DevTools protocol (over `websockets`, which Prefect already brings), every request the page made is
   recorded: all of them must be the page's own file:// URL, and none may fail. A control page with one external
   image proves the recorder sees such a request.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, SAMPLES, loaded_lake
from reewatch.lake import open_lake
from reewatch.report import RunSummary, gather, render_html, write_report
from reewatch.report.charts import TOP_DESTINATIONS, destinations_spec, render_charts, safe_svg, series_spec

SCRIPT = "<script>alert(1)</script>"
# A payload that would leave a trace in the DOM if it ever ran.
PWN = "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
SAMPLE_SUFFIXES = {".csv", ".xlsx", ".xls"}


# --- Chromium ------------------------------------------------------------------------------------------------------


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (make test installs it: apt-get install chromium)")
    return binary


def chromium_args(profile: Path) -> list[str]:
    return [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing can leave the machine, whatever the page asks for
    ]  # fmt: skip


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM after the page loaded and any script ran (`--dump-dom`)."""
    done = subprocess.run(
        [*chromium_args(profile), "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@dataclass
class Rendered:
    dom: str
    requests: list[str]
    failures: list[str]
    overflow_at_phone_width: int  # px the page is wider than a 390 px phone screen
    screenshot: Path
    pdf_bytes: int
    events: list[dict[str, Any]] = field(default_factory=list)


class DevTools:
    """A minimal Chrome DevTools Protocol client over one websocket (browser endpoint, flat sessions)."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url, max_size=None, open_timeout=30)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            data = json.loads(self.ws.recv(timeout=60))
            if data.get("id") == self.next_id:
                assert "error" not in data, (method, data["error"])
                return dict(data.get("result") or {})
            self.events.append(data)
        raise TimeoutError(method)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(method)
            self.events.append(json.loads(self.ws.recv(timeout=remaining)))

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=remaining)))
            except TimeoutError:
                return

    def close(self) -> None:
        self.ws.close()


@contextlib.contextmanager
def open_browser(profile: Path) -> Iterator[DevTools]:
    """Headless Chromium with remote debugging on a free loopback port; its DevTools client."""
    port_file = profile / "DevToolsActivePort"  # Chromium writes its port here once it listens
    port_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [*chromium_args(profile), "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            assert process.poll() is None, "chromium exited before it listened"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        tools = DevTools(f"ws://127.0.0.1:{port}{path}")
        try:
            yield tools
        finally:
            tools.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    with open_browser(tmp_path / "chromium-profile") as tools:
        yield tools


def render(browser: DevTools, page: Path, screenshot: Path) -> Rendered:
    """Open the page in a fresh tab with network recording on; the DOM, the requests, a screenshot, a phone check
    and a print to PDF."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    browser.send("Network.enable", session=session)
    browser.send("Page.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)  # fmt: skip
    browser.send("Page.navigate", {"url": page.as_uri()}, session)
    browser.wait_for("Page.loadEventFired")
    browser.drain(0.5)  # anything the page might still start after load
    mine = [e for e in browser.events if e.get("sessionId") == session]
    requests = [e["params"]["request"]["url"] for e in mine if e.get("method") == "Network.requestWillBeSent"]
    failures = [
        f"{e['params'].get('errorText')} ({e['params'].get('requestId')})"
        for e in mine if e.get("method") == "Network.loadingFailed"
    ]  # fmt: skip

    def evaluate(expression: str) -> Any:
        result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return result["result"].get("value")

    dom = evaluate("document.documentElement.outerHTML")
    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}, session)  # fmt: skip
    overflow = evaluate("document.documentElement.scrollWidth - window.innerWidth")
    pdf = browser.send("Page.printToPDF", {}, session)
    browser.send("Target.closeTarget", {"targetId": target})
    return Rendered(dom, requests, failures, int(overflow), screenshot, len(base64.b64decode(pdf["data"])), mine)


class _References(HTMLParser):
    """Every reference in a page that a browser could fetch without a click, and every external link."""

    FETCHED = {"src", "srcset", "poster", "data", "background", "action", "formaction", "ping", "manifest",
               "xlink:href", "lowsrc", "longdesc", "codebase", "archive", "cite", "icon"}  # fmt: skip
    FORBIDDEN_TAGS = {"script", "link", "iframe", "frame", "object", "embed", "base", "img", "image", "use",
                      "audio", "video", "source", "track", "meta-refresh"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        self.in_style = tag == "style"
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("xmlns"):
                continue  # namespace names are identifiers, never fetched
            if name in self.FETCHED or (name == "href" and tag != "a"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            elif name == "href" and re.match(r"^(?:[a-z][a-z0-9+.\-]*:|//)", value, re.IGNORECASE):
                self.problems.append(f"external link <a href={value!r}>")
            elif name == "style" and re.search(r"url\s*\(|@import|image-set", value, re.IGNORECASE):
                self.problems.append(f"<{tag} style={value!r}>")
            elif name.startswith("on"):
                self.problems.append(f"event handler <{tag} {name}>")
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style and re.search(r"url\s*\(|@import|@font-face|image-set", data, re.IGNORECASE):
            self.problems.append("stylesheet refers to something outside the page")


def external_references(page_html: str) -> list[str]:
    parser = _References()
    parser.feed(page_html)
    parser.close()
    return parser.problems


# --- Data ----------------------------------------------------------------------------------------------------------


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix.lower() in SAMPLE_SUFFIXES)


def summary(run_id: str = "20251201T000000Z-abcdef", status: str = "published", **kwargs: Any) -> RunSummary:
    return RunSummary(
        run_id=run_id, command="test", lake="/tmp/lake", started_at=datetime(2025, 12, 1, 10, 0, 0),
        finished_at=datetime(2025, 12, 1, 10, 1, 0), status=status, published_version=run_id if status ==
        "published" else None, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def sample_facts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The facts of every bundled sample loaded into a fresh lake (no Prefect)."""
    root = tmp_path_factory.mktemp("samples-lake")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REEWATCH_STATE_DIR", str(root / "state"))
        mp.setenv("HOME", str(root))
        mp.delenv("REEWATCH_LAKE", raising=False)
        with loaded_lake(root / "lake", *sample_files()) as con:
            return gather(con, summary())


def headline_csv(rows: list[str]) -> bytes:
    """A preliminary-release headline table (October 2025) with the given commodity rows."""
    head = [
        '"Table 5 China\'s Major Exports by Quantity and Value (in USD), October 2025"',
        '"Unit: USD1 Million"',
        "Commodity,Unit,October,,January to October,,January to October 2024,,YoY % (January to October),",
        ",,Quantity,Value,Quantity,Value,Quantity,Value,Quantity,Value",
    ]
    tail = ['"Source: General Administration of Customs of the P.R. China"']
    return ("\n".join(head + rows + tail) + "\n").encode("utf-8")


# --- Facts and page ------------------------------------------------------------------------------------------------


def test_facts_answer_the_stakeholders_questions(sample_facts: dict[str, Any]) -> None:
    recent = {(r["series_id"], r["period"]): r for r in sample_facts["recent"]}
    august_re = recent[("gacc_rare_earths", date(2025, 8, 1))]
    august_magnets = recent[("gacc_magnets_850511", date(2025, 8, 1))]
    assert august_re["quantity_t"] == 5792.0 and august_re["yoy_pct"] == pytest.approx(22.63)
    assert august_magnets["quantity_t"] == pytest.approx(6145.623) and august_magnets["is_record"]
    # The last twelve months of both named series, and nothing else.
    assert {r["series_id"] for r in sample_facts["recent"]} == {"gacc_rare_earths", "gacc_magnets_850511"}
    assert min(r["period"] for r in sample_facts["recent"]) == date(2025, 1, 1)
    surveys = {s["survey_id"]: s for s in sample_facts["surveys"]}
    assert float(surveys["euccc_2025_09_licences"]["approval_rate_pct"]) == 13.5
    assert sample_facts["data_docs"] is None
    assert sample_facts["quality"]["suites"] == [] and sample_facts["quality"]["failing"] == []
    lineage = {t["table_name"]: t["releases"] for t in sample_facts["lineage"]}
    files = {r["file_name"] for r in lineage["exports_monthly"]}
    assert "2025-08_major_exports_usd.csv" in files and "2025_magnets_8505111000_usd.csv" in files
    assert all(len(r["release_id"]) == 64 for r in lineage["exports_monthly"])
    assert {r["file_name"] for r in lineage["licence_surveys"]} <= {
        "reported_survey_results.csv", "euccc_2025_09_licences_applications.csv",
    }  # fmt: skip
    assert "quality" not in sample_facts["run"]  # the gate's verdict is in facts["quality"], not twice


def test_page_and_summary_json_carry_the_same_facts(sample_facts: dict[str, Any], tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "lake"))
    location = write_report(lake, sample_facts)
    run_id = sample_facts["run"]["run_id"]
    latest = tmp_path / "lake" / "reports" / "latest"
    assert location.endswith("reports/latest/index.html")
    assert (tmp_path / "lake" / "reports" / run_id / "index.html").read_bytes() == (latest / "index.html").read_bytes()
    page = (latest / "index.html").read_text()
    facts = json.loads((latest / "summary.json").read_text())
    assert set(facts) == set(sample_facts)
    assert facts["data_docs"] is None
    assert any(r["period"] == "2025-08-01" and r["quantity_t"] == 5792.0 for r in facts["recent"])
    for section in ("run-summary", "key-figures", "recent", "charts", "surveys", "quality", "quarantine",
                    "revisions", "claim-checks", "lineage", "releases"):  # fmt: skip
        assert f'id="{section}"' in page, section
    month = re.search(r'<tr id="month-2025-08">(.*?)</tr>', page, re.DOTALL)
    assert month is not None
    assert "5,792.0" in month[1] and "6,145.6" in month[1] and "record" in month[1]
    assert re.search(r'data-survey="euccc_2025_09_licences">.*?13\.5%', page, re.DOTALL)
    # Charts: inline SVG from the library, one per kind of data present.
    assert page.count("<svg") >= 3 and 'id="chart-series"' in page and 'id="chart-approvals"' in page
    assert "Data Docs" not in page  # no link to docs that do not exist
    assert "No quality checks were recorded yet." in page
    assert external_references(page) == []


def test_report_without_data_renders(tmp_path: Path) -> None:
    """A first run that loaded nothing usable still gets a page: every section says what is missing."""
    with loaded_lake(tmp_path / "lake", FIXTURES / "headline" / "no_title.csv") as con:
        facts = gather(con, summary(status="published"))
    page = render_html(facts)
    assert "No export figures are loaded yet." in page and "No survey is loaded yet." in page
    assert "no_title.csv" in page and "<svg" not in page


def test_run_summary_names_the_files_this_run_could_not_read(sample_facts: dict[str, Any]) -> None:
    def outcome(name: str, status: str) -> dict[str, Any]:
        return {"release_id": name * 64, "file_name": f"{name}.csv", "status": status, "rows_in": 0, "rows_loaded": 0,
                "rows_quarantined": 0, "message": f"{name}.csv: no known layout"}  # fmt: skip

    run = {**sample_facts["run"], "files_in": 3, "releases": [outcome("a", "loaded"), outcome("b", "failed"),
                                                              outcome("c", "duplicate")]}  # fmt: skip
    cell = re.search(r'<td id="files-in">(.*?)</td>', render_html({**sample_facts, "run": run}), re.DOTALL)
    assert cell is not None and re.sub(r"<[^>]+>", "", cell[1]) == "3 · 1 could not be read: b.csv"
    every_file_read = re.search(r'<td id="files-in">(.*?)</td>', render_html(sample_facts), re.DOTALL)
    assert every_file_read is not None and every_file_read[1] == str(sample_facts["run"]["files_in"])


def test_blocked_run_says_blocked_and_that_its_figures_are_not_the_published_ones(sample_facts: dict[str, Any]) -> None:
    run = {**sample_facts["run"], "status": "blocked", "published_version": None}
    page = render_html({**sample_facts, "run": run, "current_publication": "20251101T000000Z-aaaaaa"})
    cell = re.search(r'<td id="published-version">(.*?)</td>', page, re.DOTALL)
    assert cell is not None and "blocked" in cell[1] and "previous publication stays" in cell[1]
    assert "version 20251101T000000Z-aaaaaa" in cell[1]
    # Above everything, and again over the key figures: these numbers failed the gate and readers do not see them.
    alert = re.search(r'<div class="alert" id="not-published"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert alert is not None and page.index('id="not-published"') < page.index('id="run-summary"')
    assert "still see version 20251101T000000Z-aaaaaa" in alert[1]
    key_figures = page[page.index('id="key-figures"') : page.index('class="cards"')]
    assert "Not published" in key_figures
    first = render_html({**sample_facts, "run": run, "current_publication": None})
    assert "still see nothing (no version is published yet)" in first
    assert 'id="not-published"' not in render_html(sample_facts)  # a published run has no such warning


def test_no_control_character_from_the_data_reaches_the_page(sample_facts: dict[str, Any]) -> None:
    # Autoescaping leaves NUL and other control characters be; a label carrying one must not put it in the HTML.
    entry = {"release_id": "r1", "file_name": "nul\x00.csv", "source_row": "85", "rule": "number_parses",
             "message": "'Filler\x0070' \x1b[31m \x7f", "raw_record": '{"Commodity": "Filler\\u000070"}'}  # fmt: skip
    page = render_html({**sample_facts, "quarantine": [entry], "quarantine_entries": 1, "quarantined_rows": 1})
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", page)
    assert "Filler\ufffd70" in page and "nul\ufffd.csv" in page  # shown as a browser shows it


def test_the_quarantine_count_is_the_releases_rows_quarantined(tmp_path: Path) -> None:
    hostile = FIXTURES / "hostile"
    with loaded_lake(tmp_path / "lake", hostile / "headline_bad_numbers.csv", hostile / "detailed_hostile_rows.csv") as con:
        facts = gather(con, summary())
        (set_aside,) = con.execute("SELECT sum(rows_quarantined) FROM releases").fetchone()  # type: ignore[misc]
        publication = con.execute("SELECT count(*) FROM publications").fetchone()
    assert facts["quarantined_rows"] == set_aside > 0
    assert facts["quarantine_entries"] == len(facts["quarantine"]) >= set_aside  # a row is listed per rule it broke
    assert publication == (0,) and facts["current_publication"] is None


def test_quarantine_counts_rows_not_rules_and_says_when_it_lists_only_the_first(sample_facts: dict[str, Any]) -> None:
    def entry(row: str, rule: str) -> dict[str, Any]:
        return {"release_id": "r1", "file_name": "a.csv", "source_row": row, "rule": rule, "message": rule,
                "raw_record": "{}"}  # fmt: skip

    twice = [entry("5", "non_negative"), entry("5", "series_range"), entry("6", "non_negative")]
    page = render_html({**sample_facts, "quarantine": twice, "quarantine_entries": 3, "quarantined_rows": 2})
    assert "Quarantine (2 rows, " in page and "2 rows broke 3 rules between them" in page
    assert 'id="quarantine-more"' not in page
    listed = render_html({**sample_facts, "quarantine": twice, "quarantine_entries": 9000, "quarantined_rows": 8000})
    more = re.search(r'<p class="muted" id="quarantine-more">(.*?)</p>', listed, re.DOTALL)
    assert more is not None and "The first 3 of 9000" in more[1] and "quarantined_rows" in more[1]


def test_quality_section_lists_suites_and_failing_expectations_with_example_rows(tmp_path: Path) -> None:
    run_id = "20251201T000000Z-q1q1q1"
    checked = datetime(2025, 12, 1, 10, 0, 30)
    rows = [
        (run_id, "exports_monthly", "exports_monthly", "quantity_t is not negative", "error", True, 0, "0 of 90", checked),
        (run_id, "exports_monthly", "exports_monthly", "ytd identity holds within 2 t", "error", False, 1, "1 offending row(s)", checked),
        (run_id, "exports_monthly", "exports_monthly", "monthly quantity within the warn range", "warning", False, 2,
         "2 of 90 row(s) unexpected", checked),
        (run_id, "licence_surveys", "licence_surveys", "approved <= applications", "error", True, 0, "0 of 3", checked),
        ("older-run", "licence_surveys", "licence_surveys", "approved <= applications", "error", False, 1, "old", checked),
    ]  # fmt: skip
    gate = {
        "failures": [{"suite": "exports_monthly", "expectation": "ytd identity holds within 2 t",
                      "examples": [{"series_id": "gacc_rare_earths", "period": "2025-08-01", "gap_t": 12.5,
                                    "note": SCRIPT}]}],
        "warnings": [],
    }  # fmt: skip
    with loaded_lake(tmp_path / "lake", SAMPLES / "headline" / "2025-08_major_exports_usd.csv") as con:
        con.executemany("INSERT INTO quality_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("CREATE OR REPLACE TABLE curated.quality_results AS SELECT * FROM quality_results")
        facts = gather(con, summary(run_id=run_id, quality=gate))
    quality = facts["quality"]
    assert quality["this_run"] and quality["run_id"] == run_id
    assert quality["suites"] == [
        {"suite": "exports_monthly", "table_name": "exports_monthly", "passed": 1, "warnings": 1, "failed": 1,
         "status": "failed"},
        {"suite": "licence_surveys", "table_name": "licence_surveys", "passed": 1, "warnings": 0, "failed": 0,
         "status": "passed"},
    ]  # fmt: skip
    assert [f["expectation"] for f in quality["failing"]] == [
        "ytd identity holds within 2 t", "monthly quantity within the warn range",
    ]  # fmt: skip
    assert quality["failing"][0]["examples"][0]["gap_t"] == 12.5
    facts["data_docs"] = "data_docs/index.html"
    page = render_html(facts)
    section = page[page.index('id="quality"') : page.index('id="warnings"')]
    assert '<a href="data_docs/index.html">' in section
    assert "ytd identity holds within 2 t" in section and "gacc_rare_earths" in section and "12.5" in section
    # Each reads as what was expected and what was found instead, the count said once.
    assert "exports_monthly</strong>: expected “ytd identity holds within 2 t”, but found 1 offending row(s).</p>" in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and SCRIPT not in page
    assert '<span class="status failed">failed</span>' in section
    assert "Checks of this run" in section
    # A link that is not a plain relative path is never made into one.
    for unsafe in ("javascript:alert(1)", "https://example.com/docs.html", "//cdn.example/x.html", "../x.html"):
        assert unsafe not in render_html({**facts, "data_docs": unsafe})
    # A run without checks of its own shows the latest checks, saying whose they are.
    with loaded_lake(tmp_path / "lake") as con:
        later = gather(con, summary(run_id="20251202T000000Z-later0"))
    assert later["quality"]["run_id"] == run_id and not later["quality"]["this_run"]
    assert "No checks ran in this run" in render_html(later)


# --- Escaping ------------------------------------------------------------------------------------------------------


def hostile_facts() -> dict[str, Any]:
    """Facts whose every chart label is a script tag."""
    return {
        "run": {"run_id": "r1", "command": "test", "lake": SCRIPT, "started_at": datetime(2025, 12, 1),
                "finished_at": None, "status": "published", "files_in": 1, "rows_loaded": 1, "rows_quarantined": 0,
                "published_version": "r1", "message": SCRIPT, "releases": []},
        "key_figures": [], "quarantine": [], "failed_files": [], "releases": [], "revisions": [], "warnings": [],
        "history": [
            {"series_id": SCRIPT, "period": date(2025, 7, 1), "period_kind": "month", "quantity_t": 10.0, "is_record": True},
            {"series_id": SCRIPT, "period": date(2025, 8, 1), "period_kind": "month", "quantity_t": 5.0, "is_record": False},
        ],
        "destinations": [{"series_id": "gacc_magnets_850511", "period": date(2025, 8, 1), "partner": "US",
                          "partner_name": PWN, "partner_label": SCRIPT, "quantity_t": 3.0,
                          "share_of_world_pct": 50.0, "mom_pct": None}],
        "surveys": [{"survey_id": SCRIPT, "publisher": PWN, "as_of": None, "unit_of_count": "application",
                     "applications": 10, "approved": 1, "pending": 9, "rejected": 0, "approval_rate_pct": 10.0,
                     "source_url": "javascript:alert(1)"}],
        "world_production": [{"edition": "MCS2025", "year": 2024, "country": SCRIPT, "mine_production_t_reo": 1.0,
                              "reserves_t_reo": None, "share_of_world_production_pct": 50.0,
                              "share_of_world_reserves_pct": None}],
    }  # fmt: skip


def test_chart_text_is_escaped_by_the_chart_library(tmp_path: Path) -> None:
    charts = render_charts(hostile_facts())
    assert set(charts) == {"series", "destinations", "approvals", "world_production"}
    for name, svg in charts.items():
        assert svg.startswith("<svg") and "<script" not in svg.lower(), name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg, name
    page = render_html(hostile_facts())
    assert "<script" not in page.lower()
    assert 'href="javascript' not in page and external_references(page) == []
    page_path = tmp_path / "hostile.html"
    page_path.write_text(page)
    dom = dump_dom(page_path, tmp_path / "profile")
    assert "<script" not in dom.lower() and "data-pwned" not in dom.split("&lt;script&gt;document")[0]
    chart = re.search(r'<figure class="chart" id="chart-series">(.*?)</figure>', dom, re.DOTALL)
    assert chart is not None and "&lt;script&gt;alert(1)&lt;/script&gt;</text>" in chart[1]


def test_unsafe_svg_is_refused() -> None:
    assert safe_svg('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>ok</text></svg>') == (
        '<svg xmlns="http://www.w3.org/2000/svg"><text>ok</text></svg>'
    )
    for bad in (
        "<svg><script>alert(1)</script></svg>",
        '<svg onload="alert(1)"></svg>',
        '<svg><a href="https://example.com"><text>x</text></a></svg>',
        '<svg><image xlink:href="https://example.com/x.png"/></svg>',
        "<svg><foreignObject><div>x</div></foreignObject></svg>",
        '<svg><rect style="fill:url(https://example.com/x)"/></svg>',
        "no svg at all",
    ):
        assert safe_svg(bad) is None, bad


def test_script_commodity_name_shows_as_text_and_never_runs(tmp_path: Path) -> None:
    """A headline file whose commodity names are script tags: one row loads, one is quarantined (its raw record
    holds the tag); both are text on the page, in the HTML and in Chromium's DOM, and nothing runs."""
    rows = [
        'Rare earths,Ton,"4,343.5","26.9","52,699.2","355.2","47,688.0","333.1",10.5,6.6',
        f'{SCRIPT},Ton,"1,234.5","10.0","9,876.0","80.0","9,000.0","70.0",9.7,14.3',
        f'"{PWN}",Ton,"12x","1.0","98.0","8.0","90.0","7.0",8.9,14.3',
    ]
    source = tmp_path / "hostile_2025-10.csv"
    source.write_bytes(headline_csv(rows))
    with loaded_lake(tmp_path / "lake", source) as con:
        facts = gather(con, summary())
    assert [c["commodity"] for c in facts["commodities"]] == [SCRIPT]
    assert len(facts["quarantine"]) == 1 and PWN in facts["quarantine"][0]["raw_record"]
    write_report(open_lake(str(tmp_path / "lake")), facts)
    page_path = tmp_path / "lake" / "reports" / "latest" / "index.html"
    page = page_path.read_text()
    assert "<script" not in page.lower()
    assert html.escape(SCRIPT, quote=False) in page or "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;document.documentElement.setAttribute(" in page

    dom = dump_dom(page_path, tmp_path / "profile")
    assert "<script" not in dom.lower()  # no script element came to be
    assert "data-pwned" not in dom.split("&lt;script&gt;document")[0]  # the payload never ran
    assert re.search(r"<html[^>]*data-pwned", dom) is None
    commodities = re.search(r'<table id="commodities">(.*?)</table>', dom, re.DOTALL)
    assert commodities is not None and "&lt;script&gt;alert(1)&lt;/script&gt;" in commodities[1]
    quarantine = re.search(r'<table class="quarantine">(.*?)</table>', dom, re.DOTALL)
    assert quarantine is not None and "number_parses" in quarantine[1] and "&lt;script&gt;document" in quarantine[1]


def test_reewatch_report_imports_no_chart_library_and_drawing_imports_no_altair() -> None:
    """vl-convert starts a JavaScript engine (0.3 s): only drawing a chart imports it. The specs are Vega-Lite's own
    JSON, so drawing never imports Altair (0.3 s of CPU, beside the GX worker's validation)."""
    modules = "print(sorted({'altair', 'vl_convert'} & set(sys.modules)))"
    facts = "{'destinations': [{'partner': 'US', 'quantity_t': 1.5, 'share_of_world_pct': 100}]}"
    code = (
        f"import sys, reewatch.report, reewatch.report.charts; {modules}; "
        f"print(sorted(reewatch.report.charts.render_charts({facts}))); {modules}"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["[]", "['destinations']", "['vl_convert']"]


# --- The demo's report in a browser --------------------------------------------------------------------------------


def test_network_recorder_sees_an_external_request(browser: DevTools, tmp_path: Path) -> None:
    """The control: a page with one external image. The static check and the recorder both catch it; the request
    fails inside Chromium (no host name resolves), so nothing leaves the machine."""
    page = tmp_path / "control.html"
    page.write_text('<!doctype html><p>control</p><img src="http://reewatch-control.invalid/x.png" alt="">')
    assert external_references(page.read_text()) == [
        "<img> element",
        "<img src='http://reewatch-control.invalid/x.png'>",
    ]
    rendered = render(browser, page, tmp_path / "control.png")
    assert "http://reewatch-control.invalid/x.png" in rendered.requests
    assert rendered.failures, rendered.events


@pytest.mark.e2e
def test_demo_report_in_headless_chromium(cli, browser: DevTools, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = tmp_path / "lake"
    demo = cli("demo", "--lake", str(lake))
    assert demo.code == 0, demo.output
    # A file with bad rows, landed after the demo: the report shows the quarantine beside the demo's figures.
    bad = cli("ingest", str(FIXTURES / "headline" / "malformed_2025-09.csv"), "--lake", str(lake))
    assert bad.code == 0, bad.output
    page = lake / "reports" / "latest" / "index.html"
    assert external_references(page.read_text()) == []

    rendered = render(browser, page, tmp_path / "report.png")
    # No request but the page itself, and none failed.
    assert rendered.requests == [page.as_uri()], rendered.requests
    assert rendered.failures == []
    dom = rendered.dom
    # The August 2025 figures of both series, in their month's row.
    month = re.search(r'<tr id="month-2025-08">(.*?)</tr>', dom, re.DOTALL)
    assert month is not None
    cells = re.findall(r'<td class="n" data-series="([^"]+)">([^<]+)</td>', month[1])
    assert ("gacc_rare_earths", "5,792.0") in cells and ("gacc_magnets_850511", "6,145.6") in cells
    # The survey's approval rate.
    survey = re.search(r'<tr data-survey="euccc_2025_09_licences">(.*?)</tr>', dom, re.DOTALL)
    assert survey is not None and '<td class="n approval-rate">13.5%</td>' in survey[1]
    # The quarantine table: file, row, rule, message, source row.
    quarantine = re.search(r'<table class="quarantine">(.*?)</table>', dom, re.DOTALL)
    assert quarantine is not None
    for expected in ("malformed_2025-09.csv", "number_parses", "non_negative", "row_shape", "1,0l9.9"):
        assert expected in quarantine[1], expected
    assert "4,392.0" in dom  # December 2025, the latest month
    assert dom.count("<svg") >= 3  # the charts, drawn inline
    assert "<script" not in dom.lower()
    # Readable on a phone (no sideways scrolling of the page: wide tables scroll inside their box) and printable.
    assert rendered.overflow_at_phone_width <= 0
    assert rendered.pdf_bytes > 10_000
    assert rendered.screenshot.stat().st_size > 10_000
    assert rendered.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_series_first_month_is_no_record_to_mark(sample_facts: dict[str, Any]) -> None:
    def month(series: str, period: date, quantity: float, record: bool) -> dict[str, Any]:
        return {"series_id": series, "period": period, "period_kind": "month", "quantity_t": quantity,
                "is_record": record}  # fmt: skip

    history = [month("b", date(2025, 3, 1), 9.0, True), month("a", date(2025, 1, 1), 5.0, True),
               month("a", date(2025, 2, 1), 7.0, True), month("b", date(2025, 2, 1), 1.0, True)]  # fmt: skip
    spec = series_spec({"history": history})
    assert spec is not None
    marked = {(r["series"], r["period"]) for r in spec["data"]["values"] if r["record"] == "record month"}
    assert marked == {("a", "2025-02-01"), ("b", "2025-03-01")}  # each series' first month is left unmarked

    first = {**sample_facts["key_figures"][0], "is_record": True}
    first["highest_since"] = first["period"]
    card = render_html({**sample_facts, "key_figures": [first]})
    cards = card[card.index('class="cards"') : card.index('id="latest"')]
    assert "first month of data" in cards and '<span class="record">' not in cards


def test_the_series_a_reader_meets_first_go_by_name_with_their_id_beside(sample_facts: dict[str, Any]) -> None:
    page = render_html(sample_facts)
    cards = page[page.index('class="cards"') : page.index('id="latest"')]
    assert '<div class="series" title="gacc_rare_earths">Rare earths (GACC headline) · world · ' in cards
    latest = page[page.index('id="latest"') : page.index("</table>", page.index('id="latest"'))]
    assert 'Rare-earth magnets (HS 8505.11) <code class="muted">gacc_magnets_850511</code>' in latest
    spec = series_spec({"history": sample_facts["history"]})
    assert spec is not None
    assert {"Rare earths (GACC headline)", "Rare-earth magnets (HS 8505.11)"} <= {r["series"] for r in spec["data"]["values"]}
    chart = render_charts({"history": sample_facts["history"]})["series"]
    assert "Rare-earth magnets (HS 8505.11)" in chart and "gacc_magnets_850511" not in chart


def test_the_monthly_line_breaks_where_a_series_has_no_single_month_figure() -> None:
    def row(period: date, quantity: float | None, kind: str = "month") -> dict[str, Any]:
        return {"series_id": "gacc_rare_earths", "period": period, "period_kind": kind, "quantity_t": quantity,
                "is_record": False}  # fmt: skip

    history = [row(date(2024, 11, 1), 5.0), row(date(2024, 12, 1), 6.0), row(date(2025, 2, 1), 9.0, "jan_feb"),
               row(date(2025, 3, 1), 4.0), row(date(2025, 4, 1), 5.0)]  # fmt: skip
    spec = series_spec({"history": history})
    assert spec is not None
    assert [(r["period"], r["quantity_t"]) for r in spec["data"]["values"]] == [
        ("2024-11-01", 5.0), ("2024-12-01", 6.0), ("2025-02-01", None), ("2025-03-01", 4.0), ("2025-04-01", 5.0),
    ]  # fmt: skip
    svg = render_charts({"history": history})["series"]
    (line,) = re.findall(r'class="mark-line[^"]*"[^>]*>(.*?)</g>', svg, re.DOTALL)
    assert [path.count("M") for path in re.findall(r'd="([^"]*)"', line)] == [2]  # two strokes, none across Jan–Feb


def test_the_destinations_chart_draws_the_largest_and_one_bar_for_the_others() -> None:
    destinations = [
        {"series_id": "gacc_magnets_850511", "period": date(2025, 8, 1), "partner": f"P{i:02d}", "partner_name": None,
         "partner_label": f"Partner {i:02d}", "quantity_t": float(i), "share_of_world_pct": float(i) / 10,
         "mom_pct": None}
        for i in range(1, 21)
    ]  # fmt: skip
    spec = destinations_spec({"destinations": destinations})
    assert spec is not None
    bars = next(data for data in _data_values(spec) if data)
    assert [bar["destination"] for bar in bars[:3]] == ["Partner 20", "Partner 19", "Partner 18"]
    assert len(bars) == TOP_DESTINATIONS + 1
    others = bars[-1]  # the rest, in one bar after the largest, whatever its size
    assert others == {"destination": "5 other destinations", "quantity_t": 15.0, "share": "1.5%"}
    svg = render_charts({"destinations": destinations})["destinations"]
    assert "5 other destinations" in svg and "Partner 05" not in svg and "Partner 06" in svg
    # Up to TOP_DESTINATIONS destinations, every one has its bar.
    few = destinations_spec({"destinations": destinations[:TOP_DESTINATIONS]})
    assert few is not None and len(next(data for data in _data_values(few) if data)) == TOP_DESTINATIONS


def _data_values(spec: Any) -> Iterator[list[dict[str, Any]]]:
    """Every inline data set in a Vega-Lite spec."""
    if isinstance(spec, dict):
        if isinstance(spec.get("values"), list):
            yield spec["values"]
        for value in spec.values():
            yield from _data_values(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _data_values(value)
