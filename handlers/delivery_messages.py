"""What each push channel sends with an answer: the customer-service text, the template
message's keywords (each at most 20 characters, no colour) and the one-time subscription message."""

from __future__ import annotations

from config import voice_texts as T
from handlers.clock import show_time
from handlers.ports import Channels, WeChatApi
from models import Suggestion, User
from models.delivery import DeliveryChannel, DeliveryStatus

C, St = DeliveryChannel, DeliveryStatus


# The scene of our consent link and of the subscription message it allows (WeChat: 0–10000).
SUBSCRIBE_SCENE = 1000
KEYWORD_MAX_CHARS = 20  # a template keyword's value (WeChat's rule since 2023)
SUBSCRIBE_TITLE_MAX = 15
SUBSCRIBE_CONTENT_MAX = 200
TEMPLATE_SOURCES = ("ticket", "answer", "time", "union", "content")


# --- text ---------------------------------------------------------------------------------------


def cut(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut with "…"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def template_data(fields: tuple[tuple[str, str], ...], s: Suggestion) -> dict[str, dict[str, str]]:
    """The template message's keywords: values only (no colour), each within 20 characters."""
    values = {
        "ticket": s.ticket,
        "answer": s.answer or "",
        "time": show_time(s.answered_at) if s.answered_at else "",
        "union": s.union.name,
        "content": s.content,
    }
    return {key: {"value": cut(values[source], KEYWORD_MAX_CHARS)} for key, source in fields}


def parse_template_fields(spec: str) -> tuple[tuple[str, str], ...]:
    """``"character_string1:ticket,thing2:answer,time3:time"`` → pairs; ValueError (Chinese) if bad."""
    pairs: list[tuple[str, str]] = []
    for part in spec.split(","):
        key, sep, source = (x.strip() for x in part.partition(":"))
        if not part.strip():
            continue
        if not sep or not key or source not in TEMPLATE_SOURCES:
            raise ValueError(
                "配置项 GHPP_TEMPLATE_ANSWER_FIELDS 格式错误：应为「关键词:内容」逗号分隔，"
                f"内容可选 {'、'.join(TEMPLATE_SOURCES)}，"
                "如 character_string1:ticket,thing2:answer,time3:time。"
            )
        pairs.append((key, source))
    if not pairs:
        raise ValueError("配置项 GHPP_TEMPLATE_ANSWER_FIELDS 为空：至少要有一个关键词。")
    return tuple(pairs)


def subscribe_content(s: Suggestion) -> str:
    """The subscription message's text (at most 200 characters): the answer cut to fit."""
    room = SUBSCRIBE_CONTENT_MAX - len(T.SUBSCRIBE_CONTENT.format(ticket=s.ticket, answer=""))
    return T.SUBSCRIBE_CONTENT.format(ticket=s.ticket, answer=cut(s.answer or "", max(room, 1)))


def send(
    api: WeChatApi, channels: Channels, channel: DeliveryChannel, s: Suggestion, user: User
) -> str | None:
    """Send the answer by ``channel``: the template message's msgid, else None (WeChatApiError if refused)."""
    if channel is C.CUSTOMER_SERVICE:
        api.send_text(user.openid, T.ANSWER_PUSH.format(ticket=s.ticket, answer=s.answer))
        return None
    if channel is C.TEMPLATE:
        assert channels.template_id is not None
        msgid = api.send_template(
            user.openid,
            channels.template_id,
            template_data(channels.template_fields, s),
            url=channels.answer_page_url,
        )
        return str(msgid) if msgid is not None else None
    assert channel is C.SUBSCRIBE and channels.subscribe_template_id is not None
    api.send_subscribe_message(
        user.openid,
        channels.subscribe_template_id,
        SUBSCRIBE_SCENE,
        T.SUBSCRIBE_TITLE[:SUBSCRIBE_TITLE_MAX],
        subscribe_content(s),
        url=channels.answer_page_url,
    )
    return None
