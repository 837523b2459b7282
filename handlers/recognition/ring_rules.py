"""The exchange-ring rule B7: home members of two brands rating each other through brand links."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from config.recognition import RecognitionConfig
from handlers.recognition.detection import Ev, Flags, Wanted, put
from models.recognition import FlagStatus


def ring_flags(
    pair_events: dict[tuple[int, int], list[Ev]],
    cfg: RecognitionConfig,
    out: Flags,
    scope: set[int] | None = None,
) -> None:
    """B7: an event of home members of A rating B via B's link is in a ring when, within 48 h of
    it, both A→B and B→A reach min_each (a local test, so new events never move old verdicts
    outside their 48 h)."""
    r = cfg.rules
    window = timedelta(hours=r.ring_window_h)
    for (a, b), ab in sorted(pair_events.items()):
        ba = pair_events.get((b, a), [])
        if len(ab) < r.ring_min_each or len(ba) < r.ring_min_each:
            continue
        for e in ab:
            if scope is not None and e.id not in scope:
                continue
            n_ab = sum(1 for x in ab if abs(x.at - e.at) <= window)
            n_ba = sum(1 for x in ba if abs(x.at - e.at) <= window)
            if n_ab >= r.ring_min_each and n_ba >= r.ring_min_each:
                put(
                    out,
                    (e.id, "B7_exchange_ring"),
                    Wanted(
                        FlagStatus.WATCH,
                        {"pair": sorted([a, b]), "min_each": r.ring_min_each},
                        "两个品牌的本单位成员互相评价（疑似换票圈）",
                    ),
                )


def ring_pairs(subs: Sequence[Ev], brand_paths: dict[int, str]) -> dict[tuple[int, int], list[Ev]]:
    """(home brand of the rater, rated brand) → brand-link ratings."""
    pairs: dict[tuple[int, int], list[Ev]] = defaultdict(list)
    for e in subs:
        if e.channel != "brand" or e.union_path is None or e.brand_id is None or e.src_brand_id != e.brand_id:
            continue
        for home_brand, path in brand_paths.items():
            if home_brand != e.brand_id and e.union_path.startswith(path):
                pairs[(home_brand, e.brand_id)].append(e)
    return pairs
