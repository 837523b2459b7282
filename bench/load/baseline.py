"""The baseline: the smallest wechatpy + Flask app that verifies the signature, parses the
message and returns a fixed text (encrypted in safe mode). Served by gunicorn like the service:

    BASELINE_TOKEN=… BASELINE_APPID=… BASELINE_AES_KEY=… BASELINE_MODE=plain|safe \
        gunicorn -w 4 'bench.load.baseline:create_app()'
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

REPLY = "已收到"


def create_app() -> Flask:
    token = os.environ["BASELINE_TOKEN"]
    appid = os.environ["BASELINE_APPID"]
    safe = os.environ.get("BASELINE_MODE", "plain") == "safe"
    crypto = WeChatCrypto(token, os.environ["BASELINE_AES_KEY"], appid) if safe else None
    app = Flask(__name__)

    @app.route("/wechat", methods=["GET", "POST"])
    def wechat() -> Response:
        args = request.args
        try:
            check_signature(
                token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
            )
        except InvalidSignatureException:
            return Response("forbidden", status=403)
        if request.method == "GET":
            return Response(args.get("echostr", ""))
        body = request.get_data()
        if crypto is not None:
            try:
                body = crypto.decrypt_message(
                    body, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
                )
            except InvalidSignatureException:
                return Response("forbidden", status=403)
        msg = parse_message(body)
        xml = create_reply(REPLY, msg).render()
        if crypto is not None:
            xml = crypto.encrypt_message(xml, args.get("nonce", ""), args.get("timestamp", ""))
        return Response(xml, mimetype="application/xml")

    return app
