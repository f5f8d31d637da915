#!/usr/bin/env python3
"""Generate the bundled demo releases: GACC *preliminary release* headline tables.

Writes one English CSV per release into ``samples/headline/`` for every release of
2023, 2024 and 2025 (a combined January-February release, then March..December:
11 per year, 33 in all) and documents the bundle in ``samples/README.md``.

Only the rare-earth *quantities* (tonnes) come from reported figures (see ``SOURCES``,
copied from ``reference/reported_export_figures.csv``, series ``gacc_rare_earths``) or
are derived from them by YTD arithmetic.  Every money value and every other commodity
row is synthetic: deterministic (``random.Random(2025)``) and internally consistent
(YTD = running sum, prior-year columns = the previous year's generated YTD).

Stdlib only, no network, byte-for-byte deterministic.  Usage::

    python scripts/make_samples.py [--out-dir samples]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

D = Decimal
TENTH = D("0.1")
ONE = D("1")
JANFEB = 2  # the combined January-February release is keyed by month 2
PERIODS = [JANFEB, *range(3, 13)]  # release periods of one year
YEARS = (2023, 2024, 2025)  # years with a file bundle
ALL_YEARS = (2022, *YEARS)  # 2022 only feeds the prior-year columns of 2023
SEED = 2025

MONTH_NAMES = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# The printed table number drifts between releases; the title words do not.
TABLE_NUMBER = {2023: 4, 2024: 6, 2025: 5}

NOTE_ROW = 'Note: Data are preliminary. "-" means no quantity is published.'
SOURCE_ROW = "Source: General Administration of Customs of the P.R. China"


def q1(x: Decimal | float) -> Decimal:
    """Round half-up to one decimal."""
    return D(str(x)).quantize(TENTH, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------
# Reported figures (series gacc_rare_earths, partner WORLD, tonnes) with their sources.
# Copied from /work/shared/reference/reported_export_figures.csv; keyed (period, basis).
# --------------------------------------------------------------------------------------
SOURCES: dict[tuple[str, str], tuple[str, str, str]] = {
    # (period, basis): (value, outlet, url)
    ("2022-08", "month"): (
        "3673.6",
        "Reuters",
        "https://www.zawya.com/en/projects/bri/china-aug-rare-earth-exports-at-nearly-3-674-tonnes-customs-yfhdpt8s",
    ),
    ("2022-08", "ytd"): (
        "33539.4",
        "Reuters",
        "https://www.zawya.com/en/projects/bri/china-aug-rare-earth-exports-at-nearly-3-674-tonnes-customs-yfhdpt8s",
    ),
    ("2022-11", "month"): (
        "2949.6",
        "Reuters",
        "https://www.channelnewsasia.com/business/china-dec-rare-earth-exports-4307-tonnes-customs-3203456",
    ),
    ("2022-12", "month"): (
        "4307",
        "Reuters",
        "https://www.channelnewsasia.com/business/china-dec-rare-earth-exports-4307-tonnes-customs-3203456",
    ),
    ("2022", "year"): (
        "48728",
        "Reuters",
        "https://www.channelnewsasia.com/business/china-dec-rare-earth-exports-4307-tonnes-customs-3203456",
    ),
    ("2023-03", "month"): (
        "4446",
        "Reuters",
        "https://www.nasdaq.com/articles/china-march-rare-earth-exports-fall-8.2-on-year-customs",
    ),
    ("2023-03", "ytd"): (
        "11837",
        "Reuters",
        "https://www.nasdaq.com/articles/china-march-rare-earth-exports-fall-8.2-on-year-customs",
    ),
    ("2023-05", "month"): ("4576", "Reuters", "https://www.dailymail.co.uk/wires/reuters/article-13504385/"),
    ("2023-06", "month"): (
        "5009",
        "Reuters",
        "https://mining.com/web/china-july-rare-earths-exports-refresh-an-over-three-year-high-on-decent-demand-restriction-fears",
    ),
    ("2023-07", "month"): (
        "5426",
        "Reuters",
        "https://mining.com/web/china-july-rare-earths-exports-refresh-an-over-three-year-high-on-decent-demand-restriction-fears",
    ),
    ("2023-07", "ytd"): (
        "31662",
        "Reuters",
        "https://mining.com/web/china-july-rare-earths-exports-refresh-an-over-three-year-high-on-decent-demand-restriction-fears",
    ),
    ("2023-09", "month"): ("3935", "Reuters", "https://mining.com/?p=1129439"),
    ("2023-09", "ytd"): ("40371.8", "Reuters", "https://mining.com/?p=1129439"),
    ("2023-10", "month"): (
        "4291",
        "Reuters",
        "https://www.nasdaq.com/articles/china-october-rare-earth-exports-up-9-on-prior-month",
    ),
    ("2023-10", "ytd"): (
        "44662",
        "Reuters",
        "https://www.nasdaq.com/articles/china-october-rare-earth-exports-up-9-on-prior-month",
    ),
    ("2023-11", "month"): (
        "4206",
        "rareearths.com",
        "https://rareearths.com/2024/01/12/chinas-exports-of-rare-earths-rise-year-on-year/",
    ),
    ("2023-12", "month"): (
        "3438",
        "rareearths.com",
        "https://rareearths.com/2024/01/12/chinas-exports-of-rare-earths-rise-year-on-year/",
    ),
    ("2023", "year"): (
        "52306",
        "rareearths.com",
        "https://rareearths.com/2024/01/12/chinas-exports-of-rare-earths-rise-year-on-year/",
    ),
    ("2024-02", "ytd"): ("8774", "Reuters", "https://brecorder.com/news/40292445"),
    ("2024-04", "month"): ("4566", "Reuters", "https://www.dailymail.co.uk/wires/reuters/article-13504385/"),
    ("2024-05", "month"): ("6217", "Reuters", "https://www.dailymail.co.uk/wires/reuters/article-13504385/"),
    ("2024-05", "ytd"): ("24266.5", "Reuters", "https://www.dailymail.co.uk/wires/reuters/article-13504385/"),
    ("2024-06", "ytd"): (
        "29095",
        "Reuters",
        "https://www.zerohedge.com/commodities/chinas-rares-earths-exports-high-highest-level-2009",
    ),
    ("2024-08", "month"): (
        "4723",
        "Reuters",
        "https://www.kitco.com/news/off-the-wire/2025-09-08/china-august-rare-earth-exports-fall-34-month",
    ),
    ("2024-11", "month"): (
        "4416",
        "Reuters",
        "https://newsfromrss.com/chinas-rare-earth-exports-in-2024-climb-as-home-demand-limited",
    ),
    ("2024-12", "month"): (
        "3326",
        "Reuters",
        "https://newsfromrss.com/chinas-rare-earth-exports-in-2024-climb-as-home-demand-limited",
    ),
    ("2024", "year"): (
        "55431",
        "Reuters",
        "https://newsfromrss.com/chinas-rare-earth-exports-in-2024-climb-as-home-demand-limited",
    ),
    ("2025-02", "ytd"): (
        "8511",
        "Reuters",
        "https://www.brecorder.com/news/40351769/china-rare-earth-exports-drop-3-over-january-february",
    ),
    ("2025-03", "month"): (
        "5666.3",
        "rawmaterials.net",
        "https://rawmaterials.net/china-rare-earth-exports-rise-in-march/",
    ),
    ("2025-04", "month"): (
        "4784.8",
        "rawmaterials.net",
        "https://www.zawya.com/en/world/china-and-asia-pacific/chinas-export-controls-see-april-rare-earth-shipments-tumble-on-month-dsb8ia0w",
    ),
    ("2025-04", "ytd"): (
        "18962",
        "Reuters",
        "https://www.zawya.com/en/world/china-and-asia-pacific/chinas-export-controls-see-april-rare-earth-shipments-tumble-on-month-dsb8ia0w",
    ),
    ("2025-05", "month"): ("5864.6", "Global Times", "https://www.globaltimes.cn/page/202506/1335771.shtml"),
    ("2025-05", "ytd"): ("24827", "Global Times", "https://www.globaltimes.cn/page/202506/1335771.shtml"),
    ("2025-06", "month"): (
        "7742.2",
        "Reuters",
        "https://unn.ua/en/news/chinas-rare-earth-magnet-exports-to-the-us-surged-in-june",
    ),
    ("2025-06", "ytd"): (
        "32569",
        "Reuters",
        "https://www.zerohedge.com/commodities/chinas-rares-earths-exports-high-highest-level-2009",
    ),
    ("2025-07", "month"): (
        "5994.3",
        "Reuters",
        "https://energynews.oedigital.com/mining/2025/08/07/chinas-rare-earth-exports-fell-in-july-after-reaching-a-peak-the-previous-month",
    ),
    ("2025-07", "ytd"): ("38563.6", "Reuters", "http://3.127.128.221/2025/08/07/china-rare-earth-exports-2"),
    ("2025-08", "month"): (
        "5792",
        "Reuters",
        "https://www.kitco.com/news/off-the-wire/2025-09-08/china-august-rare-earth-exports-fall-34-month",
    ),
    ("2025-08", "ytd"): (
        "44355",
        "Reuters",
        "https://www.kitco.com/news/off-the-wire/2025-09-08/china-august-rare-earth-exports-fall-34-month",
    ),
    ("2025-09", "month"): ("4000.3", "Reuters", "https://www.greenergydaily.com/index.php?id=3934"),
    ("2025-09", "ytd"): ("48355.7", "Reuters", "https://www.greenergydaily.com/index.php?id=3934"),
    ("2025-11", "month"): (
        "5493.9",
        "Reuters",
        "https://ima-api.org/chinas-rare-earth-exports-jump-in-november-after-xi-trump-meeting",
    ),
    ("2025-11", "ytd"): (
        "58193.1",
        "Reuters",
        "https://ima-api.org/chinas-rare-earth-exports-jump-in-november-after-xi-trump-meeting",
    ),
    ("2025-12", "month"): ("4392", "Reuters", "https://internationalbusinessweekly.com/?p=183555"),
    ("2025", "year"): ("62585", "Reuters", "https://internationalbusinessweekly.com/?p=183555"),
}


def src(period: str, basis: str) -> tuple[str, str]:
    return ("reported", f"{period}|{basis}")


def der(formula: str) -> tuple[str, str]:
    return ("derived", formula)


def syn(note: str = "") -> tuple[str, str]:
    return ("synthetic", note)


# --------------------------------------------------------------------------------------
# Rare-earth monthly quantities (tonnes) with their status.  Month 2 = Jan-Feb combined.
# --------------------------------------------------------------------------------------
RE_MONTHS: dict[int, dict[int, tuple[str, tuple[str, str]]]] = {
    2022: {
        2: ("8520.3", syn("Jan–Feb … Jul chosen to sum to 29,865.8 = YTD Aug 33,539.4 − Aug 3,673.6")),
        3: ("4530.2", syn("see Jan–Feb")),
        4: ("3992.0", syn("see Jan–Feb")),
        5: ("4117.6", syn("see Jan–Feb")),
        6: ("4462.1", syn("see Jan–Feb")),
        7: ("4243.6", syn("see Jan–Feb")),
        8: ("3673.6", src("2022-08", "month")),
        9: ("4070.5", syn("Sep + Oct = 7,932 = year 48,728 − Dec 4,307 − Nov 2,949.6 − YTD Aug 33,539.4")),
        10: ("3861.5", syn("see Sep")),
        11: ("2949.6", src("2022-11", "month")),
        12: ("4307", src("2022-12", "month")),
    },
    2023: {
        2: ("7391", der("YTD Mar 11,837 − Mar 4,446")),
        3: ("4446", src("2023-03", "month")),
        4: ("4814", der("YTD Jul 31,662 − Jul 5,426 − Jun 5,009 − May 4,576 − YTD Mar 11,837")),
        5: ("4576", src("2023-05", "month")),
        6: ("5009", src("2023-06", "month")),
        7: ("5426", src("2023-07", "month")),
        8: ("4774.8", der("YTD Sep 40,371.8 − Sep 3,935 − YTD Jul 31,662")),
        9: ("3935", src("2023-09", "month")),
        10: ("4291", src("2023-10", "month")),
        11: ("4206", src("2023-11", "month")),
        12: ("3438", src("2023-12", "month")),
    },
    2024: {
        2: ("8774", src("2024-02", "ytd")),
        3: ("4709.5", der("YTD May 24,266.5 − May 6,217 − Apr 4,566 − YTD Feb 8,774")),
        4: ("4566", src("2024-04", "month")),
        5: ("6217", src("2024-05", "month")),
        6: ("4828.5", der("YTD Jun 29,095 − YTD May 24,266.5")),
        7: (
            "4871",
            syn("Jul + Sep + Oct = 13,871 = year 55,431 − Dec 3,326 − Nov 4,416 − Aug 4,723 − YTD Jun 29,095"),
        ),
        8: ("4723", src("2024-08", "month")),
        9: ("4500", syn("see Jul")),
        10: ("4500", syn("see Jul")),
        11: ("4416", src("2024-11", "month")),
        12: ("3326", src("2024-12", "month")),
    },
    2025: {
        2: ("8511", src("2025-02", "ytd")),
        3: ("5666.3", src("2025-03", "month")),
        4: ("4784.8", src("2025-04", "month")),
        5: ("5864.6", src("2025-05", "month")),
        6: ("7742.2", src("2025-06", "month")),
        7: ("5994.3", src("2025-07", "month")),
        8: ("5792", src("2025-08", "month")),
        9: ("4000.3", src("2025-09", "month")),
        10: ("4343.5", der("YTD Nov 58,193.1 − Nov 5,493.9 − YTD Sep 48,355.7")),
        11: ("5493.9", src("2025-11", "month")),
        12: ("4392", src("2025-12", "month")),
    },
}


def published_ytd(year: int, month: int) -> tuple[Decimal, str] | None:
    """A published cumulative for (year, month), with its SOURCES key, if any."""
    if month == 12 and (f"{year}", "year") in SOURCES:
        key = (f"{year}", "year")
    else:
        key = (f"{year}-{month:02d}", "ytd")
    if key not in SOURCES:
        return None
    return D(SOURCES[key][0]), f"{key[0]}|{key[1]}"


# --------------------------------------------------------------------------------------
# Synthetic commodities.  Orders of magnitude are plausible; the numbers are not real.
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Commodity:
    name: str
    unit: str  # as printed; "-" = no quantity published
    base_qty: dict[int, float]  # mean monthly quantity, in the printed unit, per year
    unit_value: dict[int, float]  # USD per printed unit (or USD million per month if no qty)
    qty_step: Decimal  # rounding of the monthly quantity
    usd_per_unit_scale: float  # printed unit -> physical units for the value formula


# value (USD million) = qty_printed * usd_per_unit_scale * unit_value / 1e6
OTHER_COMMODITIES = [
    Commodity(
        "Steel products",
        "10,000 Tons",
        {2022: 560, 2023: 750, 2024: 920, 2025: 990},
        {2022: 1300, 2023: 950, 2024: 760, 2025: 690},
        TENTH,
        1e4,
    ),
    Commodity(
        "Unwrought aluminium and aluminium products",
        "10,000 Tons",
        {2022: 55, 2023: 47.5, 2024: 55.8, 2025: 51},
        {2022: 3700, 2023: 3200, 2024: 3100, 2025: 3300},
        TENTH,
        1e4,
    ),
    Commodity(
        "Fertilizers",
        "10,000 Tons",
        {2022: 235, 2023: 265, 2024: 240, 2025: 275},
        {2022: 450, 2023: 350, 2024: 330, 2025: 340},
        TENTH,
        1e4,
    ),
    Commodity(
        "Textile yarn, fabrics and articles",
        "-",
        {2022: 0, 2023: 0, 2024: 0, 2025: 0},
        {2022: 12300, 2023: 11000, 2024: 11800, 2025: 11900},
        TENTH,
        0,
    ),
    Commodity(
        "Mobile phones",
        "10,000 Units",
        {2022: 6850, 2023: 6680, 2024: 6780, 2025: 6500},
        {2022: 160, 2023: 170, 2024: 165, 2025: 172},
        TENTH,
        1e4,
    ),
    Commodity(
        "Automobiles (including chassis)",
        "Unit",
        {2022: 258000, 2023: 433000, 2024: 533000, 2025: 590000},
        {2022: 20000, 2023: 19000, 2024: 18000, 2025: 17500},
        ONE,
        1,
    ),
]
RARE_EARTHS = "Rare earths"
ROW_ORDER = [RARE_EARTHS] + [c.name for c in OTHER_COMMODITIES]
UNITS = {RARE_EARTHS: "Ton", **{c.name: c.unit for c in OTHER_COMMODITIES}}

SEASONAL = [0.0, 0.95, 0.75, 1.00, 1.02, 1.05, 1.04, 1.06, 1.05, 1.00, 0.98, 1.00, 1.10]


@dataclass
class Cell:
    """One commodity in one release period: month and printed YTD figures."""

    qty: Decimal | None
    value: Decimal
    ytd_qty: Decimal | None
    ytd_value: Decimal


def build_series() -> dict[str, dict[int, dict[int, Cell]]]:
    """series[commodity][year][period] for all years 2022..2025 and periods Jan-Feb, 3..12."""
    rng = random.Random(SEED)
    series: dict[str, dict[int, dict[int, Cell]]] = {name: {} for name in ROW_ORDER}
    for year in ALL_YEARS:
        # Rare earths: reported/derived/synthetic tonnes, synthetic unit value 6-8 USD/kg.
        cells: dict[int, Cell] = {}
        ytd_q, ytd_v = D(0), D(0)
        for p in PERIODS:
            qty = D(RE_MONTHS[year][p][0])
            uv_per_kg = round(rng.uniform(6.0, 8.0), 2)
            value = q1(qty * D(str(uv_per_kg)) / 1000)
            pub = published_ytd(year, p)
            ytd_q = pub[0] if pub else ytd_q + qty
            ytd_v += value
            cells[p] = Cell(qty, value, ytd_q, ytd_v)
        series[RARE_EARTHS][year] = cells
        # Other commodities: monthly draws, Jan and Feb summed into the Jan-Feb release.
        for c in OTHER_COMMODITIES:
            monthly_q: list[Decimal] = [D(0)]  # index = calendar month; 0 when no quantity
            monthly_v: list[Decimal] = [D(0)]
            for m in range(1, 13):
                noise_q = rng.uniform(0.94, 1.06)
                noise_v = rng.uniform(0.97, 1.03)
                if c.unit == "-":
                    monthly_q.append(D(0))
                    monthly_v.append(q1(c.unit_value[year] * SEASONAL[m] * noise_q * noise_v))
                    continue
                raw_qty = D(str(c.base_qty[year] * SEASONAL[m] * noise_q))
                qty = raw_qty.quantize(c.qty_step, rounding=ROUND_HALF_UP)
                monthly_q.append(qty)
                monthly_v.append(q1(float(qty) * c.usd_per_unit_scale * c.unit_value[year] * noise_v / 1e6))
            cells = {}
            ytd_q_opt: Decimal | None = None if c.unit == "-" else D(0)
            ytd_v = D(0)
            for p in PERIODS:
                months = (1, 2) if p == JANFEB else (p,)
                qty_opt = None if c.unit == "-" else sum((monthly_q[m] for m in months), D(0))
                value = sum((monthly_v[m] for m in months), D(0))
                if qty_opt is not None and ytd_q_opt is not None:
                    ytd_q_opt += qty_opt
                ytd_v += value
                cells[p] = Cell(qty_opt, value, ytd_q_opt, ytd_v)
            series[c.name][year] = cells
    return series


# --------------------------------------------------------------------------------------
# CSV rendering
# --------------------------------------------------------------------------------------
class Q(str):
    """A cell that is always written quoted."""


def render_cell(cell: str) -> str:
    if isinstance(cell, Q) or any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def render(rows: list[list[str]]) -> str:
    return "".join(",".join(render_cell(c) for c in row) + "\n" for row in rows)


def fmt_amount(x: Decimal | None) -> str:
    """Comma thousands, one decimal, quoted; "-" (unquoted) when absent."""
    if x is None:
        return "-"
    return Q(f"{q1(x):,.1f}")


def fmt_pct(cur: Decimal | None, prev: Decimal | None) -> str:
    if cur is None or prev is None or prev == 0:
        return "-"
    pct = q1((cur / prev - 1) * 100) + 0  # + 0 turns -0.0 into 0.0
    return f"{pct:.1f}"


def table_rows(series: dict[str, dict[int, dict[int, Cell]]], year: int, p: int) -> list[list[str]]:
    n = TABLE_NUMBER[year]
    if p == JANFEB:
        label = f"January-February {year}"
        span = "January to February"
        header = [
            ["Commodity", "Unit", span, "", f"YoY % ({span})", ""],
            ["", "", "Quantity", "Value", "Quantity", "Value"],
        ]
    else:
        month = MONTH_NAMES[p]
        label = f"{month} {year}"
        span = f"January to {month}"
        header = [
            ["Commodity", "Unit", month, "", span, "", f"{span} {year - 1}", "", f"YoY % ({span})", ""],
            ["", "", "Quantity", "Value", "Quantity", "Value", "Quantity", "Value", "Quantity", "Value"],
        ]
    rows: list[list[str]] = [
        [Q(f"Table {n} China's Major Exports by Quantity and Value (in USD), {label}")],
        [Q("Unit: USD1 Million")],
        *header,
    ]
    for name in ROW_ORDER:
        cur, prev = series[name][year][p], series[name][year - 1][p]
        yoy = [fmt_pct(cur.ytd_qty, prev.ytd_qty), fmt_pct(cur.ytd_value, prev.ytd_value)]
        if p == JANFEB:
            rows.append([name, UNITS[name], fmt_amount(cur.qty), fmt_amount(cur.value), *yoy])
        else:
            rows.append(
                [
                    name,
                    UNITS[name],
                    fmt_amount(cur.qty),
                    fmt_amount(cur.value),
                    fmt_amount(cur.ytd_qty),
                    fmt_amount(cur.ytd_value),
                    fmt_amount(prev.ytd_qty),
                    fmt_amount(prev.ytd_value),
                    *yoy,
                ]
            )
    rows.append([Q(NOTE_ROW)])
    rows.append([Q(SOURCE_ROW)])
    return rows


def file_name(year: int, p: int) -> str:
    return f"{year}-{p:02d}_major_exports_usd.csv"


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------
def tn(x: Decimal) -> str:
    """Tonnes for prose: thousands separators, decimals only when present."""
    return f"{x:,.0f}" if x == x.to_integral_value() else f"{x:,.1f}"


def build_readme(series: dict[str, dict[int, dict[int, Cell]]]) -> str:
    src_ids: dict[tuple[str, str], int] = {}  # (outlet, url) -> [n]

    def cite(key: str) -> str:
        period, basis = key.split("|")
        _, outlet, url = SOURCES[(period, basis)]
        n = src_ids.setdefault((outlet, url), len(src_ids) + 1)
        return f"reported — {outlet} [S{n}]"

    def status_text(status: tuple[str, str]) -> str:
        kind, detail = status
        if kind == "reported":
            return cite(detail)
        if kind == "derived":
            return f"derived: {detail}"
        return f"synthetic ({detail})" if detail else "synthetic"

    out: list[str] = []
    w = out.append
    w("# Bundled demo releases\n")
    w(
        "`samples/headline/` holds 33 CSV files as a user would drop them into `landing/`: the\n"
        "English **preliminary release (快讯) headline table** \"China's Major Exports by Quantity and\n"
        'Value (in USD)" for every release of 2023, 2024 and 2025. GACC releases January and February\n'
        "together, so each year has one Jan–Feb release (file month `02`) and one release per month\n"
        "March..December: 11 files a year.\n"
    )
    w(
        "The files are generated by `scripts/make_samples.py` (stdlib only, no network, deterministic:\n"
        "re-running it rewrites identical bytes). Do not edit them by hand; change the script and re-run\n"
        "`python scripts/make_samples.py`.\n"
    )
    w(
        "> **Only the rare-earth quantities (tonnes) are real-world figures** — reported by the press\n"
        '> or derived from reported figures, as listed below. **Every money value (all "Value"\n'
        '> columns, in every row) and every row other than "Rare earths" is synthetic**: plausible\n'
        "> orders of magnitude drawn from `random.Random(2025)`, not GACC data. Press figures are\n"
        "> second-hand copies of customs data: reference points, not ground truth.\n"
    )

    w("## File names\n")
    w(
        "`headline/YYYY-MM_major_exports_usd.csv`, where `MM` is the last month covered (`02` = the Jan–Feb\n"
        "release). The names are a user's choice; the pipeline must detect the layout from the content.\n"
    )

    w("## Template\n")
    w(
        "CSV, UTF-8 without BOM, `\\n` line ends, comma separated. Cells are quoted when they contain a\n"
        "comma or a quote; the title, unit, note and source rows and every quantity/value amount are\n"
        "always quoted (as exported). A monthly release (March..December) has 10 columns:\n"
    )
    w("```")
    w(render(table_rows(series, 2025, 8)[:5]).rstrip("\n"))
    w("...one row per commodity (7 rows)...")
    w(render(table_rows(series, 2025, 8)[-2:]).rstrip("\n"))
    w("```\n")
    w("| row | content |\n|---|---|")
    w(
        "| 1 | title: `Table N China's Major Exports by Quantity and Value (in USD), <Month> <Year>`"
        " — the table number drifts (4 in 2023, 6 in 2024, 5 in 2025); match on the title words |"
    )
    w("| 2 | unit row `Unit: USD1 Million` (applies to every Value column) |")
    w(
        "| 3 | header 1: `Commodity`, `Unit`, `<Month>`, ``, `January to <Month>`, ``,"
        " `January to <Month> <Year−1>`, ``, `YoY % (January to <Month>)`, `` |"
    )
    w("| 4 | header 2: ``, ``, then `Quantity`, `Value` four times |")
    w(
        "| 5.. | data: commodity, quantity unit as printed, month qty/value, Jan–month (YTD) qty/value,"
        " prior-year Jan–month qty/value, YoY % of the cumulative qty/value |"
    )
    w(
        '| last 2 | `Note: Data are preliminary. "-" means no quantity is published.` and'
        " `Source: General Administration of Customs of the P.R. China` |\n"
    )
    w(
        'Amounts use comma thousands separators and one decimal (`"7,742.2"`); `-` means no\n'
        "quantity (the textile row has unit `-` and quantity `-`). YoY % = (YTD / prior-year YTD − 1)\n"
        "× 100, one decimal, unquoted. Quantity units vary by row: `Ton`, `10,000 Tons`,\n"
        "`10,000 Units`, `Unit`, `-`.\n"
    )
    w(
        "The **Jan–Feb release** is narrower (6 columns): one combined two-month figure and its YoY %;\n"
        "no single-month and no prior-year columns. Its figure is a two-month value: do not\n"
        "range-check it as one month.\n"
    )
    w("```")
    w(render(table_rows(series, 2025, JANFEB)[:5]).rstrip("\n"))
    w("...")
    w("```\n")

    w("## Rows\n")
    w("| commodity | unit | origin |\n|---|---|---|")
    w(
        "| Rare earths | Ton | quantity: real-world (table below); value: synthetic, quantity × a unit"
        " value drawn in 6–8 USD/kg per release |"
    )
    for c in OTHER_COMMODITIES:
        what = "value; no quantity" if c.unit == "-" else "quantity and value"
        w(f"| {c.name} | {c.unit} | synthetic ({what}) |")
    w("")
    w(
        "Synthetic rows are internally consistent: a YTD is the running sum of the printed releases,\n"
        "and the prior-year columns repeat the previous year's generated YTD for the same month (2022\n"
        "is generated only for that purpose and has no files). Value YTDs are running sums of the\n"
        "printed month values.\n"
    )

    w("## Rare-earth quantities and where they come from\n")
    w(
        "Status of each figure: **reported** = copied from the press article cited (series\n"
        "`gacc_rare_earths` in `reference/reported_export_figures.csv`); **derived** = arithmetic on\n"
        "reported figures, formula given; **synthetic** = made up, but constrained so that every\n"
        "reported month, YTD and year total still holds.\n"
    )
    w(
        "Printed YTD = the published cumulative where one is reported (e.g. Oct 2023 prints the\n"
        "published 44,662 although the month figures sum to 44,662.8), otherwise the previous\n"
        "release's printed YTD plus this month. The YTD identity ytd(m) = ytd(m−1) + month(m)\n"
        "therefore holds within ±2 t (press rounding) everywhere, and the December YTD equals the\n"
        "published year total.\n"
    )
    for year in ALL_YEARS:
        title = f"### {year}"
        if year == 2022:
            title += " (no files; feeds the prior-year columns of the 2023 releases)"
        w(title + "\n")
        w("| release | month (t) | status of month | printed YTD (t) | status of YTD |")
        w("|---|---:|---|---:|---|")
        for p in PERIODS:
            qty_s, status = RE_MONTHS[year][p]
            month_status = status_text(status)  # cite the month's source first: stable [S] numbering
            cell = series[RARE_EARTHS][year][p]
            pub = published_ytd(year, p)
            if p == JANFEB:
                rel = "Jan–Feb"
                ytd_status = "same figure" if pub else "= Jan–Feb figure"
            else:
                rel = MONTH_NAMES[p][:3]
                if pub:
                    ytd_status = cite(pub[1]) + (" (year total)" if pub[1].endswith("year") else "")
                else:
                    ytd_status = "derived: previous printed YTD + month"
            assert cell.ytd_qty is not None
            w(f"| {rel} | {tn(D(qty_s))} | {month_status} | {tn(cell.ytd_qty)} | {ytd_status} |")
        w("")
    w(
        "In the 2024 and 2025 Jan–Feb rows the reported figure is the published January–February\n"
        "cumulative (basis `ytd`, period `YYYY-02`), which is the Jan–Feb release's single figure.\n"
    )

    w("## Sources\n")
    for (outlet, url), n in sorted(src_ids.items(), key=lambda kv: kv[1]):
        w(f"- [S{n}] {outlet} — <{url}>")
    w("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "samples")
    args = parser.parse_args()
    out_dir: Path = args.out_dir
    headline = out_dir / "headline"
    headline.mkdir(parents=True, exist_ok=True)

    series = build_series()
    written = []
    for year in YEARS:
        for p in PERIODS:
            path = headline / file_name(year, p)
            path.write_text(render(table_rows(series, year, p)), encoding="utf-8", newline="")
            written.append(path)
    (out_dir / "README.md").write_text(build_readme(series), encoding="utf-8", newline="")
    print(f"wrote {len(written)} files to {headline} and {out_dir / 'README.md'}")


if __name__ == "__main__":
    main()
