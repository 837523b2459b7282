"""Keyword router (first version): exact keywords and brand names."""

from __future__ import annotations

import re
from collections.abc import Sequence

from nlp.intent import BrandEntry, Intent

_KEYWORDS: dict[str, tuple[str, ...]] = {
    "cancel": ("取消", "退出", "不投了"),
    "suggest": ("建议", "投诉", "反映", "意见"),
    "vote": ("投票", "投", "点赞", "支持", "打分", "满意"),
    "list": ("候选", "名单", "有哪些"),
    "status": ("查询", "进度怎么样", "我的建议"),
    "survey": ("问卷", "调查", "测评"),
    "progress": ("上报", "进度"),
    "bind": ("绑定", "邀请码"),
    "help": ("你好", "帮助", "help", "怎么用", "菜单"),
}
_TICKET = re.compile(r"jy\s*(\d{8})\s*-\s*(\d{4})", re.IGNORECASE)
_NUMBER = re.compile(r"(\d+)\s*号")
_SCORE = re.compile(r"([1-5])\s*分")


class Router:
    """Routes one message to an intent, given the current brand catalogue."""

    def __init__(self, brands: Sequence[BrandEntry] = ()) -> None:
        self._brands = list(brands)

    @property
    def brands(self) -> list[BrandEntry]:
        return list(self._brands)

    def _find_brand(self, text: str) -> str | None:
        for entry in self._brands:
            if any(name and name in text for name in (entry.name, *entry.aliases)):
                return entry.name
        return None

    def route(self, text: str) -> Intent:
        text = text.strip()
        brand = self._find_brand(text)
        ticket_match = _TICKET.search(text)
        ticket = f"JY{ticket_match.group(1)}-{ticket_match.group(2)}" if ticket_match else None
        for name, words in _KEYWORDS.items():
            if any(w in text for w in words):
                number = _NUMBER.search(text)
                score = _SCORE.search(text)
                return Intent(
                    name=name,
                    brand=brand,
                    number=int(number.group(1)) if number and name == "vote" else None,
                    score=int(score.group(1)) if score and name == "vote" else None,
                    ticket=ticket,
                    text=text if name in ("suggest", "progress") else None,
                    anonymous=name == "suggest" and "匿名" in text,
                )
        if ticket:
            return Intent(name="status", ticket=ticket)
        if brand:
            return Intent(name="status", brand=brand, confidence=0.5)
        return Intent(name="unknown", suggestions=("help", "list", "suggest"))
