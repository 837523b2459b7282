"""A WeChat user talking to the app under test: signed, encrypted requests; decrypted replies."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.wechat_protocol import WeChatServer, message_xml, text_fields

_msg_ids = itertools.count(50_000)


class Chat:
    def __init__(self, client: Any, wechat: WeChatServer) -> None:
        self.client, self.wechat = client, wechat

    def post(self, fields: dict[str, str | int]) -> str:
        req = self.wechat.sign(message_xml(fields))
        resp = self.client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
        assert resp.status_code == 200
        return self.wechat.open_reply(resp.get_data(as_text=True)).get("Content", "")

    def say(self, openid: str, text: str, msg_id: int | None = None) -> str:
        return self.post(text_fields(openid, text, msg_id or next(_msg_ids)))

    text = say

    def image(self, openid: str, media_id: str) -> str:
        return self.post(
            {
                "FromUserName": openid,
                "CreateTime": int(time.time()),
                "MsgType": "image",
                "PicUrl": f"http://mmbiz.invalid/{media_id}",
                "MediaId": media_id,
                "MsgId": next(_msg_ids),
            }
        )
