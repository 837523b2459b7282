"""A worker's rights over their own data (PIPL): see what is stored, delete it, withdraw consent.

「我的信息」 sends what is stored about the sender; 「删除我的信息」 and 「撤回同意」 ask first
(numbered, through the ``ask_back`` flow) and then erase. The commands are exact texts,
recognised before any flow and the router, so they work from anywhere.

What erasure does, table by table (``erase_user``):

- ``wechat_user``: the row is deleted, so the openid is gone and nothing can be pushed to it.
- ``conversation``, ``bind_attempt``, ``suggestion_quota``: deleted.
- ``survey_response``: deleted (answers may hold free text about the person; the index does
  not read them: what a survey fed into the index is already a recognition event).
- ``member_card``: unbound (the card row is the union's imported member register, known only
  by a keyed hash; it becomes free to bind again).
- ``suggestion`` (named): authorship removed (``user_id`` NULL) and the content kept, because
  it is also the union's casework (state, answer, deadlines, escalations) that the union must
  be able to account for; no one can then follow it in chat or receive its answer.
- ``suggestion_event.actor_id``, ``progress_report.author_id``, ``photo.uploader_id``,
  ``invitation.used_by_id``: set to NULL (a cadre's work stays with the brand, unsigned).
- ``inbound_message``: every message from the openid is redacted (openid, content, MsgId
  removed); the dedupe key is already a keyed hash.
- ``recognition_event`` and ``reviewer_invite``: kept as they are. They hold no openid, only
  the salted identity hash; events are append-only so that the published index (and every
  closed campaign's snapshot) stays reproducible, and keeping the hash means a deletion cannot
  be used to vote a second time.
"""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from config import rights_texts as T
from handlers.asking_back import ask_back
from handlers.clock import show_time
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.paging import pages_of
from handlers.recognition.respondents import identity_hash
from handlers.registry import Routes
from handlers.understanding import REPLY_LIMIT_BYTES, option
from models import (
    Brand,
    Conversation,
    InboundMessage,
    Role,
    Suggestion,
    SuggestionEvent,
    SurveyResponse,
    User,
)
from models.programme import BindAttempt, Invitation, MemberCard, Photo, ProgressReport
from models.recognition import Campaign, RecognitionEvent
from models.voice import SuggestionQuota

routes = Routes()


def _at(value: object) -> str:
    from datetime import UTC, datetime

    if not isinstance(value, datetime):
        return T.NEVER
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return show_time(aware)


def _snippet(text: str, n: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


# --- what is stored ------------------------------------------------------------------------------


def export_lines(session: Session, user: User) -> list[str]:
    """Everything stored about ``user``, one line each, in sections."""
    lines = [T.SECTION_ACCOUNT, T.FIRST_SEEN.format(at=_at(user.first_seen_at))]
    lines.append(T.LAST_SEEN.format(at=_at(user.last_message_at)))
    lines.append(T.SUBSCRIBED.format(state=T.SUBSCRIBED_YES if user.subscribed else T.SUBSCRIBED_NO))
    messages = session.scalar(
        select(func.count(InboundMessage.id)).where(InboundMessage.openid == user.openid)
    )
    lines.append(T.MESSAGES.format(n=messages or 0))

    lines.append(T.SECTION_BINDING)
    if user.union is None:
        lines.append(T.NOT_BOUND)
    else:
        how = T.BOUND_HOW.get(user.union_source or "", user.union_source or "")
        lines.append(T.BOUND.format(union=user.union.name, how=how))
    lines.append(T.ROLE.format(role=T.ROLE_LABELS.get(user.role.value, user.role.value)))
    if user.role is not Role.WORKER and user.union_id is not None:
        brands = session.scalars(select(Brand.name).where(Brand.union_id == user.union_id).order_by(Brand.id))
        lines.append(T.CADRE_BRANDS.format(brands="、".join(brands) or T.NEVER))
    card = session.scalar(select(MemberCard).where(MemberCard.user_id == user.id))
    lines.append(T.CARD.format(at=_at(card.bound_at)) if card is not None else T.NO_CARD)
    reports = session.scalar(select(func.count(ProgressReport.id)).where(ProgressReport.author_id == user.id))
    photos = session.scalar(select(func.count(Photo.id)).where(Photo.uploader_id == user.id))
    if reports or photos:
        lines.append(T.REPORTS.format(n=reports or 0, photos=photos or 0))

    lines.append(T.SECTION_RECOGNITION)
    ident = identity_hash(session, user.openid)
    rows = session.execute(
        select(RecognitionEvent.campaign_id, RecognitionEvent.kind).where(
            RecognitionEvent.identity_hash == ident
        )
    ).all()
    if not rows:
        lines.append(T.RECOGNITION_NONE)
    else:
        votes = Counter(c for c, kind in rows if kind == "support_vote")
        ratings = Counter(c for c, kind in rows if kind != "support_vote")
        names = dict(
            session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_({c for c, _ in rows})))
            .tuples()
            .all()
        )
        for cid in sorted({c for c, _ in rows}):
            lines.append(
                T.RECOGNITION_LINE.format(campaign=names.get(cid, ""), votes=votes[cid], ratings=ratings[cid])
            )
        lines.append(T.RECOGNITION_NOTE)

    lines.append(T.SECTION_SUGGESTIONS)
    named = list(
        session.scalars(select(Suggestion).where(Suggestion.user_id == user.id).order_by(Suggestion.id))
    )
    if not named:
        lines.append(T.SUGGESTIONS_NONE)
    for s in named:
        lines.append(
            T.SUGGESTION_LINE.format(ticket=s.ticket, state=s.state.label, snippet=_snippet(s.content))
        )
    lines.append(T.SUGGESTIONS_ANON)

    lines.append(T.SECTION_SURVEYS)
    statuses = list(session.scalars(select(SurveyResponse.status).where(SurveyResponse.user_id == user.id)))
    lines.append(T.SURVEYS.format(n=len(statuses), done=statuses.count("complete")))
    return lines


def export_pages(lines: list[str], limit: int = REPLY_LIMIT_BYTES) -> list[str]:
    """The lines cut into replies of at most ``limit`` bytes, with head, page line and foot."""
    head, foot = T.EXPORT_HEAD, T.EXPORT_FOOT
    reserve = len(T.EXPORT_PAGE.format(page=999, pages=999, next=999).encode()) + 4
    budget = limit - len(head.encode()) - len(foot.encode()) - reserve
    pages = pages_of(lines, budget)
    out = []
    for i, chunk in enumerate(pages, start=1):
        parts = [head, *chunk]
        if len(pages) > 1 and i < len(pages):
            parts.append(T.EXPORT_PAGE.format(page=i, pages=len(pages), next=i + 1))
        parts.append(foot)
        out.append("\n".join(parts))
    return out


@routes.command(r"(?:查看|查询|导出)?我的(?:个人)?(?:信息|数据|资料)\s*(?:第?\s*(\d{1,3})\s*页?)?")
def rights_export(ctx: Context, inbound: Inbound, m: re.Match[str]) -> Reply:
    # Dispatch has already left any flow (and says so), so no conversation state is listed.
    pages = export_pages(export_lines(ctx.session, ctx.user))
    page = int(m.group(1)) if m.group(1) else 1
    if not 1 <= page <= len(pages):
        return Reply(T.EXPORT_NO_PAGE.format(page=page, pages=len(pages)))
    return Reply(pages[page - 1])


# --- deleting -------------------------------------------------------------------------------------


@routes.command(r"(?:请|我要|我想)?(?:删除|清除|注销)我的(?:个人)?(?:信息|数据|资料)")
def rights_delete_ask(ctx: Context, inbound: Inbound, m: re.Match[str]) -> Reply:
    return ask_back(
        ctx,
        inbound,
        [option("rights_delete")],
        confirm=True,
        lead=T.DELETE_LEAD,
        cancelled=T.DELETE_CANCELLED,
    )


@routes.command(r"(?:我要|我想)?(?:撤回|撤销|取消)(?:个人信息)?(?:同意|授权)")
def rights_withdraw_ask(ctx: Context, inbound: Inbound, m: re.Match[str]) -> Reply:
    return ask_back(
        ctx,
        inbound,
        [option("rights_withdraw")],
        confirm=True,
        lead=T.WITHDRAW_LEAD,
        cancelled=T.DELETE_CANCELLED,
    )


def erase_user(session: Session, user: User) -> tuple[int, int]:
    """Delete or anonymise everything tied to ``user`` (see the module doc).

    Returns (named suggestions detached, recognition events kept in anonymous form).
    """
    uid, openid = user.id, user.openid
    kept = (
        session.scalar(
            select(func.count(RecognitionEvent.id)).where(
                RecognitionEvent.identity_hash == identity_hash(session, openid)
            )
        )
        or 0
    )
    for model in (Conversation, BindAttempt, SuggestionQuota, SurveyResponse):
        session.execute(delete(model).where(model.user_id == uid))
    session.execute(update(MemberCard).where(MemberCard.user_id == uid).values(user_id=None, bound_at=None))
    detached = session.execute(update(Suggestion).where(Suggestion.user_id == uid).values(user_id=None))
    session.execute(update(SuggestionEvent).where(SuggestionEvent.actor_id == uid).values(actor_id=None))
    session.execute(update(ProgressReport).where(ProgressReport.author_id == uid).values(author_id=None))
    session.execute(update(Photo).where(Photo.uploader_id == uid).values(uploader_id=None))
    session.execute(update(Invitation).where(Invitation.used_by_id == uid).values(used_by_id=None))
    for record in session.scalars(select(InboundMessage).where(InboundMessage.openid == openid)):
        record.redact()
    session.flush()
    session.delete(user)
    session.flush()
    return int(getattr(detached, "rowcount", 0) or 0), kept


def _erase(ctx: Context, lead: str = "") -> Reply:
    ctx.redact_inbound = True  # this very message must not keep the openid either
    ctx.end_flow()
    detached, kept = erase_user(ctx.session, ctx.user)
    return Reply(lead + T.DELETED.format(n=detached, votes=kept))


@routes.intent("rights_delete")
def rights_delete(ctx: Context, inbound: Inbound, intent: object) -> Reply:
    """Reached only as the answer "1" to the confirmation (the router never names it)."""
    return _erase(ctx)


@routes.intent("rights_withdraw")
def rights_withdraw(ctx: Context, inbound: Inbound, intent: object) -> Reply:
    # Withdrawal erases the same way; with the follower row gone, nothing is pushed any more.
    return _erase(ctx, T.WITHDRAWN)
