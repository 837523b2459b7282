"""Activity photos: received in chat, downloaded at once by a job, stored by content hash.

WeChat's media ids expire after 3 days, so each photo is fetched right after the message is
committed. A retryable API failure is raised so the queue retries with back-off; a final one
(expired media 40007, a JSON body, not an image, too large) marks the photo failed and tells
the cadre. The same bytes stored before are flagged: "duplicate" (same brand) or "reused"
(another brand).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

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
from handlers.programme.storage import MAX_PHOTO_BYTES, photo_key, sniff_image, storage_from_options
from handlers.registry import JobContext, job, on_flow, on_message
from handlers.understanding import is_bare_number
from models import Brand, Conversation, User
from models.programme import Photo, PhotoStatus

FLOW_PHOTO_BRAND = "photo_brand"
PHOTO_FLOW_TTL = timedelta(minutes=30)
DOWNLOAD_JOB = "download_photo"
MEDIA_LIFETIME = timedelta(days=3)


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


@on_message("image")
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


@on_flow(FLOW_PHOTO_BRAND)
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
            photo.brand_id = brand.id
        ctx.session.flush()
        for photo in photos:
            flag_duplicate(ctx.session, photo)
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


@on_flow(FLOW_REPORT_PHOTOS)
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


def flag_duplicate(session: Session, photo: Photo) -> None:
    """Flag a stored photo whose bytes were stored before, under this brand or another."""
    if photo.status != PhotoStatus.STORED or photo.sha256 is None:
        return
    earlier = session.scalars(
        select(Photo)
        .where(Photo.sha256 == photo.sha256, Photo.id < photo.id, Photo.status == PhotoStatus.STORED)
        .order_by(Photo.id)
    ).all()
    if not earlier:
        photo.duplicate_of_id, photo.flag = None, None
        return
    other_brand = next((p for p in earlier if p.brand_id is not None and p.brand_id != photo.brand_id), None)
    same = next((p for p in earlier if p.brand_id == photo.brand_id), None)
    if other_brand is not None and photo.brand_id is not None:
        photo.duplicate_of_id, photo.flag = other_brand.id, "reused"
    else:
        photo.duplicate_of_id, photo.flag = (same or earlier[0]).id, "duplicate"
    session.flush()


def _fail(jctx: JobContext, photo: Photo, error: str, text: str) -> None:
    photo.status = PhotoStatus.FAILED
    photo.error = error[:200]
    uploader = jctx.session.get(User, photo.uploader_id) if photo.uploader_id else None
    if uploader is not None:
        jctx.enqueue("send_text", openid=uploader.openid, text=text)


@job(DOWNLOAD_JOB)
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
    photo.storage_key, photo.stored_at, photo.status = key, jctx.now, PhotoStatus.STORED
    jctx.session.flush()
    flag_duplicate(jctx.session, photo)
    if photo.flag is not None:
        uploader = jctx.session.get(User, photo.uploader_id) if photo.uploader_id else None
        original = jctx.session.get(Photo, photo.duplicate_of_id)
        brand = original.brand if original is not None else None
        text = T.PHOTO_FLAG_REUSED if photo.flag == "reused" else T.PHOTO_FLAG_DUPLICATE
        if uploader is not None:
            jctx.enqueue(
                "send_text", openid=uploader.openid, text=text.format(brand=brand.name if brand else "")
            )
