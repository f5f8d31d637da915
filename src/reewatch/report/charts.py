"""The report's charts: Vega-Lite specs, rendered to static SVG offline by vl-convert.

The specs are Vega-Lite's own JSON, written as dicts. (Altair built them until its import, 0.3 s of CPU, showed up in
the run: the charts are drawn while the GX worker validates on both cores.) vl-convert carries its own JavaScript
engine and Vega, so rendering needs no browser and no network; it starts that engine on its first chart (0.3 s), so
it is imported inside `render_charts` only, never at module import. Vega's SVG renderer escapes every text it writes
(a series called `<script>` becomes `&lt;script&gt;`); the markup is checked once more before the page takes it as
markup.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from reewatch.report import series_name

log = logging.getLogger(__name__)

# The order the charts appear in the report; each may be missing when there is nothing to draw.
CHARTS = ("series", "destinations", "approvals", "world_production")
WIDTH = 640
# Bars a reader can take in; a month's magnets go to 100–250 destinations, every one of them in the report's table.
# (Drawing all 248 of a generated 10M-line export took 0.67 s of the report's 0.8.)
TOP_DESTINATIONS = 15
RECORD_COLOUR = "#cf222e"
BAR_COLOUR = "#0969da"
# Markup that has no place in a static chart: scripts, embedded HTML, event handlers, links and external references.
_UNSAFE = re.compile(
    r"<\s*/?\s*(?:script|foreignObject|iframe|object|embed|image|img|a|use|style|link|animate\w*|set)\b"
    r"|\son[a-z]+\s*=|(?:href|src)\s*=|url\s*\(|javascript:",
    re.IGNORECASE,
)


def render_charts(facts: Mapping[str, Any]) -> dict[str, str]:
    """Every chart the facts allow, as standalone `<svg>` markup keyed by name (see CHARTS). A chart that cannot be
    drawn is left out with a warning: the report's tables carry the same figures."""
    builders: dict[str, Callable[[Mapping[str, Any]], dict[str, Any] | None]] = {
        "series": series_spec,
        "destinations": destinations_spec,
        "approvals": approvals_spec,
        "world_production": world_production_spec,
    }
    specs = {}
    for name, build in builders.items():
        spec = build(facts)
        if spec is not None:
            specs[name] = spec
    if not specs:
        return {}
    try:
        import vl_convert as vlc
    except ImportError:  # pragma: no cover - a declared dependency
        log.warning("vl-convert is not installed: the report has no charts")
        return {}
    charts: dict[str, str] = {}
    for name, spec in specs.items():
        try:
            svg = vlc.vegalite_to_svg(spec)
        except Exception as exc:  # a chart is a courtesy: the tables carry the same figures
            log.warning("could not draw the %s chart: %s", name, exc)
            continue
        safe = safe_svg(svg)
        if safe is None:
            log.warning("the %s chart was left out: its SVG holds markup a static chart never needs", name)
            continue
        charts[name] = safe
    return charts


def safe_svg(svg: str) -> str | None:
    """The `<svg>` element alone (no XML prologue), or None when it holds anything but static drawing markup."""
    start = svg.find("<svg")
    if start < 0:
        return None
    svg = svg[start:].strip()
    # The only URLs an SVG root legitimately carries are its namespace names: they are never fetched.
    body = re.sub(r'\sxmlns(?::\w+)?="[^"]*"', "", svg)
    if _UNSAFE.search(body):
        return None
    return svg


def series_spec(facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """Each series' world quantity by month, one panel per series, record months marked."""
    # A Jan–Feb figure covers two months: on a monthly line it would read as a spike.
    history = facts.get("history") or []

    def single_month(r: Mapping[str, Any]) -> bool:
        return r.get("period_kind", "month") == "month" and r.get("quantity_t") is not None

    months = [r for r in history if single_month(r)]
    # A series' first month is the highest of its data only because nothing came before it: no record to mark.
    first: dict[str, Any] = {}
    for r in months:
        first[r["series_id"]] = min(first.get(r["series_id"], r["period"]), r["period"])
    rows: list[dict[str, Any]] = [
        {
            "series": series_name(r["series_id"]),
            "period": _iso(r["period"]),
            "quantity_t": _number(r["quantity_t"]),
            "record": "record month" if r.get("is_record") and r["period"] > first[r["series_id"]] else "other month",
        }
        for r in months
    ]
    if not rows:
        return None
    # The line breaks where a series has no single-month figure (a Jan–Feb one, a month without a quantity) rather
    # than drawing a straight stroke across it: Vega-Lite ends a line's path at a null value.
    rows += [
        {"series": series_name(r["series_id"]), "period": _iso(r["period"]), "quantity_t": None,
         "record": "other month"}  # fmt: skip
        for r in history
        if not single_month(r) and r["series_id"] in first and r["period"] > first[r["series_id"]]
    ]
    rows.sort(key=lambda row: (row["series"], row["period"]))
    encoding = {
        "x": {"field": "period", "type": "temporal", "timeUnit": "utcyearmonth", "title": None,
              "axis": {"format": "%Y-%m", "labelAngle": 0, "tickCount": 8}},
        "y": {"field": "quantity_t", "type": "quantitative", "title": "tonnes", "scale": {"zero": True}},
    }  # fmt: skip
    point = {"color": BAR_COLOUR, "size": 12}
    line = {"mark": {"type": "line", "color": BAR_COLOUR, "point": point}, "encoding": encoding}
    records = {
        "mark": {"type": "point", "filled": True, "shape": "diamond", "size": 70},
        "encoding": {
            **encoding,
            "color": {"field": "record", "type": "nominal", "legend": {"orient": "top", "title": None},
                      "scale": {"domain": ["record month"], "range": [RECORD_COLOUR]}},
        },  # fmt: skip
        "transform": [{"filter": "datum.record === 'record month'"}],
    }
    header = {"labelAngle": 0, "labelAlign": "left", "labelAnchor": "start", "labelOrient": "top",
              "labelFontWeight": "bold"}  # fmt: skip
    return _finish(
        {
            "data": {"values": rows},
            "facet": {"row": {"field": "series", "type": "nominal", "title": None, "header": header}},
            "spec": {"layer": [line, records], "width": WIDTH, "height": 150},
            "resolve": {"scale": {"y": "independent"}},
        }
    )


def destinations_spec(facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """Magnet exports of the latest month by destination, largest first, with each one's share of the world: the
    TOP_DESTINATIONS largest, then one bar for all the others (the report's table lists every one)."""
    destinations = sorted(
        (r for r in facts.get("destinations") or [] if r.get("quantity_t") is not None),
        key=lambda r: -_number(r["quantity_t"]),
    )
    if not destinations:
        return None
    rows = [
        {
            "destination": str(r.get("partner_label") or r.get("partner_name") or r["partner"]),
            "quantity_t": _number(r["quantity_t"]),
            "share": f"{_number(r['share_of_world_pct']):.1f}%" if r.get("share_of_world_pct") is not None else "",
        }
        for r in destinations[:TOP_DESTINATIONS]
    ]
    others = destinations[TOP_DESTINATIONS:]
    if others:
        shares = [r["share_of_world_pct"] for r in others if r.get("share_of_world_pct") is not None]
        rows.append({
            "destination": f"{len(others)} other destinations",
            "quantity_t": sum(_number(r["quantity_t"]) for r in others),
            "share": f"{sum(_number(share) for share in shares):.1f}%" if shares else "",
        })  # fmt: skip
    return _labelled_bars(rows, "destination", "quantity_t", "share", "tonnes", largest_first=not others)


def approvals_spec(facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """Licence approval rate by survey: approved as a percent of the applications counted."""
    rows = [
        {
            "survey": str(r["survey_id"]),
            "rate": _number(r["approval_rate_pct"]),
            "label": _approval_label(r),
        }
        for r in facts.get("surveys") or []
        if r.get("approval_rate_pct") is not None
    ]
    if not rows:
        return None
    encoding = {
        "y": {"field": "survey", "type": "nominal", "title": None, "sort": None},
        "x": {"field": "rate", "type": "quantitative", "title": "approved, % of applications",
              "scale": {"domain": [0, 100]}},
    }  # fmt: skip
    return _finish(_bars_with_labels(rows, encoding, "label", font_size=11, width=WIDTH - 160, step=24))


def world_production_spec(facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """Each country's share of world mine production (USGS, the latest edition's latest year)."""
    rows = [
        {"country": str(r["country"]), "share": _number(r["share_of_world_production_pct"]),
         "label": f"{_number(r['share_of_world_production_pct']):.1f}%"}
        for r in facts.get("world_production") or []
        if r.get("share_of_world_production_pct") is not None and not str(r["country"]).startswith("World")
    ]  # fmt: skip
    if not rows:
        return None
    return _labelled_bars(rows, "country", "share", "label", "share of world mine production, %")


def _finish(spec: dict[str, Any]) -> dict[str, Any]:
    """Shared look: no outer border, white background (readable when printed), and a font with the same metrics
    everywhere: vl-convert lays labels out with Arial's metrics (Liberation Sans is metric-compatible), so a browser
    drawing them in another font would overrun the space left for them."""
    spec["padding"] = 10
    spec.setdefault("config", {}).update(
        {
            "font": "Arial, Liberation Sans, Helvetica, sans-serif",
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal", "gridColor": "#eaeef2"},
        }
    )
    spec["background"] = "white"
    return spec


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _number(value: Any) -> float:
    return float(value)  # DuckDB DECIMAL arrives as Decimal


def _approval_label(survey: Mapping[str, Any]) -> str:
    """'13.5% (19 of 141 applications)'."""
    label = f"{_number(survey['approval_rate_pct']):.1f}%"
    if survey.get("approved") is not None and survey.get("applications") is not None:
        unit = f" {survey['unit_of_count']}s" if survey.get("unit_of_count") else ""
        label += f" ({survey['approved']} of {survey['applications']}{unit})"
    return label


def _labelled_bars(
    rows: list[dict[str, Any]], category: str, value: str, label: str, x_title: str, largest_first: bool = True
) -> dict[str, Any]:
    """Horizontal bars, each with a text label at its end: largest first, or in the rows' order."""
    sort = {"field": value, "order": "descending"} if largest_first else [r[category] for r in rows]
    encoding = {
        "y": {"field": category, "type": "nominal", "sort": sort, "title": None},
        "x": {"field": value, "type": "quantitative", "title": x_title},
    }
    return _finish(_bars_with_labels(rows, encoding, label, font_size=10, width=WIDTH - 120, step=16))


def _bars_with_labels(
    rows: list[dict[str, Any]], encoding: dict[str, Any], label: str, font_size: int, width: int, step: int
) -> dict[str, Any]:
    """Bars of `encoding`, and over them the `label` field as text after each bar's end, `step` pixels a bar."""
    bars = {"mark": {"type": "bar", "color": BAR_COLOUR}, "encoding": encoding}
    labels = {
        "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": font_size},
        "encoding": {**encoding, "text": {"field": label, "type": "nominal"}},
    }
    return {"data": {"values": rows}, "layer": [bars, labels], "width": width, "height": {"step": step}}
