"""A web process that takes one message and is then killed mid-work (run by test_worker.py).

Usage: python -m tests.faults._holder OPENID TEXT MSG_ID, with the service environment set.
Prints STARTED once the message's transaction is under way, then hangs until killed.
"""

from __future__ import annotations

import os
import sys
import time

from bot import create_app
from handlers.context import Reply
from tests.faults.conftest import handle_every_message_with
from tests.wechat_protocol import WeChatServer, message_xml, text_fields


def main(openid: str, content: str, msg_id: int) -> None:
    app = create_app()

    def hang(ctx, inbound, intent):
        sys.stdout.write("STARTED\n")
        sys.stdout.flush()
        time.sleep(120)  # killed long before this ends
        return Reply("不会到这里")

    handle_every_message_with(app, hang)
    wechat = WeChatServer(
        os.environ["WECHAT_TOKEN"], os.environ["WECHAT_APPID"], os.environ["WECHAT_AES_KEY"]
    )
    req = wechat.sign(message_xml(text_fields(openid, content, msg_id)))
    app.test_client().post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
