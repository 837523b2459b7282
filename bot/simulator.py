"""Plays WeChat: signs (and encrypts) messages exactly as WeChat does and posts them.

Used by ``flask --app bot chat`` so that a newcomer can talk to the service without a WeChat
account, and by the demo server as a stand-in for WeChat's API (no internet here).
"""

from __future__ import annotations

import base64
import io
import logging
import secrets
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from wechatpy.crypto import PrpCrypto

from bot.wechat import signature
from bot.wechat.parse import parse_envelope
from bot.wechat.xmlsafe import cdata
from handlers.ports import MediaFile, QRCode

log = logging.getLogger(__name__)

# (query string, body) → (HTTP status, response body)
Transport = Callable[[str, bytes], tuple[int, str]]


@dataclass
class Answer:
    status: int
    text: str | None
    raw: str


class WeChatSimulator:
    def __init__(
        self,
        token: str,
        appid: str,
        transport: Transport,
        aes_key: str | None = None,
        account: str = "gh_ghpp_demo",
    ) -> None:
        self.token, self.appid, self.transport = token, appid, transport
        self.aes_key, self.account = aes_key, account
        self._msg_id = int(time.time() * 1000)

    def _key(self) -> bytes:
        assert self.aes_key is not None
        return base64.b64decode(self.aes_key + "=")

    def post(self, openid: str, fields: dict[str, str]) -> Answer:
        now = str(int(time.time()))
        nonce = str(secrets.randbelow(10**9))
        body_fields = {"ToUserName": self.account, "FromUserName": openid, "CreateTime": now, **fields}
        xml = (
            "<xml>"
            + "".join(
                f"<{k}>{v}</{k}>" if k in ("CreateTime", "MsgId") else f"<{k}>{cdata(v)}</{k}>"
                for k, v in body_fields.items()
            )
            + "</xml>"
        )
        params = {"timestamp": now, "nonce": nonce, "signature": signature.sign(self.token, now, nonce)}
        if self.aes_key:
            encrypted = PrpCrypto(self._key()).encrypt(xml, self.appid).decode()
            params.update(
                encrypt_type="aes",
                msg_signature=signature.sign(self.token, now, nonce, encrypted),
            )
            envelope = f"<ToUserName>{cdata(self.account)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt>"
            xml = f"<xml>{envelope}</xml>"
        status, raw = self.transport(urlencode(params), xml.encode("utf-8"))
        return Answer(status, self._read_reply(raw) if status == 200 else None, raw)

    def _read_reply(self, raw: str) -> str | None:
        if raw.strip() in ("", "success"):
            return None
        data = parse_envelope(raw)
        if "Encrypt" in data:
            encrypted = data["Encrypt"]
            expected = signature.sign(self.token, data["TimeStamp"], data["Nonce"], encrypted)
            if expected != data["MsgSignature"]:
                raise ValueError("reply signature does not match")
            data = parse_envelope(PrpCrypto(self._key()).decrypt(encrypted, self.appid))
        if data.get("MsgType") == "news":
            items = data["Articles"]["item"]
            items = items if isinstance(items, list) else [items]
            return "\n".join(f"【{i.get('Title')}】{i.get('Description') or ''}" for i in items)
        return str(data.get("Content") or "")

    def next_msg_id(self) -> str:
        self._msg_id += 1
        return str(self._msg_id)

    def text(self, openid: str, content: str) -> Answer:
        return self.post(openid, {"MsgType": "text", "Content": content, "MsgId": self.next_msg_id()})

    def voice(self, openid: str, recognition: str) -> Answer:
        fields = {
            "MsgType": "voice",
            "MediaId": f"voice-{secrets.token_hex(6)}",
            "Format": "amr",
            "Recognition": recognition,
            "MsgId": self.next_msg_id(),
        }
        return self.post(openid, fields)

    def image(self, openid: str) -> Answer:
        media = f"sim-{secrets.token_hex(8)}"
        fields = {
            "MsgType": "image",
            "PicUrl": f"http://simulator.invalid/{media}.png",
            "MediaId": media,
            "MsgId": self.next_msg_id(),
        }
        return self.post(openid, fields)

    def event(self, openid: str, event: str, key: str | None = None) -> Answer:
        fields = {"MsgType": "event", "Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self.post(openid, fields)


def tiny_png(seed: str) -> bytes:
    """A valid 1×1 PNG whose colour depends on ``seed`` (distinct photos hash differently)."""
    colour = zlib.crc32(seed.encode()) & 0xFFFFFF
    raw = b"\x00" + colour.to_bytes(3, "big")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)))
    out.write(chunk(b"IDAT", zlib.compress(raw)))
    out.write(chunk(b"IEND", b""))
    return out.getvalue()


@dataclass
class SimulatedWeChatApi:
    """Stands in for WeChat's API in the demo: pushes are printed and kept, media is generated."""

    printer: Callable[[str], None] = print
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send_text(self, openid: str, text: str) -> None:
        self.sent.append({"openid": openid, "text": text})
        self.printer(f"[客服消息 → {openid}] {text}")

    def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
    ) -> str | None:
        self.sent.append({"openid": openid, "template_id": template_id, "data": data})
        self.printer(f"[模板消息 → {openid}] {template_id} {data}")
        return f"sim-{len(self.sent)}"

    def send_subscribe_message(
        self, openid: str, template_id: str, scene: int, title: str, content: str, url: str | None = None
    ) -> None:
        self.sent.append({"openid": openid, "template_id": template_id, "scene": scene, "content": content})
        self.printer(f"[订阅消息 → {openid}] {title}：{content}")

    def download_media(self, media_id: str) -> MediaFile:
        return MediaFile(content=tiny_png(media_id), content_type="image/png")

    def create_qrcode(self, scene: str) -> QRCode:
        return QRCode(ticket=f"sim-{scene}", url=f"http://simulator.invalid/qr/{scene}")

    def create_menu(self, menu: dict[str, Any]) -> None:
        self.printer(f"[菜单] {menu}")
