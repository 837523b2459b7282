"""Handler ``Reply`` → the passive-reply XML WeChat expects."""

from __future__ import annotations

from bot.wechat.xmlsafe import cdata, truncate_utf8
from handlers.context import Reply

# WeChat's limit on a passive text reply's Content, in UTF-8 bytes.
MAX_TEXT_BYTES = 2048
SUCCESS = "success"


def render(reply: Reply, to_user: str, from_user: str, create_time: int) -> str:
    """The reply XML, or ``success`` for an empty reply."""
    if reply.is_empty:
        return SUCCESS
    head = (
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
    )
    if reply.articles:
        items = "".join(
            "<item>"
            f"<Title>{cdata(a.title)}</Title>"
            f"<Description>{cdata(a.description)}</Description>"
            f"<PicUrl>{cdata(a.image)}</PicUrl>"
            f"<Url>{cdata(a.url)}</Url>"
            "</item>"
            for a in reply.articles[:8]
        )
        count = min(len(reply.articles), 8)
        return (
            f"<xml>{head}<MsgType>{cdata('news')}</MsgType>"
            f"<ArticleCount>{count}</ArticleCount><Articles>{items}</Articles></xml>"
        )
    text = truncate_utf8(reply.text or "", MAX_TEXT_BYTES)
    return f"<xml>{head}<MsgType>{cdata('text')}</MsgType><Content>{cdata(text)}</Content></xml>"
