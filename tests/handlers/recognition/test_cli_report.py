"""End to end: create a campaign, rate through the webhook, close, report in table/JSON/CSV."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.recognition import RecognitionEvent, RecognitionSnapshot
from tests.factories import make_brand, make_union
from tests.wechat_protocol import WeChatServer, message_xml, text_fields


def post(client, wechat: WeChatServer, openid: str, text: str, msg_id: int) -> str:
    req = wechat.sign(message_xml(text_fields(openid, text, msg_id)))
    resp = client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
    assert resp.status_code == 200
    return wechat.open_reply(resp.get_data(as_text=True))["Content"]


def test_campaign_lifecycle_and_report(app, client, wechat) -> None:
    rt = app.extensions["ghpp"]
    with rt.session_factory() as session, session.begin():
        city = make_union(session, name="市总")
        for name in ("工惠乐学", "幸福驿站"):
            make_brand(session, union=make_union(session, parent=city), name=name)
    runner = app.test_cli_runner()
    out = runner.invoke(
        args=["campaign", "create", "--name", "2026测评", "--kind", "rating", "--brands", "all"]
    )
    assert out.exit_code == 0, out.output
    assert "候选品牌 2 个" in out.output
    bad = runner.invoke(args=["campaign", "create", "--name", "x", "--kind", "vote", "--brands", "不存在"])
    assert bad.exit_code != 0 and "找不到品牌" in bad.output
    assert "2026测评｜满意度测评｜进行中" in runner.invoke(args=["campaign", "list"]).output

    for i in range(12):
        reply = post(client, wechat, f"o-rater-{i}", f"投工惠乐学 {4 + i % 2}分", 5000 + i)
        assert "已记录" in reply
    # WeChat retries the same MsgId: counted once.
    post(client, wechat, "o-rater-0", "投工惠乐学 4分", 5000)
    post(client, wechat, "o-rater-0", "投工惠乐学 4分", 5000)
    with rt.session_factory() as session:
        assert session.scalar(select(func.count(RecognitionEvent.id))) == 12

    report = json.loads(
        runner.invoke(args=["recognition", "--campaign", "2026测评", "--format", "json"]).output
    )
    assert set(report) >= {"campaign", "method_version", "brands", "disclosure"}
    assert report["method_version"] == "1.0.0" and "方法版本 v1.0.0" in report["disclosure"]
    by = {b["brand"]: b for b in report["brands"]}
    assert set(by["工惠乐学"]) >= {
        "brand",
        "index",
        "ci",
        "status",
        "tier",
        "ratings",
        "heat",
        "suspect",
        "groups",
    }
    assert by["工惠乐学"]["ratings"] == 12 and by["工惠乐学"]["heat"] == 0
    assert by["工惠乐学"]["groups"]["S"]["reputation"]["n"] == 12
    # R_W has no answers: the brand shows 样本不足 and no number.
    assert by["工惠乐学"]["status"] == "样本不足" and by["工惠乐学"]["index"] is None
    assert by["工惠乐学"]["groups"]["W"]["reputation"]["display"] == "样本不足 (0/10)"

    closed = runner.invoke(args=["campaign", "close", "2026测评"])
    assert closed.exit_code == 0 and "sha256" in closed.output
    table = runner.invoke(args=["recognition", "--campaign", "2026测评"]).output
    assert "正式结果" in table and "非随机抽样调查" in table
    rows = list(csv.reader(io.StringIO(runner.invoke(args=["recognition", "--format", "csv"]).output)))
    header = rows[0]
    for col in ("社会认可度", "可信区间下限", "状态", "有效评价数", "方法版本"):
        assert col in header
    assert rows[1][header.index("有效评价数")] in ("12", "0")
    assert "方法版本 v1.0.0" in rows[-1][0]
    with rt.session_factory() as session:
        snap = session.scalar(select(RecognitionSnapshot))
        assert snap is not None and snap.created_by == "命令行"
        from handlers.recognition.snapshots import reproduce_snapshot

        assert reproduce_snapshot(session, snap) == snap.body
    assert "已经结束" in runner.invoke(args=["campaign", "close", "2026测评"]).output


def test_snapshot_is_append_only(session: Session) -> None:
    import pytest

    from handlers.recognition.campaigns import create_campaign
    from handlers.recognition.snapshots import take_snapshot
    from models import utcnow
    from models.recognition import AppendOnlyError

    make_brand(session, name="甲品牌")
    c = create_campaign(session, "快照", "rating", "all", utcnow())
    c.closed_at = utcnow()
    snap = take_snapshot(session, c)
    snap.body = "{}"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
