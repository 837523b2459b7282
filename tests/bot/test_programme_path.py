"""The whole path through the CLI and the webhook (signed, encrypted requests like WeChat's):
import tree and brands, invite a cadre, the cadre binds, reports progress with photos,
self-evaluates, a superior reviews and promotes."""

from __future__ import annotations

import json
import re
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from models import Brand, InboundMessage, Role, Stage, User
from models.programme import Photo, PhotoStatus, ProgressReport, StageTransition
from tests.factories_programme import jpeg_bytes, png_bytes
from tests.wechat_chat import Chat
from tests.wechat_protocol import WeChatServer

TREE = """code,name,parent_code,kind,members
P,示范省总工会,,province,
C1,甲市总工会,P,city,52000
K1,甲市A区总工会,C1,county,8000
I1,省教科文卫工会,P,industry,
G1,甲市A区某厂工会,K1,grassroots,300
"""
BRANDS = """name,org_code,aliases,stage
工惠乐学,C1,乐学,planned
查保促,K1,,proposed
"""
_msg = count(5000)


def write(tmp_path: Path, name: str, content: str | dict[str, Any]) -> str:
    path = tmp_path / name
    if isinstance(content, dict):
        content = (
            yaml.safe_dump(content, allow_unicode=True) if name.endswith(".yaml") else json.dumps(content)
        )
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_the_whole_path(app: Flask, client, wechat: WeChatServer, wechat_stub, tmp_path: Path) -> None:
    cli = app.test_cli_runner()
    rt = app.extensions["ghpp"]

    def run(*args: str) -> str:
        result = cli.invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "新增 5 条" in run("import", "orgs", write(tmp_path, "tree.csv", TREE))
    # Setting a stage by import takes an admin of a superior union (here the province's).
    created = cli.invoke(
        args=["admin", "create", "--org", "P", "--username", "sheng", "--password-stdin"],
        input="Sheng-zong-2026!\n",
    )
    assert created.exit_code == 0, created.output
    brands_csv = write(tmp_path, "brands.csv", BRANDS)
    assert "新增 2 条" in run("import", "brands", brands_csv, "--account", "sheng")
    out = run("invite", "--org", "C1", "--role", "cadre")
    found = re.search(r"邀请码：([A-Z0-9]{8})", out)
    assert found is not None
    code = found.group(1)

    chat = Chat(client, wechat)
    cadre = "o-cadre-001"
    assert "绑定成功" in chat.text(cadre, f"绑定 {code}")
    assert "已被使用" in chat.text("o-someone-else", f"绑定 {code}")

    # The plan lets the brand leave 制定方案.
    plan = {
        "brand": "工惠乐学",
        "by": "甲市总工会宣教部",
        "goals": "三年覆盖全市职工",
        "measures": ["建学习点"],
        "long_term": "打造全省示范品牌",
        "this_year": "开展培训100场",
    }
    run("brand", "plan", write(tmp_path, "plan.yaml", plan))
    run(
        "brand",
        "advance",
        write(tmp_path, "adv1.yaml", {"brand": "工惠乐学", "to": "cultivating", "reason": "方案已审定"}),
    )

    assert "已记录「工惠乐学」的进度" in chat.text(
        cadre, "上报进度 工惠乐学 本月开展培训12场，参与职工600人次"
    )
    wechat_stub.state.media["media-1"] = (png_bytes(21), "image/png")
    wechat_stub.state.media["media-2"] = (jpeg_bytes(22), "image/jpeg")
    wechat_stub.fail("media/get", "http500")  # the first download fails once; the queue retries
    assert "第 1 张" in chat.image(cadre, "media-1")
    assert "第 2 张" in chat.image(cadre, "media-2")
    # A worker's photo is answered politely and not kept.
    assert "不保存" in chat.image("o-worker-001", "media-3")

    with rt.session_factory() as session:
        report = session.scalar(select(ProgressReport))
        photos = session.scalars(select(Photo).order_by(Photo.id)).all()
        assert [(p.media_id, p.status, p.report_id) for p in photos] == [
            ("media-1", PhotoStatus.STORED, report.id),
            ("media-2", PhotoStatus.STORED, report.id),
        ]
        assert all((Path(rt.job_options["media_dir"]) / p.storage_key).is_file() for p in photos)
        user = session.scalar(select(User).where(User.openid == cadre))
        assert user.role == Role.CADRE
        # The code sent in chat is not kept in the audit table.
        assert not session.scalar(select(InboundMessage).where(InboundMessage.content.contains(code)))
        report_id, photo_ids = report.id, [p.id for p in photos]
    assert len(wechat_stub.calls_to("media/get")) == 3  # 500, then two successes

    scores = {
        "name": {"score": 90, "evidence": "名称简洁易记"},
        "mechanism": {"score": 85, "evidence": "制度汇编", "reports": [report_id]},
        "carriers": {"score": 80, "evidence": "线上线下课堂", "photos": photo_ids},
        "demonstration": {"score": 75, "evidence": "两区县借鉴"},
        "recognition": {"score": 85, "evidence": "职工好评"},
    }
    run(
        "brand",
        "self-evaluate",
        write(tmp_path, "self.json", {"brand": "工惠乐学", "by": "甲市总工会", "scores": scores}),
    )
    run(
        "brand",
        "advance",
        write(tmp_path, "adv2.yaml", {"brand": "工惠乐学", "to": "reviewing", "reason": "申请评议"}),
    )
    review = {
        "brand": "工惠乐学",
        "by": "省总宣教部",
        "decision": "推广",
        "comments": "成效明显，全省推广",
        "scores": {
            "name": 85,
            "mechanism": 80,
            "carriers": {"score": 80, "photos": photo_ids},
            "demonstration": 70,
        },
    }
    out = run("brand", "review", write(tmp_path, "review.yaml", review))
    assert "推广" in out and "「评议推广」→「深化提升」" in out
    assert "有社会认可度：自评 85，上级 暂无，差距 —" in out  # recognition: no index yet

    status = chat.text("o-anyone", "查询 工惠乐学")
    assert "阶段：深化提升（第 5 步，共 5 步）" in status
    assert "本月开展培训12场" in status and "社会认可度：暂无数据" in status

    shown = run("brand", "show", "工惠乐学")
    assert "方案已审定" in shown and "上级评议：推广。成效明显，全省推广" in shown
    with rt.session_factory() as session:
        brand = session.scalar(select(Brand).where(Brand.name == "工惠乐学"))
        assert brand.stage == Stage.DEEPENING
        moves = session.scalars(
            select(StageTransition).where(StageTransition.brand_id == brand.id).order_by(StageTransition.id)
        ).all()
        assert [(m.from_stage, m.to_stage, m.actor) for m in moves] == [
            (None, Stage.PROPOSED, "sheng（示范省总工会）"),
            (Stage.PROPOSED, Stage.PLANNED, "sheng（示范省总工会）"),
            (Stage.PLANNED, Stage.CULTIVATING, "管理员"),
            (Stage.CULTIVATING, Stage.REVIEWING, "管理员"),
            (Stage.REVIEWING, Stage.DEEPENING, "省总宣教部"),
        ]

    # Supervision: C1 and K1 have brands; only the industrial union I1 lacks one.
    data = json.loads(run("report", "coverage", "--format", "json"))
    assert [m["code"] for m in data["missing"]] == ["I1"]


def test_cli_errors_are_chinese_and_write_nothing(app, tmp_path: Path) -> None:
    cli = app.test_cli_runner()
    bad = "code,name,parent_code,kind\nP,省总,,province\nC1,甲市,ZZ,city\n"
    result = cli.invoke(args=["import", "orgs", write(tmp_path, "bad.csv", bad)])
    assert result.exit_code == 1
    assert "导入失败，未写入任何数据" in result.output and "第3行：上级工会代码 ZZ 不存在" in result.output
    result = cli.invoke(args=["invite", "--org", "NOPE"])
    assert result.exit_code != 0 and "工会代码 NOPE 不存在" in result.output
    result = cli.invoke(args=["report", "coverage", "--org", "NOPE"])
    assert "工会代码 NOPE 不存在" in result.output
    result = cli.invoke(
        args=["brand", "advance", write(tmp_path, "a.yaml", {"brand": "无此品牌", "to": "planned"})]
    )
    assert "品牌「无此品牌」不存在" in result.output
    result = cli.invoke(args=["brand", "plan", write(tmp_path, "broken.yaml", "brand: [unclosed")])
    assert "格式错误" in result.output


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_coverage_formats_from_the_cli(app, tmp_path: Path, fmt: str) -> None:
    cli = app.test_cli_runner()
    assert cli.invoke(args=["import", "orgs", write(tmp_path, "tree.csv", TREE)]).exit_code == 0
    out = cli.invoke(args=["report", "coverage", "--org", "C1", "--format", fmt]).output
    if fmt == "table":
        assert "范围：甲市总工会" in out and "C1  甲市总工会" in out
    else:
        assert out.splitlines()[0] == "类别,工会代码,工会,品牌,说明,天数"
        assert {line.split(",")[1] for line in out.splitlines()[1:]} == {"C1", "K1"}


def test_member_import_and_binding_through_the_webhook(
    app, client, wechat: WeChatServer, tmp_path: Path
) -> None:
    cli = app.test_cli_runner()
    assert cli.invoke(args=["import", "orgs", write(tmp_path, "tree.csv", TREE)]).exit_code == 0
    out = cli.invoke(
        args=["import", "members", write(tmp_path, "m.csv", "org_code,card_no\nG1,6222-0001-77\n")]
    ).output
    assert "新增 1 条" in out
    chat = Chat(client, wechat)
    assert "已为您关联到「甲市A区某厂工会」" in chat.text("o-member", "绑定 会员卡号 6222000177")
    rt = app.extensions["ghpp"]
    with rt.session_factory() as session:
        user = session.scalar(select(User).where(User.openid == "o-member"))
        assert user.union is not None and user.union.code == "G1" and user.union_source == "member"
        assert not session.scalar(select(InboundMessage).where(InboundMessage.content.contains("6222")))
