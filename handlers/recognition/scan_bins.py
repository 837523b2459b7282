"""The scan's windowed counts: time bins at three scales, per brand and for the whole cohort.

A submission adds to its 10-minute bin and to two day bins (offset by 12 h, so a 24 h spread is
never cut in half), for its brand and for the cohort total (brand id ``COHORT``). ``Store`` is
what the scan reads and writes: in memory (``scan_memory``) or in the database (``scan_store``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from config.recognition import RecognitionConfig
from handlers.recognition.detection import SUBMISSION_KINDS, Ev, Sig, is_new

COHORT = 0  # brand id of the cohort-total rows
COUNTS = ("n", "n_new", "n_rated", "n_top", "n_bottom", "n_brand")
ALL_BINS = (-(2**31), 2**31 - 1)  # every bin of a scale (the bin column is a 32-bit integer)


@dataclass(frozen=True)
class Scale:
    no: int
    width_s: int
    offset_s: int
    margin: int  # bins either side of a firing bin that belong to its window
    min_count: int
    share_ratio: float
    label: str

    def bin(self, at: datetime) -> int:
        return (int(at.timestamp()) - self.offset_s) // self.width_s

    def start(self, b: int) -> datetime:
        return datetime.fromtimestamp(b * self.width_s + self.offset_s, tz=UTC)


def scales(cfg: RecognitionConfig) -> tuple[Scale, ...]:
    r = cfg.rules
    w = r.burst_bin_min * 60
    day = 86400
    return (
        Scale(
            0,
            w,
            0,
            max(0, r.burst_margin_min * 60 // w),
            r.burst_min_count,
            r.burst_share_ratio,
            f"{r.burst_bin_min}min",
        ),
        # A patient attacker spreads over a day: day windows, at two offsets so none is halved.
        Scale(1, day, 0, 0, r.day_min_count, r.day_share_ratio, "24h"),
        Scale(2, day, day // 2, 0, r.day_min_count, r.day_share_ratio, "24h+12h"),
    )


class Store(Protocol):
    """What the scan reads and writes; in memory (pure ``detect``) or in the database."""

    def add_bins(self, rows: dict[tuple[int, int, int], list[int]]) -> None: ...
    def bins(self, scale: int, brand: int, lo: int, hi: int) -> dict[int, tuple[list[int], bool]]: ...
    def candidates(self, scale: int, lo: int, hi: int, min_count: int) -> list[tuple[int, int, int]]: ...
    def set_fires(self, scale: int, brand: int, b: int, fires: bool) -> None: ...
    def firing(self, scale: int, lo: int, hi: int) -> list[tuple[int, int]]: ...
    def events_between(self, lo: datetime, hi: datetime, brand: int | None = None) -> list[Ev]: ...
    def identity_events(self, idents: Sequence[str], lo: datetime, hi: datetime) -> list[Ev]: ...
    def first_activity(self, idents: Sequence[str]) -> dict[str, datetime]: ...
    def typed_extreme(self, brands: Sequence[int], lo: datetime, hi: datetime) -> list[Ev]: ...
    def ring_events(self, lo: datetime, hi: datetime) -> list[Ev]: ...
    def device_signals(self, devices: Sequence[str]) -> list[Sig]: ...
    def identity_signals(self, idents: Sequence[str], lo: datetime, hi: datetime) -> list[Sig]: ...
    def brand_signals(self, brand: int) -> list[Sig]: ...


def is_sub(e: Ev) -> bool:
    return e.brand_id is not None and e.kind in SUBMISSION_KINDS


def bin_counts(events: Iterable[Ev], cfg: RecognitionConfig) -> dict[tuple[int, int, int], list[int]]:
    rows: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for e in events:
        if not is_sub(e):
            continue
        assert e.brand_id is not None
        v = (
            1,
            int(is_new(e, cfg)),
            int(e.q1 is not None),
            int(e.q1 == 5),
            int(e.q1 == 1),
            int(e.channel == "brand"),
        )
        for sc in scales(cfg):
            b = sc.bin(e.at)
            for brand in (e.brand_id, COHORT):
                row = rows[(sc.no, brand, b)]
                for i, x in enumerate(v):
                    row[i] += x
    return rows
