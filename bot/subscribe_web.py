"""The one-time subscription consent (一次性订阅消息授权): the signed link and its callback.

After a named filing the worker is offered ``ConsentLinks.consent_url``: WeChat's page
``mp.weixin.qq.com/mp/subscribemsg?action=get_confirm…``. WeChat then redirects to
``/h5/subscribe/callback`` with ``openid``, ``template_id``, ``action`` (confirm / cancel),
``scene`` and our ``reserved``, which records a single-use grant (handlers/delivery_channels.py).

``reserved`` is signed, expires after 7 days and is bound to the openid it was made for, so a
forged callback, or someone else's link with another openid, records nothing (403). WeChat allows
only ``[a-zA-Z0-9]``, at most 128 bytes, in ``reserved``: it is a timestamp, a nonce and an HMAC
(keyed from SECRET_KEY) in digits and hex, not an itsdangerous token ('.', '-', '_' are refused).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template_string, request

from config import voice_texts as T

if TYPE_CHECKING:
    from bot.runtime import Runtime
from handlers.delivery_channels import record_grant
from handlers.delivery_messages import SUBSCRIBE_SCENE
from models import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("subscribe_web", __name__, url_prefix="/h5/subscribe")

CONSENT_PAGE = "https://mp.weixin.qq.com/mp/subscribemsg"
CALLBACK_PATH = "/h5/subscribe/callback"
RESERVED_MAX_AGE = timedelta(days=7)
# A link made by a server whose clock runs a little ahead is still good.
CLOCK_SKEW = timedelta(minutes=5)
_RESERVED = re.compile(r"(\d{10})([0-9a-f]{12})([0-9a-f]{32})")


class ConsentLinkSigner:
    """Implements ``handlers.ports.ConsentLinks``; verifies the callback's ``reserved``."""

    def __init__(self, secret_key: str, appid: str, template_id: str, base_url: str) -> None:
        self._key = hmac.new(
            secret_key.encode("utf-8"), b"ghpp/subscribe-consent/v1", hashlib.sha256
        ).digest()
        self.appid, self.template_id = appid, template_id
        self.redirect_url = base_url.rstrip("/") + CALLBACK_PATH

    def _mac(self, stamp: str, nonce: str, openid: str) -> str:
        msg = f"{stamp}.{nonce}.{openid}.{self.template_id}.{SUBSCRIBE_SCENE}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def reserved(self, openid: str, now: datetime) -> str:
        stamp, nonce = f"{int(now.timestamp()):010d}", secrets.token_hex(6)
        return stamp + nonce + self._mac(stamp, nonce, openid)

    def consent_url(self, openid: str, now: datetime) -> str:
        query = urlencode(
            {
                "action": "get_confirm",
                "appid": self.appid,
                "scene": SUBSCRIBE_SCENE,
                "template_id": self.template_id,
                "redirect_url": self.redirect_url,
                "reserved": self.reserved(openid, now),
            }
        )
        return f"{CONSENT_PAGE}?{query}#wechat_redirect"

    def verify(self, reserved: str, openid: str, now: datetime) -> bool:
        m = _RESERVED.fullmatch(reserved)
        if m is None or not openid:
            return False
        stamp, nonce, mac = m.groups()
        if not hmac.compare_digest(mac, self._mac(stamp, nonce, openid)):
            return False
        made = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
        return now - RESERVED_MAX_AGE <= made <= now + CLOCK_SKEW


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:2em 1.2em;line-height:1.6;color:#222}h1{font-size:1.3em}</style>
</head><body><h1>{{ title }}</h1><p>{{ message }}</p></body></html>
"""


def _page(text: tuple[str, str], status: int) -> Response:
    body = render_template_string(_PAGE, title=text[0], message=text[1])
    return Response(body, status=status, mimetype="text/html")


@bp.get("/callback")
def callback() -> Response:
    runtime: Runtime = current_app.extensions["ghpp"]
    signer = runtime.consent_links
    if signer is None:
        return _page(T.SUBSCRIBE_PAGE_OFF, 404)
    args = request.args
    openid, reserved = args.get("openid", ""), args.get("reserved", "")
    now = utcnow()
    genuine = (
        args.get("template_id") == signer.template_id
        and args.get("scene") == str(SUBSCRIBE_SCENE)
        and signer.verify(reserved, openid, now)
    )
    if not genuine:
        log.warning("subscription consent callback refused: unsigned, expired or for another follower")
        return _page(T.SUBSCRIBE_PAGE_INVALID, 403)
    if args.get("action") != "confirm":
        return _page(T.SUBSCRIBE_PAGE_CANCELLED, 200)
    reserved_hash = hashlib.sha256(reserved.encode("ascii")).hexdigest()
    with runtime.session_factory() as session, session.begin():
        known = record_grant(session, openid, signer.template_id, SUBSCRIBE_SCENE, reserved_hash, now)
    if not known:
        return _page(T.SUBSCRIBE_PAGE_INVALID, 403)
    return _page(T.SUBSCRIBE_PAGE_OK, 200)
