"""Who is behind a follower: cadres by one-time invitation code, workers by member card.

Card numbers are never stored: only an HMAC-SHA256 keyed with a salt the composition root
derives from SECRET_KEY and hands in with ``set_member_salt`` (handlers do not read the
environment). Failed attempts are rows in ``bind_attempt``, counted per user, so the limit
holds across processes without Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config import programme_texts as T
from handlers.actor import Actor
from handlers.context import Context, Reply
from handlers.errors import OperationError
from handlers.inbound import Inbound
from handlers.registry import Routes
from handlers.understanding import flow_prompt
from models import Brand, Conversation, Role, Union, User
from models.programme import BindAttempt, Invitation, MemberCard
from nlp import Intent

routes = Routes()

INVITATION_TTL = timedelta(days=7)
MAX_FAILED_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(hours=1)
# No 0/O, 1/I/L: codes are read aloud and typed on phones.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_COMMAND_WORDS = re.compile(r"^(?:绑定|邀请码|会员卡号|会员卡|会员号|卡号|[\s:：,，])+")
_MEMBER_WORDS = ("会员", "卡号")

_member_salt: bytes | None = None


class BindingError(OperationError):
    """An invitation that cannot be issued as asked (message in Chinese, for operators)."""


def member_card_salt(secret_key: str) -> bytes:
    """The HMAC key for card numbers, derived from SECRET_KEY (given by the caller, never read here)."""
    return hmac.new(secret_key.encode("utf-8"), b"ghpp/member-card/v1", hashlib.sha256).digest()


def set_member_salt(salt: bytes) -> None:
    """Called once by the composition root with a salt derived from SECRET_KEY."""
    global _member_salt
    _member_salt = salt


def normalise_card(card_no: str) -> str:
    return re.sub(r"[\s-]", "", card_no).upper()


def hash_card(card_no: str, salt: bytes | None = None) -> str:
    key = salt if salt is not None else _member_salt
    if key is None:
        raise RuntimeError("member salt not configured: call set_member_salt() at start-up")
    return hmac.new(key, normalise_card(card_no).encode("utf-8"), hashlib.sha256).hexdigest()


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode("ascii", "ignore")).hexdigest()


def create_invitation(
    session: Session, union_code: str, now: datetime, role: Role = Role.CADRE, actor: Actor | None = None
) -> tuple[Invitation, str]:
    """A new one-time code for ``union_code``; the clear code is returned once and not stored."""
    if role != Role.CADRE:
        raise BindingError("目前只支持邀请工会干部（cadre）")
    union = session.scalar(select(Union).where(Union.code == union_code))
    if union is None:
        raise BindingError(f"工会代码 {union_code} 不存在")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    invitation = Invitation(
        code_hash=_code_hash(code),
        union_id=union.id,
        role=role,
        created_by=actor.label if actor is not None else None,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    return invitation, code


def failed_attempts(session: Session, user: User, now: datetime) -> int:
    stmt = select(func.count(BindAttempt.id)).where(
        BindAttempt.user_id == user.id, BindAttempt.at > now - ATTEMPT_WINDOW
    )
    return int(session.scalar(stmt) or 0)


def _fail(ctx: Context, kind: str, text: str) -> Reply:
    ctx.session.add(BindAttempt(user_id=ctx.user.id, at=ctx.now, kind=kind))
    ctx.session.flush()
    return Reply(text)


def cadre_brands(session: Session, user: User) -> list[Brand]:
    """The brands a cadre answers for: those of the union the cadre was invited to."""
    if user.role not in (Role.CADRE, Role.ADMIN) or user.union_id is None:
        return []
    return list(session.scalars(select(Brand).where(Brand.union_id == user.union_id).order_by(Brand.id)))


def redeem_invitation(ctx: Context, code: str) -> Reply:
    invitation = ctx.session.scalar(select(Invitation).where(Invitation.code_hash == _code_hash(code)))
    if invitation is None:
        return _fail(ctx, "invite", T.INVITE_UNKNOWN)
    if invitation.used_at is not None:
        if invitation.used_by_id == ctx.user.id:
            return Reply(T.INVITE_ALREADY_YOURS.format(union=invitation.union.name))
        return _fail(ctx, "invite", T.INVITE_USED)
    if invitation.expires_at <= ctx.now:
        return _fail(ctx, "invite", T.INVITE_EXPIRED)
    # Conditional update: of two simultaneous redemptions only one changes the row.
    result = ctx.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=ctx.now, used_by_id=ctx.user.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return _fail(ctx, "invite", T.INVITE_USED)
    ctx.session.refresh(invitation)
    if ctx.user.role != Role.ADMIN:
        ctx.user.role = invitation.role
    ctx.user.union_id = invitation.union_id
    ctx.user.union_source = "invite"
    ctx.session.flush()
    brands = cadre_brands(ctx.session, ctx.user)
    names = "、".join(f"「{b.name}」" for b in brands) if brands else T.NO_BRANDS_YET
    return Reply(T.INVITE_OK.format(union=invitation.union.name, brands=names))


def bind_member(ctx: Context, card_no: str) -> Reply:
    card = ctx.session.scalar(select(MemberCard).where(MemberCard.card_hash == hash_card(card_no)))
    if card is None:
        return _fail(ctx, "member", T.MEMBER_UNKNOWN)
    if card.user_id == ctx.user.id:
        return Reply(T.MEMBER_ALREADY_YOURS)
    if card.user_id is not None:
        return _fail(ctx, "member", T.MEMBER_TAKEN)
    existing = ctx.session.scalar(select(MemberCard).where(MemberCard.user_id == ctx.user.id))
    if existing is not None:
        return Reply(T.MEMBER_HAS_OTHER_CARD)
    card.user_id = ctx.user.id
    card.bound_at = ctx.now
    # An invited cadre keeps the union of the invitation; a worker takes the member list's.
    if ctx.user.union_source != "invite":
        ctx.user.union_id = card.union_id
        ctx.user.union_source = "member"
    ctx.session.flush()
    union = ctx.session.get(Union, card.union_id)
    return Reply(T.MEMBER_OK.format(union=union.name if union else ""))


FLOW_BIND = "bind"
BIND_TTL = timedelta(minutes=10)


@routes.intent("bind")
def bind_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    raw = (intent.text or inbound.text or "").strip()
    value = _COMMAND_WORDS.sub("", raw).strip()
    if not value:
        # "绑定" alone: the next message is the code (a flow, so a card number is not a vote).
        ctx.start_flow(FLOW_BIND, {}, BIND_TTL)
        return Reply(T.BIND_ASK)
    return _bind(ctx, inbound, value)


@routes.flow(FLOW_BIND)
def bind_step(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    value = _COMMAND_WORDS.sub("", inbound.text).strip()
    if not value:
        return Reply(T.BIND_ASK)
    ctx.end_flow()
    return _bind(ctx, inbound, value)


@flow_prompt(FLOW_BIND)
def bind_prompt(ctx: Context, conv: Conversation) -> str:
    return T.BIND_ASK


def _bind(ctx: Context, inbound: Inbound, value: str) -> Reply:
    # Codes and card numbers must not sit in clear in the inbound audit table.
    ctx.redact_inbound = True
    if failed_attempts(ctx.session, ctx.user, ctx.now) >= MAX_FAILED_ATTEMPTS:
        return Reply(T.BIND_TOO_MANY)
    # One-time codes of other domains (a G reviewer's "PY…" code), registered by their domain.
    for pattern, redeem in ctx.registry.codes:
        if pattern.fullmatch(value.upper()):
            reply, accepted = redeem(ctx, value.upper())
            return reply if accepted else _fail(ctx, "code", reply.text or T.BIND_USAGE)
    is_member = any(w in inbound.text for w in _MEMBER_WORDS) or not re.fullmatch(
        rf"[0-9A-Za-z]{{{CODE_LENGTH}}}", value
    )
    if is_member:
        return bind_member(ctx, value)
    known_code = ctx.session.scalar(select(Invitation.id).where(Invitation.code_hash == _code_hash(value)))
    if known_code is None and ctx.session.scalar(
        select(MemberCard.id).where(MemberCard.card_hash == hash_card(value))
    ):
        return bind_member(ctx, value)  # an 8-character card number sent without "会员卡号"
    return redeem_invitation(ctx, value)
