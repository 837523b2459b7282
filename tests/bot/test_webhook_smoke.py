from __future__ import annotations

from tests.wechat_protocol import WeChatServer, message_xml, text_fields


def test_handshake_echoes(client, wechat: WeChatServer) -> None:
    resp = client.get(f"/wechat?{wechat.handshake('hello-42')}")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "hello-42"


def test_help_in_safe_mode(client, wechat: WeChatServer) -> None:
    req = wechat.sign(message_xml(text_fields("o-smoke", "帮助", 1001)))
    resp = client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
    assert resp.status_code == 200
    reply = wechat.open_reply(resp.get_data(as_text=True))
    assert reply["ToUserName"] == "o-smoke"
    assert "使用说明" in reply["Content"]
