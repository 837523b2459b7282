"""Interfaces to the outside world that handlers and jobs use; bot/ implements them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class WeChatApiError(Exception):
    """A failed call to WeChat's API, with WeChat's errcode when it gave one."""

    def __init__(self, errcode: int | None, errmsg: str, *, retryable: bool = False) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.retryable = retryable


class MediaTooLarge(WeChatApiError):
    """A media download stopped at the size cap (declared or actually read); not retryable."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(None, f"media over {limit} bytes (got {size} or more)", retryable=False)
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class MediaFile:
    content: bytes
    content_type: str


@dataclass(frozen=True)
class QRCode:
    ticket: str
    url: str


class WeChatApi(Protocol):
    def send_text(self, openid: str, text: str) -> None: ...

    def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
    ) -> str | None:
        """Sends a template message; returns WeChat's msgid (its TEMPLATESENDJOBFINISH names it)."""
        ...

    def send_subscribe_message(
        self, openid: str, template_id: str, scene: int, title: str, content: str, url: str | None = None
    ) -> None:
        """Sends the one-time subscription message (一次性订阅消息) the follower granted."""
        ...

    def download_media(self, media_id: str) -> MediaFile: ...

    def create_qrcode(self, scene: str) -> QRCode: ...

    def create_menu(self, menu: dict[str, Any]) -> None: ...


class ConsentLinks(Protocol):
    """Builds the one-time subscription consent link (一次性订阅消息授权) for a follower (bot/)."""

    def consent_url(self, openid: str, now: datetime) -> str: ...


# The answer template's keywords (WeChat's keyword name, what we put there: ticket, answer, time,
# union or content); GHPP_TEMPLATE_ANSWER_FIELDS overrides it for the template picked in 公众平台.
DEFAULT_TEMPLATE_FIELDS: tuple[tuple[str, str], ...] = (
    ("character_string1", "ticket"),
    ("thing2", "answer"),
    ("time3", "time"),
)


@dataclass(frozen=True)
class Channels:
    """How the account may reach a follower besides the passive reply, decided once at start-up
    from its type and verification (bot/capabilities.py). A channel that is off is never tried.

    The defaults are an account with customer-service messages only (tests, tools).
    """

    customer_service: bool = True
    template: bool = False
    subscribe_message: bool = False
    template_id: str | None = None
    template_fields: tuple[tuple[str, str], ...] = DEFAULT_TEMPLATE_FIELDS
    subscribe_template_id: str | None = None
    # None: no consent link can be offered (no PUBLIC_BASE_URL, or the channel is off).
    consent: ConsentLinks | None = None
    # Where a pushed answer's "详情" opens: the H5 "my suggestions" page, when the account has web
    # sign-in and a public address (None: the message carries no link).
    answer_page_url: str | None = None


class PageLinks(Protocol):
    """Links to the H5 pages for chat replies (bot/h5 implements it; None on the Context: no links).

    ``url`` is None when the pages cannot be reached from a chat (no public address). When
    ``signs_in`` is true the links are one-time sign-in links (accounts without web sign-in): a
    credential for ten minutes, so replies carrying them are kept out of job payloads and caches.
    """

    @property
    def signs_in(self) -> bool: ...

    def url(self, openid: str, path: str) -> str | None: ...
