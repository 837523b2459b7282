"""WeChat's server API through wechatpy's client, with our shared token and error mapping."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
import urllib3
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.wechat.token import TokenService
from handlers.ports import MediaFile, MediaTooLarge, QRCode, WeChatApiError
from handlers.programme.storage import MAX_PHOTO_BYTES

log = logging.getLogger(__name__)

# access token invalid / expired / not the latest: renew once and retry.
TOKEN_ERRORS = {40001, 40014, 42001}
# system busy, rate limits: worth retrying later (by the job queue's back-off).
RETRYABLE_ERRORS = {-1, 45009, 45011, 45047}

T = TypeVar("T")

# Media downloads: nothing beyond the cap is read, and the whole download (not each read) has a
# wall-clock deadline, so neither a huge body nor a slow drip can hold a worker.
MEDIA_MAX_BYTES = MAX_PHOTO_BYTES
MEDIA_DEADLINE_S = 30.0
_MEDIA_CHUNK = 64 * 1024
# A JSON answer from media/get (an error, or a video's URL) is small; never read more of one.
_MEDIA_JSON_MAX = 64 * 1024


class WeChatApiClient:
    """Implements ``handlers.ports.WeChatApi``."""

    def __init__(
        self,
        tokens: TokenService,
        appid: str,
        secret: str,
        api_base: str,
        timeout_s: float = 5.0,
        *,
        media_max_bytes: int = MEDIA_MAX_BYTES,
        media_deadline_s: float = MEDIA_DEADLINE_S,
    ) -> None:
        self._tokens = tokens
        self._timeout = timeout_s
        self._media_url = f"{api_base.rstrip('/')}/cgi-bin/media/get"
        self._media_max = media_max_bytes
        self._media_deadline = media_deadline_s
        self._http = requests.Session()
        # auto_retry off: wechatpy's own retry would fetch tokens from the non-stable
        # endpoint and loop; we retry once ourselves with the shared token.
        self._client = WeChatClient(appid, secret, timeout=timeout_s, auto_retry=False)
        self._client.API_BASE_URL = f"{api_base.rstrip('/')}/cgi-bin/"

    def _call(self, fn: Callable[[str], T]) -> T:
        token = self._tokens.get()
        try:
            return self._translate(fn, token)
        except WeChatApiError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.warning("access token rejected (%s); renewing once", exc.errcode)
            return self._translate(fn, self._tokens.renew_after_failure(token))

    @staticmethod
    def _translate(fn: Callable[[str], T], token: str) -> T:
        try:
            return fn(token)
        except WeChatClientException as exc:
            errcode = int(exc.errcode) if exc.errcode is not None else None
            retryable = errcode is None or errcode in RETRYABLE_ERRORS
            raise WeChatApiError(errcode, str(exc.errmsg or exc), retryable=retryable) from exc
        except requests.RequestException as exc:
            raise WeChatApiError(None, f"request failed: {exc}", retryable=True) from exc

    def _post(self, endpoint: str, data: dict[str, Any]) -> Any:
        return self._call(
            lambda token: self._client.post(endpoint, params={"access_token": token}, data=data)
        )

    def send_text(self, openid: str, text: str) -> None:
        self._post("message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}})

    def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
    ) -> str | None:
        """The msgid WeChat gave (a 64-bit number, kept as text: the receipt event carries it so)."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        answer = self._post("message/template/send", body)
        msgid = answer.get("msgid") if isinstance(answer, dict) else None
        return str(msgid) if msgid is not None else None

    def send_subscribe_message(
        self, openid: str, template_id: str, scene: int, title: str, content: str, url: str | None = None
    ) -> None:
        """一次性订阅消息 (cgi-bin/message/template/subscribe): the one message the follower allowed."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "scene": str(scene),
            "title": title,
            "data": {"content": {"value": content}},
        }
        if url:
            body["url"] = url
        self._post("message/template/subscribe", body)

    def download_media(self, media_id: str) -> MediaFile:
        """The file, read in chunks up to the cap and within the deadline (jobs only, never a request)."""
        return self._call(lambda token: self._stream_media(token, media_id))

    def _stream_media(self, token: str, media_id: str) -> MediaFile:
        deadline = time.monotonic() + self._media_deadline
        read_timeout = min(self._timeout, self._media_deadline)
        params = {"access_token": token, "media_id": media_id}
        try:
            with self._http.get(
                self._media_url, params=params, stream=True, timeout=(self._timeout, read_timeout)
            ) as resp:
                resp.raise_for_status()
                content_type = resp.headers.get("Content-Type", "application/octet-stream")
                mime = content_type.split(";")[0].strip().lower()
                if mime in ("application/json", "text/plain"):
                    self._media_json(_read_capped(resp, _MEDIA_JSON_MAX, deadline, json_body=True))
                declared = resp.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self._media_max:
                    raise MediaTooLarge(int(declared), self._media_max)
                content = _read_capped(resp, self._media_max, deadline)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if isinstance(exc, requests.RequestException):
                raise
            raise WeChatApiError(None, f"media download failed: {exc}", retryable=True) from exc
        return MediaFile(content=content, content_type=mime or "application/octet-stream")

    @staticmethod
    def _media_json(body: bytes) -> None:
        try:
            data = json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            data = {}
        errcode = int(data.get("errcode", 0) or 0) if isinstance(data, dict) else 0
        if errcode:
            retryable = errcode in RETRYABLE_ERRORS
            raise WeChatApiError(errcode, str(data.get("errmsg", "")), retryable=retryable)
        # JSON without an errcode: a video's download URL, not a file we can keep.
        raise WeChatApiError(None, "media/get returned JSON instead of a file")

    def create_qrcode(self, scene: str) -> QRCode:
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        data = self._post("qrcode/create", body)
        ticket = str(data["ticket"])
        return QRCode(ticket=ticket, url=str(data.get("url", "")))

    def create_menu(self, menu: dict[str, Any]) -> None:
        self._post("menu/create", menu)


def _read_capped(resp: requests.Response, limit: int, deadline: float, *, json_body: bool = False) -> bytes:
    """The body, chunk by chunk as it arrives; stops past ``limit`` bytes or the ``deadline``."""
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise WeChatApiError(None, f"media download past its deadline ({total} bytes)", retryable=True)
        # read1: whatever has arrived (at most one socket read), so a drip cannot stall the loop.
        chunk = resp.raw.read1(_MEDIA_CHUNK, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            if json_body:
                raise WeChatApiError(None, "media/get answered with an oversized JSON body")
            raise MediaTooLarge(total, limit)
        chunks.append(chunk)
