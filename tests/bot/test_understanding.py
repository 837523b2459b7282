"""Act only on clear intent, end to end: signed, encrypted WeChat messages through the webhook,
then the database checked for anything recorded that the worker did not clearly mean."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import InboundMessage, Suggestion
from models.programme import ProgressReport
from tests.bot.chat_world import CADRE, counts, events, seed
from tests.wechat_chat import Chat


@pytest.fixture
def chat(client, wechat):
    return Chat(client, wechat)


def test_a_new_followers_bare_number_records_nothing(app, chat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    reply = chat.say("o-new-1", "3")
    assert "投3号" in reply and "没有记录" in reply
    assert counts(clean_db) == before


def test_a_cadre_answering_the_progress_prompt_with_1_records_nothing(app, chat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    assert "请发送进度内容" in chat.say(CADRE, "上报进度")
    reply = chat.say(CADRE, "1")
    assert "没有记录" in reply and "取消" in reply
    assert counts(clean_db) == before
    # The real report that follows is filed (two brands: asked which one, by number).
    assert "哪一个" in chat.say(CADRE, "本月开展职工培训12场，参与600人次")
    assert "工惠乐学" in chat.say(CADRE, "1")
    with Session(clean_db) as session:
        reports = session.scalars(select(ProgressReport)).all()
        assert [r.text for r in reports] == ["本月开展职工培训12场，参与600人次"]
    assert events(clean_db) == []


def test_a_number_after_the_vote_limit_does_not_change_an_earlier_rating(app, chat, clean_db) -> None:
    seed(clean_db, vote=1)
    openid = "o-limit-1"
    assert "2分" in chat.say(openid, "投4号 2分")
    assert "投上一票" in chat.say(openid, "投1号")
    assert "已达上限" in chat.say(openid, "投2号")
    before = counts(clean_db)
    reply = chat.say(openid, "4")
    assert "投3号" in reply
    assert counts(clean_db) == before
    assert [e for e in events(clean_db, "rating")] == [("rating", "某品牌", 2)]


def test_a_question_about_a_brand_casts_no_vote(app, chat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    # A recognition question is a status query (router label convention): answered, nothing recorded.
    reply = chat.say("o-q-1", "某品牌的社会认可度怎么样")
    assert "某品牌" in reply and "社会认可度" in reply
    assert counts(clean_db) == before


@pytest.mark.parametrize("text", ["投3号吗", "工惠乐学排第几？", "幸福驿站得了多少票"])
def test_questions_never_vote(app, chat, clean_db, text: str) -> None:
    seed(clean_db)
    before = counts(clean_db)
    assert chat.say("o-q-2", text)
    assert counts(clean_db) == before


def test_a_correction_asks_which_target_and_votes_only_the_one_chosen(app, chat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    reply = chat.say("o-neg-1", "不是3号，我要投8号")
    assert "没有计票" in reply
    first, second = [line for line in reply.splitlines() if line[:2] in ("1.", "2.")]
    assert "8号「技能课堂」" in first and "3号「职工书屋」" in second
    assert counts(clean_db) == before
    assert "技能课堂" in chat.say("o-neg-1", "1")
    assert events(clean_db, "support_vote") == [("support_vote", "技能课堂", None)]


def test_a_bare_brand_name_is_confirmed_before_the_irreversible_vote(app, chat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    reply = chat.say("o-bare-1", "工惠乐学")
    assert "回复1确认给「工惠乐学」投票，回复2取消" in reply
    assert counts(clean_db) == before
    assert "没有记录" in chat.say("o-bare-1", "2")
    assert counts(clean_db) == before
    chat.say("o-bare-1", "工惠乐学")
    assert "投上一票" in chat.say("o-bare-1", "1")
    assert events(clean_db, "support_vote") == [("support_vote", "工惠乐学", None)]


def test_an_explicit_vote_still_acts_at_once(app, chat, clean_db) -> None:
    seed(clean_db)
    assert "投上一票" in chat.say("o-explicit", "投票给幸福驿站")
    assert "5分" in chat.say("o-explicit", "投3号 5分")
    assert events(clean_db) == [("support_vote", "幸福驿站", None), ("rating", "职工书屋", 5)]


def test_a_complaint_inside_the_score_follow_up_is_not_a_1_point_rating(app, chat, clean_db) -> None:
    seed(clean_db, vote=None)
    openid = "o-complaint-1"
    assert "请为「工惠乐学」打分" in chat.say(openid, "投票给工惠乐学")
    before = events(clean_db, "rating")
    reply = chat.say(openid, "对食堂很不满意，菜里有头发")
    assert events(clean_db, "rating") == before == []
    assert "建议/投诉" in reply


def test_a_complaint_naming_a_brand_is_offered_as_a_complaint_not_scored(app, chat, clean_db) -> None:
    seed(clean_db, vote=None)
    openid = "o-complaint-2"
    text = "对工惠乐学很不满意，活动室总是锁着门"
    reply = chat.say(openid, text)
    assert events(clean_db) == []
    # The router labels this a complaint (no score, by convention) but, with a rating word in it,
    # is not sure enough to act: the complaint comes first, the vote for the brand is offered too.
    assert "1. 把这段话作为建议/投诉提交给工会" in reply and "「工惠乐学」" in reply
    assert "单号" in chat.say(openid, "1")
    with Session(clean_db) as session:
        assert [s.content for s in session.scalars(select(Suggestion))] == [text]
    assert events(clean_db) == []
    # A plain rating in words still counts.
    assert "5分" in chat.say(openid, "对幸福驿站非常满意")
    assert events(clean_db, "rating") == [("rating", "幸福驿站", 5)]


def test_anonymous_complaint_asks_for_content_and_files_it_anonymously(app, chat, clean_db) -> None:
    seed(clean_db)
    openid = "o-anon-1"
    before = counts(clean_db)
    reply = chat.say(openid, "我要匿名投诉")
    assert "匿名" in reply and "请直接输入" in reply
    assert counts(clean_db) == before
    content = "车间主任长期拖欠我们班组的加班费，而且"
    assert "请确认" in chat.say(openid, content)
    reply = chat.say(openid, "1")
    assert "查询码" in reply
    with Session(clean_db) as session:
        rows = session.scalars(select(Suggestion)).all()
        assert [(s.content, s.anonymous, s.user_id) for s in rows] == [(content, True, None)]
        inbound = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert len(inbound) == 3
        assert all(m.redacted and m.openid is None and m.content is None for m in inbound)


def test_long_suggestion_confirmation_keeps_its_instruction(app, chat, clean_db) -> None:
    seed(clean_db)
    body = "".join(f"第{i}条：职工食堂夜班供餐时间太短，希望延长到凌晨两点。" for i in range(40))[:990]
    reply = chat.say("o-long-1", "建议：" + body)
    assert len(reply.encode()) <= 2048
    assert reply.endswith("回复 1 确认提交，回复 2 重新输入，回复「取消」放弃。")
    assert "共990字" in reply
    assert "单号" in chat.say("o-long-1", "1")
    with Session(clean_db) as session:
        assert [s.content for s in session.scalars(select(Suggestion))] == [body]
