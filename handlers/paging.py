"""Lines of a reply split into pages that each fit WeChat's passive-reply limit."""

from __future__ import annotations

from collections.abc import Iterable


def pages_of(lines: Iterable[str], budget: int) -> list[list[str]]:
    """Greedy pages of at most ``budget`` UTF-8 bytes (a newline after each line); a line longer
    than a whole page is cut and marked with … rather than dropped. Always at least one page."""
    pages: list[list[str]] = [[]]
    used = 0
    for line in lines:
        size = len(line.encode()) + 1
        if size > budget:
            line = line.encode()[: max(0, budget - 4)].decode("utf-8", errors="ignore") + "…"
            size = len(line.encode()) + 1
        if pages[-1] and used + size > budget:
            pages.append([])
            used = 0
        pages[-1].append(line)
        used += size
    return pages
