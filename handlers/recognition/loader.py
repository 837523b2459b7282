"""From the event store to estimator inputs (docs/method/estimators.md §1 steps 1–5).

The latest event per key is taken first, then excluded events (latest flag suspect / excluded /
quality-excluded) are dropped (estimators.md §1): an excluded later answer never brings back the same
person's earlier one. Where each excluded event is its identity's only answer, the index
equals the index with those rows physically removed (tests.md case 28); restoring a flag reproduces
the earlier index.

Only *pending* suspects (awaiting adjudication) count as ``suspect`` and towards a brand's
check; confirmed fraud and quality exclusions are ``excluded``: out of the index and out of
the brand's status, so bots aimed at a rival cannot freeze its tier (adjudication.md §4). The "with
suspects" figures add back the pending ones only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, select, text, tuple_
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Session, aliased

from config.recognition import RecognitionConfig
from handlers.recognition.adjudication import open_check_brands
from handlers.recognition.detection import is_home
from handlers.recognition.estimators import BrandInput, Cell, Obs, Sums
from handlers.statistics import cronbach_alpha
from models import Brand, Union
from models.recognition import (
    EXCLUDING,
    Campaign,
    CampaignBrand,
    FlagStatus,
    RecognitionEvent,
    RecognitionFlag,
)

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


def _centre_reviewers(
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


def _latest_flag_ids(
    campaign_id: int, statuses: frozenset[FlagStatus], flag_cut: int | None = None
) -> Select[tuple[int]]:
    """Event ids whose latest flag of some rule (up to ``flag_cut``) has one of these statuses."""
    F, E = RecognitionFlag, RecognitionEvent
    ranked = (
        select(
            F.event_id,
            F.status,
            func.row_number().over(partition_by=(F.event_id, F.rule_id), order_by=F.id.desc()).label("rn"),
        )
        .where(
            F.event_id.in_(select(E.id).where(E.campaign_id == campaign_id)),
            F.id <= flag_cut if flag_cut is not None else sa_true(),
        )
        .subquery()
    )
    return select(ranked.c.event_id).where(ranked.c.rn == 1, ranked.c.status.in_([s.value for s in statuses]))


def _side(
    acc: dict[tuple[int, str, bool], list[float]], key: tuple[int, str, bool], n: int, s: float, top: bool
) -> None:
    row = acc.setdefault(key, [0, 0.0, 0.0, 0.0, 0.0, 0.0])
    row[0] += n
    row[1] += n
    row[2] += n
    row[3] += n * s
    row[4] += n * s * s
    row[5] += n if top else 0


def _cells(acc: dict[tuple[int, str, bool], list[float]], brand_id: int, group: str) -> Cell:
    def sums(home: bool) -> Sums:
        r = acc.get((brand_id, group, home))
        return Sums(int(r[0]), r[1], r[2], r[3], r[4], r[5]) if r else Sums()

    return Cell(sums(True), sums(False))


def _add_rating(
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
    _side(agg.rep, (brand_id, grp, home), n, s, q1 >= 4)
    agg.n_by_brand[brand_id] = agg.n_by_brand.get(brand_id, 0) + n
    if q2 is not None and q3 is not None:
        # q3 (0–10) on the 0–100 scale like the others, so α sees the composite's items
        item_vec = (cfg.five_point_map[q1 - 1], cfg.five_point_map[q2 - 1], q3 * cfg.ltr_multiplier)
        agg.complete[grp].append((item_vec, n))


def _with_suspects(
    session: Session,
    cid: int,
    kept: RatingAgg,
    paths: dict[int, str],
    excluded_ids: Select[tuple[int]],
    cfg: RecognitionConfig,
) -> RatingAgg:
    """The with-suspects rating sums, from the kept ones: only keys holding a pending rating change.

    ``excluded_ids`` are the pending suspects: a key whose latest rating is one of them is added
    back. A key whose latest rating is confirmed fraud stays out in both passes (estimators.md §1).

    Sums are additive, so each such key's kept contribution is taken out and its all-events
    contribution put in; a million-row pass is not repeated for a few suspect ratings.
    """
    E = RecognitionEvent
    agg = RatingAgg(
        rep={k: list(v) for k, v in kept.rep.items()},
        complete=defaultdict(list, {g: list(v) for g, v in kept.complete.items()}),
        n_by_brand=dict(kept.n_by_brand),
    )
    keys = select(E.identity_hash, E.brand_id).where(E.id.in_(excluded_ids), E.kind == "rating")
    rows = session.execute(
        select(
            E.id,
            E.identity_hash,
            E.brand_id,
            E.grp,
            E.q1,
            E.q2,
            E.q3,
            E.channel,
            E.src_brand_id,
            E.union_path,
            E.cadre,
            E.submitted_at,
            E.id.in_(excluded_ids).label("ex"),
        )
        .where(
            E.campaign_id == cid,
            E.kind == "rating",
            E.grp.in_(("W", "S")),
            tuple_(E.identity_hash, E.brand_id).in_(keys),
        )
        .order_by(E.submitted_at, E.id)
    )
    by_key: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for row in rows:
        if row.brand_id in paths:
            by_key[(row.identity_hash, row.brand_id)].append(row)

    def put(row: Any, n: int) -> None:
        if row is None or row.q1 is None:
            return
        home = is_home(row, row.brand_id, paths[row.brand_id])
        _add_rating(agg, row.brand_id, row.grp, home, (row.q1, row.q2, row.q3), n, cfg)

    for key in sorted(by_key):
        latest_all = by_key[key][-1]  # in time order
        if latest_all.ex:  # the kept pass dropped the key (estimators.md §1); with suspects it counts
            put(latest_all, 1)
    return agg


def load_both(
    session: Session, campaign: Campaign, cfg: RecognitionConfig, as_of: AsOf | None = None
) -> tuple[Loaded, Loaded]:
    """(without suspects, with suspects); the second reuses the first's million-row aggregation."""
    kept = load_campaign(session, campaign, cfg, as_of=as_of)
    if not any(c.suspect for c in kept.counts.values()):
        return kept, kept
    return kept, load_campaign(session, campaign, cfg, include_suspects=True, kept=kept, as_of=as_of)


def load_campaign(
    session: Session,
    campaign: Campaign,
    cfg: RecognitionConfig,
    include_suspects: bool = False,
    kept: Loaded | None = None,
    as_of: AsOf | None = None,
) -> Loaded:
    """The same result as ``build_inputs`` on every event, but the database aggregates the ratings.

    Ratings (the bulk) are deduplicated with an anti-join and summed per (brand, group, home,
    answer pattern); roster ballots and G scores are read as rows.
    """
    E = RecognitionEvent
    cid = campaign.id
    if session.get_bind().dialect.name == "postgresql":
        # Transaction-scoped: lets the planner hash-aggregate a million ratings instead of
        # sorting them on disk (2.5 s → 1.8 s for the bench).
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    candidates = (
        select(CampaignBrand.brand_id, Brand.name, Union.path)
        .join(Brand, Brand.id == CampaignBrand.brand_id)
        .join(Union, Union.id == Brand.union_id)
        .where(CampaignBrand.campaign_id == cid)
        .order_by(CampaignBrand.number)
    )
    brands = [(b, name, path) for b, name, path in session.execute(candidates)]
    paths = {b: p for b, _, p in brands}
    by_path: dict[str, list[int]] = defaultdict(list)
    for b, path in paths.items():
        by_path[path].append(b)
    flag_cut = as_of.flag_id if as_of else None
    excluded_ids = _latest_flag_ids(cid, frozenset(EXCLUDING), flag_cut)
    hard_ids = _latest_flag_ids(cid, HARD_EXCLUDING, flag_cut)
    pending_ids = select(E.id).where(E.id.in_(excluded_ids), ~E.id.in_(hard_ids))
    watch_ids = _latest_flag_ids(cid, frozenset({FlagStatus.WATCH}), flag_cut)
    ex = E.id.in_(excluded_ids)
    hard = E.id.in_(hard_ids)
    # What a pass leaves out after taking the latest answer per key (estimators.md §1): every exclusion, or
    # with suspects only confirmed fraud and quality exclusions.
    drop = hard if include_suspects else ex

    # Disclosure counts per brand (the same in both passes).
    counts = {b: BrandCounts() for b in paths}
    count_rows: Any = (
        ()
        if kept is not None
        else session.execute(
            select(
                E.brand_id,
                E.kind,
                ex.label("ex"),
                hard.label("hard"),
                E.id.in_(watch_ids).label("wt"),
                func.count(),
            )
            .where(E.campaign_id == cid, E.brand_id.is_not(None))
            .group_by(E.brand_id, E.kind, "ex", "hard", "wt")
        )
    )
    for brand_id, kind, is_ex, is_hard, is_wt, n in count_rows:
        if brand_id not in counts:
            continue
        c = counts[brand_id]
        c.submissions += n
        if is_hard:
            c.excluded += n
        elif is_ex:
            c.suspect += n
        elif is_wt:
            c.watch += n
        if kind == "support_vote" and not is_ex:
            c.heat += n
    if kept is not None:
        for b, kc in kept.counts.items():
            counts[b] = BrandCounts(kc.heat, 0, kc.suspect, kc.watch, kc.submissions, kc.excluded)

    # Ratings: latest per (identity, brand) among kept events, summed in the database. "Latest"
    # is an anti-join (no later kept rating of the same key): a hash join, cheaper than a sort.
    if include_suspects and kept is not None and kept.ratings is not None:
        ratings = _with_suspects(session, cid, kept.ratings, paths, pending_ids, cfg)
    else:
        # With suspects, only the hard exclusions stay out.
        ratings = _aggregate_ratings(
            session, cid, paths, hard_ids if include_suspects else excluded_ids, False, cfg
        )
    rep = ratings.rep
    complete = ratings.complete
    for brand_id, n in ratings.n_by_brand.items():
        counts[brand_id].ratings += n

    # Roster ballots: latest per identity; awareness per shown brand. The with-suspects pass
    # reuses the kept sums when no ballot is excluded.
    ballots: dict[str, Any] = {}
    reuse_aw = (
        kept is not None
        and kept.awareness is not None
        and session.scalar(
            select(func.count()).where(E.id.in_(pending_ids), E.kind == "roster_ballot", E.campaign_id == cid)
        )
        == 0
    )
    ballot_rows: Any = (
        ()
        if reuse_aw
        else session.execute(
            select(E.identity_hash, E.grp, E.union_path, E.cadre, E.payload, drop.label("ex"))
            .where(
                E.campaign_id == cid,
                E.kind == "roster_ballot",
                E.grp.in_(("W", "S")),
                E.channel.in_(NEUTRAL_CHANNELS),
            )
            .order_by(E.submitted_at, E.id)
        )
    )
    for row in ballot_rows:
        ballots[row.identity_hash] = row
    ballots = {k: row for k, row in ballots.items() if not row.ex}  # latest first, then exclusions
    aw: dict[tuple[int, str, bool], list[float]] = (
        kept.awareness if reuse_aw and kept is not None and kept.awareness is not None else {}
    )
    for row in ballots.values():
        payload = row.payload or {}
        if payload.get("foil"):
            continue
        known = set(payload.get("aware", []))
        # Neutral ballots never come by a brand channel: home only for a cadre's own subtree's
        # brands (is_home), found by walking the cadre's path up instead of testing every brand.
        home_brands: set[int] = set()
        if row.cadre and row.union_path:
            parts = row.union_path.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                home_brands.update(by_path.get("/" + "/".join(parts[:i]) + "/", ()))
        for brand_id in payload.get("shown", []):
            if brand_id in paths:
                y = 1.0 if brand_id in known else 0.0
                _side(aw, (brand_id, row.grp, brand_id in home_brands), 1, y, False)

    # G review scores: few rows; centring needs them individually.
    latest_g: dict[tuple[str, int], Any] = {}
    for row in session.execute(
        select(E.identity_hash, E.brand_id, E.payload, drop.label("ex"))
        .where(E.campaign_id == cid, E.kind == "review_score", E.grp == "G")
        .order_by(E.submitted_at, E.id)
    ):
        if row.brand_id in paths:
            latest_g[(row.identity_hash, row.brand_id)] = row
    latest_g = {k: row for k, row in latest_g.items() if not row.ex}
    g_scores = []
    for (ident, brand_id), row in sorted(latest_g.items()):
        items = [x for x in (row.payload or {}).get("items", []) if x is not None]
        if items:
            g_scores.append((ident, brand_id, sum(cfg.five_point_map[i - 1] for i in items) / len(items)))
    g_obs: dict[int, list[Obs]] = defaultdict(list)
    for _ident, brand_id, s in _centre_reviewers(g_scores, cfg):
        g_obs[brand_id].append(Obs(s))
        counts[brand_id].ratings += 1

    checks = open_check_brands(session, cid, as_of.check_id if as_of else None)
    inputs = []
    for b_id, name, _ in brands:
        c = counts[b_id]
        inputs.append(
            BrandInput(
                brand_id=b_id,
                name=name,
                awareness={g: _cells(aw, b_id, g) for g in ("W", "S")},
                reputation={
                    "W": _cells(rep, b_id, "W"),
                    "S": _cells(rep, b_id, "S"),
                    "G": tuple(g_obs[b_id]),
                },
                under_review=under_check(c, cfg.brand_review_suspect_share) or b_id in checks,
            )
        )
    cutoff = session.scalar(select(func.max(E.id)).where(E.campaign_id == cid)) or 0
    flag_max = session.scalar(select(func.max(RecognitionFlag.id))) or 0
    flag_max = min(flag_max, flag_cut) if flag_cut is not None else flag_max
    reliability = {g: cronbach_alpha(complete[g]) for g in ("W", "S")}
    return Loaded(
        inputs=inputs,
        counts=counts,
        cutoff_event_id=cutoff,
        cutoff_flag_id=flag_max,
        checked=frozenset(checks),
        reliability=reliability,
        ratings=ratings,
        awareness=aw,
    )


def _aggregate_ratings(
    session: Session,
    cid: int,
    paths: dict[int, str],
    excluded_ids: Select[tuple[int]],
    include_suspects: bool,
    cfg: RecognitionConfig,
) -> RatingAgg:
    E, B, U = RecognitionEvent, Brand, Union
    keep = ~E.id.in_(excluded_ids) if not include_suspects else sa_true()
    later = aliased(E)
    superseded = (
        select(later.id)
        .where(
            later.campaign_id == cid,
            later.kind == "rating",
            later.identity_hash == E.identity_hash,
            later.brand_id == E.brand_id,
            # Any later rating supersedes, excluded or not (estimators.md §1: latest first, then exclusions).
            tuple_(later.submitted_at, later.id) > tuple_(E.submitted_at, E.id),
        )
        .exists()
    )
    home = case(
        (and_(E.channel == "brand", E.src_brand_id == E.brand_id), True),
        (and_(E.cadre, E.union_path.like(U.path.concat("%"))), True),
        else_=False,
    )
    rows = session.execute(
        select(E.brand_id, E.grp, home.label("home"), E.q1, E.q2, E.q3, func.count())
        .join(B, B.id == E.brand_id)
        .join(U, U.id == B.union_id)
        .where(
            E.campaign_id == cid,
            E.kind == "rating",
            E.grp.in_(("W", "S")),
            keep,
            ~superseded,
            E.q1.is_not(None),
        )
        .group_by(E.brand_id, E.grp, "home", E.q1, E.q2, E.q3)
        .order_by(E.brand_id, E.grp, "home", E.q1, E.q2, E.q3)
    )
    agg = RatingAgg(rep={}, complete=defaultdict(list), n_by_brand={})
    for brand_id, grp, home, q1, q2, q3, n in rows:
        if brand_id in paths:
            _add_rating(agg, brand_id, grp, bool(home), (q1, q2, q3), n, cfg)
    return agg
