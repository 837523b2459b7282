"""Where domain modules register their chat handlers and background jobs.

Each domain module decorates its functions; ``handlers/__init__`` imports the modules, so
adding a domain is one import line and its own decorators, not an edit to a central table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from handlers.context import Context, JobRequest, Reply
from handlers.inbound import Inbound
from handlers.ports import Channels, WeChatApi
from models import Conversation
from nlp import Intent

IntentHandler = Callable[[Context, Inbound, Intent], Reply]
# A flow step returns None to decline the message (it is then routed as usual).
FlowHandler = Callable[[Context, Inbound, Conversation], Reply | None]
EventHandler = Callable[[Context, Inbound], Reply]


@dataclass
class JobContext:
    session: Session
    api: WeChatApi
    now: datetime
    # Settings the jobs need (media directory, storage choice …), as plain values.
    options: dict[str, Any]
    jobs: list[JobRequest]
    # What the account may send (customer-service, template, subscription messages).
    channels: Channels = field(default_factory=Channels)

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.jobs.append(JobRequest(name, kwargs))


JobFunction = Callable[..., None]

INTENT_HANDLERS: dict[str, IntentHandler] = {}
FLOW_HANDLERS: dict[str, FlowHandler] = {}
EVENT_HANDLERS: dict[str, EventHandler] = {}
MESSAGE_HANDLERS: dict[str, EventHandler] = {}
CLICK_HANDLERS: dict[str, EventHandler] = {}
JOBS: dict[str, JobFunction] = {}
# Exact commands answered before any flow or the router (a worker's rights over their data):
# (whole-message pattern, handler). The handler receives the match.
CommandHandler = Callable[[Context, Inbound, "re.Match[str]"], Reply]
COMMAND_HANDLERS: list[tuple[re.Pattern[str], CommandHandler]] = []
# Called for every message the user sends (not events), before it is handled.
MessageHook = Callable[[Context, Inbound], None]
MESSAGE_HOOKS: list[MessageHook] = []
# Called for every message the user sends (not events) with the reply just made; returns the
# reply to send (e.g. with an owed answer put before it).
ReplyHook = Callable[[Context, Inbound, Reply], Reply]
REPLY_HOOKS: list[ReplyHook] = []

F = TypeVar("F", bound=Callable[..., Any])


def _register(table: dict[str, Any], key: str) -> Callable[[F], F]:
    def decorator(fn: F) -> F:
        if key in table and table[key] is not fn:
            raise RuntimeError(f"handler for {key!r} registered twice")
        table[key] = fn
        return fn

    return decorator


def on_intent(name: str) -> Callable[[F], F]:
    return _register(INTENT_HANDLERS, name)


def on_flow(flow: str) -> Callable[[F], F]:
    return _register(FLOW_HANDLERS, flow)


def on_event(event: str) -> Callable[[F], F]:
    """WeChat event name, lower-cased: subscribe, unsubscribe, scan, click, view …"""
    return _register(EVENT_HANDLERS, event.lower())


def on_message(kind: str) -> Callable[[F], F]:
    """A non-text message kind: image, video, location, link …"""
    return _register(MESSAGE_HANDLERS, kind)


def on_click(key: str) -> Callable[[F], F]:
    """A menu CLICK EventKey."""
    return _register(CLICK_HANDLERS, key)


def before_message(fn: MessageHook) -> MessageHook:
    """Run ``fn`` on every user message, e.g. to deliver what is owed to the user."""
    if fn not in MESSAGE_HOOKS:
        MESSAGE_HOOKS.append(fn)
    return fn


def after_message(fn: ReplyHook) -> ReplyHook:
    """Run ``fn`` on every user message once it is handled, with its reply."""
    if fn not in REPLY_HOOKS:
        REPLY_HOOKS.append(fn)
    return fn


def on_command(pattern: str) -> Callable[[CommandHandler], CommandHandler]:
    """A command recognised by its whole text (after trimming), from inside any flow too."""
    rx = re.compile(pattern)

    def decorator(fn: CommandHandler) -> CommandHandler:
        if any(p.pattern == rx.pattern for p, _ in COMMAND_HANDLERS):
            raise RuntimeError(f"command {pattern!r} registered twice")
        COMMAND_HANDLERS.append((rx, fn))
        return fn

    return decorator


def job(name: str) -> Callable[[F], F]:
    return _register(JOBS, name)
