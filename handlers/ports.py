"""Interfaces to the outside world that handlers and jobs use; bot/ implements them."""

from __future__ import annotations

from dataclasses import dataclass
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
    ) -> None: ...

    def download_media(self, media_id: str) -> MediaFile: ...

    def create_qrcode(self, scene: str) -> QRCode: ...

    def create_menu(self, menu: dict[str, Any]) -> None: ...


class PageLinks(Protocol):
    """Links to the H5 pages for chat replies (bot/h5 implements it; None on the Context: no links).

    ``url`` is None when the pages cannot be reached from a chat (no public address). When
    ``signs_in`` is true the links are one-time sign-in links (accounts without web sign-in): a
    credential for ten minutes, so replies carrying them are kept out of job payloads and caches.
    """

    @property
    def signs_in(self) -> bool: ...

    def url(self, openid: str, path: str) -> str | None: ...
