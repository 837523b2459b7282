"""WeChat XML → the handlers' ``Inbound``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import xmltodict
from wechatpy import parse_message

from bot.wechat.xmlsafe import strip_invalid_chars
from handlers.inbound import Inbound

_KNOWN_KINDS = {"text", "image", "voice", "video", "shortvideo", "location", "link", "event"}


class NotAMessage(ValueError):
    """Well-formed XML that is not a WeChat message (no sender, no type …)."""


def parse_envelope(xml: str) -> dict[str, Any]:
    """Parse an outer XML document into a flat dict (``<xml>`` children)."""
    data = xmltodict.parse(strip_invalid_chars(xml), disable_entities=True)
    root = data.get("xml") if isinstance(data, dict) else None
    if not isinstance(root, dict):
        raise NotAMessage("root element <xml> missing")
    return root


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, dict):  # <Tag/> with attributes or nested content
        value = value.get("#text")
    return None if value is None else str(value)


def to_inbound(xml: str) -> tuple[Inbound, str]:
    """Parse a decrypted message; returns it and our account's id (``ToUserName``)."""
    clean = strip_invalid_chars(xml)
    raw = parse_envelope(clean)
    sender = _text(raw, "FromUserName")
    msg_type = (_text(raw, "MsgType") or "").lower()
    created = _text(raw, "CreateTime")
    if not sender or not msg_type or not created or not created.isdigit():
        raise NotAMessage("FromUserName, MsgType and CreateTime are required")
    if len(created) > 10:  # Unix seconds: 10 digits until 2286; more overflows the clock
        raise NotAMessage("CreateTime out of range")
    # wechatpy is used for what it types well; we read fields from its raw dict so that a
    # wechatpy upgrade that renames attributes or rewrites EventKey changes nothing here.
    # It assumes well-formed fields (``<Event/>`` → None.lower()): then the raw dict serves.
    try:
        message = parse_message(clean)
    except (AttributeError, KeyError, TypeError, ValueError):
        message = None
    data: dict[str, Any] = dict(getattr(message, "_data", raw) or raw)
    kind = msg_type if msg_type in _KNOWN_KINDS else "unknown"
    created_at = datetime.fromtimestamp(int(created), tz=UTC)
    msg_id = _text(raw, "MsgId") or _text(raw, "MsgID")

    content: str | None = None
    extra: dict[str, str] = {}
    if kind == "text":
        content = _text(data, "Content") or ""
    elif kind == "voice":
        content = _text(raw, "Recognition") or ""
    elif kind == "link":
        content = _text(raw, "Title")
        extra = {k: v for k in ("Url", "Description") if (v := _text(raw, k))}
    elif kind == "location":
        extra = {k: v for k in ("Location_X", "Location_Y", "Scale", "Label") if (v := _text(raw, k))}
    elif kind == "event":
        # Events are deduplicated on sender + CreateTime + Event (+ EventKey), not on MsgID
        # (which TEMPLATESENDJOBFINISH uses for the template message it reports on).
        msg_id = None
        extra = {k: v for k in ("Status", "MsgID") if (v := _text(raw, k))}
    elif kind == "unknown":
        extra = {"MsgType": msg_type}

    inbound = Inbound(
        openid=sender,
        kind=kind,
        created_at=created_at,
        msg_id=msg_id,
        content=content,
        event=_text(raw, "Event"),
        event_key=_text(raw, "EventKey"),
        media_id=_text(raw, "MediaId"),
        pic_url=_text(raw, "PicUrl"),
        extra=extra,
    )
    return inbound, _text(raw, "ToUserName") or ""
