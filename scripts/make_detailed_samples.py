"""Generate the demo's detailed customs exports: rare-earth magnets (8505111000) by destination, 2025.

Two files, as the GACC online query gives them — one in yuan (人民币), one in US dollars (美元) — with Chinese
headers, quantities in kilograms and each partner split by trade mode. Reported figures (world and the
destinations the press named) are used as published; everything else is synthetic and deterministic.
See samples/README.md for which is which.

    .venv/bin/python scripts/make_detailed_samples.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "samples" / "detailed"
HEADER = ["数据年月", "商品编码", "商品名称", "贸易伙伴编码", "贸易伙伴名称", "贸易方式", "第一数量", "第一计量单位",
          "第二数量", "第二计量单位"]  # fmt: skip
HS, NAME = "8505111000", "稀土永磁体"
CNY_PER_USD = 7.15

# World totals in tonnes: reported (see reference/reported_export_figures.csv) except Jan–Mar, which are
# synthetic and split so that Jan..May equals the reported YTD 19,132 t.
WORLD_T = {1: 5200.0, 2: 4600.0, 3: 5466.53, 4: 2627.0, 5: 1238.47, 6: 3188.0, 7: 5577.0, 8: 6145.623,
           9: 5774.0, 10: 5473.0, 11: 6150.0, 12: 5952.0}  # fmt: skip
# Reported destination figures in tonnes; the rest is synthetic.
REPORTED_T = {
    "US": {5: 46.4, 6: 353.0, 7: 619.0, 8: 589.85, 9: 420.0, 10: 656.0, 11: 582.0, 12: 564.0},
    "DE": {7: 1116.0, 8: 1341.08, 9: 1288.0, 10: 1118.0},
    "KR": {9: 854.0, 10: 569.0},
    "VN": {9: 456.0},
    "JP": {9: 228.0, 10: 226.0, 11: 305.0, 12: 280.0},
    "IN": {5: 150.0, 6: 172.0},
}
# US January–April: the reported 2025 total (5,933 t) less the reported months, spread evenly.
for month in (1, 2, 3, 4):
    REPORTED_T["US"][month] = round((5933.0 - sum(REPORTED_T["US"].values())) / (5 - month), 3)

# Partner: (GACC-style code, Chinese name, typical share of the world total when not reported).
PARTNERS = {
    "US": ("502", "美国", 0.10), "DE": ("304", "德国", 0.19), "KR": ("133", "韩国", 0.12),
    "VN": ("141", "越南", 0.07), "JP": ("116", "日本", 0.05), "IN": ("123", "印度", 0.05),
    "TH": ("136", "泰国", 0.05), "MX": ("412", "墨西哥", 0.04), "IT": ("307", "意大利", 0.04),
    "PL": ("327", "波兰", 0.04), "NL": ("309", "荷兰", 0.03), "FR": ("305", "法国", 0.03),
    "TW": ("143", "中国台湾", 0.03), "TR": ("137", "土耳其", 0.02), "BR": ("410", "巴西", 0.02),
    "MY": ("122", "马来西亚", 0.02), "GB": ("303", "英国", 0.02), "ES": ("312", "西班牙", 0.02),
}  # fmt: skip
OTHERS = ["TH", "MX", "IT", "PL", "NL", "FR", "TW", "TR", "BR", "MY", "GB", "ES"]


def destinations(month: int, rng: random.Random) -> dict[str, float]:
    """Tonnes per partner for one month, summing exactly to the world total."""
    world = WORLD_T[month]
    tonnes = {}
    for iso in ("US", "DE", "KR", "VN", "JP", "IN"):
        reported = REPORTED_T.get(iso, {}).get(month)
        share = PARTNERS[iso][2] * rng.uniform(0.85, 1.15)
        tonnes[iso] = reported if reported is not None else round(world * share, 3)
    rest = world - sum(tonnes.values())
    weights = [PARTNERS[iso][2] * rng.uniform(0.7, 1.3) for iso in OTHERS]
    for iso, weight in zip(OTHERS, weights, strict=True):
        tonnes[iso] = round(rest * weight / sum(weights), 3)
    tonnes[OTHERS[-1]] = round(world - sum(v for k, v in tonnes.items() if k != OTHERS[-1]), 3)
    assert min(tonnes.values()) > 0, (month, tonnes)
    return tonnes


def main() -> None:
    rng = random.Random(850511)
    rows = []
    for month in range(1, 13):
        for iso, tonnes in destinations(month, rng).items():
            code, name, _ = PARTNERS[iso]
            usd_per_kg = rng.uniform(44.0, 56.0)
            kg_total = round(tonnes * 1000)
            general = round(kg_total * rng.uniform(0.7, 0.9))
            for mode, kg in (("一般贸易", general), ("进料加工贸易", kg_total - general)):
                usd = round(kg * usd_per_kg)
                rows.append((f"2025{month:02d}", code, name, mode, kg, usd, round(usd * CNY_PER_USD)))
    OUT.mkdir(parents=True, exist_ok=True)
    for currency, column, index in (("cny", "人民币", 6), ("usd", "美元", 5)):
        with (OUT / f"2025_magnets_8505111000_{currency}.csv").open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([*HEADER, column])
            for period, code, name, mode, kg, *money in rows:
                writer.writerow([period, HS, NAME, code, name, mode, kg, "千克", "", "", money[index - 5]])
    print(f"wrote {len(rows)} rows per currency into {OUT}")


if __name__ == "__main__":
    main()
