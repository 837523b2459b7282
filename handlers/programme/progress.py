"""Cadres report progress on their brands: "上报进度 工惠乐学 本月开展培训12场…"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from config import programme_texts as T
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.programme.binding import cadre_brands
from handlers.registry import Routes
from handlers.understanding import flow_prompt, is_bare_number
from models import Brand, Conversation, Role
from models.programme import ProgressReport
from nlp import Intent

routes = Routes()

# After a report, photos sent within this window are attached to it.
REPORT_PHOTO_WINDOW = timedelta(hours=2)
CHOICE_TTL = timedelta(minutes=30)
FLOW_CHOOSE_BRAND = "progress_brand"
FLOW_REPORT_PHOTOS = "progress_photos"
FLOW_REPORT_TEXT = "progress_text"
# Shorter than this, an answer to "请发送进度内容" is not a report ("1", "好").
MIN_REPORT_CHARS = 4

_LEADING = re.compile(r"^(?:上报进度|进度上报|汇报进度|上报|汇报|进度|[\s:：,，、])+")
_PUNCT = re.compile(r"^[\s:：,，、。]+")


def is_cadre(ctx: Context) -> bool:
    return ctx.user.role in (Role.CADRE, Role.ADMIN)


def brand_in_text(text: str, brands: Sequence[Brand]) -> Brand | None:
    """The brand whose name or alias appears in the text; the longest name wins."""
    hits = [(len(n), b) for b in brands for n in (b.name, *b.alias_names) if n and n in text]
    return max(hits, key=lambda h: h[0])[1] if hits else None


def strip_report_text(text: str, brands: Sequence[Brand]) -> str:
    """The report itself: command words and a leading brand name removed."""
    text = _LEADING.sub("", text.strip())
    names = sorted({n for b in brands for n in (b.name, *b.alias_names) if n}, key=len, reverse=True)
    for name in names:
        if text.startswith(name):
            text = text[len(name) :]
            break
    return _PUNCT.sub("", text).strip()


def choose_brand(text: str, brands: Sequence[Brand]) -> Brand | None:
    """A numbered choice ("2") or a brand named in the answer."""
    answer = text.strip()
    if answer.isdigit() and 1 <= int(answer) <= len(brands):
        return brands[int(answer) - 1]
    return brand_in_text(answer, brands)


def brand_menu(brands: Sequence[Brand]) -> str:
    return "\n".join(f"{i}. {b.name}" for i, b in enumerate(brands, 1))


def file_report(ctx: Context, brand: Brand, text: str) -> Reply:
    report = ProgressReport(brand_id=brand.id, author_id=ctx.user.id, text=text, created_at=ctx.now)
    ctx.session.add(report)
    ctx.session.flush()
    ctx.start_flow(
        FLOW_REPORT_PHOTOS,
        {"report_id": report.id, "brand_id": brand.id, "photos": 0},
        REPORT_PHOTO_WINDOW,
    )
    return Reply(T.PROGRESS_OK.format(brand=brand.name, number=report.id))


@routes.intent("progress")
def progress_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    if not is_cadre(ctx):
        return Reply(T.PROGRESS_NOT_CADRE)
    brands = cadre_brands(ctx.session, ctx.user)
    if not brands:
        return Reply(T.NO_BRANDS_FOR_CADRE)
    raw = intent.text or inbound.text
    brand = None
    if intent.brand:
        brand = next((b for b in brands if intent.brand in (b.name, *b.alias_names)), None)
        if brand is None:
            return Reply(T.PROGRESS_NOT_YOUR_BRAND.format(brand=intent.brand))
    brand = brand or brand_in_text(raw, brands)
    text = strip_report_text(raw, brands)
    if not text:
        # "上报进度" alone: the next message is the report (a flow, so "1" is not a vote).
        ctx.start_flow(FLOW_REPORT_TEXT, {"brand_id": brand.id if brand else None}, CHOICE_TTL)
        return Reply(T.PROGRESS_ASK_TEXT)
    return _report(ctx, brands, brand, text)


def _report(ctx: Context, brands: Sequence[Brand], brand: Brand | None, text: str) -> Reply:
    if brand is None and len(brands) == 1:
        brand = brands[0]
    if brand is None:
        ctx.start_flow(FLOW_CHOOSE_BRAND, {"text": text, "brand_ids": [b.id for b in brands]}, CHOICE_TTL)
        return Reply(T.PROGRESS_WHICH_BRAND.format(menu=brand_menu(brands)))
    return file_report(ctx, brand, text)


@routes.click("MENU_PROGRESS")
def progress_click(ctx: Context, inbound: Inbound) -> Reply:
    if not is_cadre(ctx):
        return Reply(T.PROGRESS_NOT_CADRE)
    if not cadre_brands(ctx.session, ctx.user):
        return Reply(T.NO_BRANDS_FOR_CADRE)
    ctx.start_flow(FLOW_REPORT_TEXT, {"brand_id": None}, CHOICE_TTL)
    return Reply(T.PROGRESS_ASK_TEXT)


@routes.flow(FLOW_REPORT_TEXT)
def report_text_step(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    if inbound.kind == "image":
        return Reply(T.PROGRESS_TEXT_FIRST)
    if not inbound.text:
        return None
    brands = cadre_brands(ctx.session, ctx.user)
    if not brands:
        ctx.end_flow()
        return Reply(T.NO_BRANDS_FOR_CADRE)
    text = strip_report_text(inbound.text, brands)
    if is_bare_number(inbound.text) or len(text) < MIN_REPORT_CHARS:
        return Reply(T.PROGRESS_TEXT_AGAIN)
    ctx.end_flow()
    chosen = next((b for b in brands if b.id == conv.data.get("brand_id")), None)
    return _report(ctx, brands, chosen or brand_in_text(inbound.text, brands), text)


@flow_prompt(FLOW_REPORT_TEXT)
def report_text_prompt(ctx: Context, conv: Conversation) -> str:
    return T.PROGRESS_ASK_TEXT


@flow_prompt(FLOW_CHOOSE_BRAND)
def choose_brand_prompt(ctx: Context, conv: Conversation) -> str:
    ids = [int(i) for i in conv.data.get("brand_ids", [])]
    brands = [b for b in cadre_brands(ctx.session, ctx.user) if b.id in ids]
    return T.PROGRESS_WHICH_BRAND.format(menu=brand_menu(brands))


@routes.flow(FLOW_CHOOSE_BRAND)
def choose_brand_step(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    ids = [int(i) for i in conv.data.get("brand_ids", [])]
    brands = [b for b in cadre_brands(ctx.session, ctx.user) if b.id in ids]
    if inbound.kind == "image":
        return Reply(T.CHOOSE_BRAND_FIRST.format(menu=brand_menu(brands)))
    if not inbound.text:
        return None
    brand = choose_brand(inbound.text, brands)
    if brand is None:
        return Reply(T.CHOOSE_BRAND_AGAIN.format(menu=brand_menu(brands)))
    return file_report(ctx, brand, str(conv.data["text"]))
