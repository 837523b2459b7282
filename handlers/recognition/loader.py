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
from typing import Any

from sqlalchemy import Select, and_, case, func, select, text, tuple_
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Session, aliased

from config.recognition import RecognitionConfig
from handlers.recognition.brand_checks import open_check_brands
from handlers.recognition.cohort_index import BrandInput
from handlers.recognition.detection import is_home
from handlers.recognition.estimator_inputs import (
    HARD_EXCLUDING,
    NEUTRAL_CHANNELS,
    AsOf,
    BrandCounts,
    Loaded,
    RatingAgg,
    add_rating,
    add_to_sums,
    cell_of,
    centre_reviewers,
    under_check,
)
from handlers.recognition.estimators import Obs
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
        add_rating(agg, row.brand_id, row.grp, home, (row.q1, row.q2, row.q3), n, cfg)

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
                add_to_sums(aw, (brand_id, row.grp, brand_id in home_brands), 1, y, False)

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
    for _ident, brand_id, s in centre_reviewers(g_scores, cfg):
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
                awareness={g: cell_of(aw, b_id, g) for g in ("W", "S")},
                reputation={
                    "W": cell_of(rep, b_id, "W"),
                    "S": cell_of(rep, b_id, "S"),
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
            add_rating(agg, brand_id, grp, bool(home), (q1, q2, q3), n, cfg)
    return agg
