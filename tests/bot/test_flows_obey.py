"""Every conversation in progress obeys 帮助, 取消, menu clicks and a clearly different request:
none of them is stored as an answer (signed, encrypted messages through the webhook)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Conversation, Suggestion, SurveyResponse
from tests.bot.chat_world import CADRE, counts, events, seed
from tests.wechat_chat import Chat
from tests.wechat_protocol import event_fields


@pytest.fixture
def chat(client, wechat):
    return Chat(client, wechat)


def _flow(engine, openid: str) -> str | None:
    from models import User

    with Session(engine) as session:
        user = session.scalar(select(User).where(User.openid == openid))
        conv = session.scalar(select(Conversation).where(Conversation.user_id == user.id)) if user else None
        return conv.flow if conv else None


def test_help_and_a_ticket_query_are_not_filed_as_suggestions(app, chat, clean_db) -> None:
    seed(clean_db)
    openid = "o-flow-s1"
    assert "请直接输入您的建议" in chat.say(openid, "提建议")
    before = counts(clean_db)
    reply = chat.say(openid, "帮助")
    assert "使用说明" in reply and "您正在「提建议」" in reply and "取消" in reply
    reply = chat.say(openid, "查询 JY20261121-0042")
    assert "先退出「提建议」" in reply and "1. 退出「提建议」，查询建议 JY20261121-0042" in reply
    assert "2. 继续提建议" in reply
    assert counts(clean_db) == before
    assert "JY20261121-0042" in chat.say(openid, "1")  # the query, answered: not found
    assert counts(clean_db) == before and _flow(clean_db, openid) is None


def test_continuing_after_an_interruption_resumes_the_suggestion(app, chat, clean_db) -> None:
    seed(clean_db)
    openid = "o-flow-s2"
    chat.say(openid, "提建议")
    chat.say(openid, "查询 工惠乐学")
    assert "请直接输入您的建议" in chat.say(openid, "2")
    assert "单号" in chat.say(openid, "食堂晚班希望供应热饭")
    with Session(clean_db) as session:
        assert [s.content for s in session.scalars(select(Suggestion))] == ["食堂晚班希望供应热饭"]


def test_inside_the_survey_help_and_a_status_question_do_not_just_repeat(app, chat, clean_db) -> None:
    seed(clean_db)
    openid = "o-flow-q1"
    first = chat.say(openid, "问卷")
    assert "第 1 题" in first
    before = counts(clean_db)
    reply = chat.say(openid, "帮助")
    assert "使用说明" in reply and "您正在「填写问卷」" in reply and "取消" in reply
    reply = chat.say(openid, "工惠乐学怎么样？")
    assert "先退出「填写问卷」" in reply and "查询「工惠乐学」的进展" in reply
    assert counts(clean_db) == before
    back = chat.say(openid, "2")
    assert "第 1 题" in back and "取消" in back
    bad = chat.say(openid, "abc")
    assert "第 1 题" in bad and "回复「取消」退出问卷" in bad
    assert counts(clean_db) == before
    with Session(clean_db) as session:
        resp = session.scalar(select(SurveyResponse))
        assert resp is not None and resp.answers == {}


def test_a_menu_click_during_a_flow_leaves_it_and_answers_the_click(app, chat, clean_db) -> None:
    seed(clean_db)
    openid = "o-flow-m1"
    chat.say(openid, "问卷")
    reply = chat.post(event_fields(openid, "CLICK", "MENU_LIST"))
    assert "已退出「填写问卷」" in reply and "1. 工惠乐学" in reply
    assert _flow(clean_db, openid) is None
    chat.say(openid, "提建议")
    reply = chat.post(event_fields(openid, "CLICK", "MENU_HELP"))
    assert "已退出「提建议」" in reply and "使用说明" in reply
    assert counts(clean_db)["suggestions"] == 0


def test_score_follow_up_and_photo_flows_answer_help(app, chat, clean_db) -> None:
    seed(clean_db, vote=None)
    openid = "o-flow-r1"
    chat.say(openid, "投票给工惠乐学")
    before = events(clean_db)
    reply = chat.say(openid, "帮助")
    assert "您正在「打分」" in reply
    assert events(clean_db) == before
    assert "4分" in chat.say(openid, "4")
    # A cadre's photo flow: 帮助 and a ticket query are not the caption.
    chat.image(CADRE, "media-flow-1")
    assert "您正在「登记活动照片」" in chat.say(CADRE, "帮助")
    assert "先退出「登记活动照片」" in chat.say(CADRE, "查询 JY20261121-0042")


def test_the_ask_back_itself_obeys_cancel(app, chat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    chat.say("o-flow-a1", "工惠乐学")
    assert "已退出" in chat.say("o-flow-a1", "取消")
    assert "投3号" in chat.say("o-flow-a1", "1")  # no choice is pending any more
    assert counts(clean_db) == before


def test_the_bind_flow_takes_the_code_and_nothing_else(app, chat, clean_db) -> None:
    from models import InboundMessage
    from models.programme import BindAttempt

    seed(clean_db)
    openid = "o-flow-b1"
    assert "请发送邀请码或会员卡号" in chat.say(openid, "绑定")
    assert "您正在「绑定身份」" in chat.say(openid, "帮助")
    assert "先退出「绑定身份」" in chat.say(openid, "查询 JY20261121-0042")
    before = counts(clean_db)
    assert "请发送邀请码或会员卡号" in chat.say(openid, "2")
    assert counts(clean_db) == before
    assert "邀请码不正确" in chat.say(openid, "ABCD2345")
    with Session(clean_db) as session:
        assert session.scalar(select(func.count(BindAttempt.id))) == 1
        last = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert last is not None and last.redacted and last.content is None  # the code is not kept in clear


def test_a_bare_number_is_not_a_photo_caption(app, chat, clean_db) -> None:
    from models.programme import Photo

    seed(clean_db)
    assert "哪个品牌" in chat.image(CADRE, "media-cap-1")
    assert "工惠乐学" in chat.say(CADRE, "1")  # the brand choice the bot just offered
    assert "说明这是什么活动" in chat.say(CADRE, "2")
    assert "已保存 1 张照片到「工惠乐学」" in chat.say(CADRE, "11月职工技能培训")
    with Session(clean_db) as session:
        assert [p.activity for p in session.scalars(select(Photo))] == ["11月职工技能培训"]


def test_a_question_written_as_the_suggestion_is_filed(app, chat, clean_db) -> None:
    seed(clean_db)
    chat.say("o-flow-s3", "提建议")
    assert "单号" in chat.say("o-flow-s3", "幸福驿站怎么这么久没有活动了？")
    with Session(clean_db) as session:
        assert [s.content for s in session.scalars(select(Suggestion))] == ["幸福驿站怎么这么久没有活动了？"]


def test_clicking_the_survey_button_inside_the_survey_resumes_it(app, chat, clean_db) -> None:
    seed(clean_db)
    chat.say("o-flow-m2", "问卷")
    reply = chat.post(event_fields("o-flow-m2", "CLICK", "MENU_SURVEY"))
    assert "继续填写" in reply and "第 1 题" in reply and "已退出" not in reply
    assert _flow(clean_db, "o-flow-m2") == "survey"
