"""Programme gates in the domain operations (issue 12, part 6): evidence of the current round,
new rounds after 继续培育, the frozen self-evaluation, and stages set by import.

The dashboard, CLI and chat paths have their own tests (tests/bot/admin/programme/test_gates.py,
tests/bot/test_programme_gates_cli.py, tests/handlers/programme/test_chat.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.evidence import latest_assessment, round_reports, round_self_evaluation, timeline
from handlers.programme.gates import LifecycleError
from handlers.programme.imports.brands import import_brands
from handlers.programme.imports.files import ImportFailed, read_rows
from handlers.programme.queries import score_gap
from models import Brand, Stage
from models.admin import AdminAccount, AdminRole
from models.programme import Assessment, Decision, Photo, PhotoStatus, StageTransition, Standard
from tests.factories import make_brand, make_union
from tests.factories_programme import PLAN, make_report

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def scores(
    n: int = 5, score: float = 80, reports: Sequence[int] = (), photos: Sequence[int] = ()
) -> dict[str, Any]:
    standards = list(Standard) if n == 5 else [s for s in Standard if s != Standard.RECOGNITION]
    return {
        s.value: {"score": score, "evidence": "材料", "reports": list(reports), "photos": list(photos)}
        for s in standards
    }


def cultivating(session, **kw: Any) -> Brand:
    brand = make_brand(session, stage=Stage.PLANNED, **kw)
    ops.save_plan(session, brand, PLAN, Actor.admin("张三"), at(0))
    ops.advance(session, brand, Stage.CULTIVATING, Actor.admin("张三"), "开始培育", at(1))
    return brand


def to_review(session, brand: Brand, day: float) -> int:
    """Report, self-evaluate citing it, apply for review; returns the report id."""
    report = make_report(session, brand, at=at(day))
    ops.self_evaluate(session, brand, scores(reports=[report.id]), Actor.admin("张三"), at(day + 1))
    ops.advance(session, brand, Stage.REVIEWING, Actor.admin("张三"), "申请评议", at(day + 2))
    return report.id


def count(session, model: Any) -> int:
    return int(session.scalar(select(func.count(model.id))) or 0)


# --- evidence of the current round -------------------------------------------------------------


def test_a_self_evaluation_without_any_evidence_is_refused_and_nothing_written(session) -> None:
    brand = cultivating(session)
    make_report(session, brand, at=at(2))
    with pytest.raises(LifecycleError, match="自评需要至少引用一份本轮的材料"):
        ops.self_evaluate(session, brand, scores(), Actor.admin("张三"), at(3))
    assert count(session, Assessment) == 0


def test_a_self_evaluation_with_no_material_at_all_says_to_report_first(session) -> None:
    brand = cultivating(session)
    with pytest.raises(LifecycleError, match="本轮还没有任何材料，请先上报进度或照片"):
        ops.self_evaluate(session, brand, scores(), Actor.admin("张三"), at(3))


def test_a_photo_of_the_round_is_evidence_but_a_failed_or_copied_one_is_not(session) -> None:
    brand = cultivating(session)

    def photo(n: int, **kw: Any) -> int:
        kw.setdefault("status", PhotoStatus.STORED)
        p = Photo(media_id=f"m{n}", brand_id=brand.id, captured_at=at(2), **kw)
        session.add(p)
        session.flush()
        return p.id

    good = photo(1)
    failed = photo(2, status=PhotoStatus.FAILED)
    copied = photo(3, duplicate_of_id=good, flag="duplicate")
    for bad in (failed, copied):
        with pytest.raises(LifecycleError, match="本轮的材料"):
            ops.self_evaluate(session, brand, scores(photos=[bad]), Actor.admin("张三"), at(3))
    ops.self_evaluate(session, brand, scores(photos=[good]), Actor.admin("张三"), at(3))


def test_a_review_without_any_evidence_is_refused_and_the_brand_stays(session) -> None:
    brand = cultivating(session)
    report = to_review(session, brand, 2)
    with pytest.raises(LifecycleError, match=r"评议需要至少引用一份本轮的材料.*进度上报编号"):
        ops.review(session, brand, Decision.PROMOTE, "好", scores(4), Actor.admin("王五"), at(6))
    assert brand.stage == Stage.REVIEWING
    assert session.scalar(select(func.count(Assessment.id)).where(Assessment.kind == "review")) == 0
    ops.review(
        session, brand, Decision.PROMOTE, "好", scores(4, reports=[report]), Actor.admin("王五"), at(6)
    )
    assert brand.stage == Stage.DEEPENING  # type: ignore[comparison-overlap]  # mypy keeps the stage asserted before review()


# --- 继续培育 opens a new round -------------------------------------------------------------------


def test_after_continue_the_old_report_cannot_carry_the_brand_back_to_review(session) -> None:
    brand = cultivating(session)
    old = to_review(session, brand, 2)
    ops.review(
        session, brand, Decision.CONTINUE, "载体不足", scores(4, reports=[old]), Actor.admin("王五"), at(6)
    )
    assert brand.stage == Stage.CULTIVATING
    with pytest.raises(LifecycleError, match="上次评议之后的新进度上报"):
        ops.advance(session, brand, Stage.REVIEWING, Actor.admin("张三"), "再次申请", at(7))
    # Nor can the old report back a new self-evaluation.
    with pytest.raises(LifecycleError, match="本轮还没有任何材料"):
        ops.self_evaluate(session, brand, scores(reports=[old]), Actor.admin("张三"), at(7))
    new = make_report(session, brand, at=at(8))
    # The old round's self-evaluation does not count for the new round either.
    with pytest.raises(LifecycleError, match="本轮对照“五个有”的自评"):
        ops.advance(session, brand, Stage.REVIEWING, Actor.admin("张三"), "再次申请", at(8.5))
    ops.self_evaluate(session, brand, scores(reports=[old, new.id]), Actor.admin("张三"), at(9))
    ops.advance(session, brand, Stage.REVIEWING, Actor.admin("张三"), "再次申请", at(10))
    # The reviewer, too, must cite the new round's material.
    with pytest.raises(LifecycleError, match="本轮可引用：进度上报编号 " + str(new.id)):
        ops.review(
            session, brand, Decision.PROMOTE, "好", scores(4, reports=[old]), Actor.admin("王五"), at(11)
        )
    ops.review(
        session, brand, Decision.PROMOTE, "好", scores(4, reports=[new.id]), Actor.admin("王五"), at(11)
    )
    assert brand.stage == Stage.DEEPENING  # type: ignore[comparison-overlap]  # mypy keeps the stage asserted before review()


def test_after_reject_a_new_plan_is_needed_before_cultivating_again(session) -> None:
    brand = cultivating(session)
    old = to_review(session, brand, 2)
    ops.review(
        session, brand, Decision.REJECT, "方案需重做", scores(4, reports=[old]), Actor.admin("王五"), at(6)
    )
    assert brand.stage == Stage.PLANNED
    with pytest.raises(LifecycleError, match="重新提交创建方案"):
        ops.advance(session, brand, Stage.CULTIVATING, Actor.admin("张三"), "再次培育", at(7))
    ops.save_plan(session, brand, PLAN, Actor.admin("张三"), at(8))
    ops.advance(session, brand, Stage.CULTIVATING, Actor.admin("张三"), "再次培育", at(9))


# --- the reviewed self-evaluation is frozen -------------------------------------------------------


def test_no_self_evaluation_after_promotion_and_the_gap_stays(session) -> None:
    brand = cultivating(session)
    report = to_review(session, brand, 2)  # self 80 everywhere
    ops.review(
        session, brand, Decision.PROMOTE, "好", scores(4, 60, reports=[report]), Actor.admin("王五"), at(6)
    )
    copy_of_review = scores(5, 60, reports=[report])
    with pytest.raises(LifecycleError, match="自评已随上级评议锁定"):
        ops.self_evaluate(session, brand, copy_of_review, Actor.admin("张三"), at(7))
    gap = {row.standard: row.gap for row in score_gap(session, brand)}
    assert gap[Standard.NAME] == 20
    assert session.scalar(select(func.count(Assessment.id)).where(Assessment.kind == "self")) == 1


def test_a_new_rounds_self_evaluation_never_rewrites_the_reviewed_gap(session) -> None:
    brand = cultivating(session)
    report = to_review(session, brand, 2)  # self 80
    ops.review(
        session, brand, Decision.CONTINUE, "继续", scores(4, 60, reports=[report]), Actor.admin("王五"), at(6)
    )
    new = make_report(session, brand, at=at(7))
    ops.self_evaluate(session, brand, scores(5, 60, reports=[new.id]), Actor.admin("张三"), at(8))
    gap = {row.standard: row.gap for row in score_gap(session, brand)}
    assert gap[Standard.NAME] == 20  # the review is compared with the self-evaluation it judged


# --- stages by import -------------------------------------------------------------------------------


def account(session, union, role: AdminRole = AdminRole.ADMIN) -> AdminAccount:
    acc = AdminAccount(username=f"acc-{union.code}-{role.value}", password_hash="x", union=union, role=role)
    session.add(acc)
    session.flush()
    return acc


def rows(tmp_path: Path, body: str) -> list[tuple[int, dict[str, str]]]:
    path = tmp_path / "brands.csv"
    path.write_text("name,org_code,aliases,stage\n" + body, encoding="utf-8")
    return read_rows(path, ("name", "org_code"))


def test_the_brands_own_admin_cannot_import_it_into_deepening(session, tmp_path: Path) -> None:
    province = make_union(session, code="P")
    city = make_union(session, parent=province, code="C1")
    brand = make_brand(session, union=city, name="工惠乐学", stage=Stage.PROPOSED)
    own_admin = account(session, city)
    with pytest.raises(ImportFailed) as caught:
        import_brands(
            session, rows(tmp_path, "工惠乐学,C1,,deepening\n"), at(0), Actor.admin("市总"), own_admin
        )
    message = "\n".join(caught.value.errors)
    assert "第2行" in message and "上级工会管理员" in message and "创建方案" in message
    session.refresh(brand)
    assert brand.stage == Stage.PROPOSED and count(session, StageTransition) == 0


def test_a_superior_admin_still_needs_each_steps_evidence(session, tmp_path: Path) -> None:
    province = make_union(session, code="P")
    city = make_union(session, parent=province, code="C1")
    superior = account(session, province)
    with pytest.raises(ImportFailed, match=r"不能直接导入为「深化提升」.*创建方案"):
        import_brands(session, rows(tmp_path, "新品牌,C1,,deepening\n"), at(0), Actor.admin("省总"), superior)
    assert count(session, Brand) == 0
    # A new brand may start at 制定方案 (that step has no gate), by a superior admin only.
    for refused in (None, account(session, city), account(session, province, AdminRole.VIEWER)):
        with pytest.raises(ImportFailed):
            import_brands(session, rows(tmp_path, "新品牌,C1,,planned\n"), at(0), Actor.admin("x"), refused)
    import_brands(session, rows(tmp_path, "新品牌,C1,,planned\n"), at(0), Actor.admin("省总"), superior)
    brand = session.scalar(select(Brand).where(Brand.name == "新品牌"))
    assert brand is not None and brand.stage == Stage.PLANNED
    steps = timeline(session, brand)
    assert [(t.from_stage, t.to_stage) for t in steps] == [
        (None, Stage.PROPOSED),
        (Stage.PROPOSED, Stage.PLANNED),
    ]
    assert "导入" in steps[1].reason and superior.username in steps[1].reason


def test_an_import_may_carry_an_existing_brand_only_as_far_as_its_evidence(session, tmp_path: Path) -> None:
    province = make_union(session, code="P")
    city = make_union(session, parent=province, code="C1")
    superior = account(session, province)
    brand = cultivating(session, union=city, name="工惠乐学")
    with pytest.raises(ImportFailed, match="进度上报"):
        import_brands(
            session, rows(tmp_path, "工惠乐学,C1,,reviewing\n"), at(2), Actor.admin("省总"), superior
        )
    report = make_report(session, brand, at=at(2))
    ops.self_evaluate(session, brand, scores(reports=[report.id]), Actor.admin("张三"), at(3))
    import_brands(session, rows(tmp_path, "工惠乐学,C1,,reviewing\n"), at(4), Actor.admin("省总"), superior)
    assert brand.stage == Stage.REVIEWING
    # Going back is a review's decision, never a file's.
    with pytest.raises(ImportFailed, match="不能退回"):
        import_brands(session, rows(tmp_path, "工惠乐学,C1,,planned\n"), at(5), Actor.admin("省总"), superior)
    # Naming the stage the brand already has is no change and needs no authority.
    import_brands(session, rows(tmp_path, "工惠乐学,C1,乐学,reviewing\n"), at(6), Actor.admin("市总"), None)
    assert brand.alias_names == ["乐学"] and brand.stage == Stage.REVIEWING


# --- the demo data obeys the gates ------------------------------------------------------------------


def test_demo_brands_reach_their_stages_through_the_gates_once(session) -> None:
    import yaml

    from handlers.demo import DEMO_FILE, load_demo

    load_demo(session, now=T0)
    listed = {
        row["name"]: Stage(row.get("stage") or "proposed")
        for row in yaml.safe_load(DEMO_FILE.read_text("utf-8"))["brands"]
    }
    for name, stage in listed.items():
        brand = session.scalar(select(Brand).where(Brand.name == name))
        assert brand is not None and brand.stage == stage, name
        steps = timeline(session, brand)
        assert steps[0].from_stage is None and steps[-1].to_stage == stage
        assert all(a.to_stage == b.from_stage for a, b in pairwise(steps))
        if stage == Stage.REVIEWING:  # a reviewer can review it at once, citing this round's report
            assert round_reports(session, brand) and round_self_evaluation(session, brand) is not None
        if stage == Stage.DEEPENING:
            review = latest_assessment(session, brand, "review")
            assert review is not None and review.decision == Decision.PROMOTE
    before = (count(session, StageTransition), count(session, Assessment))
    load_demo(session, now=T0 + timedelta(days=1))
    assert (count(session, StageTransition), count(session, Assessment)) == before
