"""The recognition index and anti-brushing parameters (config/recognition.yaml), validated at load.

Every number the index uses comes from here, so a published result can name one version. A bad
file stops loading with a Chinese message for the operator naming the field.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_FILE = Path(__file__).resolve().parent / "recognition.yaml"
GROUPS = ("W", "S", "G")


class RecognitionConfigError(ValueError):
    """The configuration file is invalid (Chinese message naming the field)."""


@dataclass(frozen=True)
class GroupConfig:
    weight: float
    alpha: float
    m_reputation: float
    show_reputation: float
    rank_reputation: float
    fallback_p0: float | None
    fallback_mu0: float
    fallback_sigma: float


@dataclass(frozen=True)
class RuleParams:
    link_hop_brands: int
    link_hop_window_h: float
    burst_bin_min: int
    burst_min_count: int
    burst_poisson_p: float
    burst_lambda_floor: float
    burst_baseline_days: int
    burst_share_ratio: float
    burst_margin_min: int
    timing_cv_max: float
    timing_min_arrivals: int
    new_first_seen_h: float
    new_share: float
    new_vs_cohort: float
    shift_delta_pts: float
    shift_min_n: int
    ring_min_each: int
    ring_window_h: float
    day_min_count: int
    day_share_ratio: float
    single_purpose_share: float
    off_hours_share: float
    off_hours_ratio: float
    rival_share: float
    typed_hop_brands: int
    typed_hop_window_h: float
    typed_hop_min_group: int
    device_max_identities: int
    idc_enabled: bool
    geo_provinces: int
    geo_window_min: float
    concentration_max_share: float
    concentration_min_n: int


@dataclass(frozen=True)
class RecognitionConfig:
    version: str
    anti_fraud_version: str
    five_point_map: tuple[float, float, float, float, float]
    ltr_multiplier: float
    item_weights: tuple[float, float, float]
    followups_per_ballot: int
    groups: dict[str, GroupConfig]
    home_cap_phi: float
    prior_mode: str
    m_awareness: float
    eb_clamp: tuple[float, float]
    eb_min_ok_brands: int
    min_ok_brands_for_centre: int
    nu0: float
    level: float
    show_awareness: float
    rank_awareness: float
    reviewer_centering: str
    rank_draws: int
    reliability_alpha_warn: float
    submissions_per_hour: int
    rules: RuleParams
    brand_review_suspect_share: float
    adjudicators: int
    appeal_days: int
    check_deadline_days: int
    retention_months: int
    # sha256 of the canonical JSON of the file's content: published with every snapshot.
    digest: str

    def rule_version(self, rule_id: str) -> str:
        return f"{rule_id}@{self.anti_fraud_version}"


def _get(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise RecognitionConfigError(f"认可度配置缺少字段 {path}")
        node = node[part]
    return node


def _num(data: Any, path: str, lo: float | None = None, hi: float | None = None) -> float:
    value = _get(data, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecognitionConfigError(f"认可度配置 {path} 应为数字，现为 {value!r}")
    if lo is not None and value < lo:
        raise RecognitionConfigError(f"认可度配置 {path} 不能小于 {lo}，现为 {value}")
    if hi is not None and value > hi:
        raise RecognitionConfigError(f"认可度配置 {path} 不能大于 {hi}，现为 {value}")
    return float(value)


def _int(data: Any, path: str, lo: int = 0) -> int:
    value = _num(data, path, lo)
    if value != int(value):
        raise RecognitionConfigError(f"认可度配置 {path} 应为整数，现为 {value}")
    return int(value)


def _bool(data: Any, path: str) -> bool:
    value = _get(data, path)
    if not isinstance(value, bool):
        raise RecognitionConfigError(f"认可度配置 {path} 应为 true 或 false，现为 {value!r}")
    return value


def parse_config(data: Any) -> RecognitionConfig:
    """Validate a parsed YAML document; raises RecognitionConfigError in Chinese."""
    if not isinstance(data, dict):
        raise RecognitionConfigError("认可度配置文件格式错误：顶层应为映射")
    ri = "recognition_index"
    af = "anti_fraud"
    version = str(_get(data, f"{ri}.version"))
    fmap = _get(data, f"{ri}.scale.five_point_map")
    if not (isinstance(fmap, list) and len(fmap) == 5):
        raise RecognitionConfigError("认可度配置 scale.five_point_map 应为 5 个数")
    points = tuple(_num({"v": v}, "v", 0, 100) for v in fmap)
    if any(b <= a for a, b in itertools.pairwise(points)):
        raise RecognitionConfigError("认可度配置 scale.five_point_map 应严格递增")
    items = tuple(
        _num(data, f"{ri}.composite_items.{k}", 0) for k in ("q1_overall", "q2_vs_expect", "q3_recommend")
    )
    if items[0] <= 0:
        raise RecognitionConfigError("认可度配置 composite_items.q1_overall 必须大于 0")
    show_a = _num(data, f"{ri}.thresholds.show.awareness", 0)
    rank_a = _num(data, f"{ri}.thresholds.rank.awareness", 0)
    if show_a > rank_a:
        raise RecognitionConfigError("认可度配置：知名度的展示门槛不能高于排名门槛（show ≤ rank）")
    groups: dict[str, GroupConfig] = {}
    for g in GROUPS:
        show_r = _num(data, f"{ri}.thresholds.show.reputation.{g}", 0)
        rank_r = _num(data, f"{ri}.thresholds.rank.reputation.{g}", 0)
        if show_r > rank_r:
            raise RecognitionConfigError(f"认可度配置：{g} 组美誉度的展示门槛不能高于排名门槛（show ≤ rank）")
        fb = f"{ri}.prior.fallback.{g}"
        groups[g] = GroupConfig(
            weight=_num(data, f"{ri}.groups.{g}.weight", 0, 1),
            alpha=_num(data, f"{ri}.groups.{g}.alpha_awareness", 0, 1),
            m_reputation=_num(data, f"{ri}.prior.m_reputation.{g}", 0),
            show_reputation=show_r,
            rank_reputation=rank_r,
            fallback_p0=_num(data, f"{fb}.p0", 0, 1) if g != "G" else None,
            fallback_mu0=_num(data, f"{fb}.mu0", 0, 100),
            fallback_sigma=_num(data, f"{fb}.sigma", 0),
        )
    total = sum(gc.weight for gc in groups.values())
    if abs(total - 1.0) > 1e-9:
        raise RecognitionConfigError(f"认可度配置：三个群体的权重之和必须等于 1，现为 {total:g}")
    if groups["G"].alpha != 0:
        raise RecognitionConfigError("认可度配置：党政评议组（G）只计美誉度，alpha_awareness 必须为 0")
    mode = str(_get(data, f"{ri}.prior.mode"))
    if mode not in ("fixed", "empirical_bayes"):
        raise RecognitionConfigError(f"认可度配置 prior.mode 只能是 fixed 或 empirical_bayes，现为 {mode}")
    clamp = _get(data, f"{ri}.prior.eb.clamp")
    if not (isinstance(clamp, list) and len(clamp) == 2 and 0 < clamp[0] <= clamp[1]):
        raise RecognitionConfigError("认可度配置 prior.eb.clamp 应为 [下限, 上限] 且 0 < 下限 ≤ 上限")
    centering = str(_get(data, f"{ri}.groups.G.reviewer_centering"))
    if centering not in ("auto", "on", "off"):
        raise RecognitionConfigError("认可度配置 groups.G.reviewer_centering 只能是 auto、on 或 off")
    if _get(data, f"{ri}.support_votes_in_index") is not False:
        raise RecognitionConfigError(
            "认可度配置：投票数（参与热度）不得计入指数，support_votes_in_index 必须为 false"
        )
    r = f"{af}.rules"
    rules = RuleParams(
        link_hop_brands=_int(data, f"{r}.F3_link_hopper.distinct_brands", 2),
        link_hop_window_h=_num(data, f"{r}.F3_link_hopper.window_h", 0),
        burst_bin_min=_int(data, f"{r}.B1_burst.bin_min", 1),
        burst_min_count=_int(data, f"{r}.B1_burst.min_count", 1),
        burst_poisson_p=_num(data, f"{r}.B1_burst.poisson_p", 0, 1),
        burst_lambda_floor=_num(data, f"{r}.B1_burst.lambda_floor", 0),
        burst_baseline_days=_int(data, f"{r}.B1_burst.baseline_days", 1),
        burst_share_ratio=_num(data, f"{r}.B1_burst.share_ratio", 1),
        burst_margin_min=_int(data, f"{r}.B1_burst.margin_min", 0),
        timing_cv_max=_num(data, f"{r}.B2_timing.cv_max", 0),
        timing_min_arrivals=_int(data, f"{r}.B2_timing.min_arrivals", 3),
        new_first_seen_h=_num(data, f"{r}.B3_new_identity.first_seen_h", 0),
        new_share=_num(data, f"{r}.B3_new_identity.share", 0, 1),
        new_vs_cohort=_num(data, f"{r}.B3_new_identity.vs_cohort", 1),
        shift_delta_pts=_num(data, f"{r}.B5_score_shift.delta_pts", 0, 100),
        shift_min_n=_int(data, f"{r}.B5_score_shift.min_n", 1),
        ring_min_each=_int(data, f"{r}.B7_exchange_ring.min_each", 1),
        ring_window_h=_num(data, f"{r}.B7_exchange_ring.window_h", 0),
        day_min_count=_int(data, f"{r}.B1_burst.day_min_count", 1),
        day_share_ratio=_num(data, f"{r}.B1_burst.day_share_ratio", 1),
        single_purpose_share=_num(data, f"{r}.B3_new_identity.single_purpose_share", 0, 1),
        off_hours_share=_num(data, f"{r}.B3_new_identity.off_hours_share", 0, 1),
        off_hours_ratio=_num(data, f"{r}.B3_new_identity.off_hours_ratio", 1),
        rival_share=_num(data, f"{r}.B8_rival_bottom.affiliation_share", 0, 1),
        typed_hop_brands=_int(data, f"{r}.F3T_typed_hopper.distinct_brands", 2),
        typed_hop_window_h=_num(data, f"{r}.F3T_typed_hopper.window_h", 0),
        typed_hop_min_group=_int(data, f"{r}.F3T_typed_hopper.min_group", 2),
        device_max_identities=_int(data, f"{r}.F1_device_multi.max_identities", 1),
        idc_enabled=_bool(data, f"{r}.F2_idc_ip.enabled"),
        geo_provinces=_int(data, f"{r}.F5_geo_jump.provinces", 2),
        geo_window_min=_num(data, f"{r}.F5_geo_jump.window_min", 1),
        concentration_max_share=_num(data, f"{r}.B4_concentration.max_share", 0, 1),
        concentration_min_n=_int(data, f"{r}.B4_concentration.min_n", 1),
    )
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return RecognitionConfig(
        version=version,
        anti_fraud_version=str(_get(data, f"{af}.version")),
        five_point_map=(points[0], points[1], points[2], points[3], points[4]),
        ltr_multiplier=_num(data, f"{ri}.scale.ltr_multiplier", 0),
        item_weights=(items[0], items[1], items[2]),
        followups_per_ballot=_int(data, f"{ri}.rating_followups_per_ballot", 1),
        groups=groups,
        home_cap_phi=_num(data, f"{ri}.home_cap_phi", 0.01, 1),
        prior_mode=mode,
        m_awareness=_num(data, f"{ri}.prior.m_awareness", 0),
        eb_clamp=(float(clamp[0]), float(clamp[1])),
        eb_min_ok_brands=_int(data, f"{ri}.prior.eb.min_ok_brands", 1),
        min_ok_brands_for_centre=_int(data, f"{ri}.prior.min_ok_brands_for_centre", 1),
        nu0=_num(data, f"{ri}.prior.nu0_variance", 0),
        level=_num(data, f"{ri}.interval.level", 0.5, 0.999),
        show_awareness=show_a,
        rank_awareness=rank_a,
        reviewer_centering=centering,
        rank_draws=_int(data, f"{ri}.rank_range.draws", 100),
        reliability_alpha_warn=_num(data, f"{ri}.reliability_alpha_warn", 0, 1),
        submissions_per_hour=_int(data, f"{af}.limits.identity_submissions_per_hour", 1),
        rules=rules,
        brand_review_suspect_share=_num(data, f"{af}.handling.brand_review_suspect_share", 0, 1),
        adjudicators=_int(data, f"{af}.handling.adjudicators", 1),
        appeal_days=_int(data, f"{af}.handling.appeal_days", 0),
        check_deadline_days=_int(data, f"{af}.handling.check_deadline_days", 1),
        retention_months=_int(data, f"{af}.retention_months", 1),
        digest=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )


def load_config(path: Path = CONFIG_FILE) -> RecognitionConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecognitionConfigError(f"无法读取认可度配置文件 {path}：{exc}") from exc
    except yaml.YAMLError as exc:
        raise RecognitionConfigError(f"认可度配置文件 {path} 不是合法的 YAML：{exc}") from exc
    return parse_config(data)


@lru_cache(maxsize=1)
def default_config() -> RecognitionConfig:
    return load_config()
