"""Activity photos: received in chat, downloaded at once by a job, stored by content hash.

WeChat's media ids expire after 3 days, so each photo is fetched right after the message is
committed. A retryable API failure is raised so the queue retries with back-off; a final one
(expired media 40007, a JSON body, not an image, too large) marks the photo failed and tells
the cadre.

A photo received before, under any brand or union, is flagged "duplicate" (重复照片): the same
bytes (SHA-256), or a near-identical copy by its perceptual fingerprint (pHash + dHash, 128 bits)
within PHASH_MAX_DISTANCE bits, which catches re-encoded, resized and slightly cropped copies.
``duplicate_of`` is the earliest received such photo, so its brand is the one that had it first.
Rows stored before the fingerprint existed get one from ``backfill_fingerprints``
(``flask --app bot photos fingerprint``); until then only their exact hash matches.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import imagehash
from PIL import Image, ImageStat
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import programme_texts as T
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.ports import MediaTooLarge, WeChatApiError
from handlers.programme.binding import cadre_brands
from handlers.programme.progress import (
    FLOW_REPORT_PHOTOS,
    brand_menu,
    choose_brand,
    is_cadre,
)
from handlers.programme.storage import (
    MAX_PHOTO_BYTES,
    PhotoStorage,
    photo_key,
    sniff_image,
    storage_from_options,
)
from handlers.registry import JobContext, Routes
from handlers.understanding import is_bare_number
from models import Brand, Conversation, User
from models.programme import Photo, PhotoStatus

routes = Routes()

FLOW_PHOTO_BRAND = "photo_brand"
PHOTO_FLOW_TTL = timedelta(minutes=30)
DOWNLOAD_JOB = "download_photo"
MEDIA_LIFETIME = timedelta(days=3)
DUPLICATE = "duplicate"  # the one flag code; its label is T.PHOTO_FLAG_LABEL
# Largest Hamming distance (of 128 bits) between fingerprints of the same photo. Measured on
# seeded textured 800×600 images: copies halved in size or re-saved at JPEG quality 10 differ by
# at most 7, 5% cropped off one edge by at most 23 (off the top and left together: 31, p95 28);
# different photos by at least 33 over 79,800 pairs.
PHASH_MAX_DISTANCE = 28
NO_FINGERPRINT = ""  # computed, but the image has too little detail to fingerprint
_MIN_SIDE = 32  # pixels; smaller images are thumbnails or icons, matched by exact hash only
_MIN_STDDEV = 2.0  # grey levels; a flat image hashes like every other flat image


def _receive(ctx: Context, inbound: Inbound, brand_id: int | None, report_id: int | None) -> Photo | None:
    """Records the photo and queues its download; None for a media id already received."""
    if not inbound.media_id:
        return None
    if ctx.session.scalar(select(Photo.id).where(Photo.media_id == inbound.media_id)) is not None:
        return None
    photo = Photo(
        media_id=inbound.media_id,
        uploader_id=ctx.user.id,
        brand_id=brand_id,
        report_id=report_id,
        captured_at=inbound.created_at,
        status=PhotoStatus.PENDING,
    )
    ctx.session.add(photo)
    ctx.session.flush()
    ctx.enqueue(DOWNLOAD_JOB, photo_id=photo.id)
    return photo


@routes.message("image")
def on_image(ctx: Context, inbound: Inbound) -> Reply:
    """A photo outside a report in progress: ask which brand and what activity."""
    if not is_cadre(ctx):
        return Reply(T.PHOTO_NOT_CADRE)  # not downloaded, not kept
    brands = cadre_brands(ctx.session, ctx.user)
    if not brands:
        return Reply(T.NO_BRANDS_FOR_CADRE)
    single = brands[0] if len(brands) == 1 else None
    photo = _receive(ctx, inbound, single.id if single else None, None)
    data = {
        "photo_ids": [photo.id] if photo else [],
        "brand_ids": [b.id for b in brands],
        "brand_id": single.id if single else None,
        "step": "activity" if single else "brand",
    }
    ctx.start_flow(FLOW_PHOTO_BRAND, data, PHOTO_FLOW_TTL)
    if single is not None:
        return Reply(T.PHOTO_ASK_ACTIVITY.format(brand=single.name))
    return Reply(T.PHOTO_ASK_BRAND.format(menu=brand_menu(brands)))


@routes.flow(FLOW_PHOTO_BRAND)
def photo_brand_step(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    data = dict(conv.data)
    brands = [b for b in cadre_brands(ctx.session, ctx.user) if b.id in data.get("brand_ids", [])]
    if inbound.kind == "image":
        photo = _receive(ctx, inbound, data.get("brand_id"), None)
        if photo is not None:
            data["photo_ids"] = [*data.get("photo_ids", []), photo.id]
            ctx.update_flow(conv, data, PHOTO_FLOW_TTL)
        count = len(data.get("photo_ids", []))
        if data.get("step") == "brand":
            return Reply(T.PHOTO_MORE_ASK_BRAND.format(count=count, menu=brand_menu(brands)))
        return Reply(T.PHOTO_MORE_ASK_ACTIVITY.format(count=count))
    if not inbound.text:
        return None
    if ctx.router.route(inbound.text).name == "progress":
        # A progress report is not a caption: leave the photos as they are and file the report.
        ctx.end_flow()
        return None
    photos = list(ctx.session.scalars(select(Photo).where(Photo.id.in_(data.get("photo_ids", [])))))
    if data.get("step") == "brand":
        brand = choose_brand(inbound.text, brands)
        if brand is None:
            return Reply(T.CHOOSE_BRAND_AGAIN.format(menu=brand_menu(brands)))
        for photo in photos:
            photo.brand_id = brand.id  # a flag does not depend on the copy's own brand
        ctx.session.flush()
        data.update(brand_id=brand.id, step="activity")
        ctx.update_flow(conv, data, PHOTO_FLOW_TTL)
        return Reply(T.PHOTO_ASK_ACTIVITY.format(brand=brand.name))
    if is_bare_number(inbound.text) or len(inbound.text.strip()) < 2:
        return Reply(T.PHOTO_ACTIVITY_AGAIN)  # "1" is not a caption
    activity = inbound.text.strip()[:500]
    for photo in photos:
        photo.activity = activity
    brand = ctx.session.get(Brand, data.get("brand_id"))
    ctx.end_flow()
    return Reply(T.PHOTO_SAVED.format(count=len(photos), brand=brand.name if brand else ""))


@routes.flow(FLOW_REPORT_PHOTOS)
def report_photo_step(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    """Photos right after a progress report belong to it; anything else is routed as usual."""
    if inbound.kind != "image":
        return None
    data = dict(conv.data)
    photo = _receive(ctx, inbound, int(data["brand_id"]), int(data["report_id"]))
    if photo is not None:
        data["photos"] = int(data.get("photos", 0)) + 1
        ctx.update_flow(conv, data, conv.expires_at - conv.updated_at)
    brand = ctx.session.get(Brand, int(data["brand_id"]))
    return Reply(
        T.PHOTO_ATTACHED.format(
            count=data["photos"], brand=brand.name if brand else "", number=data["report_id"]
        )
    )


def fingerprint(content: bytes) -> str | None:
    """The photo's perceptual fingerprint (32 hex digits), or None without usable detail."""
    try:
        with Image.open(io.BytesIO(content)) as img:
            img.draft("L", (256, 256))  # JPEG: decode at a reduced scale; the hashes use 32×32
            grey = img.convert("L")
    # Untrusted bytes: a decoder error (Pillow raises these kinds) only means no fingerprint.
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None
    if min(grey.size) < _MIN_SIDE or ImageStat.Stat(grey).stddev[0] < _MIN_STDDEV:
        return None
    return f"{imagehash.phash(grey)}{imagehash.dhash(grey)}"


def fingerprint_distance(a: str, b: str) -> int:
    """Hamming distance between two fingerprints, in bits (0–128)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _order(p: Photo) -> tuple[datetime, int]:
    return (p.captured_at, p.id)


def _root(p: Photo) -> Photo:
    """The earliest photo of a chain of copies (matching is not transitive, attribution is)."""
    seen = {p.id}
    while p.duplicate_of is not None and p.duplicate_of.id not in seen and _order(p.duplicate_of) < _order(p):
        p = p.duplicate_of
        seen.add(p.id)
    return p


def _copies(session: Session, photo: Photo) -> list[Photo]:
    """Other stored photos with the same bytes or a fingerprint within the threshold."""
    mine = int(photo.phash, 16) if photo.phash else None
    rows = session.execute(
        select(Photo.id, Photo.sha256, Photo.phash).where(
            Photo.status == PhotoStatus.STORED, Photo.id != photo.id
        )
    ).all()
    ids = [
        pid
        for pid, sha, fp in rows
        if sha == photo.sha256
        or (mine is not None and fp and (int(fp, 16) ^ mine).bit_count() <= PHASH_MAX_DISTANCE)
    ]
    return list(session.scalars(select(Photo).where(Photo.id.in_(ids)))) if ids else []


def _point(photo: Photo, original: Photo | None) -> None:
    # Both the relationship and the column: a caller may have set either one.
    photo.duplicate_of, photo.duplicate_of_id = original, original.id if original else None
    photo.flag = DUPLICATE if original is not None else None


def flag_duplicate(session: Session, photo: Photo) -> None:
    """Flag a stored photo received after a copy of it, and later copies that now have an earlier original."""
    if photo.status != PhotoStatus.STORED or photo.sha256 is None:
        return
    copies = _copies(session, photo)
    earlier = [c for c in copies if _order(c) < _order(photo)]
    _point(photo, _root(min(earlier, key=_order)) if earlier else None)
    root = _root(photo)
    # A copy downloaded earlier (a retried job) than this earlier-received photo is repointed.
    for later in (c for c in copies if _order(c) > _order(photo)):
        if later.duplicate_of is None or _order(_root(later)) > _order(root):
            _point(later, root)
    session.flush()


def _first_by(photo: Photo) -> str:
    first = photo.duplicate_of
    if first is None or first.brand is None:
        return T.PHOTO_FLAG_FIRST_UNKNOWN
    return T.PHOTO_FLAG_FIRST_BY.format(brand=first.brand.name)


def flag_label(photo: Photo) -> str | None:
    """What the dashboard and exports show for a photo's flag: the label and who had it first."""
    if photo.flag != DUPLICATE:
        return None
    return f"{T.PHOTO_FLAG_LABEL}（{_first_by(photo)}）"


@dataclass(frozen=True)
class BackfillResult:
    fingerprinted: int  # photos that got a fingerprint (or NO_FINGERPRINT)
    flagged: int  # of those, flagged as a copy of an earlier photo
    unreadable: int  # stored file missing or unreadable: left without a fingerprint


def backfill_fingerprints(session: Session, storage: PhotoStorage) -> BackfillResult:
    """Fingerprint stored photos that have none (stored before 0017), oldest first, and flag copies.

    Oldest first, so each photo is compared with every earlier one already fingerprinted.
    Running it again does nothing for photos already done."""
    pending = session.scalars(
        select(Photo)
        .where(Photo.status == PhotoStatus.STORED, Photo.phash.is_(None), Photo.storage_key.is_not(None))
        .order_by(Photo.captured_at, Photo.id)
    ).all()
    done = flagged = unreadable = 0
    for photo in pending:
        try:
            content = storage.get(str(photo.storage_key))
        except OSError:
            unreadable += 1
            continue
        photo.phash = fingerprint(content) or NO_FINGERPRINT
        session.flush()
        flag_duplicate(session, photo)
        done += 1
        flagged += photo.flag == DUPLICATE
    return BackfillResult(done, flagged, unreadable)


def _fail(jctx: JobContext, photo: Photo, error: str, text: str) -> None:
    photo.status = PhotoStatus.FAILED
    photo.error = error[:200]
    uploader = jctx.session.get(User, photo.uploader_id) if photo.uploader_id else None
    if uploader is not None:
        jctx.enqueue("send_text", openid=uploader.openid, text=text)


@routes.job(DOWNLOAD_JOB)
def download_photo(jctx: JobContext, photo_id: int) -> None:
    photo = jctx.session.get(Photo, photo_id)
    if photo is None or photo.status != PhotoStatus.PENDING:
        return  # already handled: a retried or duplicated job does nothing
    try:
        media = jctx.api.download_media(photo.media_id)
    except MediaTooLarge as exc:  # the client stopped reading at the cap
        _fail(jctx, photo, f"too large: {exc.size}+ bytes", T.PHOTO_TOO_LARGE)
        return
    except WeChatApiError as exc:
        # Past WeChat's 3-day media lifetime a retry cannot succeed: stop retrying.
        if exc.retryable and jctx.now - photo.captured_at < MEDIA_LIFETIME:
            raise  # the queue retries with back-off
        _fail(jctx, photo, f"download: {exc.errcode}: {exc.errmsg}", T.PHOTO_DOWNLOAD_FAILED)
        return
    content = media.content
    if len(content) > MAX_PHOTO_BYTES:
        _fail(jctx, photo, f"too large: {len(content)} bytes", T.PHOTO_TOO_LARGE)
        return
    kind = sniff_image(content)
    if kind is None:
        _fail(jctx, photo, f"not an image ({media.content_type})", T.PHOTO_NOT_IMAGE)
        return
    mime, ext = kind
    digest = hashlib.sha256(content).hexdigest()
    key = photo_key(digest, ext)
    storage_from_options(jctx.options).put(key, content, mime)
    photo.sha256, photo.size, photo.content_type = digest, len(content), mime
    photo.phash = fingerprint(content) or NO_FINGERPRINT
    photo.storage_key, photo.stored_at, photo.status = key, jctx.now, PhotoStatus.STORED
    jctx.session.flush()
    flag_duplicate(jctx.session, photo)
    if photo.flag == DUPLICATE:
        uploader = jctx.session.get(User, photo.uploader_id) if photo.uploader_id else None
        if uploader is not None:
            jctx.enqueue(
                "send_text", openid=uploader.openid, text=T.PHOTO_FLAG_NOTICE.format(first=_first_by(photo))
            )
