"""The photo download job against the local stub of WeChat's media API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.store import MemoryStore
from bot.wechat.api import WeChatApiClient
from bot.wechat.token import TokenService
from handlers.ports import WeChatApiError
from handlers.programme.photos import download_photo, flag_duplicate
from handlers.programme.storage import MAX_PHOTO_BYTES, LocalStorage, sniff_image
from handlers.registry import JobContext
from models import utcnow
from models.programme import Photo, PhotoStatus
from tests.conftest import TEST_APPID
from tests.factories import make_brand, make_union, standard_registry
from tests.factories_programme import jpeg_bytes, make_cadre, png_bytes
from tests.wechat_stub import WeChatStub


@pytest.fixture
def api(wechat_stub: WeChatStub) -> WeChatApiClient:
    tokens = TokenService(MemoryStore(), TEST_APPID, "test-secret", wechat_stub.base_url)
    return WeChatApiClient(tokens, TEST_APPID, "test-secret", wechat_stub.base_url)


@pytest.fixture
def jctx(session, api: WeChatApiClient, tmp_path: Path) -> JobContext:
    return JobContext(
        session=session,
        api=api,
        now=utcnow(),
        options={"media_dir": str(tmp_path)},
        jobs=[],
        registry=standard_registry(),
    )


@pytest.fixture
def cadre(session):
    union = make_union(session)
    return make_cadre(session, union), make_brand(session, union=union), make_brand(session, union=union)


def new_photo(session, cadre, media_id: str, brand=None) -> Photo:
    user, own, _ = cadre
    p = Photo(media_id=media_id, uploader_id=user.id, brand_id=(brand or own).id, captured_at=utcnow())
    session.add(p)
    session.flush()
    return p


def test_success_stores_by_content_hash(session, jctx, cadre, wechat_stub, tmp_path: Path) -> None:
    content = png_bytes(7)
    wechat_stub.state.media["m-ok"] = (content, "image/png")
    p = new_photo(session, cadre, "m-ok")
    download_photo(jctx, photo_id=p.id)
    digest = hashlib.sha256(content).hexdigest()
    assert (p.status, p.sha256, p.size, p.content_type) == (
        PhotoStatus.STORED,
        digest,
        len(content),
        "image/png",
    )
    assert p.storage_key == f"photos/{digest[:2]}/{digest}.png"
    assert (tmp_path / p.storage_key).read_bytes() == content
    assert p.stored_at == jctx.now and p.flag is None
    assert jctx.jobs == []
    # Running again (a duplicated job) does nothing, not even a call to WeChat.
    calls = len(wechat_stub.calls_to("media/get"))
    download_photo(jctx, photo_id=p.id)
    assert len(wechat_stub.calls_to("media/get")) == calls


def test_expired_media_40007_marks_failed_and_tells_the_cadre(session, jctx, cadre) -> None:
    p = new_photo(session, cadre, "m-gone")  # the stub answers 40007 for unknown media
    download_photo(jctx, photo_id=p.id)
    assert p.status == PhotoStatus.FAILED and "40007" in (p.error or "")
    [notice] = jctx.jobs
    assert notice.name == "send_text" and notice.kwargs["openid"] == cadre[0].openid
    assert "重新发送" in notice.kwargs["text"]


def test_http_500_is_retryable_then_succeeds(session, jctx, cadre, wechat_stub) -> None:
    wechat_stub.state.media["m-flaky"] = (jpeg_bytes(1), "image/jpeg")
    wechat_stub.fail("media/get", "http500")
    p = new_photo(session, cadre, "m-flaky")
    with pytest.raises(WeChatApiError) as info:
        download_photo(jctx, photo_id=p.id)
    assert info.value.retryable
    assert p.status == PhotoStatus.PENDING
    download_photo(jctx, photo_id=p.id)  # the queue's retry
    assert p.status == PhotoStatus.STORED and p.content_type == "image/jpeg"  # type: ignore[comparison-overlap]  # mypy keeps the PENDING asserted before the retry


def test_json_body_instead_of_an_image(session, jctx, cadre, wechat_stub) -> None:
    wechat_stub.fail("media/get", "json_body", {"video_url": "http://example.invalid/v.mp4"})
    p = new_photo(session, cadre, "m-json")
    download_photo(jctx, photo_id=p.id)
    assert p.status == PhotoStatus.FAILED and "JSON" in (p.error or "")


def test_bytes_that_are_not_an_image(session, jctx, cadre, wechat_stub) -> None:
    # Labelled as a JPEG, but the bytes say otherwise: the magic number decides.
    wechat_stub.state.media["m-fake"] = (b"<html><body>502 Bad Gateway</body></html>", "image/jpeg")
    p = new_photo(session, cadre, "m-fake")
    download_photo(jctx, photo_id=p.id)
    assert p.status == PhotoStatus.FAILED and "not an image" in (p.error or "")
    assert "不是图片" in jctx.jobs[0].kwargs["text"]


def test_oversized_file(session, jctx, cadre, wechat_stub, tmp_path: Path) -> None:
    big = png_bytes(3, padding=MAX_PHOTO_BYTES)
    assert len(big) > MAX_PHOTO_BYTES
    wechat_stub.state.media["m-big"] = (big, "image/png")
    p = new_photo(session, cadre, "m-big")
    download_photo(jctx, photo_id=p.id)
    assert p.status == PhotoStatus.FAILED and "too large" in (p.error or "")
    assert not (tmp_path / "photos").exists()


def test_same_photo_twice_is_flagged_duplicate(session, jctx, cadre, wechat_stub, tmp_path: Path) -> None:
    content = png_bytes(11)
    wechat_stub.state.media["a"] = (content, "image/png")
    wechat_stub.state.media["b"] = (content, "image/png")
    first, second = new_photo(session, cadre, "a"), new_photo(session, cadre, "b")
    download_photo(jctx, photo_id=first.id)
    download_photo(jctx, photo_id=second.id)
    assert first.flag is None
    assert (second.flag, second.duplicate_of_id) == ("duplicate", first.id)
    assert len(list((tmp_path / "photos").rglob("*.png"))) == 1  # stored once
    assert "已标记为重复照片" in jctx.jobs[-1].kwargs["text"]


def test_photo_reused_by_another_brand_is_flagged(session, jctx, cadre, wechat_stub) -> None:
    _, own, other = cadre
    content = png_bytes(12)
    wechat_stub.state.media["x"] = (content, "image/png")
    wechat_stub.state.media["y"] = (content, "image/png")
    first = new_photo(session, cadre, "x", own)
    download_photo(jctx, photo_id=first.id)
    second = new_photo(session, cadre, "y", other)
    download_photo(jctx, photo_id=second.id)
    # The same code and label as within one brand; the notice names the brand that had it first.
    assert (second.flag, second.duplicate_of_id) == ("duplicate", first.id)
    text = jctx.jobs[-1].kwargs["text"]
    assert "已标记为重复照片" in text and f"最早由「{own.name}」上传" in text


def test_flag_does_not_change_with_a_brand_chosen_after_download(session, jctx, cadre, wechat_stub) -> None:
    _, own, other = cadre
    content = png_bytes(13)
    wechat_stub.state.media["p"] = (content, "image/png")
    wechat_stub.state.media["q"] = (content, "image/png")
    first = new_photo(session, cadre, "p", own)
    download_photo(jctx, photo_id=first.id)
    second = new_photo(session, cadre, "q", own)
    second.brand_id = None  # the cadre has not said which brand yet
    download_photo(jctx, photo_id=second.id)
    assert (second.flag, second.duplicate_of_id) == ("duplicate", first.id)
    second.brand_id = other.id
    flag_duplicate(session, second)
    assert (second.flag, second.duplicate_of_id) == ("duplicate", first.id)
    assert session.scalar(select(Photo.flag).where(Photo.id == second.id)) == "duplicate"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (png_bytes(1), ("image/png", "png")),
        (jpeg_bytes(1), ("image/jpeg", "jpg")),
        (b"GIF89a\x01\x00", ("image/gif", "gif")),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("image/webp", "webp")),
        (b"<html>", None),
        (b"", None),
    ],
)
def test_sniff_image(content: bytes, expected) -> None:
    assert sniff_image(content) == expected


def test_local_storage_refuses_keys_outside_its_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="escapes"):
        LocalStorage(tmp_path).put("../evil.png", b"x", "image/png")


def test_retryable_failure_after_the_media_lifetime_gives_up(session, jctx, cadre, wechat_stub) -> None:
    from datetime import timedelta

    wechat_stub.fail("media/get", "http500")
    p = new_photo(session, cadre, "m-late")
    p.captured_at = jctx.now - timedelta(days=3, minutes=1)
    download_photo(jctx, photo_id=p.id)
    assert p.status == PhotoStatus.FAILED
