"""Text normalisation before routing.

Two levels: ``clean`` keeps the user's words (full-width → half-width, traditional →
simplified, emoji and WeChat emoticon codes removed, whitespace collapsed) and is what
suggestion and progress texts are cut from; ``numerals_to_digits`` and ``strip_padding`` are
for analysis only, because "干了三年" should stay as typed in a complaint.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import opencc

_T2S_LOCK = threading.Lock()
_t2s: opencc.OpenCC | None = None


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters OpenCC would change: conversion runs only for texts containing one (fast path)."""
    path = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
    chars: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            trad, _, simp = line.rstrip("\n").partition("\t")
            if len(trad) == 1 and simp.split(" ")[0] != trad:
                chars.add(trad)
    return frozenset(chars)


def to_simplified(text: str) -> str:
    global _t2s
    chars = _traditional_chars()
    if not any(c in chars for c in text):
        return text
    if _t2s is None:
        with _T2S_LOCK:
            if _t2s is None:
                _t2s = opencc.OpenCC("t2s")
    result: str = _t2s.convert(text)
    return result


def warm_up() -> None:
    """Load OpenCC's tables now rather than on the first traditional-character message."""
    _traditional_chars()
    to_simplified("繁體")


_STARS = re.compile(r"[★☆⭐🌟]+")
_THUMBS = re.compile(r"[👍]+")
# WeChat's older text emoticons ("/::)"), sent by some clients instead of "[微笑]".
_OLD_CODES = (
    ":)",
    ":~",
    ":B",
    ":|",
    "8-)",
    ":<",
    ":$",
    ":X",
    ":Z",
    ":'(",
    ":-|",
    ":@",
    ":P",
    ":D",
    ":O",
    ":(",
    ":+",
    "--b",
    ":Q",
    ":T",
    ",@P",
    ",@-D",
    ":d",
    ",@o",
    ":g",
    "|-)",
    ":!",
    ":L",
    ":>",
    ":,@",
    ",@f",
    ":-S",
    "?",
    ",@x",
    ",@@",
    ":8",
    ",@!",
    "!!!",
    "xx",
    "bye",
    "wipe",
    "dig",
    "handclap",
    "&-(",
    "B-)",
    "<@",
    "@>",
    ":-O",
    ">-|",
    "P-(",
    ":'|",
    "X-)",
    ":*",
    "@x",
    "8*",
    "pd",
    "<W>",
    "beer",
    "basketb",
    "oo",
    "coffee",
    "eat",
    "pig",
    "rose",
    "fade",
    "showlove",
    "heart",
    "break",
    "cake",
    "li",
    "bome",
    "kn",
    "footb",
    "ladybug",
    "shit",
    "moon",
    "sun",
    "gift",
    "hug",
    "strong",
    "weak",
    "share",
    "v",
    "@)",
    "jj",
    "@@",
    "bad",
    "lvu",
    "no",
    "ok",
    "love",
    "<L>",
    "jump",
    "shake",
    "<O>",
    "circle",
    "kotow",
    "turn",
    "skip",
    "oY",
)
_OLD_EMOTICON = re.compile(
    "/:(?:" + "|".join(re.escape(c) for c in sorted(_OLD_CODES, key=len, reverse=True)) + ")"
)
_BRACKETED = re.compile(r"\[([^\[\]]{1,5})\]")
_SPACES = re.compile(r"\s+")
# Categories that are never words here: symbols (emoji), private use, surrogates, format
# characters (zero-width joiner), modifier symbols (skin tones) and enclosing marks.
_DROP_CATEGORIES = {"So", "Co", "Cs", "Cf", "Sk", "Me", "Cc"}


def _stars(match: re.Match[str]) -> str:
    filled = sum(1 for c in match.group(0) if c != "☆")
    return f" {filled}星 " if filled else " "


def _fold_alnum(text: str) -> str:
    """Full-width letters, digits and spaces → half-width; Chinese punctuation stays (，。：)."""
    return "".join(
        chr(ord(c) - 0xFEE0)
        if ("０" <= c <= "９" or "Ａ" <= c <= "Ｚ" or "ａ" <= c <= "ｚ")
        else " "
        if c == "\u3000"
        else c
        for c in text
    )


def clean(text: str, wechat_emoji: frozenset[str] = frozenset(), *, for_analysis: bool = True) -> str:
    """``for_analysis``: fold everything (NFKC); otherwise keep the user's punctuation."""
    text = unicodedata.normalize("NFKC", text) if for_analysis else _fold_alnum(text)
    text = to_simplified(text)
    text = _STARS.sub(_stars, text)  # "★★★★★" is a rating, not decoration
    text = _THUMBS.sub(" 赞 ", text)
    text = _BRACKETED.sub(lambda m: " " if m.group(1) in wechat_emoji else m.group(0), text)
    text = _OLD_EMOTICON.sub(" ", text)
    text = "".join(
        c
        for c in text
        if not (unicodedata.category(c) in _DROP_CATEGORIES and c not in "\n\t ")
        and not ("\ufe00" <= c <= "\ufe0f")
    )
    return _SPACES.sub(" ", text).strip()


_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = re.compile("[零〇一二两三四五六七八九十百千]+")
# A numeral is a number when a counter follows it, or a voting verb / 第 precedes it.
_AFTER = set("号分星颗个位名项年月日天岁遍条张块元届期人")
_BEFORE = set("第投选给打号")


def chinese_to_int(run: str) -> int | None:
    """一一三八 → 1138, 二十一 → 21, 十二 → 12, 一百零五 → 105; None for nonsense."""
    if not any(c in _UNITS for c in run):
        if any(c not in _DIGITS for c in run):
            return None
        return int("".join(str(_DIGITS[c]) for c in run))
    total, current = 0, 0
    for c in run:
        if c in _DIGITS:
            current = _DIGITS[c]
        else:
            unit = _UNITS[c]
            total += (current or 1) * unit
            current = 0
    return total + current


def numerals_to_digits(text: str, protected: re.Pattern[str] | None = None) -> str:
    blocked: list[tuple[int, int]] = []
    if protected is not None:
        blocked = [m.span() for m in protected.finditer(text)]
    whole = text.strip()

    def replace(match: re.Match[str]) -> str:
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        # 十一 (the holiday) is protected, but 投十一号 / 二十一号 / 第十一个 are candidate numbers.
        candidate = after == "号" or (before == "第" and after in "个位名")
        if not candidate and any(s < end and start < e for s, e in blocked):
            return match.group(0)
        if not (after in _AFTER or before in _BEFORE or match.group(0) == whole):
            return match.group(0)
        value = chinese_to_int(match.group(0))
        return match.group(0) if value is None else str(value)

    return _NUMERAL_RUN.sub(replace, text)


def protected_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    items = sorted({w for w in words if w and _NUMERAL_RUN.search(w)}, key=len, reverse=True)
    if not items:
        return None
    return re.compile("|".join(re.escape(w) for w in items))


_PUNCT = r"[\s,.!?~、:;。，！？…·\-—_]*"


def padding_pattern(padding: Iterable[str]) -> re.Pattern[str]:
    """One padding word (with its punctuation) at either end of the text."""
    alternatives = "|".join(re.escape(p) for p in sorted(padding, key=len, reverse=True))
    return re.compile(rf"^{_PUNCT}(?P<head>{alternatives}){_PUNCT}|{_PUNCT}(?P<tail>{alternatives}){_PUNCT}$")


def strip_padding(
    text: str, pattern: re.Pattern[str], boundaries: Callable[[str], frozenset[int]] | None = None
) -> str:
    """Remove padding words from both ends, one at a time.

    With ``boundaries`` (word boundaries of a text), a padding word is removed only when it is a
    whole word: "希望工会过问一下" keeps 过问一下 (问一下 is part of 过问).
    """
    text = text.strip()
    while True:
        cut = None
        for m in pattern.finditer(text):
            if boundaries is not None:
                edge = m.end("head") if m.group("head") is not None else m.start("tail")
                if edge not in boundaries(text):
                    continue
            cut = m
            break
        if cut is None:
            return text
        stripped = (text[: cut.start()] + text[cut.end() :]).strip()
        if stripped == text:
            return text
        text = stripped
