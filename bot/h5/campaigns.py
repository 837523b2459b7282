"""The H5 campaign page: brand cards with photos, and voting or rating by the chat's rules."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, abort, redirect, request, url_for

from bot.h5 import web
from bot.h5.signals import attach_request_signal
from bot.h5.web import bp, signed_in
from handlers.anonymity import keyed
from handlers.context import Context
from handlers.programme.storage import storage_from_options
from handlers.recognition.campaign_page import (
    campaign_page,
    campaigns_for_visitor,
    entry_brand,
    is_gallery_photo,
    submit,
)
from handlers.surveys.queries import is_open
from handlers.surveys.templates import templates
from models.recognition import Campaign

# The outcomes a redirect may announce (anything else in the query string is ignored).
NOTICES = {
    "recorded": "已记录，谢谢参与！",
    "replaced": "已改为新的评分，以最新一次为准。",
    "same": "评分与上次相同，无需重复提交。",
    "duplicate": "这次提交已经记录过了，没有重复计入。",
    "already": "你已经给这个品牌投过票了，每个品牌只能投一票。",
    "full": "投票数已用完，未再计入。",
    "limited": "提交太频繁了，请稍后再试。",
    "closed": "本次活动已结束，未作记录。",
    "outside": "本次活动不面向你所在的单位，未作记录。",
    "recused": "你所在单位的品牌需回避，未作记录。",
    "reviewer_elsewhere": "你是另一项测评的评议代表，本次评分不计入。",
}
THUMB_WIDTH = 480


@bp.get("/")
@signed_in
def home() -> Any:
    user = web.viewer_user()
    now = web.now()
    campaigns = campaigns_for_visitor(web.db(), user, now)
    surveys = [t for t in templates().values() if is_open(web.db(), t)]
    return web.page("home.html", campaigns=campaigns, surveys=surveys)


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = web.db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campaigns/<int:campaign_id>")
@signed_in
def campaign(campaign_id: int) -> Any:
    c = _campaign_or_404(campaign_id)
    view = campaign_page(web.db(), web.viewer_user(), c, web.now())
    if not view.in_scope:
        return web.error_page(
            403,
            "不在本次活动范围内",
            f"「{c.name}」面向主办单位所辖的职工，你所在的单位不在范围内。"
            "如果单位绑定有误，请在公众号聊天中发送“绑定”重新绑定。",
        )
    notice = NOTICES.get(request.args.get("s", ""))
    response = web.make_page(
        "campaign.html",
        view=view,
        notice=notice,
        rt=web.render_token(f"campaign:{c.id}"),
        csrf=web.csrf_token(),
    )
    web.keep_device_cookie(response)
    return response


def _score(raw: str | None) -> int:
    if raw is None or raw.strip() not in ("1", "2", "3", "4", "5"):
        abort(400, description="评分只能是 1–5 分，未作记录。请在页面上选择分数后提交。")
    return int(raw.strip())


@bp.post("/campaigns/<int:campaign_id>/<any(vote, rate):action>")
@signed_in
def campaign_submit(campaign_id: int, action: str) -> Any:
    web.check_csrf()
    c = _campaign_or_404(campaign_id)
    token = web.read_render_token(f"campaign:{c.id}")
    raw_brand = request.form.get("brand_id", "")
    brand = entry_brand(c, int(raw_brand)) if raw_brand.isdigit() and len(raw_brand) < 10 else None
    if brand is None:
        abort(400, description="没有找到这个候选品牌，未作记录。请刷新页面后重试。")
    if (action == "rate") != (c.kind.value == "rating"):
        abort(400, description="本次活动不接受这种提交，未作记录。")
    score = _score(request.form.get("score")) if action == "rate" else None
    session = web.db()
    now = web.now()
    rt = web.runtime()
    user = web.viewer_user()
    # One key per rendered form, brand and answer: a double tap or a resent form counts once,
    # a changed score from the same page is a new rating (the latest wins).
    key = f"h5:{keyed('event-key', f'{user.openid}|{token.nonce}|{brand.id}|{score}')}"[:255]
    ctx = Context(session=session, user=user, now=now, router=rt.routers.get(session), registry=rt.registry)
    outcome = submit(ctx, c, brand, key, score, token.rendered_at)
    if outcome.event_id is not None:
        attach_request_signal(session, outcome.event_id, token.rendered_at, now)
    job_ids = rt.queue.stage(session, ctx.jobs)
    session.commit()
    rt.queue.dispatch(job_ids)
    return redirect(url_for("h5.campaign", campaign_id=c.id, s=outcome.status, _anchor=f"b{brand.id}"), 303)


@bp.get("/photos/<int:photo_id>.jpg")
@signed_in
def photo(photo_id: int) -> Response:
    """A gallery photo, shrunk for a phone (the original stays the brand's evidence)."""
    p = is_gallery_photo(web.db(), photo_id)
    if p is None or p.storage_key is None:
        abort(404)
    options = web.runtime().job_options
    storage = storage_from_options(options)
    thumb_key = f"thumbs/{THUMB_WIDTH}/{p.storage_key}"
    try:
        content = storage.get(thumb_key) if storage.exists(thumb_key) else None
    except (OSError, ValueError):
        content = None
    if content is None:
        try:
            content = _thumbnail(storage.get(p.storage_key))
        except (OSError, ValueError):
            abort(404)
        storage.put(thumb_key, content, "image/jpeg")
    response = Response(content, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def _thumbnail(original: bytes) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(original)) as opened:
        img = ImageOps.exif_transpose(opened).convert("RGB")
    if img.width > THUMB_WIDTH:
        img = img.resize((THUMB_WIDTH, max(1, img.height * THUMB_WIDTH // img.width)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=78, optimize=True, progressive=True)
    return out.getvalue()
