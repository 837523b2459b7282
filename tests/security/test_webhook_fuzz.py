"""A Hypothesis fuzz of ``/wechat``: the query string and the body, forged, signed and encrypted.

Whatever arrives: never a 5xx, never an unhandled error (the webhook's catch-all logs
"unexpected error"), an answer within WeChat's 5 seconds, and a request refused by its checks
(400, 403, 413) writes no row anywhere (the replay guard's own ``used_nonce`` aside).

CI runs a bounded number of examples; a longer run by hand:

    GHPP_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/security/test_webhook_fuzz.py -q
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func as sqlfunc
from sqlalchemy import literal, select, union_all

import models
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN
from tests.wechat_protocol import aes_encrypt, message_xml, sha1_signature

EXAMPLES = int(os.environ.get("GHPP_FUZZ_EXAMPLES") or 150)
DEADLINE_S = 5.0
REFUSED = (400, 403, 413)
# The replay guard uses up every signed nonce, whatever the answer: that is its job.
BOOKKEEPING = {"used_nonce"}
FUZZ = settings(
    max_examples=EXAMPLES,
    # CI replays the same examples on every run, so a red build always means a code change; a
    # longer run by hand (GHPP_FUZZ_EXAMPLES=N) explores new ones.
    derandomize="GHPP_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FIELDS = (
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Content",
    "MsgId",
    "Event",
    "EventKey",
    "MediaId",
    "Recognition",
    "Format",
    "PicUrl",
    "Encrypt",
)
MSG_TYPES = ("text", "event", "voice", "image", "location", "link", "video", "", "TEXT", "文本")
EVENTS = ("subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW", "LOCATION", "")
TEXT = st.text(max_size=80)
NUMBER = st.one_of(st.integers(-(2**70), 2**70), st.just(int(time.time())))


def _field_value(name: str) -> st.SearchStrategy[str | int]:
    if name == "MsgType":
        return st.one_of(st.sampled_from(MSG_TYPES), TEXT)
    if name == "Event":
        return st.one_of(st.sampled_from(EVENTS), TEXT)
    if name in ("CreateTime", "MsgId"):
        return st.one_of(NUMBER, TEXT)
    if name == "Content":
        return st.one_of(
            st.sampled_from(("帮助", "投3号", "工惠乐学 5分", "建议：食堂", "问卷", "取消")), TEXT
        )
    return TEXT


@st.composite
def message(draw: st.DrawFn) -> str:
    """Message-shaped XML with any subset of WeChat's fields, any values (CDATA-wrapped text)."""
    names = draw(st.lists(st.sampled_from(FIELDS), max_size=8, unique=True))
    fields: dict[str, str | int] = {}
    if draw(st.integers(0, 9)) < 7:
        # Shaped like a real message most of the time, so that the fuzz reaches the pipeline.
        fields = {
            "FromUserName": draw(st.sampled_from(("fuzz-user", "fuzz-other")) | TEXT),
            "CreateTime": int(time.time()) if draw(st.integers(0, 9)) < 8 else draw(NUMBER),
            "MsgType": draw(st.sampled_from(MSG_TYPES)),
        }
    fields.update({n: draw(_field_value(n)) for n in names if n not in ("ToUserName", *fields)})
    # CDATA cannot contain its own terminator; message_xml writes values verbatim.
    fields = {k: v.replace("]]>", "") if isinstance(v, str) else v for k, v in fields.items()}
    return message_xml(fields, account=draw(st.sampled_from(("gh_test", "", "gh_other"))))


@st.composite
def body(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(("bytes", "text", "message", "message", "message", "mutated")))
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    if kind == "text":
        return draw(st.text(max_size=400)).encode("utf-8", "surrogatepass")
    xml = draw(message())
    if kind == "mutated":
        cut = draw(st.integers(0, len(xml)))
        xml = draw(
            st.sampled_from(
                (
                    xml[:cut],
                    xml[:cut] + xml[cut:].replace("<", "", 1),
                    '<!DOCTYPE x [<!ENTITY e "e">]>' + xml,
                    xml.replace("<xml>", "<xml><xml>", 1),
                    xml + xml,
                )
            )
        )
    return xml.encode("utf-8", "surrogatepass")


@st.composite
def request(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """(query string, body, how it was signed)."""
    how = draw(st.sampled_from(("forged", "signed", "signed", "aes-good", "aes-good", "aes-bad")))
    now = int(time.time())
    ts = str(now if draw(st.integers(0, 9)) < 8 else draw(st.integers(0, 2**40)))
    # Mostly unused nonces (a used one is refused as a replay before anything else is looked at).
    nonce = draw(st.text(max_size=20)) if draw(st.integers(0, 9)) == 0 else f"{time.time_ns()}"
    params: dict[str, str] = {}
    payload = draw(body())
    if how == "forged":
        params = draw(
            st.dictionaries(
                st.sampled_from(
                    ("signature", "timestamp", "nonce", "msg_signature", "encrypt_type", "openid")
                ),
                st.text(max_size=50),
            )
        )
    else:
        params = {"signature": sha1_signature(TEST_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    if how in ("aes-good", "aes-bad"):
        inner = payload.decode("utf-8", "replace") if draw(st.integers(0, 3)) == 0 else draw(message())
        appid = TEST_APPID if draw(st.integers(0, 9)) < 8 else "wx-someone-else"
        encrypted = aes_encrypt(TEST_AES_KEY, appid, inner)
        if how == "aes-bad":
            encrypted = draw(st.sampled_from((encrypted[:-4] + "AAAA", encrypted[::-1], "", "bm90IGFlcw==")))
        good = sha1_signature(TEST_TOKEN, ts, nonce, encrypted)
        params.update(
            encrypt_type=draw(st.sampled_from(("aes", "AES", "raw"))),
            msg_signature=good if how == "aes-good" else draw(st.sampled_from((good[::-1], "", "0" * 40))),
        )
        envelope = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        payload = envelope.encode()
    extra = draw(st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=2))
    return urlencode({**extra, **params}), payload, how


def row_counts(app: Flask) -> dict[str, int]:
    tables = [t for t in models.Base.metadata.sorted_tables if t.name not in BOOKKEEPING]
    query = union_all(*(select(literal(t.name), sqlfunc.count()).select_from(t) for t in tables))
    with app.extensions["ghpp"].session_factory() as session:
        return {name: int(n) for name, n in session.execute(query)}


def check(
    app: Flask, caplog: pytest.LogCaptureFixture, query: str, payload: bytes, how: str, safe: bool = False
) -> None:
    before = row_counts(app)
    caplog.clear()
    started = time.monotonic()
    resp = app.test_client().post(f"/wechat?{query}", data=payload, content_type="text/xml")
    elapsed = time.monotonic() - started
    event(f"{how} → {resp.status_code}")
    assert resp.status_code < 500, (how, resp.status_code)
    assert elapsed < DEADLINE_S, (how, elapsed)
    unexpected = [r for r in caplog.records if r.levelno >= logging.ERROR and "unexpected" in r.getMessage()]
    assert not unexpected, (how, [r.getMessage() for r in unexpected])
    if how == "forged":
        assert resp.status_code == 403
    if safe and parse_qs(query).get("encrypt_type", [""])[0].lower() != "aes":
        assert resp.status_code in REFUSED, "safe mode let an unencrypted request through"
    if resp.status_code in REFUSED:
        after = row_counts(app)
        assert after == before, {t: (before[t], after[t]) for t in after if after[t] != before[t]}


@FUZZ
@given(req=request())
def test_fuzzed_requests_in_compat_mode(
    app: Flask, caplog: pytest.LogCaptureFixture, req: tuple[str, bytes, str]
) -> None:
    check(app, caplog, *req)


@FUZZ
@given(req=request())
def test_fuzzed_requests_in_safe_mode(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture, req: tuple[str, bytes, str]
) -> None:
    check(_safe_app(make_app), caplog, *req, safe=True)


_safe: dict[int, Flask] = {}


def _safe_app(make_app: Callable[..., Flask]) -> Flask:
    """One safe-mode app per test run (building one per example would dominate the run)."""
    key = id(make_app)
    if key not in _safe:
        _safe.clear()
        _safe[key] = make_app(wechat_mode="safe")
    return _safe[key]
