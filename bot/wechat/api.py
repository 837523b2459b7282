"""WeChat's server API through wechatpy's client, with our shared token and error mapping."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.wechat.token import TokenService
from handlers.ports import MediaFile, QRCode, WeChatApiError

log = logging.getLogger(__name__)

# access token invalid / expired / not the latest: renew once and retry.
TOKEN_ERRORS = {40001, 40014, 42001}
# system busy, rate limits: worth retrying later (by the job queue's back-off).
RETRYABLE_ERRORS = {-1, 45009, 45011, 45047}

T = TypeVar("T")


class WeChatApiClient:
    """Implements ``handlers.ports.WeChatApi``."""

    def __init__(
        self, tokens: TokenService, appid: str, secret: str, api_base: str, timeout_s: float = 5.0
    ) -> None:
        self._tokens = tokens
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
    ) -> None:
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        self._post("message/template/send", body)

    def download_media(self, media_id: str) -> MediaFile:
        def fetch(token: str) -> Any:
            return self._client.get("media/get", params={"access_token": token, "media_id": media_id})

        result = self._call(fetch)
        if isinstance(result, dict):
            # JSON without an errcode: a video's download URL, not a file we can keep.
            raise WeChatApiError(None, "media/get returned JSON instead of a file")
        content_type = result.headers.get("Content-Type", "application/octet-stream")
        return MediaFile(content=result.content, content_type=content_type.split(";")[0].strip())

    def create_qrcode(self, scene: str) -> QRCode:
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        data = self._post("qrcode/create", body)
        ticket = str(data["ticket"])
        return QRCode(ticket=ticket, url=str(data.get("url", "")))

    def create_menu(self, menu: dict[str, Any]) -> None:
        self._post("menu/create", menu)
