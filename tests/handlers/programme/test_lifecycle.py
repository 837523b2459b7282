from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.evidence import timeline
from handlers.programme.gates import ALLOWED, LifecycleError
from handlers.programme.queries import score_gap
from handlers.programme.recognition_hook import RecognitionInfo
from models import Stage, utcnow
from models.programme import Assessment, Decision, Standard
from tests.factories import make_brand, make_union
from tests.factories_programme import (
    PLAN,
    add_review,
    five_scores,
    four_scores,
    make_report,
    satisfy_gate,
)

PAIRS = list(itertools.product(Stage, Stage))


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
def test_every_transition_allowed_or_forbidden(session, src: Stage, dst: Stage) -> None:
    brand = make_brand(session, stage=src)
    satisfy_gate(session, brand, dst)
    if (src, dst) in ALLOWED:
        move = ops.advance(session, brand, dst, Actor.admin("李四"), "按程序推进", utcnow())
        assert brand.stage == dst
        assert (move.from_stage, move.to_stage, move.actor, move.reason) == (src, dst, "李四", "按程序推进")
    else:
        # Even with every kind of evidence present, a move the programme does not allow is refused.
        ops.save_plan(session, brand, PLAN, Actor.admin("张三"), utcnow())
        make_report(session, brand)
        with pytest.raises(LifecycleError, match="不允许"):
            ops.advance(session, brand, dst, Actor.admin("李四"), "跳步", utcnow())
        assert brand.stage == src
        assert timeline(session, brand) == []


def test_the_allowed_set_is_the_programme() -> None:
    assert set(ALLOWED) == {
        (Stage.PROPOSED, Stage.PLANNED),
        (Stage.PLANNED, Stage.CULTIVATING),
        (Stage.CULTIVATING, Stage.REVIEWING),
        (Stage.REVIEWING, Stage.DEEPENING),
        (Stage.REVIEWING, Stage.CULTIVATING),
        (Stage.REVIEWING, Stage.PLANNED),
    }


def test_leaving_planned_needs_a_complete_plan(session) -> None:
    brand = make_brand(session, stage=Stage.PLANNED)
    with pytest.raises(LifecycleError, match="创建方案"):
        ops.advance(session, brand, Stage.CULTIVATING, Actor.admin("李四"), "开始培育", utcnow())
    with pytest.raises(LifecycleError, match="年度计划"):
        ops.save_plan(session, brand, {**PLAN, "this_year": " "}, Actor.admin("张三"), utcnow())
    plan = ops.save_plan(session, brand, PLAN, Actor.admin("张三"), utcnow())
    assert plan.measures == "1. 建学习点\n2. 送课下基层"
    ops.advance(session, brand, Stage.CULTIVATING, Actor.admin("李四"), "开始培育", utcnow())
    assert brand.stage == Stage.CULTIVATING


def test_leaving_cultivating_needs_a_report_and_a_self_evaluation(session) -> None:
    brand = make_brand(session, stage=Stage.CULTIVATING)
    with pytest.raises(LifecycleError, match="进度上报"):
        ops.advance(session, brand, Stage.REVIEWING, Actor.admin("李四"), "申请评议", utcnow())
    report = make_report(session, brand)
    with pytest.raises(LifecycleError, match="自评"):
        ops.advance(session, brand, Stage.REVIEWING, Actor.admin("李四"), "申请评议", utcnow())
    ops.self_evaluate(session, brand, five_scores(reports=(report.id,)), Actor.admin("张三"), utcnow())
    ops.advance(session, brand, Stage.REVIEWING, Actor.admin("李四"), "申请评议", utcnow())
    assert brand.stage == Stage.REVIEWING


@pytest.mark.parametrize(
    ("decision", "target", "wrong"),
    [
        (Decision.PROMOTE, Stage.DEEPENING, Stage.CULTIVATING),
        (Decision.CONTINUE, Stage.CULTIVATING, Stage.DEEPENING),
        (Decision.REJECT, Stage.PLANNED, Stage.DEEPENING),
    ],
)
def test_leaving_reviewing_follows_the_review_decision(session, decision, target, wrong) -> None:
    brand = make_brand(session, stage=Stage.REVIEWING)
    with pytest.raises(LifecycleError, match="评议结论"):
        ops.advance(session, brand, target, Actor.admin("李四"), "评议后", utcnow())
    add_review(session, brand, decision)
    with pytest.raises(LifecycleError, match=decision.label):
        ops.advance(session, brand, wrong, Actor.admin("李四"), "评议后", utcnow())
    ops.advance(session, brand, target, Actor.admin("李四"), "评议后", utcnow())
    assert brand.stage == target


def test_a_review_from_an_earlier_round_does_not_count(session) -> None:
    brand = make_brand(session, stage=Stage.REVIEWING)
    now = utcnow()
    add_review(session, brand, Decision.PROMOTE, now - timedelta(days=90))
    ops.record_transition(
        session,
        brand,
        Stage.REVIEWING,
        Actor.admin("李四"),
        "再次评议",
        now - timedelta(days=1),
        Stage.CULTIVATING,
    )
    with pytest.raises(LifecycleError, match="本轮评议"):
        ops.advance(session, brand, Stage.DEEPENING, Actor.admin("李四"), "推广", now)


def test_advance_needs_a_reason(session) -> None:
    brand = make_brand(session, stage=Stage.PROPOSED)
    with pytest.raises(LifecycleError, match="理由"):
        ops.advance(session, brand, Stage.PLANNED, Actor.admin("李四"), "  ", utcnow())


def test_review_moves_the_brand_and_takes_recognition_from_the_provider(session) -> None:
    brand = make_brand(session, stage=Stage.CULTIVATING)
    report = make_report(session, brand)
    ops.self_evaluate(session, brand, five_scores(90, (report.id,)), Actor.admin("张三"), utcnow())
    ops.advance(session, brand, Stage.REVIEWING, Actor.admin("张三"), "申请评议", utcnow())
    review, move = ops.review(
        session,
        brand,
        Decision.PROMOTE,
        "成效明显",
        four_scores(70, (report.id,)),
        Actor.admin("王五"),
        utcnow(),
        recognition=lambda s, b: RecognitionInfo(score=76.5, rank=2, out_of=9),
    )
    assert brand.stage == Stage.DEEPENING
    assert move.reason.startswith("上级评议：推广")
    recognition = review.score_for(Standard.RECOGNITION)
    assert recognition is not None and recognition.score == 76.5
    assert "排名第 2/9" in (recognition.evidence or "")
    gap = {row.standard: row.gap for row in score_gap(session, brand)}
    assert gap[Standard.NAME] == 20
    assert gap[Standard.RECOGNITION] == pytest.approx(13.5)


def test_review_without_index_data_leaves_recognition_empty(session) -> None:
    brand = make_brand(session, stage=Stage.REVIEWING)
    report = make_report(session, brand)
    review, _ = ops.review(
        session,
        brand,
        Decision.CONTINUE,
        "载体不足",
        four_scores(reports=(report.id,)),
        Actor.admin("王五"),
        utcnow(),
    )
    recognition = review.score_for(Standard.RECOGNITION)
    assert recognition is not None and recognition.score is None
    assert brand.stage == Stage.CULTIVATING
    rows = {row.standard: row for row in score_gap(session, brand)}
    assert rows[Standard.RECOGNITION].gap is None


def test_review_refuses_a_typed_recognition_score_and_bad_scores(session) -> None:
    brand = make_brand(session, stage=Stage.REVIEWING)
    with pytest.raises(LifecycleError, match="社会认可度"):
        ops.review(
            session,
            brand,
            Decision.PROMOTE,
            "好",
            {**four_scores(), "recognition": 90},
            Actor.admin("王五"),
            utcnow(),
        )
    with pytest.raises(LifecycleError, match="超出"):
        ops.review(
            session,
            brand,
            Decision.PROMOTE,
            "好",
            {**four_scores(), "name": 101},
            Actor.admin("王五"),
            utcnow(),
        )
    with pytest.raises(LifecycleError, match="缺少"):
        ops.review(session, brand, Decision.PROMOTE, "好", {"name": 50}, Actor.admin("王五"), utcnow())
    with pytest.raises(LifecycleError, match="评议意见"):
        ops.review(session, brand, Decision.PROMOTE, " ", four_scores(), Actor.admin("王五"), utcnow())
    assert brand.stage == Stage.REVIEWING


def test_review_only_for_brands_under_review(session) -> None:
    brand = make_brand(session, stage=Stage.CULTIVATING)
    with pytest.raises(LifecycleError, match="不在评议推广阶段"):
        ops.review(session, brand, Decision.PROMOTE, "好", four_scores(), Actor.admin("王五"), utcnow())


def test_self_evaluation_evidence_must_belong_to_the_brand(session) -> None:
    union = make_union(session)
    brand = make_brand(session, union=union, stage=Stage.CULTIVATING)
    other = make_brand(session, union=union, stage=Stage.CULTIVATING)
    own, foreign = make_report(session, brand), make_report(session, other)
    scores = five_scores()
    scores["carriers"]["reports"] = [own.id]
    a = ops.self_evaluate(session, brand, scores, Actor.admin("张三"), utcnow())
    carriers = a.score_for(Standard.CARRIERS)
    assert carriers is not None and carriers.report_ids == [own.id]
    scores["carriers"]["reports"] = [foreign.id]
    with pytest.raises(LifecycleError, match="不属于"):
        ops.self_evaluate(session, brand, scores, Actor.admin("张三"), utcnow())


def test_self_evaluation_needs_cultivating(session) -> None:
    brand = make_brand(session, stage=Stage.PLANNED)
    with pytest.raises(LifecycleError, match="培育创建"):
        ops.self_evaluate(session, brand, five_scores(), Actor.admin("张三"), utcnow())


def test_database_refuses_out_of_range_scores_and_decisions_on_self(session) -> None:
    brand = make_brand(session)
    session.add(Assessment(brand_id=brand.id, kind="self", author="x", decision=Decision.PROMOTE))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
