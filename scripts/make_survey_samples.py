"""Write the licence-survey demo files (samples/surveys/) and test fixtures (tests/fixtures/surveys/).

Stdlib only, no network, deterministic: re-running it rewrites identical bytes.

- samples/surveys/reported_survey_results.csv — the published aggregates of reference/reported_survey_results.csv
  (real figures, as reported by the press), in the documented template (samples/surveys/README.md).
- samples/surveys/euccc_2025_09_licences_applications.csv — SYNTHETIC application microdata for the EU Chamber's
  September 2025 survey: 141 applications, 19 approved, 121 pending, 1 rejected (the published totals); respondent
  ids, application ids, sectors and dates are made up (`random.Random(2025)`).
- tests/fixtures/surveys/reported_survey_results_zh.csv — the same aggregates with Chinese headers and units, in
  GB18030 (two surveys).
- tests/fixtures/surveys/euccc_2025_11_flash_respondents.csv — SYNTHETIC respondent microdata for the EU Chamber's
  November 2025 flash survey: 131 respondents, 75 affected (the published totals); everything else made up.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path("/work/shared/reference/reported_survey_results.csv")
SAMPLES = ROOT / "samples" / "surveys"
FIXTURES = ROOT / "tests" / "fixtures" / "surveys"

TEMPLATE = [
    "survey_id", "publisher", "fieldwork_start", "fieldwork_end", "as_of", "published_on", "scope", "unit_of_count",
    "metric", "value", "unit", "source_url",
]  # fmt: skip
EUCCC = "European Union Chamber of Commerce in China"
SEPT_URL = "https://en.ckhq.net/html/6845fc5a2464840bb17d5027f89018b9.html"
NOV_URL = "https://chinascope.org/archives/39671"
SECTORS = [
    "automotive", "machinery", "electronics", "chemicals", "medical devices", "renewable energy", "aerospace",
    "consumer goods",
]  # fmt: skip

# The reference rows (reference/reported_survey_results.csv, as of writing), so the script needs no shared folder.
REFERENCE_ROWS = [
    ("euccc_2025_09_licences", EUCCC, "", "2025-09-09", "2025-09-09", "2025-09-17", "rare-earth export licences",
     "application", "applications", "141", "count", SEPT_URL),
    ("euccc_2025_09_licences", EUCCC, "", "2025-09-09", "2025-09-09", "2025-09-17", "rare-earth export licences",
     "application", "approved", "19", "count", SEPT_URL),
    ("euccc_2025_09_licences", EUCCC, "", "2025-09-09", "2025-09-09", "2025-09-17", "rare-earth export licences",
     "application", "pending", "121", "count", SEPT_URL),
    ("euccc_2025_09_licences", EUCCC, "", "2025-09-09", "2025-09-09", "2025-09-17", "rare-earth export licences",
     "application", "rejected", "1", "count", SEPT_URL),
    ("euccc_2025_09_licences", EUCCC, "", "2025-09-09", "2025-09-09", "2025-09-17", "rare-earth export licences",
     "company", "production_stoppages_2025_08", "7", "count", "https://eternal-element.com/show.asp?id=500"),
    ("euccc_2025_09_licences", EUCCC, "", "2025-09-09", "2025-09-09", "2025-09-17", "rare-earth export licences",
     "company", "production_stoppages_expected_2025_09", "46", "count", "https://eternal-element.com/show.asp?id=500"),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "respondents", "131", "count", NOV_URL),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "affected", "75", "count", NOV_URL),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "affected_share", "57", "pct", NOV_URL),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "expect_moderate_or_significant_disruption", "60", "pct", NOV_URL),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "processing_exceeded_45_days", "40", "pct", NOV_URL),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "delivery_delay_over_2_months", "40", "pct", NOV_URL),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "delivery_delay_1_to_2_months", "34", "pct", NOV_URL),
    ("euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01", "export controls",
     "company", "delivery_delay_under_1_month", "6", "pct", NOV_URL),
    ("amcham_2025_05_flash", "American Chamber of Commerce in China", "2025-05-23", "2025-05-28", "2025-05-28", "",
     "export controls", "company", "respondents", "112", "count", "https://reportify.ai/news/1128662125384962048"),
    ("amcham_2025_05_flash", "American Chamber of Commerce in China", "2025-05-23", "2025-05-28", "2025-05-28", "",
     "export controls", "company", "affected_inventory_runs_out_within_3_months", "75", "pct",
     "https://reportify.ai/news/1128662125384962048"),
]  # fmt: skip


def csv_text(rows: list[list[str]], comments: list[str] | None = None) -> str:
    out = io.StringIO()
    for line in comments or []:
        out.write(f"{line}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def aggregates() -> str:
    return csv_text([TEMPLATE, *[list(row) for row in REFERENCE_ROWS]])


def chinese_aggregates() -> bytes:
    """Chinese headers, Chinese units and metric names, dates written 2025年9月9日, in GB18030."""
    header = ["调查编号", "发布机构", "调查开始", "调查结束", "截至日期", "发布日期", "范围", "计数单位", "指标",
              "数值", "单位", "来源链接"]  # fmt: skip
    metric_zh = {"applications": "申请数", "approved": "获批数", "pending": "待审批数", "rejected": "被拒数",
                 "respondents": "受访企业数", "affected": "受影响企业数", "affected_share": "受影响比例"}  # fmt: skip
    rows = [header]
    for row in REFERENCE_ROWS:
        if row[0] == "amcham_2025_05_flash":
            continue
        survey, _, start, end, as_of, published, scope, counted, metric, value, unit, url = row
        rows.append([
            survey, "中国欧盟商会", _zh_date(start), _zh_date(end), _zh_date(as_of), _zh_date(published),
            "稀土出口许可" if scope.startswith("rare") else "出口管制", "申请" if counted == "application" else "企业",
            metric_zh.get(metric, metric), f"{value}%" if unit == "pct" else value, "%" if unit == "pct" else "个", url,
        ])  # fmt: skip
    return csv_text(rows).encode("gb18030")


def _zh_date(text: str) -> str:
    if not text:
        return ""
    day = date.fromisoformat(text)
    return f"{day.year}年{day.month}月{day.day}日"


def applications_microdata() -> str:
    """141 applications by 58 companies: 19 approved, 121 pending, 1 rejected (SYNTHETIC rows)."""
    rng = random.Random(2025)
    statuses = ["approved"] * 19 + ["pending"] * 121 + ["rejected"]
    rng.shuffle(statuses)
    companies = [f"EU-R{number:03d}" for number in range(1, 59)]
    sector_of = {company: rng.choice(SECTORS) for company in companies}
    owners = companies + [rng.choice(companies) for _ in range(141 - len(companies))]
    rng.shuffle(owners)
    rows = [["respondent_id", "application_id", "sector", "applied_on", "status", "decided_on"]]
    for number, (status, company) in enumerate(zip(statuses, owners, strict=True), start=1):
        if status == "pending":
            applied = date(2025, 4, 10) + timedelta(days=rng.randrange(0, 142))  # up to 2025-08-29
            decided = ""
        else:
            applied = date(2025, 4, 10) + timedelta(days=rng.randrange(0, 96))  # up to 2025-07-14
            decided = (applied + timedelta(days=rng.randrange(20, 52))).isoformat()  # by 2025-09-03
        rows.append([company, f"A{number:04d}", sector_of[company], applied.isoformat(), status, decided])
    comments = [
        "# survey_id: euccc_2025_09_licences",
        f"# publisher: {EUCCC}",
        "# fieldwork_end: 2025-09-09",
        "# as_of: 2025-09-09",
        "# published_on: 2025-09-17",
        "# scope: rare-earth export licences",
        f"# source_url: {SEPT_URL}",
        "# note: SYNTHETIC demo microdata (scripts/make_survey_samples.py): only the totals are real",
    ]
    return csv_text(rows, comments)


def respondents_microdata() -> str:
    """131 respondents, 75 affected (SYNTHETIC rows); the survey's fields are columns, not '#' lines."""
    rng = random.Random(1124)
    affected = ["yes"] * 75 + ["no"] * 56
    rng.shuffle(affected)
    survey = ["euccc_2025_11_flash", EUCCC, "2025-11-06", "2025-11-24", "2025-11-24", "2025-12-01"]
    rows = [[
        "survey_id", "publisher", "fieldwork_start", "fieldwork_end", "as_of", "published_on", "respondent_id",
        "sector", "affected", "applications", "approvals", "expected_stoppage_month",
    ]]  # fmt: skip
    for number, answer in enumerate(affected, start=1):
        applications = rng.randrange(0, 5) if answer == "yes" else 0
        approvals = rng.randrange(0, applications + 1) if applications else 0
        stoppage = rng.choice(["", "", "2025-12", "2026-01"]) if answer == "yes" else ""
        rows.append([
            *survey, f"NOV-{number:03d}", rng.choice(SECTORS), answer, str(applications), str(approvals), stoppage,
        ])  # fmt: skip
    return csv_text(rows)


def main() -> None:
    SAMPLES.mkdir(parents=True, exist_ok=True)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    if REFERENCE.exists():  # the rows above must stay a copy of the reference file
        with REFERENCE.open(encoding="utf-8") as handle:
            reference = [tuple(row) for row in csv.reader(handle)][1:]
        assert reference == REFERENCE_ROWS, "reference/reported_survey_results.csv changed: update REFERENCE_ROWS"
    (SAMPLES / "reported_survey_results.csv").write_text(aggregates(), encoding="utf-8")
    (SAMPLES / "euccc_2025_09_licences_applications.csv").write_text(applications_microdata(), encoding="utf-8")
    (FIXTURES / "reported_survey_results_zh.csv").write_bytes(chinese_aggregates())
    (FIXTURES / "euccc_2025_11_flash_respondents.csv").write_text(respondents_microdata(), encoding="utf-8")


if __name__ == "__main__":
    main()
