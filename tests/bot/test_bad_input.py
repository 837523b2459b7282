"""Bad input gets a short Chinese answer saying what the account can do; nothing is recorded
and no exception reaches the worker."""

from __future__ import annotations

import itertools
import re
import time
from urllib.parse import urlencode

import pytest

from config import texts
from tests.bot.chat_world import counts, seed
from tests.wechat_chat import Chat
from tests.wechat_protocol import aes_encrypt, message_xml, sha1_signature, text_fields

_ids = itertools.count(880_000)
CJK = re.compile(r"[\u4e00-\u9fff]")
MESSAGES = {
    "empty": "",
    "emoji": "😀😀🎉👍",
    "long": "今天车间里大家聊了很多" * 455,
    "mixed_script": "Hello 你好 Привет مرحبا 123",
    "mixed_intent": "投3号 查询JY20261121-0042 我要提建议",
    "mixed_intent_brand": "工惠乐学 投票 查询 建议",
    "whitespace": " \u3000 \t ",
}


@pytest.fixture
def chat(client, wechat):
    return Chat(client, wechat)


def _check(reply: str) -> None:
    assert reply and CJK.search(reply), reply
    assert reply != texts.INTERNAL_ERROR
    assert len(reply.encode()) <= 2048


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_bad_input_records_nothing(app, chat, clean_db, name: str) -> None:
    seed(clean_db)
    before = counts(clean_db)
    _check(chat.say("o-bad-1", MESSAGES[name]))
    assert counts(clean_db) == before


def test_control_characters_record_nothing(app, client, wechat, clean_db) -> None:
    seed(clean_db)
    before = counts(clean_db)
    nasty = "\x01投\x07\x1f票\x02"
    xml = message_xml(text_fields("o-bad-2", "x", next(_ids))).replace(
        "<![CDATA[x]]>", f"<![CDATA[{nasty}]]>"
    )
    # Encrypted as WeChat does (safe mode); built here because the XML inside is not well-formed.
    ts, nonce = str(int(time.time())), "884422"
    encrypted = aes_encrypt(wechat.aes_key, wechat.appid, xml)
    query = urlencode(
        {
            "signature": sha1_signature(wechat.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": sha1_signature(wechat.token, ts, nonce, encrypted),
        }
    )
    body = (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    resp = client.post(f"/wechat?{query}", data=body.encode(), content_type="text/xml")
    assert resp.status_code == 200
    _check(wechat.open_reply(resp.get_data(as_text=True)).get("Content", ""))
    assert counts(clean_db) == before


def test_empty_text_says_what_the_account_can_do(app, chat, clean_db) -> None:
    reply = chat.say("o-bad-3", "")
    assert "投3号" in reply and "语音" not in reply
