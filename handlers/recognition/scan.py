"""The incremental fraud scan: new events since a per-campaign checkpoint, windowed state in
``recognition_scan_bin`` (issue 13), verdicts from ``detection.py``.

A run adds the new events to per-bin counts (10 min, and days at two offsets so a 24 h spread
is never cut in half), re-judges B1 for bins near them, re-judges the burst windows that can
see them, and the identities and brand pairs they belong to. Only events in that scope can
change, so only their flags are compared. A full re-scan is the same run with every event new:
both give the same flags (tests/handlers/recognition/test_scan.py).

The web rules (F1, F2, F5, B4) run on the new events' web signals: F2 on those events, F1 on
every signal of the devices they used, F5 on their identities' signals within two windows, B4 on
every signal of the brands they rated or whose burst windows changed. Events without a signal
are in none of those scopes, so their flags are never touched by these rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from config.recognition import RecognitionConfig
from handlers.recognition.burst_rules import Baseline, judge_window
from handlers.recognition.detection import (
    CONCENTRATION_RULES,
    DEVICE_RULES,
    GEO_RULES,
    IDC_RULES,
    IDENTITY_RULES,
    RING_RULES,
    SUBMISSION_KINDS,
    WINDOW_RULES,
    Ev,
    Flags,
    Sig,
    poisson_sf,
)
from handlers.recognition.hop_rules import link_hops, typed_groups, typed_hop_sets
from handlers.recognition.ring_rules import ring_flags, ring_pairs
from handlers.recognition.scan_bins import ALL_BINS, COHORT, Scale, Store, bin_counts, is_sub, scales
from handlers.recognition.scan_memory import MemoryStore
from handlers.recognition.web_rules import brand_concentration, device_multi, geo_jumps, idc_ip


@dataclass
class Result:
    """Wanted flags, and the events whose flags the run may change, per rule family."""

    wanted: Flags
    scope: dict[tuple[str, ...], set[int]]


class Scanner:
    def __init__(self, store: Store, brand_paths: dict[int, str], cfg: RecognitionConfig) -> None:
        self.store = store
        self.paths = brand_paths
        self.cfg = cfg
        self.n_brands = max(len(brand_paths), 1)
        self._quiet: dict[int, tuple[frozenset[int], float]] = {}
        self._window_brands: set[int] = set()  # brands whose burst windows were re-judged

    def run(self, new: Sequence[Ev], signals: Sequence[Sig] = ()) -> Result:
        """Judge the new events; ``signals`` are the web signals of those of them that have one."""
        wanted: Flags = {}
        scope: dict[tuple[str, ...], set[int]] = {
            WINDOW_RULES: set(),
            IDENTITY_RULES: set(),
            RING_RULES: set(),
            DEVICE_RULES: set(),
            IDC_RULES: set(),
            GEO_RULES: set(),
            CONCENTRATION_RULES: set(),
        }
        subs = [e for e in new if is_sub(e)]
        self.store.add_bins(bin_counts(subs, self.cfg))
        self._windows(subs, wanted, scope[WINDOW_RULES])
        self._identities(subs, wanted, scope[IDENTITY_RULES])
        self._rings(subs, wanted, scope[RING_RULES])
        self._web(signals, wanted, scope)
        return Result(wanted, scope)

    # --- B1 and the windows ----------------------------------------------------------------

    def _base_bins(self, sc: Scale) -> int:
        return self.cfg.rules.burst_baseline_days * 86400 // sc.width_s

    def _windows(self, subs: Sequence[Ev], wanted: Flags, scope: set[int]) -> None:
        """B1 near the new events at every scale; then every window that can see an event
        whose verdict may have changed is judged, in one fixed order, so an event's verdict is
        the same whichever run produced it."""
        if not subs:
            return
        cache: dict[tuple[int, int, int], list[Ev]] = {}
        for sc in scales(self.cfg):
            for brand, b in self._refire(sc, subs):
                scope.update(e.id for e in self._inside(sc, brand, b, cache))
        if not scope:
            return
        events = [e for evs in cache.values() for e in evs if e.id in scope]
        brands = {e.brand_id for e in events}
        self._window_brands = {b for b in brands if b is not None}
        t_lo, t_hi = min(e.at for e in events), max(e.at for e in events)
        for sc in scales(self.cfg):
            m = sc.margin
            near = self.store.firing(sc.no, sc.bin(t_lo) - m, sc.bin(t_hi) + m)
            for brand, b in sorted((x for x in near if x[0] in brands), key=lambda x: (x[1], x[0])):
                inside = self._inside(sc, brand, b, cache)
                base = self._baseline(sc, brand, b, inside)
                judge_window(brand, inside, sc.start(b - m), base, self.paths, self.cfg, sc.label, wanted)

    def _inside(self, sc: Scale, brand: int, b: int, cache: dict[tuple[int, int, int], list[Ev]]) -> list[Ev]:
        key = (sc.no, brand, b)
        if key not in cache:
            m = sc.margin
            evs = self.store.events_between(sc.start(b - m), sc.start(b + m + 1), brand)
            cache[key] = sorted((e for e in evs if is_sub(e)), key=lambda e: (e.at, e.id))
        return cache[key]

    def _refire(self, sc: Scale, subs: Sequence[Ev]) -> set[tuple[int, int]]:
        """Re-judge B1 for the bins the new events touch (and later ones whose baseline they
        are in); returns the windows whose verdicts may change: firing near them, or changed."""
        touched = [sc.bin(e.at) for e in subs]
        lo, hi = min(touched), max(touched)
        base = self._base_bins(sc)
        hi_ext = hi
        changed: set[tuple[int, int]] = set()
        for brand, b, n in sorted(
            self.store.candidates(sc.no, lo, hi + base, sc.min_count), key=lambda x: (x[1], x[0])
        ):
            fires = self._fires(sc, brand, b, n)
            if fires != self.store.bins(sc.no, brand, b, b + 1)[b][1]:
                self.store.set_fires(sc.no, brand, b, fires)
                changed.add((brand, b))
                hi_ext = max(hi_ext, b)
        m = sc.margin
        return changed | set(self.store.firing(sc.no, lo - 2 * m, hi_ext + 2 * m))

    def _fires(self, sc: Scale, brand: int, b: int, n: int) -> bool:
        """B1: improbable under the brand's own trailing rate (earlier bursts left out), and a
        share of the cohort's traffic well above the brand's usual share."""
        r = self.cfg.rules
        base = self._base_bins(sc)
        own = self.store.bins(sc.no, brand, b - base, b)
        quiet = [row for row, fires in own.values() if not fires]
        base_brand = sum(row[0] for row in quiet)
        lam = max(r.burst_lambda_floor, base_brand / max(1, base - (len(own) - len(quiet))))
        if poisson_sf(n, lam) >= r.burst_poisson_p:
            return False
        cohort_now = self.store.bins(sc.no, COHORT, b, b + 1)[b][0][0]
        base_cohort = sum(row[0] for row, _ in self.store.bins(sc.no, COHORT, b - base, b).values())
        share_base = (base_brand + 1.0) / (base_cohort + self.n_brands)  # smoothed for new brands
        return n / cohort_now >= sc.share_ratio * share_base

    def _baseline(self, sc: Scale, brand: int, b: int, inside: Sequence[Ev]) -> Baseline:
        start = b - sc.margin
        base = self._base_bins(sc)
        out = Baseline()
        for row, fires in self.store.bins(sc.no, brand, start - base, start).values():
            if not fires:
                out.rated, out.top, out.bottom = out.rated + row[2], out.top + row[3], out.bottom + row[4]
        for row, _ in self.store.bins(sc.no, COHORT, start - base, start).values():
            out.cohort_rated += row[2]
            out.cohort_top += row[3]
            out.cohort_bottom += row[4]
        win_c = self.store.bins(sc.no, COHORT, start, b + sc.margin + 1)
        win_b = self.store.bins(sc.no, brand, start, b + sc.margin + 1)
        n_other = sum(r[0] for r, _ in win_c.values()) - sum(r[0] for r, _ in win_b.values())
        new_other = sum(r[1] for r, _ in win_c.values()) - sum(r[1] for r, _ in win_b.values())
        out.cohort_new_share = new_other / n_other if n_other > 0 else 0.0
        out.quiet_hours, out.quiet_share = self._quiet_profile(sc.start(start))
        out.first_activity = self.store.first_activity(sorted({e.identity for e in inside}))
        return out

    def _quiet_profile(self, at: datetime) -> tuple[frozenset[int], float]:
        """UTC hours with under a third of a uniform share of the cohort's trailing week."""
        sc0 = scales(self.cfg)[0]
        day = sc0.bin(at) * sc0.width_s // 86400
        if day not in self._quiet:
            end = sc0.bin(datetime.fromtimestamp(day * 86400, tz=UTC))
            rows = self.store.bins(0, COHORT, end - self._base_bins(sc0), end)
            by_hour = [0] * 24
            for b, (row, _) in rows.items():
                by_hour[(b * sc0.width_s % 86400) // 3600] += row[0]
            total = sum(by_hour)
            quiet = frozenset(h for h in range(24) if total and by_hour[h] / total < 1 / 72)
            self._quiet[day] = (quiet, sum(by_hour[h] for h in quiet) / total if total else 0.0)
        return self._quiet[day]

    # --- identities and rings ---------------------------------------------------------------

    def _identities(self, subs: Sequence[Ev], wanted: Flags, scope: set[int]) -> None:
        rated = [e for e in subs if e.kind in ("rating", "review_score")]
        if not rated:
            return
        r = self.cfg.rules
        w = timedelta(hours=max(r.link_hop_window_h, r.typed_hop_window_h))
        t_lo, t_hi = min(e.at for e in rated), max(e.at for e in rated)
        by_ident: dict[str, list[Ev]] = defaultdict(list)
        for e in self.store.identity_events(sorted({e.identity for e in rated}), t_lo - 2 * w, t_hi + 2 * w):
            if is_sub(e):
                by_ident[e.identity].append(e)
        brands: set[int] = set()
        for evs in by_ident.values():
            evs.sort(key=lambda e: (e.at, e.id))
            link_hops(evs, self.cfg, wanted)
            scope.update(e.id for e in evs if t_lo - w <= e.at <= t_hi + w)
            for _, hop_brands, _ in typed_hop_sets(evs, self.cfg):
                brands |= hop_brands
        if not brands:
            return
        peers: dict[str, list[Ev]] = defaultdict(list)
        for e in self.store.typed_extreme(sorted(brands), t_lo - 3 * w, t_hi + 3 * w):
            peers[e.identity].append(e)
        hops = {}
        for ident, evs in peers.items():
            found = typed_hop_sets(sorted(evs, key=lambda e: (e.at, e.id)), self.cfg)
            if found:
                hops[ident] = found
                scope.update(e.id for _, _, hop in found for e in hop)
        typed_groups(hops, self.cfg, wanted)

    def _rings(self, subs: Sequence[Ev], wanted: Flags, scope: set[int]) -> None:
        linked = [e for e in subs if e.channel == "brand" and e.union_path is not None]
        if not linked:
            return
        w = timedelta(hours=self.cfg.rules.ring_window_h)
        t_lo, t_hi = min(e.at for e in linked), max(e.at for e in linked)
        pairs = ring_pairs(self.store.ring_events(t_lo - 2 * w, t_hi + 2 * w), self.paths)
        inner = {e.id for evs in pairs.values() for e in evs if t_lo - w <= e.at <= t_hi + w}
        scope.update(inner)
        ring_flags(pairs, self.cfg, wanted, inner)

    # --- web rules --------------------------------------------------------------------------

    def _web(self, fresh: Sequence[Sig], wanted: Flags, scope: dict[tuple[str, ...], set[int]]) -> None:
        r = self.cfg.rules
        idc_ip(fresh, self.cfg, wanted)
        scope[IDC_RULES].update(s.id for s in fresh)
        devices = sorted({s.device_hash for s in fresh if s.device_hash is not None})
        if devices:
            on = self.store.device_signals(devices)
            device_multi(on, self.cfg, wanted)
            scope[DEVICE_RULES].update(s.id for s in on)
        located = [s for s in fresh if s.province is not None]
        if located:
            w = timedelta(minutes=r.geo_window_min)
            t_lo, t_hi = min(s.at for s in located), max(s.at for s in located)
            by_ident: dict[str, list[Sig]] = defaultdict(list)
            idents = sorted({s.identity for s in located})
            for s in self.store.identity_signals(idents, t_lo - 2 * w, t_hi + 2 * w):
                by_ident[s.identity].append(s)
            for evs in by_ident.values():
                evs.sort(key=lambda s: (s.at, s.id))
                geo_jumps(evs, self.cfg, wanted)
                scope[GEO_RULES].update(s.id for s in evs if t_lo - w <= s.at <= t_hi + w)
        brands = {s.brand_id for s in fresh if s.brand_id is not None and s.kind in SUBMISSION_KINDS}
        brands |= self._window_brands
        if not brands:
            return
        windows: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for sc in scales(self.cfg):
            for brand, b in self.store.firing(sc.no, *ALL_BINS):
                if brand in brands:
                    windows[brand].append((sc.start(b - sc.margin), sc.start(b + sc.margin + 1)))
        for brand in sorted(brands):
            subs = self.store.brand_signals(brand)
            brand_concentration(brand, self.paths.get(brand), subs, windows[brand], self.cfg, wanted)
            scope[CONCENTRATION_RULES].update(s.id for s in subs)


def detect_all(
    events: Sequence[Ev], brand_paths: dict[int, str], cfg: RecognitionConfig, signals: Sequence[Sig] = ()
) -> Flags:
    """Every flag the rules want for these events (and their web signals), as one full scan."""
    if not events:
        return {}
    return Scanner(MemoryStore(events, signals), brand_paths, cfg).run(events, signals).wanted
