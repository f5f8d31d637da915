#!/usr/bin/env python3
"""Generate the UN Comtrade-style test fixtures in ``tests/fixtures/comtrade/``.

- ``china_exports_850511_2025.csv``: a Comtrade+ CSV download (UTF-8 with BOM, every API field as a column) of
  China's (reporter 156) exports (flow X) of HS 850511 permanent magnets, May–July 2025, to the World and six
  destinations. Quantities in kg. Real reference points (``/work/shared/reference/reported_export_figures.csv``,
  series ``gacc_magnets_850511``): World May 1,238.47 t, June 3,188 t, July 5,577 t; US May 46.4 t, June 353 t,
  July 619 t; India May 150 t, June 172 t; Germany July 1,116 t. Every other quantity and every USD value is
  synthetic (magnets at 40–60 USD/kg). Special records: Korea May has no netWgt but qty in kg; Viet Nam June has
  netWgt 0; Japan July has netWgt -1 with isQtyEstimated; the last record is the US reporting its imports from
  China (reporter 842, flow M), which the parser must reject.
- ``china_exports_2805_2846.json``: an API v1 response ``{"count": n, "data": [...]}`` of China's exports of
  HS 280530 (rare-earth metals) and 284690 (rare-earth compounds), June–July 2025. All numbers are synthetic
  (unit values 5–45 USD/kg). Special records: an estimated quantity (Netherlands, July), a China *import* from
  Myanmar (flow M) and a partner 899 "Areas, nes" that is no country.

Stdlib only, deterministic. Usage: ``python scripts/make_comtrade_fixtures.py [--out-dir tests/fixtures/comtrade]``
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from typing import Any

FIELDS = [
    "typeCode", "freqCode", "refPeriodId", "refYear", "refMonth", "period", "reporterCode", "reporterISO",
    "reporterDesc", "flowCode", "flowDesc", "partnerCode", "partnerISO", "partnerDesc", "partner2Code",
    "partner2ISO", "partner2Desc", "classificationCode", "classificationSearchCode", "isOriginalClassification",
    "cmdCode", "cmdDesc", "aggrLevel", "isLeaf", "customsCode", "customsDesc", "mosCode", "motCode", "motDesc",
    "qtyUnitCode", "qtyUnitAbbr", "qty", "isQtyEstimated", "altQtyUnitCode", "altQtyUnitAbbr", "altQty",
    "isAltQtyEstimated", "netWgt", "isNetWgtEstimated", "grossWgt", "isGrossWgtEstimated", "cifvalue", "fobvalue",
    "primaryValue", "legacyEstimationFlag", "isReported", "isAggregate",
]  # fmt: skip

AREAS = {
    0: ("W00", "World"), 156: ("CHN", "China"), 842: ("USA", "USA"), 276: ("DEU", "Germany"),
    410: ("KOR", "Rep. of Korea"), 392: ("JPN", "Japan"), 699: ("IND", "India"), 704: ("VNM", "Viet Nam"),
    528: ("NLD", "Netherlands"), 104: ("MMR", "Myanmar"), 899: ("_X ", "Areas, nes"),
}  # fmt: skip
COMMODITIES = {
    "850511": "Magnets; permanent magnets and articles intended to become permanent magnets after magnetisation, "
    "of metal",
    "280530": "Metals; rare-earth metals, scandium and yttrium, whether or not intermixed or interalloyed",
    "284690": "Rare-earth metals, yttrium or scandium or mixtures of these metals; compounds, inorganic or "
    "organic, other than cerium compounds",
}
FLOWS = {"X": "Export", "M": "Import"}

# (period, partnerCode, netWgt kg, primaryValue USD) for HS 850511; None marks the special records below.
MAGNETS = [
    ("202505", 0, 1_238_470, 61_428_112), ("202505", 842, 46_400, 2_412_800), ("202505", 276, 220_700, 10_814_300),
    ("202505", 410, None, 9_649_100), ("202505", 392, 88_200, 4_586_400), ("202505", 699, 150_000, 6_750_000),
    ("202505", 704, 71_900, 3_163_600),
    ("202506", 0, 3_188_000, 156_212_000), ("202506", 842, 353_000, 18_709_000),
    ("202506", 276, 561_300, 28_065_000), ("202506", 410, 412_600, 19_804_800), ("202506", 392, 240_500, 12_506_000),
    ("202506", 699, 172_000, 7_912_000), ("202506", 704, 0, 14_126_390),
    ("202507", 0, 5_577_000, 276_061_500), ("202507", 842, 619_000, 33_426_000),
    ("202507", 276, 1_116_000, 56_916_000), ("202507", 410, 628_900, 30_187_200), ("202507", 392, -1, 12_804_118),
    ("202507", 699, 228_400, 10_278_000), ("202507", 704, 389_000, 17_505_000),
]  # fmt: skip
KOREA_MAY_QTY = 205_300  # Korea May 2025: netWgt left empty, qty in kg given

# (cmdCode, period, partnerCode, netWgt kg, primaryValue USD) for the JSON file, all synthetic.
COMPOUNDS = [
    ("280530", "202506", 0, 381_250.0, 9_150_000.0), ("280530", "202506", 392, 142_300.0, 3_842_100.0),
    ("280530", "202506", 842, 35_600.0, 1_139_200.0), ("280530", "202506", 410, 61_800.0, 1_483_200.0),
    ("280530", "202507", 0, 415_900.0, 10_397_500.0), ("280530", "202507", 392, 150_750.0, 3_919_500.0),
    ("280530", "202507", 842, 28_400.0, 965_600.0), ("280530", "202507", 410, 70_200.0, 1_755_000.0),
    ("284690", "202506", 0, 3_912_480.0, 23_474_880.0), ("284690", "202506", 392, 1_284_300.0, 8_990_100.0),
    ("284690", "202506", 842, 402_150.0, 2_212_825.5), ("284690", "202506", 528, 611_800.0, 3_120_180.0),
    ("284690", "202507", 0, 4_105_220.0, 24_631_320.0), ("284690", "202507", 392, 1_351_000.0, 9_322_000.0),
    ("284690", "202507", 842, 388_600.0, 2_098_440.0), ("284690", "202507", 528, 598_300.0, 3_111_160.0),
]  # fmt: skip


def record(period: str, reporter: int, flow: str, partner: int, cmd: str, **figures: Any) -> dict[str, Any]:
    """One Comtrade+ record with every field, totals for every breakdown, quantities in kg."""
    year, month = int(period[:4]), int(period[4:])
    weight = figures.get("netWgt")
    value = figures["primaryValue"]
    row = {
        "typeCode": "C", "freqCode": "M", "refPeriodId": int(f"{period}01"), "refYear": year, "refMonth": month,
        "period": period, "reporterCode": reporter, "reporterISO": AREAS[reporter][0],
        "reporterDesc": AREAS[reporter][1], "flowCode": flow, "flowDesc": FLOWS[flow], "partnerCode": partner,
        "partnerISO": AREAS[partner][0], "partnerDesc": AREAS[partner][1], "partner2Code": 0, "partner2ISO": "W00",
        "partner2Desc": "World", "classificationCode": "H6", "classificationSearchCode": "HS",
        "isOriginalClassification": True, "cmdCode": cmd, "cmdDesc": COMMODITIES[cmd], "aggrLevel": 6,
        "isLeaf": True, "customsCode": "C00", "customsDesc": "TOTAL CPC", "mosCode": "0", "motCode": 0,
        "motDesc": "TOTAL MOT", "qtyUnitCode": 8, "qtyUnitAbbr": "kg", "qty": weight, "isQtyEstimated": False,
        "altQtyUnitCode": -1, "altQtyUnitAbbr": "N/A", "altQty": 0, "isAltQtyEstimated": False, "netWgt": weight,
        "isNetWgtEstimated": False, "grossWgt": 0, "isGrossWgtEstimated": False, "cifvalue": None,
        "fobvalue": value, "primaryValue": value, "legacyEstimationFlag": 0, "isReported": True,
        "isAggregate": False,
    }  # fmt: skip
    row.update(figures)
    return row


def magnet_records() -> list[dict[str, Any]]:
    rows = []
    for period, partner, weight, value in MAGNETS:
        figures: dict[str, Any] = {"netWgt": weight, "primaryValue": value}
        if weight is None:  # Korea May: no net weight, the quantity in kg stands in
            figures["qty"] = KOREA_MAY_QTY
        elif weight == -1:  # Japan July: Comtrade could not estimate the weight either
            figures.update(qtyUnitCode=-1, qtyUnitAbbr="N/A", qty=-1, isQtyEstimated=True, isNetWgtEstimated=True)
            figures.update(legacyEstimationFlag=4, isReported=False)
        rows.append(record(period, 156, "X", partner, "850511", **figures))
    # The US reporting its own imports from China: mirror of a mirror, not China's export figure.
    rows.append(record("202507", 842, "M", 156, "850511", netWgt=598_000, primaryValue=31_695_000))
    return rows


def compound_records() -> list[dict[str, Any]]:
    rows = []
    for cmd, period, partner, weight, value in COMPOUNDS:
        figures: dict[str, Any] = {"netWgt": weight, "primaryValue": value}
        if (cmd, period, partner) == ("284690", "202507", 528):  # a weight UN Comtrade estimated
            figures.update(isQtyEstimated=True, isNetWgtEstimated=True, legacyEstimationFlag=2)
        rows.append(record(period, 156, "X", partner, cmd, **figures))
    rows.append(record("202506", 156, "M", 104, "284690", netWgt=2_840_000.0, primaryValue=79_520_000.0))
    rows.append(record("202507", 156, "X", 899, "280530", netWgt=1_250.0, primaryValue=41_875.0))
    return rows


def csv_text(rows: list[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        return "" if value is None else str(value)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([cell(row[name]) for name in FIELDS])
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parents[1] / "tests/fixtures/comtrade")
    out_dir: Path = parser.parse_args().out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    # Comtrade+ CSV downloads start with a byte-order mark.
    (out_dir / "china_exports_850511_2025.csv").write_text("\ufeff" + csv_text(magnet_records()), encoding="utf-8")
    compounds = compound_records()
    document = {"count": len(compounds), "data": compounds}
    (out_dir / "china_exports_2805_2846.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
