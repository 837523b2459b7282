"""Programme gates through the CLI (issue 12, part 6): the same refusals as the domain tests,
in Chinese, with nothing written. The clock of the CLI commands is fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from handlers.actor import Actor
from handlers.programme import operations as ops
from models import Brand, Stage, Union, UnionKind
from models.admin import AdminAccount, AdminRole
from models.programme import Assessment, Decision, StageTransition, Standard
from tests.factories_programme import PLAN, make_report

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CLOCK = {"now": T0 + timedelta(days=30)}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.programme.utcnow", lambda: CLOCK["now"])
    CLOCK["now"] = T0 + timedelta(days=30)


@pytest.fixture
def tree(app) -> dict[str, int]:
    """Province P over city C1; the city's own admin and a province admin; brand 工惠乐学 of C1."""
    with app.extensions["ghpp"].session_factory() as s, s.begin():
        province = Union(code="P", name="示范省总工会", kind=UnionKind.PROVINCE)
        s.add(province)
        s.flush()
        province.path = f"/{province.id}/"
        city = Union(code="C1", name="甲市总工会", kind=UnionKind.CITY, parent_id=province.id)
        s.add(city)
        s.flush()
        city.path = f"{province.path}{city.id}/"
        for username, union in (("city-admin", city), ("sheng", province)):
            s.add(AdminAccount(username=username, password_hash="x", union=union, role=AdminRole.ADMIN))
        brand = Brand(name="工惠乐学", union=city, stage=Stage.PLANNED)
        s.add(brand)
        s.flush()
        ops.save_plan(s, brand, PLAN, Actor.admin("张三"), T0)
        ops.advance(s, brand, Stage.CULTIVATING, Actor.admin("张三"), "开始培育", T0 + timedelta(days=1))
        return {"brand": brand.id}


def write(tmp_path: Path, name: str, content: str | dict[str, Any]) -> str:
    path = tmp_path / name
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def invoke(app, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def counts(app) -> tuple[int, int, Stage]:
    with app.extensions["ghpp"].session_factory() as s:
        brand = s.scalar(select(Brand).where(Brand.name == "工惠乐学"))
        assert brand is not None
        return (
            int(s.scalar(select(func.count(Assessment.id))) or 0),
            int(s.scalar(select(func.count(StageTransition.id))) or 0),
            brand.stage,
        )


def scores(n: int, reports: list[int]) -> dict[str, Any]:
    return {
        s.value: {"score": 80, "reports": reports} for s in Standard if n == 5 or s != Standard.RECOGNITION
    }


def test_cli_import_by_the_brands_own_admin_cannot_set_deepening(app, tree, tmp_path: Path) -> None:
    before = counts(app)
    body = "name,org_code,aliases,stage\n工惠乐学,C1,,deepening\n"
    for extra in ((), ("--account", "city-admin")):
        result = invoke(app, "import", "brands", write(tmp_path, "b.csv", body), *extra)
        assert result.exit_code == 1
        assert "导入失败，未写入任何数据" in result.output
        assert "第2行" in result.output and "上级工会" in result.output
    assert counts(app) == before
    # The superior admin is refused too while the evidence is missing, and told which.
    result = invoke(app, "import", "brands", write(tmp_path, "b.csv", body), "--account", "sheng")
    assert result.exit_code == 1 and "离开「培育创建」需要至少一条进度上报" in result.output
    assert counts(app) == before
    result = invoke(app, "import", "brands", write(tmp_path, "b.csv", body), "--account", "nobody")
    assert "管理员账号 nobody 不存在或已停用" in result.output


def test_cli_self_evaluation_and_review_need_evidence_of_the_round(app, tree, tmp_path: Path) -> None:
    data = {"brand": "工惠乐学", "scores": scores(5, [])}
    result = invoke(app, "brand", "self-evaluate", write(tmp_path, "s.yaml", data))
    assert result.exit_code != 0 and "自评需要至少引用一份本轮的材料" in result.output
    assert counts(app)[0] == 0
    with app.extensions["ghpp"].session_factory() as s, s.begin():
        report = make_report(s, s.get(Brand, tree["brand"]), at=T0 + timedelta(days=5)).id
    data["scores"] = scores(5, [report])
    assert invoke(app, "brand", "self-evaluate", write(tmp_path, "s.yaml", data)).exit_code == 0
    advance = {"brand": "工惠乐学", "to": "reviewing", "reason": "申请评议"}
    assert invoke(app, "brand", "advance", write(tmp_path, "a.yaml", advance)).exit_code == 0
    review = {"brand": "工惠乐学", "decision": "继续培育", "comments": "载体不足", "scores": scores(4, [])}
    result = invoke(app, "brand", "review", write(tmp_path, "r.yaml", review))
    assert result.exit_code != 0 and "评议需要至少引用一份本轮的材料" in result.output
    assert f"进度上报编号 {report}" in result.output
    assert counts(app)[2] == Stage.REVIEWING
    review["scores"] = scores(4, [report])
    assert invoke(app, "brand", "review", write(tmp_path, "r.yaml", review)).exit_code == 0

    # 继续培育: a new round; the old report does not take the brand back to review.
    CLOCK["now"] += timedelta(days=1)
    result = invoke(app, "brand", "advance", write(tmp_path, "a.yaml", advance))
    assert result.exit_code != 0 and "上次评议之后的新进度上报" in result.output
    assert counts(app)[2] == Stage.CULTIVATING


def test_cli_self_evaluation_is_frozen_after_the_review(app, tree, tmp_path: Path) -> None:
    with app.extensions["ghpp"].session_factory() as s, s.begin():
        brand = s.get(Brand, tree["brand"])
        report = make_report(s, brand, at=T0 + timedelta(days=5)).id
        ops.self_evaluate(s, brand, scores(5, [report]), Actor.admin("张三"), T0 + timedelta(days=6))
        ops.advance(s, brand, Stage.REVIEWING, Actor.admin("张三"), "申请评议", T0 + timedelta(days=7))
        four = {k: {**v, "score": 60} for k, v in scores(4, [report]).items()}
        ops.review(s, brand, Decision.PROMOTE, "推广", four, Actor.admin("省总"), T0 + timedelta(days=8))
    copy = {"brand": "工惠乐学", "scores": {k: {**v, "score": 60} for k, v in scores(5, [report]).items()}}
    result = invoke(app, "brand", "self-evaluate", write(tmp_path, "s.yaml", copy))
    assert result.exit_code != 0 and "自评已随上级评议锁定" in result.output
    shown = invoke(app, "brand", "show", "工惠乐学").output
    assert "有鲜明名称：自评 80，上级 60，差距 +20" in shown
