"""The message parser refuses what WeChat never sends, instead of crashing on it."""

from __future__ import annotations

import pytest

from bot.wechat.parse import NotAMessage, to_inbound

XML = (
    "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName>"
    "<CreateTime>{t}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[帮助]]></Content>"
    "<MsgId>1</MsgId></xml>"
)


def test_an_ordinary_create_time_parses() -> None:
    inbound, account = to_inbound(XML.format(t=1796134749))
    assert account == "gh_test" and inbound.created_at.year == 2026


@pytest.mark.parametrize("t", ["75542302172007262", "99999999999", "-1", "1e9", ""])
def test_a_create_time_out_of_range_is_not_a_message(t: str) -> None:
    with pytest.raises(NotAMessage):
        to_inbound(XML.format(t=t))
