"""Units and money scales as published (DOMAIN.md §4), in one table, and the parsing of printed numbers.

A published unit maps to a normalised unit and a factor: quantities to tonnes, money to CNY or USD.
CNY and USD are two published currencies, never converted into each other.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    unit: str  # normalised unit: t, CNY, USD, or a count unit kept as published
    factor: float  # published value × factor = normalised value
    kind: str  # mass | money | count


def without_format_chars(text: str) -> str:
    """The text without Unicode format characters (category Cf: BOM, zero-width space and joiner, soft hyphen, bidi
    marks): invisible, they would make 'Rare\u200b earths' another commodity than 'Rare earths'. NFKC keeps them."""
    if text.isascii():
        return text
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def nfkc(text: str) -> str:
    """NFKC of the text without its format characters: how labels, headers and units are folded before matching."""
    return unicodedata.normalize("NFKC", without_format_chars(text))


def _key(text: str) -> str:
    """Fold width, case and spacing so '１０，０００ Tons' and '10000T' find the same entry."""
    text = nfkc(text).lower()
    return re.sub(r"[\s,$:：]", "", text)


_SCALES: dict[str, Scale] = {}


def _add(scale: Scale, *spellings: str) -> None:
    for spelling in spellings:
        _SCALES[_key(spelling)] = scale


# Not 'MT': folded to lower case it is also 'Mt', megatonnes (DOMAIN.md §5 writes reserves of 44 Mt), a factor of a
# million apart; a rare-earth row in 'MT' is quarantined (unit_is_mass) rather than guessed.
_add(Scale("t", 1.0, "mass"), "吨", "公吨", "ton", "tons", "tonne", "tonnes", "t", "metric ton", "metric tons")
_add(Scale("t", 0.001, "mass"), "千克", "公斤", "kg", "kilogram", "kilograms")
_add(Scale("t", 10_000.0, "mass"), "万吨", "10000t", "10000tons", "10,000 tons", "10 000 tonnes")
_add(Scale("CNY", 1.0, "money"), "元", "cny", "rmb", "人民币", "yuan")
_add(Scale("CNY", 10_000.0, "money"), "万元", "万元人民币", "人民币万元", "cny10thousand", "10000yuan")
_add(Scale("CNY", 100_000_000.0, "money"), "亿元", "亿元人民币", "人民币亿元", "cny100million", "rmb100million")
_add(Scale("USD", 1.0, "money"), "美元", "usd", "us$")
_add(Scale("USD", 1_000.0, "money"), "千美元", "us$1000", "us$1,000", "usd1000", "usdthousand", "usd1thousand")
_add(Scale("USD", 10_000.0, "money"), "万美元")
_add(Scale("USD", 1_000_000.0, "money"), "usd1million", "百万美元", "us$1million", "usdmillion", "us$ million")
_add(Scale("USD", 100_000_000.0, "money"), "亿美元", "usd100million", "us$100million")


def scale_of(published_unit: str) -> Scale | None:
    """The scale for a unit as printed, or None when it is not a mass or money unit we know."""
    return _SCALES.get(_key(published_unit))


def money_scale_from_caption(caption: str) -> Scale | None:
    """Find the money unit in a caption such as 'Unit: USD1 Million' or '单位：万元人民币'."""
    text = nfkc(caption)
    text = re.sub(r"^\s*(金额单位|单位|units?)\s*[:：]?\s*", "", text, flags=re.IGNORECASE).strip().strip('"')
    scale = scale_of(text)
    return scale if scale is not None and scale.kind == "money" else None


NONE_MARKS = {"-", "–", "—", "－", "", "..", "…"}
# Footnote marks: signs anywhere ('14.6*'), a bracketed number only behind something ('5,792(1)', '- [2]'). Alone,
# '(3)' may well be the figure (3, or an accountant's −3): it is no number, not a footnote on a blank.
# (Full-width brackets are folded to these by NFKC first.)
_FOOTNOTE = re.compile(r"[*†‡#※]+|(?<=\S)\s*(?:\(\d\)|\[\d+\])")
# Commas group thousands: 1 to 3 digits, then groups of exactly 3, up to the decimal point ('7,742.2', '8,511').
# A pattern both here and in the detailed export's polars typing (sources/detailed.py).
THOUSANDS = r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"
_THOUSANDS = re.compile(THOUSANDS)
# Footnote marks that NFKC would turn into digits ('5,792.0①' must not read 5792.01): removed before folding.
# Circled, parenthesised, full-stop and negative circled numbers, and superscript digits.
FOLDING_FOOTNOTE = re.compile(r"[\u2460-\u249b\u2776-\u2793\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+")


def parse_number(text: str | None) -> float | None:
    """A printed number as a float: '7,742.2' → 7742.2, '－' → None. Raises ValueError on text that is no number.

    Full-width digits and footnote marks are folded away; '-' and blanks mean 'not published'. A numbered mark with
    no figure before it ('(3)', '①') is no number.
    """
    if text is None:
        return None
    unmarked = FOLDING_FOOTNOTE.sub("", str(text))
    if not unmarked.strip() and str(text).strip():
        # '①' or '⑶' alone: a numbered mark with no figure before it may be the figure itself, as '(3)' may.
        raise ValueError(f"a numbered footnote mark with no figure: {text!r}")
    cleaned = nfkc(unmarked).strip().replace("\u2212", "-")
    if cleaned in NONE_MARKS:
        return None
    cleaned = _FOOTNOTE.sub("", cleaned).replace(" ", "").replace("%", "")
    if cleaned in NONE_MARKS:
        return None
    if "," in cleaned and not _THOUSANDS.fullmatch(cleaned):
        # A decimal comma ('36,9', '1.036,9', '5 792,0') would read 10× or 1,000× off with its commas dropped.
        raise ValueError(f"{text!r}: its commas are not thousands separators (groups of three digits before any '.')")
    value = float(cleaned.replace(",", ""))  # ValueError names the text
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def mass_spellings() -> dict[str, float]:
    """Every mass unit spelling we know (lower case, as printed) → factor to tonnes, for SQL joins."""
    spellings = {"吨": 1.0, "ton": 1.0, "tons": 1.0, "tonne": 1.0, "tonnes": 1.0, "t": 1.0, "千克": 0.001,
                 "kg": 0.001, "kilogram": 0.001, "kilograms": 0.001, "公斤": 0.001, "万吨": 10_000.0}  # fmt: skip
    return {k: v for k, v in spellings.items() if (s := scale_of(k)) is None or s.factor == v}
