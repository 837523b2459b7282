"""The router's learning loop: which logged messages the router probably got wrong, the intent
staff say they meant, and those labels as extra training lines (``python -m nlp train --extra``).

A message is worth a look when the router was unsure (confidence below ``act`` of
config/router/policy.yaml), did not understand it (``unknown``), or the sender, within a minute,
cancelled (取消) or said something else that was routed again (a rephrasing). Only messages
that are still tied to nobody but their sender are considered: redacted rows (anonymous
dialogues) carry no text, no confidence and no follow-up, and are never listed or exported.
Nothing here retrains anything: a person exports the labels and runs the training.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import Session

from handlers.errors import OperationError
from handlers.understanding import Policy, policy
from models import InboundLabel, InboundMessage
from nlp import INTENTS

FOLLOW_UP_WINDOW = timedelta(seconds=60)
TEXT_KINDS = ("text", "voice")
# A message that mentions anonymity may open an anonymous dialogue even where no handler has
# redacted it yet (e.g. asked back before the suggestion handler ran): never listed, exported
# or used as a follow-up. The router loses a few examples; the worker's trust is worth more.
ANONYMITY_WORD = "匿名"
# Replies that invite a next command: a message after them is the next step, not a rephrasing.
_LEADS_ON = frozenset({"help", "list", "cancel"})

# Button and column labels, in the order of nlp.INTENTS.
INTENT_LABELS: dict[str, str] = {
    "vote": "投票/打分",
    "list": "候选名单",
    "status": "查询进展",
    "suggest": "建议/投诉",
    "survey": "问卷",
    "progress": "上报进度",
    "bind": "绑定身份",
    "help": "帮助",
    "cancel": "取消",
    "unknown": "都不是（未理解）",
}


class Reason(enum.StrEnum):
    LOW = "low"
    UNKNOWN = "unknown"
    CANCEL = "cancel"
    REPHRASE = "rephrase"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {
    Reason.LOW: "置信度低",
    Reason.UNKNOWN: "未理解",
    Reason.CANCEL: "一分钟内取消",
    Reason.REPHRASE: "一分钟内换了说法",
}


class LabelError(OperationError):
    """A label that cannot be stored; the message is Chinese, for the person labelling."""


def thresholds() -> Policy:
    """``ask`` and ``act``: the one policy the handlers act on (config/router/policy.yaml)."""
    return policy()


def intent_label(intent: str | None) -> str:
    if intent is None:
        return ""
    return INTENT_LABELS.get(intent, intent)


def routed_label(intent: str | None) -> str:
    """What the router answered, as a column value (``unknown`` is 未理解, not a choice)."""
    return "未理解" if intent == "unknown" else intent_label(intent)


def is_routed(intent: str | None) -> bool:
    """True for an intent the router chose (not a flow answer, event or media kind)."""
    return intent in INTENTS


def normalise(text: str | None) -> str:
    """What a rephrasing must differ in: letters and digits, width and case folded."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\W_]+", "", folded)


# --- recording (called by the pipeline for every message it keeps) ----------------------------


def note_follow_up(session: Session, record: InboundMessage) -> None:
    """Mark the sender's previous routed message when ``record`` cancels or rephrases it.

    Called only for a message that is not redacted: a message of an anonymous dialogue must not
    leave a trace on the sender's other messages (its time would be readable from the mark).
    """
    prev = follow_up_candidate(session, record)
    if prev is not None:
        mark_follow_up(prev, record)


_UNREAD: Any = object()


def follow_up_candidate(
    session: Session, record: InboundMessage, previous: InboundMessage | None = _UNREAD
) -> InboundMessage | None:
    """The previous message ``record`` cancels or rephrases, or None. ``record`` may not be
    written yet (the pipeline writes it once, afterwards); ``mark_follow_up`` needs its id.
    ``previous``: the sender's latest text message, when already read with the sender."""
    if record.redacted or record.openid is None or record.msg_type not in TEXT_KINDS:
        return None
    if not is_routed(record.intent) or not normalise(record.content):
        return None
    if ANONYMITY_WORD in (record.content or ""):
        return None
    stmt = (
        select(InboundMessage)
        .where(
            InboundMessage.openid == record.openid,
            InboundMessage.msg_type.in_(TEXT_KINDS),
            InboundMessage.received_at <= record.received_at,
        )
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(1)
    )
    if record.id is not None:
        stmt = stmt.where(InboundMessage.id != record.id)
    if previous is not _UNREAD and (previous is None or previous.id != record.id):
        prev = previous
    else:
        with session.no_autoflush:
            prev = session.scalar(stmt)
    if prev is None or prev.redacted or prev.followed_by is not None:
        return None
    if record.received_at - prev.received_at > FOLLOW_UP_WINDOW:
        return None
    if not is_routed(prev.intent) or prev.intent in _LEADS_ON:
        return None
    if record.intent == "cancel" or (
        record.intent != prev.intent and normalise(record.content) != normalise(prev.content)
    ):
        return prev
    return None


def mark_follow_up(prev: InboundMessage, record: InboundMessage) -> None:
    prev.followed_by = (Reason.CANCEL if record.intent == "cancel" else Reason.REPHRASE).value
    prev.follow_up_id = record.id


# --- review -----------------------------------------------------------------------------------


def reason_condition(reason: Reason, th: Policy) -> ColumnElement[bool]:
    m = InboundMessage
    if reason is Reason.LOW:
        return and_(m.intent != "unknown", m.intent_confidence.is_not(None), m.intent_confidence < th.act)
    if reason is Reason.UNKNOWN:
        return m.intent == "unknown"
    return m.followed_by == reason.value


def reasons_of(message: InboundMessage, th: Policy) -> list[Reason]:
    """The reasons a listed message is on the page (the same rules as ``reason_condition``)."""
    out = []
    conf = message.intent_confidence
    if message.intent != "unknown" and conf is not None and conf < th.act:
        out.append(Reason.LOW)
    if message.intent == "unknown":
        out.append(Reason.UNKNOWN)
    for reason in (Reason.CANCEL, Reason.REPHRASE):
        if message.followed_by == reason.value:
            out.append(reason)
    return out


def reviewable() -> ColumnElement[bool]:
    """A logged message that may be shown and labelled at all: still tied to its sender, typed
    or spoken, with text, routed by the router."""
    m = InboundMessage
    return and_(
        m.redacted.is_(False),
        m.openid.is_not(None),
        m.msg_type.in_(TEXT_KINDS),
        m.content.is_not(None),
        m.content != "",
        ~m.content.contains(ANONYMITY_WORD, autoescape=True),
        m.intent.in_(INTENTS),
    )


def review_query(
    th: Policy,
    reason: Reason | None = None,
    labelled: bool | None = None,
    where: Iterable[ColumnElement[bool]] = (),
) -> Select[tuple[InboundMessage]]:
    """The messages to review, newest first; ``where`` adds the caller's scope."""
    reasons = [reason] if reason is not None else list(Reason)
    # The reasons first: they are cheap and rule out most rows before the text is looked at.
    stmt = select(InboundMessage).where(
        or_(false(), *(reason_condition(r, th) for r in reasons)), reviewable(), *where
    )
    if labelled is not None:
        has_label = InboundMessage.id.in_(select(InboundLabel.inbound_id))
        stmt = stmt.where(has_label if labelled else ~has_label)
    return stmt.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())


def labels_for(session: Session, message_ids: Iterable[int]) -> dict[int, InboundLabel]:
    ids = list(message_ids)
    if not ids:
        return {}
    rows = session.scalars(select(InboundLabel).where(InboundLabel.inbound_id.in_(ids)))
    return {label.inbound_id: label for label in rows}


def follow_up_texts(session: Session, messages: Iterable[InboundMessage]) -> dict[int, str]:
    """The follow-up message's text for listed messages (only follow-ups that are not redacted)."""
    ids = {m.follow_up_id for m in messages if m.follow_up_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(InboundMessage.id, InboundMessage.content).where(
            InboundMessage.id.in_(ids),
            InboundMessage.redacted.is_(False),
            ~InboundMessage.content.contains(ANONYMITY_WORD, autoescape=True),
        )
    )
    return {row_id: content or "" for row_id, content in rows}


def label_message(
    session: Session,
    message: InboundMessage,
    intent: str,
    *,
    account_id: int | None,
    labelled_by: str,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Store (or change) the label of ``message``; returns the audit before/after."""
    if intent not in INTENTS:
        raise LabelError("请选择一个有效的意图。")
    if message.redacted or message.openid is None or not message.content or ANONYMITY_WORD in message.content:
        raise LabelError("这条消息不能标注。")
    label = session.scalar(select(InboundLabel).where(InboundLabel.inbound_id == message.id))
    before = {"intent": label.intent if label else None, "routed": message.intent}
    if label is None:
        label = InboundLabel(inbound_id=message.id, intent=intent, labelled_by=labelled_by)
        session.add(label)
    label.intent = intent
    label.account_id = account_id
    label.labelled_by = labelled_by
    label.labelled_at = now
    session.flush()
    return before, {"intent": intent, "routed": message.intent}


# --- export -----------------------------------------------------------------------------------

EXPORT_HEADER = (
    "# 人工标注的公众号消息（管理后台「路由标注」导出），用于 python -m nlp train --extra 本文件。",
    "# 格式：意图 | 品牌 | 参数 | 消息。只标注了意图，品牌和参数两列留空；同一句话标注过多次时取最新的标注。",
    "# 不含 openid，不含匿名建议的任何消息。",
)


@dataclass(frozen=True)
class LabelExport:
    lines: list[str]
    written: int
    skipped: int  # messages the corpus format cannot hold as a line (see ``_corpus_text``)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _corpus_text(content: str | None) -> str | None:
    text = " ".join((content or "").split())  # one message per line, whatever was typed
    # The parser reads a line starting with "#" as a comment and "@" as a directive.
    if not text or text.startswith(("#", "@")):
        return None
    return text


def export_labels(session: Session, where: Iterable[ColumnElement[bool]] = ()) -> LabelExport:
    """The labels as ``intent | | | message`` lines; ``where`` limits the messages (scope)."""
    rows = session.execute(
        select(InboundLabel.intent, InboundMessage.content)
        .join(InboundMessage, InboundMessage.id == InboundLabel.inbound_id)
        .where(reviewable(), *where)
        .order_by(InboundLabel.labelled_at, InboundLabel.id)
    ).all()
    latest: dict[str, str] = {}
    skipped = 0
    for intent, content in rows:
        text = _corpus_text(content)
        if text is None:
            skipped += 1
            continue
        latest.pop(text, None)  # the latest label wins, and the line moves to its place
        latest[text] = intent
    lines = [*EXPORT_HEADER, *(f"{intent} | | | {text}" for text, intent in latest.items())]
    return LabelExport(lines=lines, written=len(latest), skipped=skipped)
