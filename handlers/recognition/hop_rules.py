"""The link-hopping rules on one identity's events: F3 (brand links) and F3T (typed lists)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from config.recognition import RecognitionConfig
from handlers.recognition.detection import Ev, Flags, Wanted, put, runs_with_distinct
from models.recognition import FlagStatus


def link_hops(evs: Sequence[Ev], cfg: RecognitionConfig, out: Flags) -> None:
    """F3 on one identity's events (time-ordered): brand-channel ratings for ≥ 3 brands in 24 h."""
    r = cfg.rules
    window = timedelta(hours=r.link_hop_window_h)
    mine = [e for e in evs if e.kind in ("rating", "review_score") and e.channel == "brand"]
    for inside in runs_with_distinct(mine, lambda e: e.brand_id, window, r.link_hop_brands):
        for e in inside:
            put(
                out,
                (e.id, "F3_link_hopper"),
                Wanted(
                    FlagStatus.SUSPECT,
                    {"distinct_brands": r.link_hop_brands, "window_h": r.link_hop_window_h},
                    "同一身份 24 小时内经多个品牌专属链接评价（互助换票）",
                ),
            )


def typed_hop_sets(evs: Sequence[Ev], cfg: RecognitionConfig) -> list[tuple[int, frozenset[int], list[Ev]]]:
    """One identity's typed hops: (box, brands, events) where it typed the same extreme score for
    ≥ 3 brands within 24 h. Alone this is an enthusiast; in a group it is a 互助 list."""
    r = cfg.rules
    window = timedelta(hours=r.typed_hop_window_h)
    typed = [e for e in evs if e.kind == "rating" and e.channel == "self" and e.q1 in (1, 5)]
    found: list[tuple[int, frozenset[int], list[Ev]]] = []
    for box in (5, 1):
        mine = [e for e in typed if e.q1 == box]
        for i, first in enumerate(mine):
            inside = [e for e in mine[i:] if e.at - first.at <= window]
            brands = frozenset(e.brand_id for e in inside if e.brand_id is not None)
            if len(brands) >= r.typed_hop_brands:
                found.append((box, brands, inside))
    return found


def typed_groups(
    hops: dict[str, list[tuple[int, frozenset[int], list[Ev]]]], cfg: RecognitionConfig, out: Flags
) -> None:
    """F3T: identities whose typed hops share ≥ 3 brands and the box, ≥ min_group of them within
    48 h of each other, are a coordinated list: their hop ratings are suspect."""
    r = cfg.rules
    span = timedelta(hours=2 * r.typed_hop_window_h)
    flat = sorted(
        ((ident, box, brands, evs) for ident, items in hops.items() for box, brands, evs in items),
        key=lambda x: (x[3][0].at, x[0]),
    )
    for ident, box, brands, evs in flat:
        t = evs[0].at
        peers = {
            other
            for other, b2, brands2, evs2 in flat
            if b2 == box and len(brands & brands2) >= r.typed_hop_brands and abs(evs2[0].at - t) <= span
        }
        if len(peers) < r.typed_hop_min_group:
            continue
        params = {"group": len(peers), "distinct_brands": r.typed_hop_brands, "box": box}
        for e in evs:
            put(
                out,
                (e.id, "F3T_typed_hopper"),
                Wanted(
                    FlagStatus.SUSPECT,
                    params,
                    "多人在 24 小时内以同样的极端分数手动评价同一组品牌（互助换票）",
                ),
            )
        del ident
