"""Content keywords: a category from a weighted keyword table, and the top words of answers.

Pure functions over text; the only place besides the router that uses jieba.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import jieba

FALLBACK_CATEGORY = "其他"

# Function words and survey filler that say nothing about content.
_STOPWORDS = frozenset(
    str.split(
        "的 了 是 在 我 我们 你 你们 他 她 它 和 与 及 也 都 就 很 还 又 有 没有 没 不 吧 啊 呢 "
        "吗 把 被 让 给 对 对于 这 那 这个 那个 一个 一些 希望 建议 可以 能 能够 应该 什么 "
        "怎么 如果 因为 所以 但是 而且 "
        "比较 非常 觉得 感觉 一下 一点 现在 目前 已经 没什么 无 暂无 没有了"
    )
)


def _words(text: str) -> list[str]:
    return [w.strip() for w in jieba.lcut(text) if w.strip()]


def categorise(text: str, table: Mapping[str, Mapping[str, float]]) -> tuple[str, dict[str, float]]:
    """The best category for ``text`` and every category's score.

    A keyword counts once per text: as a jieba word or, for multi-word keywords jieba
    splits differently, as a substring. Ties go to the category listed first.
    """
    words = set(_words(text))
    scores: dict[str, float] = {}
    for category, keywords in table.items():
        score = 0.0
        for keyword, weight in keywords.items():
            if keyword in words or keyword in text:
                score += float(weight)
        scores[category] = score
    best, best_score = FALLBACK_CATEGORY, 0.0
    for category, score in scores.items():
        if score > best_score:
            best, best_score = category, score
    return best, scores


def top_keywords(texts: Iterable[str], n: int = 10) -> list[tuple[str, int]]:
    """The ``n`` most frequent content words across ``texts`` (each text counts a word once)."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = {
            w
            for w in _words(text)
            if len(w) >= 2 and w not in _STOPWORDS and not w.isdigit() and any(c.isalnum() for c in w)
        }
        counts.update(words)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
