"""Access token service and API client against the local WeChat stub."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest
import requests

from bot.store import MemoryStore, RedisStore, Store
from bot.wechat.api import WeChatApiClient
from bot.wechat.token import TokenService
from handlers.ports import WeChatApiError
from tests.conftest import REDIS_URL
from tests.wechat_stub import WeChatStub


def make_api(store: Store, stub: WeChatStub, timeout_s: float = 2.0) -> tuple[TokenService, WeChatApiClient]:
    tokens = TokenService(store, "wxapp", "secret", stub.base_url, timeout_s=timeout_s)
    return tokens, WeChatApiClient(tokens, "wxapp", "secret", stub.base_url, timeout_s=timeout_s)


def test_token_is_fetched_once_and_shared(store: Store, wechat_stub: WeChatStub) -> None:
    _, api = make_api(store, wechat_stub)
    api.send_text("o1", "你好")
    api.send_text("o2", "你好")
    assert len(wechat_stub.calls_to("stable_token")) == 1
    assert wechat_stub.calls_to("stable_token")[0].body == {
        "grant_type": "client_credential",
        "appid": "wxapp",
        "secret": "secret",
        "force_refresh": False,
    }
    assert wechat_stub.calls_to("token") == []  # the non-stable endpoint is never used
    sends = wechat_stub.calls_to("message/custom/send")
    assert [c.body["touser"] for c in sends] == ["o1", "o2"]
    assert sends[0].body == {"touser": "o1", "msgtype": "text", "text": {"content": "你好"}}


def test_invalid_token_is_renewed_once_and_the_call_retried(store: Store, wechat_stub: WeChatStub) -> None:
    tokens, api = make_api(store, wechat_stub)
    first = tokens.get()
    wechat_stub.expire_tokens()  # WeChat now answers 40001 for the cached token
    api.send_text("o1", "重试")
    assert tokens.get() != first
    assert len(wechat_stub.calls_to("message/custom/send")) == 2
    assert len(wechat_stub.calls_to("stable_token")) == 2


def test_persistent_40001_is_not_retried_forever(store: Store, wechat_stub: WeChatStub) -> None:
    _, api = make_api(store, wechat_stub)
    wechat_stub.fail("message/custom/send", "errcode", 40001, times=5)
    with pytest.raises(WeChatApiError) as err:
        api.send_text("o1", "x")
    assert err.value.errcode == 40001
    assert len(wechat_stub.calls_to("message/custom/send")) == 2


def test_renew_drops_only_the_token_that_failed(store: Store, wechat_stub: WeChatStub) -> None:
    tokens, _ = make_api(store, wechat_stub)
    old = tokens.get()
    # Another process already replaced the token; our stale failure must not evict the new one.
    store.set("wechat:token:wxapp", "fresh-from-elsewhere", ttl_s=600)
    assert tokens.renew_after_failure(old) == "fresh-from-elsewhere"
    assert len(wechat_stub.calls_to("stable_token")) == 1


@pytest.mark.parametrize(
    ("kind", "value", "errcode", "retryable"),
    [
        ("errcode", 45009, 45009, True),
        ("errcode", -1, -1, True),
        ("errcode", 40003, 40003, False),
        ("http500", None, None, True),
    ],
)
def test_api_errors_are_classified(store, wechat_stub, kind, value, errcode, retryable) -> None:
    _, api = make_api(store, wechat_stub)
    wechat_stub.fail("message/custom/send", kind, value)
    with pytest.raises(WeChatApiError) as err:
        api.send_text("o1", "x")
    assert err.value.errcode == errcode and err.value.retryable is retryable


def test_slow_upstream_times_out_as_retryable(store: Store, wechat_stub: WeChatStub) -> None:
    _, api = make_api(store, wechat_stub, timeout_s=0.3)
    api.send_text("o0", "warm")  # token first
    wechat_stub.fail("message/custom/send", "slow", 1.0)
    with pytest.raises(WeChatApiError) as err:
        api.send_text("o1", "x")
    assert err.value.retryable and err.value.errcode is None


def test_media_download_template_qrcode_menu(store: Store, wechat_stub: WeChatStub) -> None:
    _, api = make_api(store, wechat_stub)
    wechat_stub.state.media["m1"] = (b"\x89PNG\r\n\x1a\nrest", "image/png")
    media = api.download_media("m1")
    assert media.content.startswith(b"\x89PNG") and media.content_type == "image/png"
    with pytest.raises(WeChatApiError) as err:
        api.download_media("expired")
    assert err.value.errcode == 40007 and not err.value.retryable
    api.send_template("o1", "TPL", {"first": {"value": "您好"}}, url="https://example.invalid/x")
    assert wechat_stub.calls_to("message/template/send")[0].body["template_id"] == "TPL"
    qr = api.create_qrcode("union:BZ-001")
    assert qr.ticket == "ticket-union:BZ-001"
    api.create_menu({"button": []})
    assert wechat_stub.calls_to("menu/create")[0].body == {"button": []}


def test_media_json_body_is_an_error(store: Store, wechat_stub: WeChatStub) -> None:
    _, api = make_api(store, wechat_stub)
    api.send_text("o0", "warm")
    wechat_stub.fail("media/get", "json_body", {"video_url": "http://x"})
    with pytest.raises(WeChatApiError):
        api.download_media("v1")


def test_concurrent_refresh_in_threads_makes_one_upstream_call(store: Store, wechat_stub: WeChatStub) -> None:
    tokens, _ = make_api(store, wechat_stub)
    wechat_stub.fail("stable_token", "slow", 0.3)  # keep the first fetch in flight while others arrive
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(tokens.get())) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(results)) == 1 and len(results) == 12
    assert len(wechat_stub.calls_to("stable_token")) == 1


def _fetch_in_process(redis_url: str, prefix: str, base_url: str, out: multiprocessing.Queue[str]) -> None:
    store = RedisStore.from_url(redis_url)
    store.prefix = prefix
    out.put(TokenService(store, "wxapp", "secret", base_url).get())


@pytest.mark.redis
def test_concurrent_refresh_from_several_processes_makes_one_upstream_call(wechat_stub: WeChatStub) -> None:
    assert REDIS_URL
    prefix = f"ghpp-proc-{os.getpid()}:"
    wechat_stub.fail("stable_token", "slow", 0.5)
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[str] = ctx.Queue()
    procs = [
        ctx.Process(target=_fetch_in_process, args=(REDIS_URL, prefix, wechat_stub.base_url, out))
        for _ in range(6)
    ]
    try:
        for p in procs:
            p.start()
        tokens = [out.get(timeout=30) for _ in procs]
        for p in procs:
            p.join(10)
        assert len(set(tokens)) == 1
        assert len(wechat_stub.calls_to("stable_token")) == 1
    finally:
        store = RedisStore.from_url(REDIS_URL)
        for key in store.client.scan_iter(f"{prefix}*"):
            store.client.delete(key)


def test_token_endpoint_error_is_reported(store: Store, wechat_stub: WeChatStub) -> None:
    tokens, _ = make_api(store, wechat_stub)
    wechat_stub.fail("stable_token", "errcode", 40125)  # invalid appsecret
    with pytest.raises(WeChatApiError) as err:
        tokens.get()
    assert err.value.errcode == 40125 and not err.value.retryable


def test_unreachable_api_is_retryable(store: Store) -> None:
    tokens = TokenService(MemoryStore(), "wxapp", "secret", "http://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(WeChatApiError) as err:
        tokens.get()
    assert err.value.retryable
    assert isinstance(err.value.__cause__, requests.RequestException)
