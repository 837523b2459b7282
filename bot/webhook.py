"""The ``/wechat`` endpoint: verify, decrypt, parse, hand to the pipeline, render, encrypt.

Never answers 500 to WeChat: every failure becomes a logged 403, 400, 413 or ``success``.
"""

from __future__ import annotations

import logging
import time
from xml.parsers.expat import ExpatError

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from bot.replay import Verdict, body_hash
from bot.runtime import Runtime
from bot.wechat import reply as reply_xml
from bot.wechat import signature
from bot.wechat.crypto import DecryptError
from bot.wechat.parse import NotAMessage, parse_envelope, to_inbound
from bot.wechat.xmlsafe import UnsafeXML, check_no_declarations

log = logging.getLogger(__name__)

bp = Blueprint("wechat", __name__)


@bp.errorhandler(Exception)
def _never_500(exc: Exception) -> Response:
    # WeChat shows "该公众号暂时无法提供服务" on a 5xx and retries; an unexpected bug here is
    # logged and acknowledged instead. HTTP errors (403, 413 …) keep their status.
    if isinstance(exc, HTTPException):
        return _plain(exc.description or exc.name, exc.code or 400)
    log.exception("unexpected error in the webhook; acknowledged with success")
    return _plain(reply_xml.SUCCESS)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["ghpp"]
    return runtime


def _plain(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="text/plain")


def _signed(runtime: Runtime) -> bool:
    args = request.args
    return signature.check(
        (runtime.settings.wechat_token, args.get("timestamp", ""), args.get("nonce", "")),
        args.get("signature", ""),
    )


@bp.route("/wechat", methods=["GET", "POST"], strict_slashes=False)
def wechat() -> Response:
    runtime = _runtime()
    if not _signed(runtime):
        log.warning("forged or missing signature from %s", request.remote_addr)
        return _plain("forbidden", 403)
    if request.method == "GET":
        echostr = request.args.get("echostr", "")
        if not _use_nonce(runtime, b"GET\n" + echostr.encode("utf-8")).accepted:
            return _plain("forbidden", 403)
        return _plain(echostr)
    return _handle_post(runtime)


# What a refused oversized body is remembered by: its nonce is used up all the same.
_TOO_LARGE = b"413 payload too large"


def _use_nonce(runtime: Runtime, body: bytes) -> Verdict:
    """Every signed request uses up its (timestamp, nonce), whatever its answer (replay guard)."""
    args = request.args
    return runtime.replay.check(args.get("timestamp", ""), args.get("nonce", ""), body_hash(body))


def _handle_post(runtime: Runtime) -> Response:
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        _use_nonce(runtime, _TOO_LARGE)
        return _plain("payload too large", 413)
    if not _use_nonce(runtime, body).accepted:
        return _plain("forbidden", 403)
    try:
        check_no_declarations(body)
        text = body.decode("utf-8")
    except UnsafeXML:
        log.warning("XML with DOCTYPE/ENTITY refused")
        return _plain("bad request", 400)
    except UnicodeDecodeError:
        return _plain("bad request", 400)

    encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
    if not encrypted and runtime.settings.transport_mode == "safe":
        # Safe mode: only msg_signature binds the body to the request; a plaintext body could
        # ride on a captured signature triple.
        log.warning("plaintext body refused in safe mode (WECHAT_MODE=safe)")
        return _plain("forbidden", 403)
    try:
        if encrypted:
            text = _decrypt(runtime, text)
        inbound, account = to_inbound(text)
    except _Forbidden:
        return _plain("forbidden", 403)
    except (ExpatError, NotAMessage, DecryptError, ValueError, KeyError) as exc:
        log.warning("unreadable message refused: %s", type(exc).__name__)
        return _plain("bad request", 400)

    if inbound.kind == "unknown":
        log.info("message of unsupported type %s acknowledged", inbound.extra.get("MsgType"))
        return _plain(reply_xml.SUCCESS)

    reply = runtime.pipeline.process(inbound)
    xml = reply_xml.render(reply, to_user=inbound.openid, from_user=account, create_time=int(time.time()))
    if xml == reply_xml.SUCCESS or not encrypted:
        return Response(xml, mimetype="application/xml" if xml != reply_xml.SUCCESS else "text/plain")
    assert runtime.crypto is not None
    envelope = runtime.crypto.encrypt(xml, request.args.get("nonce", ""), request.args.get("timestamp", ""))
    return Response(envelope, mimetype="application/xml")


class _Forbidden(Exception):
    pass


def _decrypt(runtime: Runtime, text: str) -> str:
    if runtime.crypto is None:
        log.error("encrypted message received but WECHAT_AES_KEY is not set")
        raise DecryptError("no AES key configured")
    envelope = parse_envelope(text)
    encrypted = envelope.get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise NotAMessage("Encrypt field missing")
    args = request.args
    if not signature.check(
        (runtime.settings.wechat_token, args.get("timestamp", ""), args.get("nonce", ""), encrypted),
        args.get("msg_signature", ""),
    ):
        log.warning("wrong msg_signature")
        raise _Forbidden()
    try:
        return runtime.crypto.decrypt(encrypted)
    except DecryptError:
        log.error("message signed correctly but no AES key decrypts it: check WECHAT_AES_KEY")
        raise
