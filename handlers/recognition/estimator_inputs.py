"""Events to estimator inputs, row by row (docs/method/estimators.md §1 steps 1–5).

``build_inputs`` takes events and their flag states (``flag_states``) and gives each brand's
observations and disclosure counts: the reference that ``loader`` reproduces with the database
doing the sums. Which events count is stated in ``loader``'s docstring. The rating-sum helpers
below are shared by both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig
from handlers.recognition.cohort_index import BrandInput
from handlers.recognition.detection import is_home
from handlers.recognition.estimators import Cell, Obs, Sums
from models.recognition import EXCLUDING, FlagStatus, RecognitionFlag

NEUTRAL_CHANNELS = frozenset({"neutral_invited", "neutral_open", "third_party"})
# Decided or quality exclusions: never added back, never a reason for a brand check.
HARD_EXCLUDING = frozenset({FlagStatus.EXCLUDED_FRAUD, FlagStatus.QUALITY_EXCLUDED})


@dataclass(frozen=True)
class AsOf:
    """The flag and check ids a snapshot was computed from (None: all of them)."""

    flag_id: int | None = None
    check_id: int | None = None


@dataclass
class BrandCounts:
    heat: int = 0
    ratings: int = 0
    suspect: int = 0
    watch: int = 0
    submissions: int = 0
    excluded: int = 0  # confirmed fraud and quality exclusions


@dataclass
class Loaded:
    inputs: list[BrandInput]
    counts: dict[int, BrandCounts] = field(default_factory=dict)
    cutoff_event_id: int = 0
    cutoff_flag_id: int = 0
    # Cronbach's α of (q1, q2, q3) per group over complete answers (estimators.md §9); None: too few.
    reliability: dict[str, float | None] = field(default_factory=dict)
    ratings: RatingAgg | None = None
    awareness: dict[tuple[int, str, bool], list[float]] | None = None
    # Brands under an open check row (escalated ring, appeal), beside the derived suspect share.
    checked: frozenset[int] = frozenset()


@dataclass
class RatingAgg:
    """Rating sums per (brand, group, home), complete item vectors per group, counts per brand."""

    rep: dict[tuple[int, str, bool], list[float]]
    complete: dict[str, list[tuple[tuple[float, ...], int]]]
    n_by_brand: dict[int, int]


def composite(q1: int | None, q2: int | None, q3: int | None, cfg: RecognitionConfig) -> float | None:
    """Respondent composite s_r on 0–100 (docs/method/estimators.md §2); None when q1 is missing (说不清)."""
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


def is_pending(statuses: set[FlagStatus]) -> bool:
    """Suspect and awaiting adjudication (not also confirmed or quality-excluded by another rule)."""
    return is_excluded(statuses) and not statuses & HARD_EXCLUDING


def under_check(c: BrandCounts, share: float) -> bool:
    """The derived brand-level check: pending suspects reach the share of submissions."""
    return c.submissions > 0 and c.suspect / c.submissions >= share


def build_inputs(
    events: Sequence[Any],  # RecognitionEvent objects or rows with the same attributes
    brands: Sequence[tuple[int, str, str]],  # (brand id, name, owning union path)
    states: dict[int, set[FlagStatus]],
    cfg: RecognitionConfig,
    include_suspects: bool = False,
    open_checks: frozenset[int] = frozenset(),
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
            if is_pending(st):
                c.suspect += 1
            elif is_excluded(st):
                c.excluded += 1
            elif FlagStatus.WATCH in st:
                c.watch += 1
            if ev.kind == "support_vote" and not is_excluded(st):
                c.heat += 1
        kept.append(ev)

    def dropped(ev: Any) -> bool:
        st = states.get(ev.id, set())
        # The with-suspects pass adds back pending suspects only; confirmed fraud stays out.
        return is_excluded(st) and not (include_suspects and is_pending(st))

    ballots: dict[str, Any] = {}
    ratings: dict[tuple[str, int, str], Any] = {}
    for ev in kept:  # in time order: later replaces earlier
        if ev.kind == "roster_ballot" and ev.channel in NEUTRAL_CHANNELS and ev.grp in ("W", "S"):
            ballots[ev.identity_hash] = ev
        elif ev.kind in ("rating", "review_score") and ev.brand_id in paths:
            ratings[(ev.identity_hash, ev.brand_id, ev.kind)] = ev
    # estimators.md §1: the latest answer per key first, then exclusions. An excluded latest answer takes
    # the key out; it never brings back the same person's earlier answer.
    ballots = {k: ev for k, ev in ballots.items() if not dropped(ev)}
    ratings = {k: ev for k, ev in ratings.items() if not dropped(ev)}

    def home(ev: Any, brand_id: int) -> bool:
        return is_home(ev, brand_id, paths[brand_id])

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
    for _ident, brand_id, s in centre_reviewers(g_scores, cfg):
        rep[brand_id]["G"].append(Obs(s))
        counts[brand_id].ratings += 1
    inputs = [
        BrandInput(
            brand_id=b_id,
            name=name,
            awareness={g: tuple(v) for g, v in aware[b_id].items()},
            reputation={g: tuple(v) for g, v in rep[b_id].items()},
            top_box={g: tuple(v) for g, v in top[b_id].items()},
            under_review=under_check(counts[b_id], cfg.brand_review_suspect_share) or b_id in open_checks,
        )
        for b_id, name, _ in brands
    ]
    return Loaded(
        inputs=inputs,
        counts=counts,
        cutoff_event_id=max((e.id for e in events), default=0),
        checked=frozenset(open_checks),
    )


def centre_reviewers(
    scores: list[tuple[str, int, float]], cfg: RecognitionConfig
) -> list[tuple[str, int, float]]:
    """Centre each reviewer on the panel mean when brands are scored by different panels.

    See docs/method/estimators.md §6.
    """
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


def add_to_sums(
    acc: dict[tuple[int, str, bool], list[float]], key: tuple[int, str, bool], n: int, s: float, top: bool
) -> None:
    row = acc.setdefault(key, [0, 0.0, 0.0, 0.0, 0.0, 0.0])
    row[0] += n
    row[1] += n
    row[2] += n
    row[3] += n * s
    row[4] += n * s * s
    row[5] += n if top else 0


def cell_of(acc: dict[tuple[int, str, bool], list[float]], brand_id: int, group: str) -> Cell:
    def sums(home: bool) -> Sums:
        r = acc.get((brand_id, group, home))
        return Sums(int(r[0]), r[1], r[2], r[3], r[4], r[5]) if r else Sums()

    return Cell(sums(True), sums(False))


def add_rating(
    agg: RatingAgg,
    brand_id: int,
    grp: str,
    home: bool,
    q: tuple[int, int | None, int | None],
    n: int,
    cfg: RecognitionConfig,
) -> None:
    q1, q2, q3 = q
    s = composite(q1, q2, q3, cfg)
    assert s is not None
    add_to_sums(agg.rep, (brand_id, grp, home), n, s, q1 >= 4)
    agg.n_by_brand[brand_id] = agg.n_by_brand.get(brand_id, 0) + n
    if q2 is not None and q3 is not None:
        # q3 (0–10) on the 0–100 scale like the others, so α sees the composite's items
        item_vec = (cfg.five_point_map[q1 - 1], cfg.five_point_map[q2 - 1], q3 * cfg.ltr_multiplier)
        agg.complete[grp].append((item_vec, n))
