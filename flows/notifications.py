"""What the pipeline tells the operators: Prefect events for each run's outcome and for releases that are late.

Events are the hook for Prefect automations (infra/automations.yaml): a blocked or failed run, and a GACC release
that has not arrived two days after its calendar date, each raise an event with a message a person can act on;
the automations route them to Slack or e-mail (docs/deploy.md).

Event names:
- `reewatch.run.<status>` (published | nothing_new | blocked | failed) for every run, resource `reewatch.lake.<url>`
- `reewatch.release.overdue` for every release kind that is late, resource `reewatch.release.<kind>`

Payloads carry counts, ids and messages only: never a credential (the lake URL is `s3://bucket/prefix` or a path).
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("reewatch.notifications")

RUN_EVENT_PREFIX = "reewatch.run."
OVERDUE_EVENT = "reewatch.release.overdue"
RUN_STATUSES = ("published", "nothing_new", "blocked", "failed")
# GACC dates its releases in Beijing time.
GACC_TZ = ZoneInfo("Asia/Shanghai")
GRACE_DAYS = 2
# Scalar fields of the flow's result that go into an event's payload (the release list stays in the report).
_PAYLOAD_FIELDS = (
    "run_id", "command", "status", "message", "files_in", "rows_loaded", "rows_quarantined", "published_version",
    "report", "catalog", "started_at", "finished_at",
)  # fmt: skip


@dataclass(frozen=True)
class ReleaseKind:
    """One kind of GACC release: published once a month, on or by `due_day` of the month after the data month."""

    vintage: str
    """As in the warehouse's `releases.vintage`."""
    title: str
    due_day: int
    """The day of the month by which it is out; lateness is counted from here."""
    calendar_text: str


RELEASE_CALENDAR: dict[str, ReleaseKind] = {
    kind.vintage: kind
    for kind in (
        ReleaseKind("preliminary", "GACC preliminary release (快讯)", 14, "between the 7th and the 14th"),
        ReleaseKind("bulletin", "GACC monthly bulletin (月刊)", 18, "on the 18th"),
        ReleaseKind("detailed", "GACC detailed online data", 20, "around the 20th"),
    )
}


def emit_run_event(result: dict[str, Any]) -> None:
    """Emit `reewatch.run.<status>` for a finished run (the flow's result dict: status, message, lake, run_id...)."""
    from prefect.events import emit_event

    status = str(result.get("status") or "failed")
    lake = str(result.get("lake") or "unknown-lake")
    payload = {name: _plain(result[name]) for name in _PAYLOAD_FIELDS if result.get(name) is not None}
    payload.setdefault("message", f"run {status}")
    payload["status"] = status
    emit_event(
        event=RUN_EVENT_PREFIX + status,
        resource={
            "prefect.resource.id": f"reewatch.lake.{lake}",
            "prefect.resource.name": lake,
            "reewatch.lake": lake,
        },
        payload=payload,
    )


def beijing_today() -> date:
    """Today's date where GACC publishes."""
    return datetime.now(GACC_TZ).date()


def expected_period(kind: ReleaseKind, today: date, grace_days: int = GRACE_DAYS) -> date:
    """The newest data month (first day) whose release of this kind is `grace_days` or more past due today.

    A release for month M is due on `due_day` of month M+1. January is never released on its own: it comes with
    February as one Jan–Feb figure (on the February period), so in February the newest month due is December.
    """
    release_month = date(today.year, today.month, 1)
    if today < _due_date(kind, release_month) + timedelta(days=grace_days):
        release_month = _previous_month(release_month)
    period = _previous_month(release_month)
    if period.month == 1:  # released with February, a month later
        period = _previous_month(period)
    return period


def overdue_releases(latest_periods: dict[str, date], today: date, grace_days: int = GRACE_DAYS) -> list[str]:
    """One message per release kind that is `grace_days` or more past its calendar date and not in the lake.

    `latest_periods` maps a release kind (preliminary | bulletin | detailed: `releases.vintage`) to the newest data
    month loaded from it. Only kinds present are checked: a lake that never received detailed data is not
    expected to. Other keys are ignored.
    """
    return [message for _, _, message in _overdue(latest_periods, today, grace_days)]


def latest_periods(con: duckdb.DuckDBPyConnection) -> dict[str, date]:
    """The newest data month loaded from each release kind of the calendar, read from the warehouse."""
    from reewatch.warehouse import inline

    # Inline, not bound: every run checks freshness, and binding a value makes DuckDB import pandas (`inline`).
    sql = inline(
        "SELECT r.vintage, max(o.period) FROM observations o JOIN releases r USING (release_id) "
        "WHERE list_contains(?, r.vintage) AND r.status IN ('loaded', 'partly_quarantined') GROUP BY r.vintage",
        [list(RELEASE_CALENDAR)],
    )
    rows = con.execute(sql).fetchall()
    return {str(vintage): period for vintage, period in rows if period is not None}


def check_freshness(con: duckdb.DuckDBPyConnection, lake: str, today: date | None = None) -> list[str]:
    """Compare the warehouse with the release calendar; emit `reewatch.release.overdue` for each late release.

    Returns the messages (empty when nothing is late), for the run's log and report.
    """
    from prefect.events import emit_event

    today = today or beijing_today()
    latest = latest_periods(con)
    overdue = _overdue(latest, today, GRACE_DAYS)
    for kind, expected, message in overdue:
        emit_event(
            event=OVERDUE_EVENT,
            resource={
                "prefect.resource.id": f"reewatch.release.{kind.vintage}",
                "prefect.resource.name": kind.title,
                "reewatch.lake": lake,
            },
            related=[{"prefect.resource.id": f"reewatch.lake.{lake}", "prefect.resource.role": "lake"}],
            payload={
                "message": message,
                "release_kind": kind.vintage,
                "expected_period": expected.isoformat(),
                "latest_period": _as_date(latest[kind.vintage]).isoformat(),
                "checked_on": today.isoformat(),
            },
        )
    return [message for _, _, message in overdue]


def _overdue(latest_periods: dict[str, date], today: date, grace_days: int) -> list[tuple[ReleaseKind, date, str]]:
    found = []
    for vintage, latest in sorted(latest_periods.items()):
        kind = RELEASE_CALENDAR.get(vintage)
        if kind is None or latest is None:
            continue
        latest = _month_start(_as_date(latest))
        expected = expected_period(kind, today, grace_days)
        if latest >= expected:
            continue
        release_month = _next_month(expected)
        due = _due_date(kind, release_month)
        found.append((
            kind,
            expected,
            f"{kind.title} for {_month_label(expected)} is overdue: GACC publishes it {kind.calendar_text} of "
            f"{release_month:%B %Y} (due {due.isoformat()}); on {today.isoformat()}, {(today - due).days} days "
            f"later, it is still not in the lake: the newest month loaded from it is {_month_label(latest)}.",
        ))  # fmt: skip
    return found


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _due_date(kind: ReleaseKind, release_month: date) -> date:
    last_day = calendar.monthrange(release_month.year, release_month.month)[1]
    return release_month.replace(day=min(kind.due_day, last_day))


def _month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def _previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def _month_label(month: date) -> str:
    return f"Jan–Feb {month.year} (combined)" if month.month == 2 else f"{month:%B %Y}"


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)
