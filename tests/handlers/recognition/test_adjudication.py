"""Handling and adjudication (docs/method/adjudication.md): confirmed fraud, open checks and their deadline,
two adjudicators, the owning union's appeal, and escalating an exchange ring to a brand-level check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.recognition.adjudication import AdjudicationError, decide_flag
from handlers.recognition.brand_checks import appeal, brand_checks, close_check, escalate_ring
from handlers.recognition.report import compute_report
from models.recognition import FlagStatus, RecognitionCheck, RecognitionFlag, RecognitionFlagAudit
from tests.handlers.recognition.cohort import bots, build_cohort, flag

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def by_brand(session: Session, c) -> dict[str, dict[str, Any]]:
    return {b["brand"]: b for b in compute_report(session, c)["brands"]}


def test_confirmed_fraud_is_excluded_and_does_not_freeze_the_victim(session: Session) -> None:
    c, ids = build_cohort(session, T0)
    before = by_brand(session, c)["工惠乐学"]
    assert before["status"] == "正常" and before["tier"] == "推荐推广"
    # Detectable bots push 工惠乐学 up (all 5s); the rules hold them as suspect.
    flags = flag(session, bots(session, c, ids[0], T0 + timedelta(hours=1), q1=5), T0 + timedelta(hours=2))
    held = by_brand(session, c)["工惠乐学"]
    assert held["status"] == "数据核查中" and held["tier"] is None  # an open check freezes the tier
    for f in flags:  # two adjudicators confirm every bot
        decide_flag(session, f.id, "confirm", Actor.admin("张审核"), "同一脚本", T0 + timedelta(hours=3))
        decide_flag(session, f.id, "confirm", Actor.admin("李审核"), "同一脚本", T0 + timedelta(hours=4))
    after = by_brand(session, c)["工惠乐学"]
    assert after["status"] == "正常" and after["tier"] == before["tier"]
    assert after["index"] == before["index"] and after["suspect"] == 0 and after["excluded"] == 60


def test_pending_low_score_bots_at_a_rival_do_not_freeze_it(session: Session) -> None:
    """Suspects that only pull a brand down are someone else's brushing: the official index
    already leaves them out, so the brand keeps its status and tier while they are adjudicated."""
    c, ids = build_cohort(session, T0)
    before = by_brand(session, c)["工惠乐学"]
    flag(session, bots(session, c, ids[0], T0 + timedelta(hours=1)), T0 + timedelta(hours=2))
    held = by_brand(session, c)["工惠乐学"]
    assert (held["status"], held["tier"], held["index"]) == ("正常", before["tier"], before["index"])
    assert held["suspect"] == 60 and held["index_with_suspects"] < held["index"]


def test_excluded_fraud_flags_are_not_counted_as_suspect(session: Session) -> None:
    c, ids = build_cohort(session, T0)
    flag(session, bots(session, c, ids[0], T0 + timedelta(hours=1)), T0, FlagStatus.EXCLUDED_FRAUD)
    entry = by_brand(session, c)["工惠乐学"]
    assert entry["status"] == "正常" and entry["tier"] == "推荐推广" and entry["suspect"] == 0


def test_open_check_has_a_deadline_and_becomes_overdue(session: Session) -> None:
    c, ids = build_cohort(session, T0)
    flag(session, bots(session, c, ids[0], T0 + timedelta(hours=1)), T0 + timedelta(hours=2))
    (check,) = brand_checks(session, c, T0 + timedelta(days=1))
    assert check.brand_id == ids[0] and check.trigger == "suspect_share"
    assert check.deadline == T0 + timedelta(hours=2, days=10) and not check.overdue
    (late,) = brand_checks(session, c, T0 + timedelta(days=11))
    assert late.overdue


def test_two_adjudicators_must_agree(session: Session) -> None:
    c, ids = build_cohort(session, T0)
    (f,) = flag(session, bots(session, c, ids[0], T0, n=1), T0)
    first = decide_flag(session, f.id, "confirm", Actor.admin("张审核"), "脚本", T0)
    assert not first.effective and first.flag is not None and first.flag.id == f.id
    assert _latest(session, f).status == FlagStatus.SUSPECT  # only recorded as pending
    with pytest.raises(AdjudicationError, match="另一位"):
        decide_flag(session, f.id, "confirm", Actor.admin("张审核"), "再确认一次", T0)
    other = decide_flag(session, f.id, "restore", Actor.admin("李审核"), "看着像真人", T0)
    assert not other.effective and _latest(session, f).status == FlagStatus.SUSPECT  # disagreement: open
    third = decide_flag(session, f.id, "restore", Actor.admin("王审核"), "核实为真人", T0)
    assert third.effective and _latest(session, f).status == FlagStatus.RESTORED
    actions = [
        a.action for a in session.scalars(select(RecognitionFlagAudit).order_by(RecognitionFlagAudit.id))
    ]
    assert actions == ["raise", "propose_confirm", "propose_restore", "restore"]


def _latest(session: Session, f: RecognitionFlag) -> RecognitionFlag:
    latest = session.scalars(
        select(RecognitionFlag)
        .where(RecognitionFlag.event_id == f.event_id, RecognitionFlag.rule_id == f.rule_id)
        .order_by(RecognitionFlag.id.desc())
    ).first()
    assert latest is not None
    return latest


def test_appeal_reopens_a_decided_check_within_appeal_days(session: Session) -> None:
    c, ids = build_cohort(session, T0)
    flags = flag(session, bots(session, c, ids[0], T0 + timedelta(hours=1)), T0 + timedelta(hours=2))
    decided = T0 + timedelta(days=1)
    for f in flags:
        decide_flag(session, f.id, "confirm", Actor.admin("张审核"), "脚本", decided)
        decide_flag(session, f.id, "confirm", Actor.admin("李审核"), "脚本", decided)
    assert by_brand(session, c)["工惠乐学"]["status"] == "正常"
    with pytest.raises(AdjudicationError, match="理由"):
        appeal(session, c, ids[0], Actor.admin("滨州市总工会管理员"), " ", decided + timedelta(days=2))
    with pytest.raises(AdjudicationError, match="7 天"):
        appeal(
            session,
            c,
            ids[0],
            Actor.admin("滨州市总工会管理员"),
            "这些是真实职工",
            decided + timedelta(days=8),
        )
    appeal(
        session, c, ids[0], Actor.admin("滨州市总工会管理员"), "这些是真实职工", decided + timedelta(days=2)
    )
    assert by_brand(session, c)["工惠乐学"]["status"] == "数据核查中"
    (check,) = brand_checks(session, c, decided + timedelta(days=2))
    assert check.trigger == "appeal" and check.reason == "这些是真实职工"
    row = session.scalars(select(RecognitionCheck).where(RecognitionCheck.action == "appeal")).one()
    assert row.actor == "滨州市总工会管理员"
    # Closing the reopened check also needs two adjudicators.
    assert not close_check(
        session, c, ids[0], Actor.admin("张审核"), "复核维持原判", decided + timedelta(days=3)
    ).effective
    assert by_brand(session, c)["工惠乐学"]["status"] == "数据核查中"
    assert close_check(
        session, c, ids[0], Actor.admin("李审核"), "复核维持原判", decided + timedelta(days=3)
    ).effective
    assert by_brand(session, c)["工惠乐学"]["status"] == "正常"


def test_appeal_needs_a_decided_check(session: Session) -> None:
    c, ids = build_cohort(session, T0)
    with pytest.raises(AdjudicationError, match="没有可申诉"):
        appeal(session, c, ids[1], Actor.admin("管理员"), "理由", T0)


def test_ring_escalated_to_a_brand_level_check_on_both_brands(session: Session) -> None:
    c, ids = build_cohort(session, T0)
    with pytest.raises(AdjudicationError, match="换票圈"):  # no B7 ring between them
        escalate_ring(session, c, (ids[0], ids[1]), Actor.admin("张审核"), "两单位互相评价", T0)
    ring = bots(session, c, ids[0], T0, n=2) + bots(session, c, ids[1], T0, n=2)
    flag(session, ring, T0, FlagStatus.WATCH, "B7_exchange_ring", {"pair": [ids[0], ids[1]], "min_each": 20})
    assert {b["status"] for b in by_brand(session, c).values()} == {"正常"}  # watch alone freezes nothing
    escalate_ring(session, c, (ids[0], ids[1]), Actor.admin("张审核"), "两单位互相评价 25 + 25", T0)
    statuses = by_brand(session, c)
    assert statuses["工惠乐学"]["status"] == statuses["幸福驿站"]["status"] == "数据核查中"
    assert statuses["职工书屋"]["status"] == "正常"
    triggers = {(k.brand_id, k.trigger) for k in brand_checks(session, c, T0)}
    assert triggers == {(ids[0], "ring"), (ids[1], "ring")}
    with pytest.raises(AdjudicationError, match="理由"):
        escalate_ring(session, c, (ids[0], ids[2]), Actor.admin("张审核"), "", T0)


def test_detected_bots_at_a_rival_confirmed_keep_its_tier(session: Session) -> None:
    """End to end with the rules: detectable bots sent at a rival, detected, confirmed by two adjudicators."""
    from handlers.recognition.fraud import run_rules

    c, ids = build_cohort(session, T0)
    before = by_brand(session, c)["工惠乐学"]
    bots(session, c, ids[0], T0 + timedelta(hours=1))
    assert run_rules(session, c, T0 + timedelta(hours=2)).get("B2_timing") == 60
    assert by_brand(session, c)["工惠乐学"]["status"] == before["status"]  # pulled down only: not frozen
    b2 = session.scalars(select(RecognitionFlag).where(RecognitionFlag.rule_id == "B2_timing")).all()
    for f in b2:
        decide_flag(session, f.id, "confirm", Actor.admin("张审核"), "机器脚本", T0 + timedelta(hours=3))
        decide_flag(session, f.id, "confirm", Actor.admin("李审核"), "机器脚本", T0 + timedelta(hours=3))
    run_rules(session, c, T0 + timedelta(hours=4))  # a later scan never undoes the decision
    after = by_brand(session, c)["工惠乐学"]
    assert (after["status"], after["tier"], after["index"]) == ("正常", before["tier"], before["index"])
    assert after["suspect"] == 0 and after["excluded"] == 60
