"""Near-duplicate photos: a perceptual fingerprint beside the SHA-256 catches re-encoded,
resized and slightly cropped copies, across brands and unions, and attributes a copy to the
photo that came first. The images are generated (seeded shapes and noise, so they have texture)."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from bot.store import MemoryStore
from bot.wechat.api import WeChatApiClient
from bot.wechat.token import TokenService
from config import programme_texts as T
from handlers.programme.photos import (
    DUPLICATE,
    PHASH_MAX_DISTANCE,
    backfill_fingerprints,
    download_photo,
    fingerprint,
    fingerprint_distance,
    flag_label,
)
from handlers.programme.storage import LocalStorage
from handlers.registry import JobContext
from models import Brand, utcnow
from models.programme import Photo, PhotoStatus
from tests.conftest import TEST_APPID
from tests.factories import make_brand, make_union, standard_registry
from tests.factories_programme import make_cadre, png_bytes
from tests.wechat_stub import WeChatStub

T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)


def scene(seed: int, w: int = 800, h: int = 600) -> Image.Image:
    """A textured 'photo': random ellipses and boxes under 15% noise, all from one seed."""
    rng = random.Random(seed)
    img = Image.new("RGB", (w, h), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        box = (x0, y0, x0 + rng.randrange(20, 300), y0 + rng.randrange(20, 250))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    noise = Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
    return Image.blend(img, noise, 0.15)


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def resized(img: Image.Image) -> bytes:
    return jpeg(img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS))


def recompressed(img: Image.Image) -> bytes:
    return jpeg(Image.open(io.BytesIO(jpeg(img))), quality=30)


def cropped_centre(img: Image.Image) -> bytes:
    dx, dy = img.width * 5 // 200, img.height * 5 // 200  # 5% of each side's length, half each end
    return jpeg(img.crop((dx, dy, img.width - dx, img.height - dy)))


def cropped_edge(img: Image.Image) -> bytes:
    return jpeg(img.crop((img.width * 5 // 100, 0, img.width, img.height)))  # 5% off the left edge


@pytest.fixture
def api(wechat_stub: WeChatStub) -> WeChatApiClient:
    tokens = TokenService(MemoryStore(), TEST_APPID, "test-secret", wechat_stub.base_url)
    return WeChatApiClient(tokens, TEST_APPID, "test-secret", wechat_stub.base_url)


@pytest.fixture
def jctx(session, api: WeChatApiClient, tmp_path: Path) -> JobContext:
    return JobContext(session=session, api=api, now=T0 + timedelta(minutes=30),
                      options={"media_dir": str(tmp_path)}, jobs=[], registry=standard_registry())  # fmt: skip


@pytest.fixture
def world(session):
    """Two unions, each with a cadre and a brand."""
    u1, u2 = make_union(session, name="甲工会"), make_union(session, name="乙工会")
    return (make_cadre(session, u1), make_brand(session, union=u1, name="甲品牌"),
            make_cadre(session, u2), make_brand(session, union=u2, name="乙品牌"))  # fmt: skip


_media = iter(range(10**6))


def upload(session, jctx, stub: WeChatStub, user, brand: Brand | None, content: bytes, minute: int) -> Photo:
    """One photo received at T0 + minute and downloaded at once."""
    media_id = f"m{next(_media)}"
    stub.state.media[media_id] = (content, "image/jpeg" if content[:2] == b"\xff\xd8" else "image/png")
    p = Photo(media_id=media_id, uploader_id=user.id, brand_id=brand.id if brand else None,
              captured_at=T0 + timedelta(minutes=minute))  # fmt: skip
    session.add(p)
    session.flush()
    download_photo(jctx, photo_id=p.id)
    assert p.status == PhotoStatus.STORED
    return p


@pytest.mark.parametrize("copy", [resized, recompressed, cropped_centre, cropped_edge])
def test_altered_copy_in_another_union_is_flagged(session, jctx, wechat_stub, world, copy) -> None:
    cadre1, brand1, cadre2, brand2 = world
    original = scene(41)
    first = upload(session, jctx, wechat_stub, cadre1, brand1, jpeg(original), 0)
    second = upload(session, jctx, wechat_stub, cadre2, brand2, copy(original), 5)
    assert second.sha256 != first.sha256  # the exact hash alone cannot see it
    assert first.flag is None
    assert (second.flag, second.duplicate_of_id) == (DUPLICATE, first.id)
    notice = jctx.jobs[-1]
    assert notice.kwargs["openid"] == cadre2.openid
    assert T.PHOTO_FLAG_LABEL in notice.kwargs["text"] and "甲品牌" in notice.kwargs["text"]


def test_a_different_photo_is_not_flagged(session, jctx, wechat_stub, world) -> None:
    cadre1, brand1, cadre2, brand2 = world
    upload(session, jctx, wechat_stub, cadre1, brand1, jpeg(scene(41)), 0)
    other = upload(session, jctx, wechat_stub, cadre2, brand2, jpeg(scene(42)), 5)
    assert other.flag is None and other.duplicate_of_id is None
    assert jctx.jobs == []


def test_threshold_separates_copies_from_different_photos() -> None:
    """The measured margin behind PHASH_MAX_DISTANCE, on a small seeded sample."""
    copies, others = [], []
    for seed in range(8):
        img = scene(seed)
        base = fingerprint(jpeg(img))
        assert base is not None
        for copy in (resized, recompressed, cropped_centre, cropped_edge):
            copies.append(fingerprint_distance(base, fingerprint(copy(img)) or ""))
    prints = [fingerprint(jpeg(scene(1000 + s))) or "" for s in range(24)]
    others = [fingerprint_distance(a, b) for i, a in enumerate(prints) for b in prints[:i]]
    assert max(copies) <= PHASH_MAX_DISTANCE < min(others)


def test_flat_or_undecodable_images_have_no_fingerprint(session, jctx, wechat_stub, world) -> None:
    # A 1×1 or single-colour image carries no perceptual detail: only the exact hash applies,
    # otherwise every flat image would match every other.
    assert fingerprint(png_bytes(3)) is None
    assert fingerprint(jpeg(Image.new("RGB", (640, 480), (200, 10, 10)))) is None
    assert fingerprint(b"\xff\xd8\xff\xe0JFIF\x00broken") is None
    cadre1, brand1, cadre2, brand2 = world
    upload(session, jctx, wechat_stub, cadre1, brand1, png_bytes(3), 0)
    other = upload(session, jctx, wechat_stub, cadre2, brand2, png_bytes(4), 1)
    assert other.flag is None


def test_reuse_is_attributed_to_the_brand_that_had_it_first(session, jctx, wechat_stub, world) -> None:
    cadre1, brand1, cadre2, brand2 = world
    content = jpeg(scene(7))
    first = upload(session, jctx, wechat_stub, cadre1, brand1, content, 0)
    upload(session, jctx, wechat_stub, cadre2, brand2, content, 1)
    again = upload(session, jctx, wechat_stub, cadre1, brand1, content, 2)
    # Brand 1 had it first: its own later copy points to its own first photo, not to brand 2.
    assert (again.flag, again.duplicate_of_id) == (DUPLICATE, first.id)
    assert "甲品牌" in jctx.jobs[-1].kwargs["text"] and "乙品牌" not in jctx.jobs[-1].kwargs["text"]


def test_first_received_is_the_original_even_if_downloaded_last(session, jctx, wechat_stub, world) -> None:
    cadre1, brand1, cadre2, brand2 = world
    content = jpeg(scene(8))
    for media_id in ("early", "late"):
        wechat_stub.state.media[media_id] = (content, "image/jpeg")
    early = Photo(media_id="early", uploader_id=cadre1.id, brand_id=brand1.id, captured_at=T0)
    late = Photo(
        media_id="late", uploader_id=cadre2.id, brand_id=brand2.id, captured_at=T0 + timedelta(minutes=3)
    )
    session.add_all([early, late])
    session.flush()
    download_photo(jctx, photo_id=late.id)  # the first download failed and is being retried
    download_photo(jctx, photo_id=early.id)
    assert early.flag is None
    assert (late.flag, late.duplicate_of_id) == (DUPLICATE, early.id)


def test_one_code_and_one_label_whatever_the_brand(session, jctx, wechat_stub, world) -> None:
    """The same brand or another, a brand chosen before or after the download: one flag, one label."""
    cadre1, brand1, cadre2, brand2 = world
    content = jpeg(scene(9))
    first = upload(session, jctx, wechat_stub, cadre1, brand1, content, 0)
    same = upload(session, jctx, wechat_stub, cadre1, brand1, resized(scene(9)), 1)
    unassigned = upload(session, jctx, wechat_stub, cadre2, None, content, 2)
    texts = [j.kwargs["text"] for j in jctx.jobs]
    assert len(texts) == 2 and all(T.PHOTO_FLAG_LABEL in t and "甲品牌" in t for t in texts)
    unassigned.brand_id = brand2.id  # the cadre picks the brand afterwards
    session.flush()
    for p in (same, unassigned):
        assert (p.flag, p.duplicate_of_id) == (DUPLICATE, first.id)
        assert flag_label(p) == f"{T.PHOTO_FLAG_LABEL}（最早由「甲品牌」上传）"
    assert flag_label(first) is None


def test_backfill_fingerprints_old_rows_and_flags_them(
    session, jctx, wechat_stub, world, tmp_path: Path
) -> None:
    cadre1, brand1, cadre2, brand2 = world
    img = scene(10)
    old = upload(session, jctx, wechat_stub, cadre1, brand1, jpeg(img), 0)
    copy = upload(session, jctx, wechat_stub, cadre2, brand2, resized(img), 1)
    # Rows stored before the fingerprint existed: no fingerprint, no flag.
    for p in (old, copy):
        p.phash, p.flag, p.duplicate_of_id = None, None, None
    session.flush()
    result = backfill_fingerprints(session, LocalStorage(tmp_path))
    assert (result.fingerprinted, result.flagged) == (2, 1)
    assert old.phash and copy.phash and old.flag is None
    assert (copy.flag, copy.duplicate_of_id) == (DUPLICATE, old.id)
    assert backfill_fingerprints(session, LocalStorage(tmp_path)).fingerprinted == 0  # idempotent


def test_fingerprint_command_backfills_stored_photos(app) -> None:
    import hashlib

    from handlers.programme.storage import photo_key

    rt = app.extensions["ghpp"]
    storage = LocalStorage(Path(rt.job_options["media_dir"]))
    img = scene(11)
    with rt.session_factory() as s:
        cadre = make_cadre(s, make_union(s))
        brands = [make_brand(s, union=cadre.union), make_brand(s, union=cadre.union)]
        for i, (content, brand) in enumerate(zip((jpeg(img), cropped_centre(img)), brands, strict=True)):
            sha = hashlib.sha256(content).hexdigest()
            storage.put(photo_key(sha, "jpg"), content, "image/jpeg")
            s.add(Photo(media_id=f"old-{i}", uploader_id=cadre.id, brand_id=brand.id, sha256=sha,
                        storage_key=photo_key(sha, "jpg"), status=PhotoStatus.STORED,
                        captured_at=T0 + timedelta(minutes=i)))  # fmt: skip
        s.commit()
    result = app.test_cli_runner().invoke(args=["photos", "fingerprint"])
    assert result.exit_code == 0, result.output
    assert "补算指纹 2 张，其中标记为重复照片 1 张" in result.output
    with rt.session_factory() as s:
        first, copy = s.scalars(select(Photo).order_by(Photo.captured_at)).all()
        assert first.phash and first.flag is None
        assert (copy.flag, copy.duplicate_of_id) == (DUPLICATE, first.id)
