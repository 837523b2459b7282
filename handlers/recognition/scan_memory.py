"""The scan's store in memory, over a list of events and their web signals."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from handlers.recognition.detection import SUBMISSION_KINDS, Ev, Sig
from handlers.recognition.scan_bins import COHORT, COUNTS, is_sub


class MemoryStore:
    """The store over a list of events: pure ``detect``, and the full re-scan (one read of the
    campaign instead of a query per window)."""

    def __init__(self, events: Sequence[Ev], signals: Sequence[Sig] = ()) -> None:
        self.sig_device: dict[str, list[Sig]] = defaultdict(list)
        self.sig_identity: dict[str, list[Sig]] = defaultdict(list)
        self.sig_brand: dict[int, list[Sig]] = defaultdict(list)
        for s in sorted(signals, key=lambda s: (s.at, s.id)):
            if s.device_hash is not None:
                self.sig_device[s.device_hash].append(s)
            self.sig_identity[s.identity].append(s)
            if s.brand_id is not None and s.kind in SUBMISSION_KINDS:
                self.sig_brand[s.brand_id].append(s)
        self.events = sorted(events, key=lambda e: (e.at, e.id))
        self.times = [e.at for e in self.events]
        self.by_brand: dict[int | None, list[Ev]] = defaultdict(list)
        self.first: dict[str, datetime] = {}
        for e in self.events:
            self.by_brand[e.brand_id].append(e)
            self.first.setdefault(e.identity, e.at)
        self.brand_times = {b: [e.at for e in evs] for b, evs in self.by_brand.items()}
        self.rows: dict[tuple[int, int, int], list[int]] = {}
        self.fires: set[tuple[int, int, int]] = set()

    def add_bins(self, rows: dict[tuple[int, int, int], list[int]]) -> None:
        for key, v in rows.items():
            cur = self.rows.setdefault(key, [0] * len(COUNTS))
            for i, x in enumerate(v):
                cur[i] += x

    def bins(self, scale: int, brand: int, lo: int, hi: int) -> dict[int, tuple[list[int], bool]]:
        out = {}
        if hi - lo < 4096:
            keys: Iterable[tuple[int, int, int]] = ((scale, brand, b) for b in range(lo, hi))
        else:
            keys = (k for k in self.rows if k[0] == scale and k[1] == brand and lo <= k[2] < hi)
        for key in keys:
            if key in self.rows:
                out[key[2]] = (self.rows[key], key in self.fires)
        if hi - lo == 1 and lo not in out:
            out[lo] = ([0] * len(COUNTS), False)
        return out

    def candidates(self, scale: int, lo: int, hi: int, min_count: int) -> list[tuple[int, int, int]]:
        return [
            (k[1], k[2], v[0])
            for k, v in self.rows.items()
            if k[0] == scale and k[1] != COHORT and lo <= k[2] <= hi and v[0] >= min_count
        ]

    def set_fires(self, scale: int, brand: int, b: int, fires: bool) -> None:
        (self.fires.add if fires else self.fires.discard)((scale, brand, b))

    def firing(self, scale: int, lo: int, hi: int) -> list[tuple[int, int]]:
        return [(k[1], k[2]) for k in self.fires if k[0] == scale and lo <= k[2] <= hi]

    def events_between(self, lo: datetime, hi: datetime, brand: int | None = None) -> list[Ev]:
        evs, times = (
            (self.events, self.times)
            if brand is None
            else (self.by_brand[brand], self.brand_times.get(brand, []))
        )
        return evs[bisect_left(times, lo) : bisect_left(times, hi)]

    def identity_events(self, idents: Sequence[str], lo: datetime, hi: datetime) -> list[Ev]:
        wanted = set(idents)
        return [e for e in self.events if e.identity in wanted and lo <= e.at <= hi]

    def first_activity(self, idents: Sequence[str]) -> dict[str, datetime]:
        return {i: self.first[i] for i in idents if i in self.first}

    def typed_extreme(self, brands: Sequence[int], lo: datetime, hi: datetime) -> list[Ev]:
        wanted = set(brands)
        return [
            e
            for e in self.events
            if e.kind == "rating"
            and e.channel == "self"
            and e.q1 in (1, 5)
            and e.brand_id in wanted
            and lo <= e.at <= hi
        ]

    def ring_events(self, lo: datetime, hi: datetime) -> list[Ev]:
        return [
            e
            for e in self.events
            if is_sub(e) and e.channel == "brand" and e.union_path is not None and lo <= e.at <= hi
        ]

    def device_signals(self, devices: Sequence[str]) -> list[Sig]:
        return [s for d in devices for s in self.sig_device.get(d, ())]

    def identity_signals(self, idents: Sequence[str], lo: datetime, hi: datetime) -> list[Sig]:
        return [s for i in idents for s in self.sig_identity.get(i, ()) if lo <= s.at <= hi]

    def brand_signals(self, brand: int) -> list[Sig]:
        return list(self.sig_brand.get(brand, ()))
