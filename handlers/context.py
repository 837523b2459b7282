"""What a handler receives (Context) and returns (Reply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.ports import Channels, PageLinks
from models import Conversation, User
from nlp import Router

if TYPE_CHECKING:
    from handlers.registry import Registry


@dataclass(frozen=True)
class Article:
    title: str
    description: str = ""
    url: str = ""
    image: str = ""


@dataclass(frozen=True)
class Reply:
    """A passive reply. Empty (no text, no articles) renders as WeChat's ``success``."""

    text: str | None = None
    articles: tuple[Article, ...] = ()
    # The reply of an anonymous exchange: if late, it is held for the sender, never pushed.
    private: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.text and not self.articles

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "articles": [a.__dict__ for a in self.articles],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=data.get("text"),
            articles=tuple(Article(**a) for a in data.get("articles", [])),
        )


EMPTY = Reply()


@dataclass(frozen=True)
class JobRequest:
    """Slow work to run after commit; arguments are ids and plain values, never ORM objects."""

    name: str
    kwargs: dict[str, Any]


@dataclass
class Context:
    session: Session
    user: User
    now: datetime
    router: Router
    # The handlers, jobs and cross-domain providers in use (built once at start-up).
    registry: Registry
    jobs: list[JobRequest] = field(default_factory=list)
    # Set by dispatch to the intent it used, for the audit record.
    intent_name: str | None = None
    intent_confidence: float | None = None
    # Set when the message must not stay tied to its sender (anonymous suggestion).
    redact_inbound: bool = False
    # The option the worker picked when this message resumes an asked-back action (its extra
    # arguments, e.g. the campaign chosen); empty otherwise.
    chosen: dict[str, Any] = field(default_factory=dict)
    # What the account may send besides this reply (bot/capabilities.py decides at start-up).
    channels: Channels = field(default_factory=Channels)
    # Links to the H5 pages for replies (set by the pipeline when the pages are reachable).
    page_links: PageLinks | None = None
    # The sender's conversation row as last read or written here: a message asks several times.
    _conv: Conversation | None = field(default=None, init=False, repr=False, compare=False)
    _conv_known: bool = field(default=False, init=False, repr=False, compare=False)

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.jobs.append(JobRequest(name, kwargs))

    # Conversation state lives in the database, in the same transaction as the work it guards.
    def _row(self) -> Conversation | None:
        conv = self._conv
        if not self._conv_known or (
            conv is not None and (conv not in self.session or conv in self.session.deleted)
        ):
            conv = self.session.scalar(select(Conversation).where(Conversation.user_id == self.user.id))
            self._conv, self._conv_known = conv, True
        return conv

    def know_conversation(self, conv: Conversation | None) -> None:
        """The sender's conversation row as just read with the sender (saves a query)."""
        self._conv, self._conv_known = conv, True

    def conversation(self) -> Conversation | None:
        conv = self._row()
        if conv is not None and conv.expires_at <= self.now:
            self.session.delete(conv)
            self.session.flush()
            self._conv = None
            return None
        return conv

    def start_flow(self, flow: str, data: dict[str, Any], ttl: timedelta) -> Conversation:
        conv = self._row()
        if conv is None:
            conv = Conversation(user_id=self.user.id, flow=flow, data={}, expires_at=self.now)
            self.session.add(conv)
        conv.flow = flow
        conv.data = dict(data)
        conv.updated_at = self.now
        conv.expires_at = self.now + ttl
        self.session.flush()
        self._conv, self._conv_known = conv, True
        return conv

    def update_flow(self, conv: Conversation, data: dict[str, Any], ttl: timedelta) -> None:
        conv.data = dict(data)  # a new dict, so the JSON column sees the change
        conv.updated_at = self.now
        conv.expires_at = self.now + ttl
        self.session.flush()

    def end_flow(self) -> None:
        conv = self._row()
        if conv is not None:
            self.session.delete(conv)
            self.session.flush()
        self._conv, self._conv_known = None, True
