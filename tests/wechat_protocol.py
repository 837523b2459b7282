"""WeChat's side of the protocol, written from WeChat's published algorithm.

Independent of the code under test on purpose: it signs with hashlib and encrypts with
``cryptography`` directly (AES-256-CBC, IV = first 16 key bytes, PKCS#7 to 32-byte blocks,
plaintext = 16 random bytes + 4-byte big-endian length + XML + appid).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _pad(data: bytes, block: int = 32) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    return data[: -data[-1]]


def aes_encrypt(aes_key: str, appid: str, xml: str, random16: bytes | None = None) -> str:
    key = base64.b64decode(aes_key + "=")
    body = xml.encode()
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + appid.encode()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(_pad(plain)) + enc.finalize()).decode()


def aes_decrypt(aes_key: str, encrypted: str) -> tuple[str, str]:
    """Returns (xml, appid)."""
    key = base64.b64decode(aes_key + "=")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = _unpad(dec.update(base64.b64decode(encrypted)) + dec.finalize())
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + length].decode(), plain[20 + length :].decode()


def new_aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


def message_xml(fields: dict[str, str | int], account: str = "gh_test") -> str:
    parts = [f"<ToUserName><![CDATA[{account}]]></ToUserName>"]
    for key, value in fields.items():
        if isinstance(value, int):
            parts.append(f"<{key}>{value}</{key}>")
        else:
            parts.append(f"<{key}><![CDATA[{value}]]></{key}>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_fields(
    openid: str, content: str, msg_id: int, create_time: int | None = None
) -> dict[str, str | int]:
    return {
        "FromUserName": openid,
        "CreateTime": create_time or int(time.time()),
        "MsgType": "text",
        "Content": content,
        "MsgId": msg_id,
    }


def event_fields(
    openid: str, event: str, key: str | None = None, create_time: int | None = None
) -> dict[str, str | int]:
    fields: dict[str, str | int] = {
        "FromUserName": openid,
        "CreateTime": create_time or int(time.time()),
        "MsgType": "event",
        "Event": event,
    }
    if key is not None:
        fields["EventKey"] = key
    return fields


@dataclass
class SignedRequest:
    query: str
    body: bytes


class WeChatServer:
    """Builds requests the way WeChat's servers send them to a developer's webhook."""

    def __init__(self, token: str, appid: str, aes_key: str | None = None) -> None:
        self.token, self.appid, self.aes_key = token, appid, aes_key

    def handshake(self, echostr: str = "echo-123", timestamp: int | None = None) -> str:
        ts, nonce = str(timestamp or int(time.time())), str(secrets.randbelow(10**10))
        sig = sha1_signature(self.token, ts, nonce)
        return urlencode({"signature": sig, "timestamp": ts, "nonce": nonce, "echostr": echostr})

    def sign(
        self,
        xml: str,
        mode: str = "safe",
        timestamp: int | None = None,
        nonce: str | None = None,
        aes_key: str | None = None,
    ) -> SignedRequest:
        """mode: plain (明文), compat (兼容: plain fields + Encrypt) or safe (安全)."""
        ts = str(timestamp or int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        params = {"signature": sha1_signature(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if mode == "plain":
            return SignedRequest(urlencode(params), xml.encode())
        key = aes_key or self.aes_key
        assert key, "an AES key is needed for compat and safe modes"
        encrypted = aes_encrypt(key, self.appid, xml)
        params.update(encrypt_type="aes", msg_signature=sha1_signature(self.token, ts, nonce, encrypted))
        if mode == "compat":
            body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        else:
            to_user = ET.fromstring(xml).findtext("ToUserName") or ""
            body = (
                f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            )
        return SignedRequest(urlencode(params), body.encode())

    def open_reply(self, body: str) -> dict[str, str]:
        """Verify and decrypt (when encrypted) a reply; returns its fields. ``success`` → {}."""
        if body.strip() == "success":
            return {}
        root = ET.fromstring(body)
        encrypted = root.findtext("Encrypt")
        if encrypted is not None:
            assert self.aes_key
            expected = sha1_signature(
                self.token, root.findtext("TimeStamp") or "", root.findtext("Nonce") or "", encrypted
            )
            assert expected == root.findtext("MsgSignature"), "reply msg_signature mismatch"
            xml, appid = aes_decrypt(self.aes_key, encrypted)
            assert appid == self.appid, "reply encrypted for another appid"
            root = ET.fromstring(xml)
        return {child.tag: (child.text or "") for child in root}
