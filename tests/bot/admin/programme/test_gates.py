"""Programme gates through the dashboard (issue 12, part 6): imports, evidence of the round,
继续培育 and the frozen self-evaluation. The views' clock is fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.evidence import timeline
from models import Brand, Stage
from models.programme import Assessment, Decision, ProgressReport, StageTransition, Standard
from tests.bot.admin.conftest import World
from tests.bot.admin.programme.test_views import REVIEW_FORM, audit_actions, post, upload

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
SELF_FORM = {f"score_{s.value}": "80" for s in Standard}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("timeline", "imports", "invitations", "coverage", "exports"):
        monkeypatch.setattr(f"bot.admin.programme.{module}.utcnow", lambda: NOW)


def report(db: Session, brand_id: int, day: float) -> int:
    item = ProgressReport(brand_id=brand_id, text="开展活动", created_at=T0 + timedelta(days=day))
    db.add(item)
    db.commit()
    return item.id


def state(db: Session, brand_id: int) -> tuple[Stage, int, int]:
    db.expire_all()
    brand = db.get(Brand, brand_id)
    assert brand is not None
    found = (
        brand.stage,
        int(db.scalar(select(func.count(Assessment.id)).where(Assessment.brand_id == brand_id)) or 0),
        int(
            db.scalar(select(func.count(StageTransition.id)).where(StageTransition.brand_id == brand_id)) or 0
        ),
    )
    db.commit()
    return found


def test_the_brands_own_admin_cannot_import_it_into_deepening(as_user, world: World, db: Session) -> None:
    brand_id = world.county_brand.id
    before = state(db, brand_id)
    body = "name,org_code,aliases,stage\n滨城幸福驿站,BZ-BC,,deepening\n".encode()
    page = upload(as_user("county"), "brands", "b.csv", body)
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "第2行" in text and "只有「滨城区总工会」的上级工会管理员才能在导入时设定其品牌的阶段" in text
    # The superior admin needs the evidence too.
    superior = upload(as_user("province"), "brands", "b.csv", body).get_data(as_text=True)
    assert "不能直接导入为「深化提升」" in superior and "进度上报" in superior
    assert state(db, brand_id) == before
    assert "import.brands" not in audit_actions(db)


def test_a_superior_admin_imports_a_new_brand_at_planned_onto_the_timeline(
    as_user, world: World, db: Session
) -> None:
    body = "name,org_code,aliases,stage\n滨城新品牌,BZ-BC,,planned\n".encode()
    assert upload(as_user("county"), "brands", "b.csv", body).status_code == 400
    assert upload(as_user("province"), "brands", "b.csv", body).status_code == 200
    brand = db.scalar(select(Brand).where(Brand.name == "滨城新品牌"))
    assert brand is not None and brand.stage == Stage.PLANNED
    steps = timeline(db, brand)
    assert [(t.from_stage, t.to_stage) for t in steps] == [
        (None, Stage.PROPOSED),
        (Stage.PROPOSED, Stage.PLANNED),
    ]
    assert steps[1].actor.startswith("province") and "导入" in steps[1].reason
    db.commit()


def test_self_evaluation_and_review_forms_need_evidence_of_the_round(
    as_user, world: World, db: Session
) -> None:
    own, other = world.county_brand.id, world.other_brand.id
    db.commit()  # SQLite: end the read so the app can write
    client = as_user("county")
    page = client.get(f"/admin/brands/{own}").get_data(as_text=True)
    assert "本轮还没有材料，请先上报进度或照片" in page
    refused = post(client, f"/admin/programme/brands/{own}/self-evaluation", SELF_FORM)
    assert refused.status_code == 400 and "自评需要至少引用一份本轮的材料" in refused.get_data(as_text=True)
    assert state(db, own)[1] == 0
    rid = report(db, own, 5)
    assert f"本轮可引用：进度上报 {rid}" in client.get(f"/admin/brands/{own}").get_data(as_text=True)
    bad = post(
        client, f"/admin/programme/brands/{own}/self-evaluation", {**SELF_FORM, "reports_name": "第一条"}
    )
    assert bad.status_code == 400 and "编号应为整数列表" in bad.get_data(as_text=True)
    ok = post(
        client, f"/admin/programme/brands/{own}/self-evaluation", {**SELF_FORM, "reports_name": str(rid)}
    )
    assert ok.status_code == 302

    # The brand under review has no material at all.
    url = f"/admin/programme/brands/{other}/review"
    no_evidence = post(as_user("province"), url, REVIEW_FORM)
    assert no_evidence.status_code == 400 and "评议需要至少引用一份本轮的材料" in no_evidence.get_data(
        as_text=True
    )
    assert state(db, other) == (Stage.REVIEWING, 0, 0)
    assert "brand.review" not in audit_actions(db)


def test_continue_opens_a_new_round_in_the_dashboard(as_user, world: World, db: Session) -> None:
    other = world.other_brand.id
    old = report(db, other, 5)
    brand = db.get(Brand, other)
    assert brand is not None
    cited = {s.value: {"score": 80, "reports": [old]} for s in Standard}
    ops.self_evaluate(db, brand, cited, Actor.admin("邹平"), T0 + timedelta(days=6))
    db.commit()
    client = as_user("province")
    form = {**REVIEW_FORM, "decision": "continue", "reports_carriers": str(old)}
    assert post(client, f"/admin/programme/brands/{other}/review", form).status_code == 302
    assert state(db, other)[0] == Stage.CULTIVATING
    back = post(client, f"/admin/programme/brands/{other}/advance", {"to": "reviewing", "reason": "再次申请"})
    assert back.status_code == 400 and "上次评议之后的新进度上报" in back.get_data(as_text=True)
    assert state(db, other)[0] == Stage.CULTIVATING


def test_self_evaluation_is_frozen_after_promotion_in_the_dashboard(
    as_user, world: World, db: Session
) -> None:
    own = world.county_brand.id
    rid = report(db, own, 5)
    brand = db.get(Brand, own)
    assert brand is not None
    cited = {s.value: {"score": 80, "reports": [rid]} for s in Standard}
    ops.self_evaluate(db, brand, cited, Actor.admin("县总"), T0 + timedelta(days=6))
    ops.advance(db, brand, Stage.REVIEWING, Actor.admin("县总"), "申请评议", T0 + timedelta(days=7))
    four = {k: {**v, "score": 60} for k, v in cited.items() if k != Standard.RECOGNITION.value}
    ops.review(db, brand, Decision.PROMOTE, "推广", four, Actor.admin("市总"), T0 + timedelta(days=8))
    db.commit()
    client = as_user("county")
    copy: dict[str, Any] = {f"score_{s.value}": "60" for s in Standard} | {"reports_name": str(rid)}
    refused = post(client, f"/admin/programme/brands/{own}/self-evaluation", copy)
    assert refused.status_code == 400 and "自评已随上级评议锁定" in refused.get_data(as_text=True)
    assert state(db, own)[1] == 2
    api = client.get(f"/admin/brands/{own}").get_data(as_text=True)
    assert "+20" in api
