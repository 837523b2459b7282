"""The suggestion page says how and when each answer reached the worker, in Chinese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from handlers.suggestions import operations as ops
from tests.bot.admin.conftest import World, csrf
from tests.factories import make_user
from tests.wechat_stub import WeChatStub

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def _frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    for target in ("bot.admin.suggestions.views.utcnow", "bot.jobs.utcnow"):
        monkeypatch.setattr(target, lambda: NOW)


def _file(db: Session, world: World, openid: str, *, wrote: timedelta, anonymous: bool = False) -> int:
    user = make_user(db, openid=openid, union_id=world.grassroots.id, last_message_at=NOW - wrote)
    s = ops.submit(db, user, "食堂的饭菜品种太少，希望增加几个窗口", NOW - wrote, anonymous=anonymous)
    db.commit()
    sid = s.id
    db.rollback()
    return sid


def _answer(client: FlaskClient, sid: int) -> str:
    token = csrf(client, "/admin/suggestions/")
    for action, data in (("accept", {}), ("answer", {"answer": "已协调食堂增加两个窗口。"})):
        resp = client.post(f"/admin/suggestions/{sid}/{action}", data={"csrf_token": token, **data})
        assert resp.status_code == 302
    page = client.get(f"/admin/suggestions/{sid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html.split('id="deliveries"')[1].split("</section>")[0]


def test_a_customer_service_push_is_shown(
    as_user, world: World, db: Session, wechat_stub: WeChatStub
) -> None:
    sid = _file(db, world, "o-page-within", wrote=timedelta(hours=1))
    section = _answer(as_user("county"), sid)
    assert len(wechat_stub.calls_to("message/custom/send")) == 1
    assert "答复送达" in section and "客服消息" in section and "已发出" in section
    assert "2026-11-23 10:00" in section
    assert "o-page-within" not in section


def test_a_refused_push_shows_the_errcode_in_chinese_and_the_wait(
    as_user, world: World, db: Session, wechat_stub: WeChatStub
) -> None:
    sid = _file(db, world, "o-page-gone", wrote=timedelta(hours=1))
    wechat_stub.fail("message/custom/send", "errcode", 43004)
    section = _answer(as_user("county"), sid)
    assert "客服消息" in section and "发送失败" in section and "43004" in section
    assert "职工已取消关注公众号" in section
    assert "下次留言时送达" in section and "等待职工留言" in section


def test_an_answer_outside_the_window_waits_for_the_next_message(as_user, world: World, db: Session) -> None:
    sid = _file(db, world, "o-page-late", wrote=timedelta(days=3))
    section = _answer(as_user("county"), sid)
    assert "下次留言时送达" in section and "等待职工留言" in section and "客服消息" not in section


def test_an_anonymous_answer_is_not_pushed_and_says_so(as_user, world: World, db: Session) -> None:
    sid = _file(db, world, "o-page-anon", wrote=timedelta(hours=1), anonymous=True)
    section = _answer(as_user("county"), sid)
    assert "匿名建议的答复不推送" in section and "客服消息" not in section
