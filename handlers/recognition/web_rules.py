"""The web rules, on events with an H5 page's web signal only (chat events have none).

F1 device_multi, F2 idc_ip and F5 geo_jump give ``suspect``; B4 concentration gives ``watch``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from config.recognition import RecognitionConfig
from handlers.recognition.detection import Flags, Sig, Wanted, is_home, put, runs_with_distinct
from models.recognition import FlagStatus


def device_multi(sigs: Sequence[Sig], cfg: RecognitionConfig, out: Flags) -> None:
    """F1 on every signal of some devices in one campaign: identities are numbered in the order
    they first used the device; events on it of the (max + 1)th and later are suspect."""
    most = cfg.rules.device_max_identities
    by_device: dict[str, list[Sig]] = defaultdict(list)
    for s in sigs:
        if s.device_hash is not None:
            by_device[s.device_hash].append(s)
    for _, evs in sorted(by_device.items()):
        nth: dict[str, int] = {}
        for s in sorted(evs, key=lambda s: (s.at, s.id)):
            n = nth.setdefault(s.identity, len(nth) + 1)
            if n > most:
                put(
                    out,
                    (s.id, "F1_device_multi"),
                    Wanted(
                        FlagStatus.SUSPECT,
                        {"max_identities": most, "nth": n},
                        f"同一设备在本轮活动中出现第 {n} 个身份（上限 {most} 个）",
                    ),
                )


def idc_ip(sigs: Sequence[Sig], cfg: RecognitionConfig, out: Flags) -> None:
    """F2: a submission from a data-centre / cloud / proxy address (decided on the full address
    when the page recorded it)."""
    if not cfg.rules.idc_enabled:
        return
    for s in sigs:
        if s.idc:
            put(out, (s.id, "F2_idc_ip"), Wanted(FlagStatus.SUSPECT, {}, "提交来自数据中心或云服务器地址"))


def geo_jumps(evs: Sequence[Sig], cfg: RecognitionConfig, out: Flags) -> None:
    """F5 on one identity's signals (time-ordered): submissions from ≥ 3 provinces within 60
    minutes are suspect (those with a known province inside such a window)."""
    r = cfg.rules
    window = timedelta(minutes=r.geo_window_min)
    located = [s for s in evs if s.province is not None]
    for inside in runs_with_distinct(located, lambda s: s.province, window, r.geo_provinces):
        for s in inside:
            put(
                out,
                (s.id, "F5_geo_jump"),
                Wanted(
                    FlagStatus.SUSPECT,
                    {"provinces": r.geo_provinces, "window_min": r.geo_window_min},
                    f"同一身份 {r.geo_window_min:g} 分钟内从 {r.geo_provinces} 个以上省份提交",
                ),
            )


def _device_clusters(sigs: Sequence[Sig]) -> list[list[Sig]]:
    """Devices joined by an identity seen on both: one operator's phones form one cluster."""
    parent: dict[str, str] = {}

    def root(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    first_device: dict[str, str] = {}
    for s in sigs:
        if s.device_hash is None:
            continue
        parent.setdefault(s.device_hash, s.device_hash)
        other = first_device.setdefault(s.identity, s.device_hash)
        a, b = root(other), root(s.device_hash)
        if a != b:
            parent[max(a, b)] = min(a, b)
    clusters: dict[str, list[Sig]] = defaultdict(list)
    for s in sigs:
        if s.device_hash is not None:
            clusters[root(s.device_hash)].append(s)
    return [clusters[k] for k in sorted(clusters)]


def concentration(sigs: Sequence[Sig], part: str, cfg: RecognitionConfig, out: Flags) -> None:
    """B4 on one set of submissions with a web signal (a burst window's, or a brand's away
    answers): an IP prefix or a device cluster holding more than max_share of them, with at
    least min_n in the set, puts its submissions on watch."""
    r = cfg.rules
    n = len(sigs)
    if n < r.concentration_min_n:
        return
    by_prefix: dict[str, list[Sig]] = defaultdict(list)
    for s in sigs:
        if s.ip_prefix is not None:
            by_prefix[s.ip_prefix].append(s)
    groups = [("ip_prefix", by_prefix[k]) for k in sorted(by_prefix)]
    groups += [("device", c) for c in _device_clusters(sigs)]
    for by, members in groups:
        if len(members) / n <= r.concentration_max_share:
            continue
        what = "同一网段" if by == "ip_prefix" else "同一设备群"
        where = "突发时段" if part == "burst" else "非本单位答卷"
        params = {
            "by": by,
            "part": part,
            "max_share": r.concentration_max_share,
            "min_n": r.concentration_min_n,
        }
        for s in members:
            put(
                out,
                (s.id, "B4_concentration"),
                Wanted(FlagStatus.WATCH, params, f"{what}的提交在该品牌{where}中占比过高"),
            )


def brand_concentration(
    brand_id: int,
    brand_path: str | None,
    subs: Sequence[Sig],
    windows: Sequence[tuple[datetime, datetime]],
    cfg: RecognitionConfig,
    out: Flags,
) -> None:
    """B4 for one brand: its away answers over the whole round, then each of its burst windows
    ([start, end) from B1), always in this order so an event's verdict never depends on a run."""
    away = [s for s in subs if brand_path is None or not is_home(s, brand_id, brand_path)]
    concentration(away, "away", cfg, out)
    for lo, hi in sorted(set(windows)):
        concentration([s for s in subs if lo <= s.at < hi], "burst", cfg, out)
