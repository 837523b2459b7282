"""Media finding: downloads are streamed, capped while reading and bounded by a wall-clock
deadline (a 400 MB body or a slow drip used to hold a worker for up to 120 s)."""

from __future__ import annotations

import time

import pytest

from bot.store import MemoryStore
from bot.wechat.api import WeChatApiClient
from bot.wechat.token import TokenService
from handlers.ports import MediaTooLarge, WeChatApiError
from tests.wechat_stub import WeChatStub

CAP = 256 * 1024


def api(stub: WeChatStub, deadline_s: float = 5.0) -> WeChatApiClient:
    tokens = TokenService(MemoryStore(), "wxapp", "secret", stub.base_url, timeout_s=2.0)
    return WeChatApiClient(
        tokens,
        "wxapp",
        "secret",
        stub.base_url,
        timeout_s=2.0,
        media_max_bytes=CAP,
        media_deadline_s=deadline_s,
    )


def test_a_body_without_length_is_cut_at_the_cap_while_reading(wechat_stub: WeChatStub) -> None:
    wechat_stub.fail("media/get", "stream", {"total": 200 * 1024 * 1024, "chunk": 64 * 1024})
    with pytest.raises(MediaTooLarge) as err:
        api(wechat_stub).download_media("huge")
    assert not err.value.retryable and CAP < err.value.size <= CAP + 64 * 1024
    time.sleep(0.2)  # let the stub notice the hang-up
    # The server wrote at most the cap plus what the sockets' buffers held, not 200 MB.
    assert wechat_stub.state.streamed < 20 * 1024 * 1024


def test_a_declared_length_over_the_cap_is_refused_before_reading(wechat_stub: WeChatStub) -> None:
    size = 400 * 1024 * 1024
    wechat_stub.fail("media/get", "stream", {"total": size, "content_length": size})
    with pytest.raises(MediaTooLarge) as err:
        api(wechat_stub).download_media("declared")
    assert err.value.size == size


def test_a_slow_drip_stops_at_the_deadline(wechat_stub: WeChatStub) -> None:
    # 1 byte every 50 ms: each read is quick, so only a wall-clock deadline stops it.
    wechat_stub.fail(
        "media/get", "stream", {"total": 10_000, "chunk": 1, "interval": 0.05, "content_length": 10_000}
    )
    started = time.monotonic()
    with pytest.raises(WeChatApiError) as err:
        api(wechat_stub, deadline_s=0.5).download_media("drip")
    assert err.value.retryable and "deadline" in err.value.errmsg
    assert time.monotonic() - started < 3  # bounded by the deadline, not by the drip (500 s)


def test_a_file_under_the_cap_is_read_whole(wechat_stub: WeChatStub) -> None:
    wechat_stub.fail("media/get", "stream", {"total": CAP, "chunk": 4096, "content_length": CAP})
    media = api(wechat_stub).download_media("ok")
    assert len(media.content) == CAP and media.content_type == "image/jpeg"
