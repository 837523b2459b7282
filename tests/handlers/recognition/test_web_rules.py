"""Issue 14: the web rules F1, F2, F5 and B4 as pure verdicts, at their thresholds' edges."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from config.recognition import CONFIG_FILE, RecognitionConfigError, default_config, parse_config
from handlers.recognition.detection import Flags, Sig
from handlers.recognition.fraud import Ev, detect
from handlers.recognition.web_rules import brand_concentration, concentration, device_multi, geo_jumps, idc_ip
from models.recognition import FlagStatus

CFG = default_config()
T = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
BRAND, PATH = 7, "/1/7/"
_ids = iter(range(1, 1_000_000))


def sig(identity: str, at: datetime = T, **kw: Any) -> Sig:
    fields: dict[str, Any] = {
        "id": next(_ids),
        "identity": identity,
        "brand_id": BRAND,
        "kind": "rating",
        "channel": "h5",
        "src_brand_id": None,
        "union_path": None,
        "cadre": False,
        "at": at,
        "ip_prefix": None,
        "province": None,
        "idc": False,
        "device_hash": None,
    }
    fields.update(kw)
    return Sig(**fields)


def flagged(out: Flags, rule: str) -> set[int]:
    return {i for (i, r) in out if r == rule}


def with_rules(**rules: dict[str, Any]) -> Any:
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["anti_fraud"]["rules"].update(rules)
    return parse_config(data)


def test_the_config_holds_the_published_defaults() -> None:
    r = CFG.rules
    assert (r.device_max_identities, r.idc_enabled, r.geo_provinces, r.geo_window_min) == (3, True, 3, 60)
    assert (r.concentration_max_share, r.concentration_min_n) == (0.30, 30)
    with pytest.raises(RecognitionConfigError, match=r"F2_idc_ip\.enabled"):
        with_rules(F2_idc_ip={"enabled": "yes"})
    with pytest.raises(RecognitionConfigError, match=r"B4_concentration\.max_share"):
        with_rules(B4_concentration={"max_share": 1.5, "min_n": 30})


# --- F1 device_multi ---------------------------------------------------------------------------


def test_f1_the_fourth_identity_on_a_device_and_later_ones_are_suspect() -> None:
    on = [sig(f"p{i}", T + timedelta(minutes=i), device_hash="dev") for i in range(3)]
    out: Flags = {}
    device_multi(on, CFG, out)
    assert out == {}  # three identities: the limit, not beyond it
    fourth = sig("p3", T + timedelta(minutes=10), device_hash="dev")
    again = sig("p0", T + timedelta(minutes=11), device_hash="dev")  # the first one comes back
    fifth = sig("p4", T + timedelta(minutes=12), device_hash="dev")
    fourth_later = sig("p3", T + timedelta(minutes=13), device_hash="dev")
    elsewhere = sig("p3", T + timedelta(minutes=14), device_hash="own-phone")
    device_multi([*on, fourth, again, fifth, fourth_later, elsewhere], CFG, out)
    assert flagged(out, "F1_device_multi") == {fourth.id, fifth.id, fourth_later.id}
    w = out[(fifth.id, "F1_device_multi")]
    assert w.status == FlagStatus.SUSPECT and w.params == {"max_identities": 3, "nth": 5}


def test_f1_order_is_by_first_use_not_by_arrival_in_the_list() -> None:
    late_first = sig("a", T + timedelta(hours=1), device_hash="d")
    early = [sig(x, T + timedelta(minutes=k), device_hash="d") for k, x in enumerate("bcd")]
    out: Flags = {}
    device_multi([late_first, *early], CFG, out)
    assert flagged(out, "F1_device_multi") == {late_first.id}
    out = {}
    device_multi([sig(x, device_hash=None) for x in "abcdef"], CFG, out)
    assert out == {}  # no cookie, no device


def test_f1_limit_comes_from_the_config() -> None:
    cfg = with_rules(F1_device_multi={"max_identities": 1})
    two = [sig("a", T, device_hash="d"), sig("b", T + timedelta(seconds=1), device_hash="d")]
    out: Flags = {}
    device_multi(two, cfg, out)
    assert flagged(out, "F1_device_multi") == {two[1].id}


# --- F2 idc_ip ---------------------------------------------------------------------------------


def test_f2_a_data_centre_address_is_suspect_and_can_be_switched_off() -> None:
    cloud, home = sig("a", idc=True), sig("b", idc=False)
    out: Flags = {}
    idc_ip([cloud, home], CFG, out)
    assert flagged(out, "F2_idc_ip") == {cloud.id}
    assert out[(cloud.id, "F2_idc_ip")].status == FlagStatus.SUSPECT
    out = {}
    idc_ip([cloud], with_rules(F2_idc_ip={"enabled": False}), out)
    assert out == {}


# --- F5 geo_jump -------------------------------------------------------------------------------


def test_f5_three_provinces_within_sixty_minutes_is_suspect() -> None:
    evs = [
        sig("j", T, province="山东省"),
        sig("j", T + timedelta(minutes=20), province="广东省"),
        sig("j", T + timedelta(minutes=60), province="北京市"),  # exactly 60 minutes: inside
    ]
    out: Flags = {}
    geo_jumps(evs, CFG, out)
    assert flagged(out, "F5_geo_jump") == {e.id for e in evs}
    assert out[(evs[0].id, "F5_geo_jump")].params == {"provinces": 3, "window_min": 60}


def test_f5_does_not_fire_just_past_the_window_or_with_two_provinces() -> None:
    spread = [
        sig("j", T, province="山东省"),
        sig("j", T + timedelta(minutes=20), province="广东省"),
        sig("j", T + timedelta(minutes=60, seconds=1), province="北京市"),
    ]
    two = [
        sig("k", T + timedelta(minutes=m), province=p)
        for m, p in ((0, "山东省"), (5, "广东省"), (9, "山东省"))
    ]
    unknown = [
        sig("u", T + timedelta(minutes=m), province=p) for m, p in ((0, "山东省"), (5, "广东省"), (9, None))
    ]
    out: Flags = {}
    for evs in (spread, two, unknown):
        geo_jumps(evs, CFG, out)
    assert out == {}


def test_f5_only_the_events_inside_a_jumping_hour() -> None:
    calm = sig("j", T - timedelta(hours=5), province="山东省")
    jump = [
        sig("j", T + timedelta(minutes=m), province=p)
        for m, p in ((0, "山东省"), (10, "广东省"), (30, "四川省"))
    ]
    out: Flags = {}
    geo_jumps([calm, *jump], CFG, out)
    assert flagged(out, "F5_geo_jump") == {e.id for e in jump}


# --- B4 concentration --------------------------------------------------------------------------


def _answers(n: int, crowd: int, **crowd_kw: Any) -> tuple[list[Sig], list[Sig]]:
    """n answers with a signal; the first ``crowd`` share what crowd_kw says, the rest differ."""
    crowd_sigs = [sig(f"c{i}", T + timedelta(seconds=i), **crowd_kw) for i in range(crowd)]
    rest = [
        sig(f"r{i}", T + timedelta(seconds=i), ip_prefix=f"218.56.{i}.0/24", device_hash=f"dr{i}")
        for i in range(n - crowd)
    ]
    return crowd_sigs, rest


def test_b4_more_than_thirty_percent_from_one_prefix_is_watch() -> None:
    at_limit, rest = _answers(30, 9, ip_prefix="218.57.7.0/24")  # 9/30 = 30 %: not more
    out: Flags = {}
    concentration([*at_limit, *rest], "away", CFG, out)
    assert out == {}
    over, rest = _answers(30, 10, ip_prefix="218.57.7.0/24")  # 10/30
    concentration([*over, *rest], "away", CFG, out)
    assert flagged(out, "B4_concentration") == {e.id for e in over}
    w = out[(over[0].id, "B4_concentration")]
    assert w.status == FlagStatus.WATCH
    assert w.params == {"by": "ip_prefix", "part": "away", "max_share": 0.30, "min_n": 30}


def test_b4_needs_min_n_answers_with_a_signal() -> None:
    crowd, rest = _answers(29, 29, ip_prefix="218.57.7.0/24")  # all from one prefix, but 29
    out: Flags = {}
    concentration([*crowd, *rest], "away", CFG, out)
    assert out == {}


def test_b4_a_device_cluster_joined_by_shared_identities() -> None:
    # Four phones, none over 30 % alone, joined by identities that used two of them: one cluster.
    cluster = []
    for k in range(12):
        dev = f"farm{k % 4}"
        cluster.append(sig(f"f{k}", T + timedelta(seconds=k), device_hash=dev, ip_prefix=f"1.{k}.0.0/24"))
    bridge = [
        sig("f0", T + timedelta(minutes=1), device_hash="farm1", ip_prefix="1.50.0.0/24"),
        sig("f1", T + timedelta(minutes=2), device_hash="farm2", ip_prefix="1.51.0.0/24"),
        sig("f2", T + timedelta(minutes=3), device_hash="farm3", ip_prefix="1.52.0.0/24"),
    ]
    _, rest = _answers(35, 0)
    out: Flags = {}
    concentration([*cluster, *bridge, *rest[:20]], "away", CFG, out)  # 15 of 35
    assert flagged(out, "B4_concentration") == {e.id for e in (*cluster, *bridge)}
    assert out[(cluster[0].id, "B4_concentration")].params["by"] == "device"
    out = {}
    concentration([*cluster, *rest[:20]], "away", CFG, out)  # not joined: 3 of 32 per phone
    assert out == {}


def test_b4_counts_away_answers_and_each_burst_window_separately() -> None:
    home = [sig(f"h{i}", channel="brand", src_brand_id=BRAND, ip_prefix="218.57.7.0/24") for i in range(20)]
    cadres = [sig(f"k{i}", union_path=PATH + "3/", cadre=True, ip_prefix="218.57.7.0/24") for i in range(5)]
    away, rest = _answers(30, 8, ip_prefix="218.57.7.0/24")  # 8/30 of the away answers
    out: Flags = {}
    brand_concentration(BRAND, PATH, [*home, *cadres, *away, *rest], [], CFG, out)
    assert out == {}  # 33 of 55 overall, but the home ones are not away answers
    lo, hi = T + timedelta(hours=1), T + timedelta(hours=2)
    burst = [sig(f"b{i}", lo + timedelta(seconds=i), ip_prefix="60.30.1.0/24") for i in range(12)]
    others = [sig(f"o{i}", lo + timedelta(seconds=i), ip_prefix=f"60.31.{i}.0/24") for i in range(18)]
    outside = sig("x", hi, ip_prefix="60.30.1.0/24")  # the window's end is open
    brand_concentration(BRAND, PATH, [*home, *away, *rest, *burst, *others, outside], [(lo, hi)], CFG, out)
    # inside the window 12 of 30 share a prefix; among all 61 away answers 13 do (21 %)
    assert flagged(out, "B4_concentration") == {e.id for e in burst}
    assert out[(burst[0].id, "B4_concentration")].params["part"] == "burst"


# --- through detect(): events without a web signal are never judged --------------------------


def _ev(s: Sig) -> Ev:
    return Ev(s.id, s.identity, s.brand_id, s.kind, s.channel, s.src_brand_id, s.at, None, 4, s.union_path)


def test_detect_judges_only_events_with_a_signal() -> None:
    web = [sig(f"p{i}", T + timedelta(minutes=i), device_hash="dev", idc=True) for i in range(5)]
    chat = [_ev(sig(f"p{i}", T + timedelta(minutes=i), channel="self")) for i in range(5)]
    wanted = detect([*map(_ev, web), *chat], {BRAND: PATH}, CFG, web)
    web_rules = {"F1_device_multi", "F2_idc_ip", "F5_geo_jump", "B4_concentration"}
    assert {k for k in wanted if k[1] in web_rules} == {(e.id, "F2_idc_ip") for e in web} | {
        (e.id, "F1_device_multi") for e in web[3:]
    }
    assert not any(k[0] in {e.id for e in chat} for k in wanted)
    assert not any(k[1] in web_rules for k in detect([*map(_ev, web), *chat], {BRAND: PATH}, CFG))
