"""Detection findings of issue 12 and the incremental scan of issue 13, through the database."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.recognition import default_config
from handlers.recognition.cohort_index import compute_cohort
from handlers.recognition.estimator_inputs import build_inputs
from handlers.recognition.fraud import Ev, detect, run_rules
from handlers.recognition.loader import load_campaign
from models.recognition import FlagStatus, RecognitionEvent, RecognitionFlag
from tests.handlers.recognition.test_attack_matrix import (
    ATTACK_AT,
    END,
    QUALITY,
    RIVAL,
    TARGET,
    Province,
    attack,
    build,
    score,
)

CFG = default_config()


def latest(session: Session, p: Province) -> dict[tuple[int, str], RecognitionFlag]:
    ids = select(RecognitionEvent.id).where(RecognitionEvent.campaign_id == p.campaign.id)
    out: dict[tuple[int, str], RecognitionFlag] = {}
    for f in session.scalars(
        select(RecognitionFlag).where(RecognitionFlag.event_id.in_(ids)).order_by(RecognitionFlag.id)
    ):
        out[(f.event_id, f.rule_id)] = f
    return out


def status_of(session: Session, p: Province, ids: list[int], rule: str) -> set[FlagStatus | None]:
    flags = latest(session, p)
    return {flags[(i, rule)].status if (i, rule) in flags else None for i in ids}


def test_a_later_ordinary_burst_never_restores_an_earlier_bot_burst(session: Session) -> None:
    p = build(session)
    attack(p, "new_regular")
    bots = p.flush(session)
    run_rules(session, p.campaign, END)
    assert status_of(session, p, bots, "B2_timing") == {FlagStatus.SUSPECT}
    t = ATTACK_AT + timedelta(days=2)
    for i in range(250):  # two days later: an ordinary, mobilised hour of real members
        t += timedelta(seconds=p.rng.expovariate(250 / 3600))
        p.add(t, TARGET, f"member{i}", grp="W", path=p.unit_paths[TARGET], channel="brand", src=TARGET, q1=4)
    members = p.flush(session)
    run_rules(session, p.campaign, END)
    assert status_of(session, p, bots, "B2_timing") == {FlagStatus.SUSPECT}
    assert FlagStatus.SUSPECT not in status_of(session, p, members, "B2_timing")


def test_a_flag_the_system_restored_is_raised_again_on_new_evidence(session: Session) -> None:
    p = build(session)
    first = [ATTACK_AT + timedelta(seconds=p.rng.uniform(0, 590)) for _ in range(30)]
    for i, at in enumerate(first):
        p.add(at, TARGET, f"early{i}", q1=score(p.rng, QUALITY[TARGET]))
    early = p.flush(session)
    run_rules(session, p.campaign, END)
    assert status_of(session, p, early, "B1_burst") == {FlagStatus.WATCH}
    for b in range(12):  # an organiser push in the same 10 minutes: the whole cohort at once
        if b != TARGET:
            for i in range(30):
                p.add(ATTACK_AT + timedelta(seconds=p.rng.uniform(0, 590)), b, f"push{b}-{i}", q1=4)
    p.flush(session)
    run_rules(session, p.campaign, END)
    assert status_of(session, p, early, "B1_burst") == {FlagStatus.RESTORED}
    for i in range(300):  # new evidence: the target alone surges in that bin
        p.add(ATTACK_AT + timedelta(seconds=p.rng.uniform(0, 590)), TARGET, f"late{i}", q1=4)
    p.flush(session)
    run_rules(session, p.campaign, END)
    assert status_of(session, p, early, "B1_burst") == {FlagStatus.WATCH}


def test_a_flagged_later_rating_does_not_bring_back_the_earlier_one(session: Session) -> None:
    """docs/method/estimators.md §1: the latest rating per (identity, brand) first, then exclusions."""
    p = build(session)
    p.add(END - timedelta(days=5), RIVAL, "changer", q1=1)
    (early,) = p.flush(session)
    p.add(END - timedelta(days=4), RIVAL, "changer", q1=5)
    (late,) = p.flush(session)
    flag = RecognitionFlag(
        event_id=late,
        rule_id="F3_link_hopper",
        rule_version="x",
        status=FlagStatus.SUSPECT,
        decided_by="t",
        reason="t",
    )
    session.add(flag)
    session.flush()
    rival = p.brand_ids[RIVAL]
    db = load_campaign(session, p.campaign, CFG)
    rows = list(
        session.scalars(select(RecognitionEvent).where(RecognitionEvent.campaign_id == p.campaign.id))
    )
    brands = [(e.brand_id, e.brand.name, e.brand.union.path) for e in p.campaign.entries]
    pure = build_inputs(rows, brands, {late: {FlagStatus.SUSPECT}}, CFG)
    neither = build_inputs([r for r in rows if r.id not in (early, late)], brands, {}, CFG)

    def index(loaded: Any) -> float:
        return next(
            b.index for b in compute_cohort(loaded.inputs, CFG, seed_text="t").brands if b.brand_id == rival
        )

    assert db.counts[rival].ratings == pure.counts[rival].ratings == neither.counts[rival].ratings
    assert abs(index(db) - index(neither)) < 1e-9 and abs(index(pure) - index(neither)) < 1e-9


def _evs(session: Session, p: Province) -> list[Ev]:
    rows = session.scalars(
        select(RecognitionEvent)
        .where(RecognitionEvent.campaign_id == p.campaign.id)
        .order_by(RecognitionEvent.id)
    )
    return [
        Ev(
            r.id,
            r.identity_hash,
            r.brand_id,
            r.kind,
            r.channel,
            r.src_brand_id,
            r.submitted_at,
            r.identity_first_seen_at,
            r.q1,
            r.union_path,
        )
        for r in rows
    ]


def test_five_increments_give_the_same_flags_as_one_full_scan(session: Session) -> None:
    p = build(session, flush=False)
    for name in ("new_random_2min", "negative", "hop_typed", "ring", "spread_24h", "legit"):
        attack(p, name)
    rows = sorted(p.rows, key=lambda r: r["submitted_at"])  # arrival order
    cut = [len(rows) * k // 5 for k in range(6)]
    # the middle cuts fall inside the attacks on day 10
    for a, b in itertools.pairwise(cut):
        p.rows = rows[a:b]
        p.flush(session)
        run_rules(session, p.campaign, END)
    incremental = {k: (f.status, f.params) for k, f in latest(session, p).items()}
    assert any(s == FlagStatus.SUSPECT for s, _ in incremental.values())
    assert run_rules(session, p.campaign, END, full=True) == {}  # a full re-scan changes nothing
    pure = detect(_evs(session, p), {e.brand_id: e.brand.union.path for e in p.campaign.entries}, CFG)
    live = {k: v for k, v in incremental.items() if v[0] != FlagStatus.RESTORED}
    assert live == {k: (w.status, w.params) for k, w in pure.items()}
