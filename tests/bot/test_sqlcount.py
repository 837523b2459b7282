"""The load bench's statement counter: off by default, exact per request when switched on."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine

from bot import create_app
from bot.jobs import InlineQueue
from bot.runtime import Runtime
from bot.sqlcount import HEADER
from bot.store import Store
from config.settings import Settings
from tests.wechat_protocol import WeChatServer, message_xml, text_fields


def _post_help(app, wechat: WeChatServer, msg_id: int):
    req = wechat.sign(message_xml(text_fields("sqlcount-user", "帮助", msg_id)))
    return app.test_client().post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")


def test_no_header_by_default(app, wechat: WeChatServer) -> None:
    resp = _post_help(app, wechat, 7001)
    assert resp.status_code == 200
    assert HEADER not in resp.headers


def test_counts_statements_per_request_when_switched_on(
    settings: Settings, clean_db: Engine, store: Store, wechat: WeChatServer
) -> None:
    bench = replace(settings, extra={**settings.extra, "GHPP_BENCH_SQL_COUNT": "1"})
    holder: dict[str, Runtime] = {}
    queue = InlineQueue(lambda: holder["rt"], synchronous=True, retry_delays_s=(0,))
    app = create_app(bench, engine=clean_db, store=store, queue=queue)
    holder["rt"] = app.extensions["ghpp"]
    first = _post_help(app, wechat, 7002)
    assert first.status_code == 200
    # A message is written (the audit row at least), so it cannot be zero.
    assert int(first.headers[HEADER]) > 0
    # The handshake GET touches no table: the counter was reset between requests.
    get = app.test_client().get(f"/wechat?{wechat.handshake('x')}")
    assert get.headers[HEADER] == "0"
