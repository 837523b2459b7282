"""Every menu button answers (config/menu.json walked, nested sub_button included)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Suggestion
from tests.bot.chat_world import CADRE, counts, seed
from tests.wechat_chat import Chat
from tests.wechat_protocol import event_fields

MENU = Path(__file__).resolve().parents[2] / "config" / "menu.json"


def click_keys(buttons: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for b in buttons:
        if b.get("type") == "click":
            keys.append(b["key"])
        keys += click_keys(b.get("sub_button", []))
    return keys


KEYS = click_keys(json.loads(MENU.read_text(encoding="utf-8"))["button"])


@pytest.fixture
def chat(client, wechat):
    return Chat(client, wechat)


def test_the_menu_has_click_buttons() -> None:
    assert {"MENU_SUGGEST", "MENU_MY_SUGGESTIONS", "MENU_SURVEY", "MENU_PROGRESS"} <= set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_every_click_key_gets_an_answer(app, chat, clean_db, key: str) -> None:
    seed(clean_db)
    for openid in ("o-menu-worker", CADRE):
        reply = chat.post(event_fields(openid, "CLICK", key))
        assert reply.strip(), f"{key} gave no answer to {openid}"
        assert "建设中" not in reply


def test_menu_suggest_starts_the_suggestion_flow(app, chat, clean_db) -> None:
    seed(clean_db)
    assert "请直接输入您的建议" in chat.post(event_fields("o-menu-1", "CLICK", "MENU_SUGGEST"))
    assert "单号" in chat.say("o-menu-1", "宿舍热水供应时间太短")
    reply = chat.post(event_fields("o-menu-1", "CLICK", "MENU_MY_SUGGESTIONS"))
    assert "宿舍热水供应时间太短" in reply
    with Session(clean_db) as session:
        assert [s.content for s in session.scalars(select(Suggestion))] == ["宿舍热水供应时间太短"]


def test_menu_survey_opens_the_standing_survey(app, chat, clean_db) -> None:
    seed(clean_db)
    assert "第 1 题" in chat.post(event_fields("o-menu-2", "CLICK", "MENU_SURVEY"))


def test_menu_progress_for_a_cadre_and_for_a_worker(app, chat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    assert "请发送进度内容" in chat.post(event_fields(CADRE, "CLICK", "MENU_PROGRESS"))
    assert "绑定" in chat.post(event_fields("o-menu-3", "CLICK", "MENU_PROGRESS"))
    assert counts(clean_db) == before
