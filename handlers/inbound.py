"""The transport-neutral inbound message the bot hands to handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MESSAGE_KINDS = ("text", "image", "voice", "video", "shortvideo", "location", "link", "event")


@dataclass(frozen=True)
class Inbound:
    openid: str
    kind: str
    created_at: datetime
    msg_id: str | None = None
    # Text content; for voice, WeChat's recognition (may be empty); for link, the title.
    content: str | None = None
    event: str | None = None
    event_key: str | None = None
    media_id: str | None = None
    pic_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """WeChat's own advice: MsgId for messages, sender + CreateTime (+ Event) for events."""
        if self.msg_id:
            return f"m:{self.openid}:{self.msg_id}"
        stamp = int(self.created_at.timestamp())
        key = f"e:{self.openid}:{stamp}:{self.event or ''}:{self.event_key or ''}"
        # Two template receipts in one second differ only by the message they report on.
        receipt = self.extra.get("MsgID")
        return (f"{key}:{receipt}" if receipt else key)[:255]

    @property
    def text(self) -> str:
        """What the user said in words: typed text or recognised speech."""
        if self.kind in ("text", "voice"):
            return (self.content or "").strip()
        return ""
