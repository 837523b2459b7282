"""SQL statements per message through the webhook and the pipeline, counted by kind.

The budget of a rating is the issue's target (≤ 6). Statements of the jobs a message hands on
(run synchronously in tests) are not the message's: the live report's refresh is asked for at
most every few seconds, so it is asked for once before counting.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from handlers.recognition import chat as recognition_chat
from handlers.recognition import live
from tests.bot.chat_world import seed
from tests.perf.sqlcount import Statements, counting
from tests.wechat_chat import Chat

# status: the brand, its stage's round (latest progress and assessment: whether a new round
# still needs new progress) and the stored live report.
BUDGET = {"rating": 6, "vote": 7, "help": 3, "list": 3, "status": 10}


@pytest.fixture
def chat(client, wechat, clean_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Chat:
    seed(clean_db)
    monkeypatch.setattr(live, "REFRESH_EVERY_S", 3600.0)
    # The fraud scan is asked for on every 50th event id, which on PostgreSQL depends on what ran
    # before (sequences are not reset): its job is not the message's own work.
    monkeypatch.setattr(recognition_chat, "SCAN_EVERY", 10**9)
    chat = Chat(client, wechat)
    chat.say("o-warm", "帮助")  # the router is built once per process, not per message
    chat.say("o-warm", "工惠乐学 5分")  # the live report's refresh for this hour was asked for
    chat.say("o-warm", "投1号")
    return chat


def _count(chat: Chat, engine: Engine, openid: str, text: str, expect: str) -> Statements:
    with counting(engine) as n:
        reply = chat.say(openid, text)
    assert expect in reply, reply
    return n


def test_statements_per_message_kind(chat: Chat, clean_db: Engine) -> None:
    chat.say("o-counted", "帮助")  # a known follower (the first message also creates the row)
    counts = {
        "rating": _count(chat, clean_db, "o-counted", "幸福驿站 4分", "已记录"),
        "vote": _count(chat, clean_db, "o-counted", "投3号", "已为"),
        "help": _count(chat, clean_db, "o-counted", "帮助", "使用说明"),
        "list": _count(chat, clean_db, "o-counted", "候选", "1."),
        "status": _count(chat, clean_db, "o-counted", "查询 工惠乐学", "工惠乐学"),
    }
    for kind, n in counts.items():
        print(f"{kind}: {n!r}")
    over = {k: n.count for k, n in counts.items() if n.count > BUDGET[k]}
    assert not over, {k: counts[k] for k in over}


def test_a_rating_from_a_returning_follower_takes_at_most_6_statements(chat: Chat, clean_db: Engine) -> None:
    chat.say("o-rater", "帮助")
    n = _count(chat, clean_db, "o-rater", "职工书屋 5分", "已记录")
    assert n.count <= 6, n
