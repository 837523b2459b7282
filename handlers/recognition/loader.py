"""From the event store to estimator inputs (RECOGNITION.md §2.3 steps 1–5).

Excluded events (latest flag suspect / excluded / quality-excluded) are dropped before the
latest-per-key rule, so the index from the data equals the index from the data with those
rows physically removed (test 28), and restoring a flag reproduces the earlier index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig
from handlers.recognition.estimators import BrandInput, Obs
from models.recognition import EXCLUDING, Campaign, FlagStatus, RecognitionEvent, RecognitionFlag

NEUTRAL_CHANNELS = frozenset({"neutral_invited", "neutral_open", "third_party"})


@dataclass
class BrandCounts:
    heat: int = 0
    ratings: int = 0
    suspect: int = 0
    watch: int = 0
    submissions: int = 0


@dataclass
class Loaded:
    inputs: list[BrandInput]
    counts: dict[int, BrandCounts] = field(default_factory=dict)
    cutoff_event_id: int = 0
    cutoff_flag_id: int = 0


def composite(q1: int | None, q2: int | None, q3: int | None, cfg: RecognitionConfig) -> float | None:
    """Respondent composite s_r on 0–100 (§2.4); None when q1 is missing (说不清)."""
    if q1 is None:
        return None
    v1, v2, v3 = cfg.item_weights
    fmap = cfg.five_point_map
    num = v1 * fmap[q1 - 1]
    den = v1
    if q2 is not None:
        num += v2 * fmap[q2 - 1]
        den += v2
    if q3 is not None:
        num += v3 * q3 * cfg.ltr_multiplier
        den += v3
    return num / den


def flag_states(session: Session, event_ids: Select[tuple[int]] | None = None) -> dict[int, set[FlagStatus]]:
    """Current status per event: the latest flag version of each rule."""
    query = select(RecognitionFlag.event_id, RecognitionFlag.rule_id, RecognitionFlag.status).order_by(
        RecognitionFlag.id
    )
    if event_ids is not None:
        query = query.where(RecognitionFlag.event_id.in_(event_ids))
    latest: dict[tuple[int, str], FlagStatus] = {}
    for event_id, rule_id, status in session.execute(query):
        latest[(event_id, rule_id)] = status
    states: dict[int, set[FlagStatus]] = defaultdict(set)
    for (event_id, _), status in latest.items():
        states[event_id].add(status)
    return states


def is_excluded(statuses: set[FlagStatus]) -> bool:
    return bool(statuses & EXCLUDING)


def build_inputs(
    events: Sequence[Any],  # RecognitionEvent objects or rows with the same attributes
    brands: Sequence[tuple[int, str, str]],  # (brand id, name, owning union path)
    states: dict[int, set[FlagStatus]],
    cfg: RecognitionConfig,
    include_suspects: bool = False,
) -> Loaded:
    """Pure step: events (+ flag states) → estimator inputs and disclosure counts."""
    counts = {b[0]: BrandCounts() for b in brands}
    paths = {b[0]: b[2] for b in brands}
    kept: list[Any] = []
    for ev in sorted(events, key=lambda e: (e.submitted_at, e.id)):
        st = states.get(ev.id, set())
        if ev.brand_id in counts:
            c = counts[ev.brand_id]
            c.submissions += 1
            if is_excluded(st):
                c.suspect += 1
            elif FlagStatus.WATCH in st:
                c.watch += 1
            if ev.kind == "support_vote" and not is_excluded(st):
                c.heat += 1
        if include_suspects or not is_excluded(st):
            kept.append(ev)
    ballots: dict[str, Any] = {}
    ratings: dict[tuple[str, int, str], Any] = {}
    for ev in kept:  # in time order: later replaces earlier
        if ev.kind == "roster_ballot" and ev.channel in NEUTRAL_CHANNELS and ev.grp in ("W", "S"):
            ballots[ev.identity_hash] = ev
        elif ev.kind in ("rating", "review_score") and ev.brand_id in paths:
            ratings[(ev.identity_hash, ev.brand_id, ev.kind)] = ev

    def home(ev: Any, brand_id: int) -> bool:
        if ev.channel == "brand" and ev.src_brand_id == brand_id:
            return True
        return ev.union_path is not None and ev.union_path.startswith(paths[brand_id])

    aware: dict[int, dict[str, list[Obs]]] = {b: defaultdict(list) for b in paths}
    for ev in ballots.values():
        payload = ev.payload or {}
        if payload.get("foil"):
            continue  # Q1: whoever "knows" the fictitious brand answers nothing for awareness
        known = set(payload.get("aware", []))
        for brand_id in payload.get("shown", []):
            if brand_id in aware:
                aware[brand_id][ev.grp].append(
                    Obs(1.0 if brand_id in known else 0.0, 1.0, home(ev, brand_id))
                )
    rep: dict[int, dict[str, list[Obs]]] = {b: defaultdict(list) for b in paths}
    top: dict[int, dict[str, list[bool]]] = {b: defaultdict(list) for b in paths}
    g_scores: list[tuple[str, int, float]] = []
    for (ident, brand_id, kind), ev in sorted(ratings.items(), key=lambda kv: kv[1].id):
        if kind == "review_score" and ev.grp == "G":
            items = [x for x in (ev.payload or {}).get("items", []) if x is not None]
            if items:
                g_scores.append((ident, brand_id, sum(cfg.five_point_map[i - 1] for i in items) / len(items)))
            continue
        if ev.grp not in ("W", "S"):
            continue
        s = composite(ev.q1, ev.q2, ev.q3, cfg)
        if s is None:
            continue
        rep[brand_id][ev.grp].append(Obs(s, 1.0, home(ev, brand_id)))
        top[brand_id][ev.grp].append((ev.q1 or 0) >= 4)
        counts[brand_id].ratings += 1
    for _ident, brand_id, s in _centre_reviewers(g_scores, cfg):
        rep[brand_id]["G"].append(Obs(s))
        counts[brand_id].ratings += 1
    inputs = [
        BrandInput(
            brand_id=b_id,
            name=name,
            awareness={g: tuple(v) for g, v in aware[b_id].items()},
            reputation={g: tuple(v) for g, v in rep[b_id].items()},
            top_box={g: tuple(v) for g, v in top[b_id].items()},
            under_review=counts[b_id].submissions > 0
            and counts[b_id].suspect / counts[b_id].submissions >= cfg.brand_review_suspect_share,
        )
        for b_id, name, _ in brands
    ]
    return Loaded(inputs=inputs, counts=counts, cutoff_event_id=max((e.id for e in events), default=0))


def _centre_reviewers(
    scores: list[tuple[str, int, float]], cfg: RecognitionConfig
) -> list[tuple[str, int, float]]:
    """Centre each reviewer on the panel mean when brands are scored by different panels (§2.7)."""
    mode = cfg.reviewer_centering
    by_reviewer: dict[str, list[float]] = defaultdict(list)
    panels: dict[int, set[str]] = defaultdict(set)
    for ident, brand_id, s in scores:
        by_reviewer[ident].append(s)
        panels[brand_id].add(ident)
    unbalanced = len({frozenset(p) for p in panels.values()}) > 1
    # "auto" also needs every reviewer to have scored several brands, or centring erases them.
    centre = mode == "on" or (
        mode == "auto" and unbalanced and all(len(v) >= 3 for v in by_reviewer.values())
    )
    if not centre or not scores:
        return scores
    grand = sum(s for _, _, s in scores) / len(scores)
    means = {r: sum(v) / len(v) for r, v in by_reviewer.items()}
    return [(i, b, min(100.0, max(0.0, s - means[i] + grand))) for i, b, s in scores]


EVENT_COLUMNS = (
    RecognitionEvent.id,
    RecognitionEvent.kind,
    RecognitionEvent.identity_hash,
    RecognitionEvent.grp,
    RecognitionEvent.union_path,
    RecognitionEvent.channel,
    RecognitionEvent.src_brand_id,
    RecognitionEvent.brand_id,
    RecognitionEvent.q1,
    RecognitionEvent.q2,
    RecognitionEvent.q3,
    RecognitionEvent.payload,
    RecognitionEvent.submitted_at,
)


def load_campaign(
    session: Session, campaign: Campaign, cfg: RecognitionConfig, include_suspects: bool = False
) -> Loaded:
    # Plain rows, not ORM objects: a campaign can hold a million events.
    rows = session.execute(select(*EVENT_COLUMNS).where(RecognitionEvent.campaign_id == campaign.id))
    events: list[Any] = list(rows)
    flagged = select(RecognitionEvent.id).where(RecognitionEvent.campaign_id == campaign.id)
    states = flag_states(session, flagged)
    brands = [(e.brand_id, e.brand.name, e.brand.union.path) for e in campaign.entries]
    loaded = build_inputs(events, brands, states, cfg, include_suspects)
    loaded.cutoff_flag_id = (
        session.scalar(select(RecognitionFlag.id).order_by(RecognitionFlag.id.desc()).limit(1)) or 0
    )
    return loaded
