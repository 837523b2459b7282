"""Followers: who they are, following and unfollowing, binding to a union by QR code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import texts
from handlers.context import EMPTY, Context, Reply
from handlers.inbound import Inbound
from handlers.registry import Routes
from handlers.router_learning import TEXT_KINDS
from models import Conversation, InboundMessage, Role, Union, User

routes = Routes()


def resolve_user(session: Session, openid: str, now: datetime, *, subscribed: bool = True) -> User:
    """The user behind an openid, created on first contact.

    A new follower's first two messages often arrive together: a plain SELECT-then-INSERT lets
    both insert, and the second fails on the unique openid. ``INSERT … ON CONFLICT DO NOTHING``
    makes the second wait for the first and then find its row.
    """
    stmt = select(User).where(User.openid == openid)
    user = session.scalar(stmt)
    if user is not None:
        return user
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(User)
        .values(openid=openid, first_seen_at=now, role=Role.WORKER, subscribed=subscribed)
        .on_conflict_do_nothing(index_elements=[User.openid])
    )
    user = session.scalar(stmt)
    assert user is not None  # inserted now, or by the concurrent first message
    return user


def resolve_web_visitor(session: Session, openid: str, now: datetime) -> User:
    """The user behind an openid from web sign-in. Web sign-in also identifies visitors who never
    followed the account (an article shared to them): such a row starts unsubscribed, so nothing
    is pushed to them until they follow."""
    return resolve_user(session, openid, now, subscribed=False)


@dataclass(frozen=True)
class Sender:
    user: User
    conversation: Conversation | None
    # Their latest text message (router learning compares the new one with it); None: none.
    previous_text: InboundMessage | None


def resolve_sender(session: Session, openid: str, now: datetime) -> Sender:
    """``resolve_user``, the sender's conversation row and latest text message in one query:
    every message needs all three."""
    latest = (
        select(InboundMessage.id)
        .where(InboundMessage.openid == openid, InboundMessage.msg_type.in_(TEXT_KINDS))
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = session.execute(
        select(User, Conversation, InboundMessage)
        .outerjoin(Conversation, Conversation.user_id == User.id)
        .outerjoin(InboundMessage, InboundMessage.id == latest)
        .where(User.openid == openid)
    ).first()
    if row is not None:
        return Sender(row[0], row[1], row[2])
    return Sender(resolve_user(session, openid, now), None, None)  # a new follower: nothing yet


def bind_union_by_code(ctx: Context, code: str) -> Union | None:
    union = ctx.session.scalar(select(Union).where(Union.code == code))
    if union is None:
        return None
    # A union chosen by verification (member list, invitation) is not overwritten by a scan.
    if ctx.user.union_id is None or ctx.user.union_source == "qrcode":
        ctx.user.union_id = union.id
        ctx.user.union_source = "qrcode"
    return union


def scene_of(inbound: Inbound) -> str | None:
    key = (inbound.event_key or "").strip()
    if key.startswith("qrscene_"):
        key = key[len("qrscene_") :]
    return key or None


def _apply_scene(ctx: Context, inbound: Inbound, scene: str) -> tuple[Reply | None, str | None]:
    """Returns (reply from a scene handler, or None; name of the union bound, or None)."""
    # Scene handlers by prefix ("brand" for "brand:12", registered by their domains); a scene
    # without a known prefix is a union code.
    prefix, sep, rest = scene.partition(":")
    if sep and prefix in ctx.registry.scenes:
        return ctx.registry.scenes[prefix](ctx, inbound, rest), None
    code = rest if sep and prefix == "union" else scene
    union = bind_union_by_code(ctx, code)
    return None, union.name if union else None


@routes.event("subscribe")
def on_subscribe(ctx: Context, inbound: Inbound) -> Reply:
    ctx.user.subscribed = True
    ctx.user.subscribed_at = inbound.created_at
    ctx.user.unsubscribed_at = None
    scene = scene_of(inbound)
    lines = [texts.WELCOME]
    if scene:
        scene_reply, union_name = _apply_scene(ctx, inbound, scene)
        if union_name:
            lines.insert(0, texts.WELCOME_WITH_UNION.format(union=union_name))
        if scene_reply is not None and scene_reply.text:
            lines.append(scene_reply.text)
    return Reply("\n\n".join(lines))


@routes.event("scan")
def on_scan(ctx: Context, inbound: Inbound) -> Reply:
    scene = scene_of(inbound)
    if not scene:
        return EMPTY
    scene_reply, union_name = _apply_scene(ctx, inbound, scene)
    if scene_reply is not None:
        return scene_reply
    if union_name:
        return Reply(texts.WELCOME_WITH_UNION.format(union=union_name) + "回复「帮助」查看可以做什么。")
    return Reply("二维码已失效或不存在，请向工会工作人员索取新的二维码。")


@routes.event("unsubscribe")
def on_unsubscribe(ctx: Context, inbound: Inbound) -> Reply:
    ctx.user.subscribed = False
    ctx.user.unsubscribed_at = inbound.created_at
    return EMPTY
