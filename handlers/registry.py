"""Where the domains' chat handlers, jobs and hooks meet: one ``Registry``, filled in one place.

A domain module declares its handlers on a ``Routes`` of its own (``routes = Routes()``, then
``@routes.intent("vote")`` …), which does nothing by itself, like a Flask blueprint. Each domain's
``register(registry)`` includes its modules' routes, and ``handlers.build_registry`` calls the
domains in one visible list: what runs is what that list names, not what happened to be imported.
A key claimed twice (an intent, a flow, a job, a scene prefix …) is an error when the registry is
built, at start-up, not a silent winner decided by import order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from handlers.context import Context, JobRequest, Reply
from handlers.inbound import Inbound
from handlers.measures import MeasuredResponse, RosterItem, default_roster
from handlers.ports import Channels, WeChatApi
from handlers.programme.recognition_hook import RecognitionProvider, no_recognition_data
from models import Conversation, User
from nlp import Intent

IntentHandler = Callable[[Context, Inbound, Intent], Reply]
# A flow step returns None to decline the message (it is then routed as usual).
FlowHandler = Callable[[Context, Inbound, Conversation], Reply | None]
EventHandler = Callable[[Context, Inbound], Reply]
# Exact commands answered before any flow or the router (a worker's rights over their data):
# (whole-message pattern, handler). The handler receives the match.
CommandHandler = Callable[[Context, Inbound, "re.Match[str]"], Reply]
# Called for every message the user sends (not events), before it is handled.
MessageHook = Callable[[Context, Inbound], None]
# Called for every message the user sends (not events) with the reply just made; returns the
# reply to send (e.g. with an owed answer put before it).
ReplyHook = Callable[[Context, Inbound, Reply], Reply]
# A QR-code scene "prefix:rest" (a brand's rating code "brand:12"); returns None to decline.
SceneHandler = Callable[[Context, Inbound, str], Reply | None]
# One-time codes of other domains sent as "绑定 <code>" (a G reviewer's "PY…" code): returns
# (reply, accepted).
CodeRedeemer = Callable[[Context, str], tuple[Reply, bool]]
# Receives every measured survey response (the recognition index stores them).
MeasureSink = Callable[[Session, MeasuredResponse], None]
# The brands a respondent is asked about (the recognition index's campaign rosters).
RosterProvider = Callable[[Session, User, random.Random], list[RosterItem]]
JobFunction = Callable[..., None]

F = TypeVar("F", bound=Callable[..., Any])


def _name(fn: Callable[..., Any]) -> str:
    """A hook's key: the same function registered twice is an error, two modules' hooks are not."""
    return f"{fn.__module__}.{fn.__qualname__}"


class RegistrationError(RuntimeError):
    """Two domains claimed the same key: a start-up error, never decided by import order."""


@dataclass
class Routes:
    """One module's declarations; inert until a ``Registry`` includes them."""

    entries: list[tuple[str, Any, Any]] = field(default_factory=list)

    def _add(self, kind: str, key: Any) -> Callable[[F], F]:
        def decorator(fn: F) -> F:
            self.entries.append((kind, key, fn))
            return fn

        return decorator

    def intent(self, name: str) -> Callable[[F], F]:
        return self._add("intent", name)

    def flow(self, name: str) -> Callable[[F], F]:
        return self._add("flow", name)

    def event(self, event: str) -> Callable[[F], F]:
        """WeChat event name, lower-cased: subscribe, unsubscribe, scan, click, view …"""
        return self._add("event", event.lower())

    def message(self, kind: str) -> Callable[[F], F]:
        """A non-text message kind: image, video, location, link …"""
        return self._add("message", kind)

    def click(self, key: str) -> Callable[[F], F]:
        """A menu CLICK EventKey."""
        return self._add("click", key)

    def command(self, pattern: str) -> Callable[[F], F]:
        """A command recognised by its whole text (after trimming), from inside any flow too."""
        return self._add("command", pattern)

    def job(self, name: str) -> Callable[[F], F]:
        return self._add("job", name)

    def scene(self, prefix: str) -> Callable[[F], F]:
        return self._add("scene", prefix)

    def code(self, pattern: str) -> Callable[[F], F]:
        return self._add("code", pattern)

    def before_message(self, fn: F) -> F:
        """Run ``fn`` on every user message, e.g. to deliver what is owed to the user."""
        return self._add("before_message", _name(fn))(fn)

    def after_message(self, fn: F) -> F:
        """Run ``fn`` on every user message once it is handled, with its reply."""
        return self._add("after_message", _name(fn))(fn)

    def measured_response(self, fn: F) -> F:
        return self._add("measure_sink", _name(fn))(fn)

    def roster(self, fn: F) -> F:
        return self._add("roster", "roster")(fn)

    def recognition(self, fn: F) -> F:
        return self._add("recognition", "recognition")(fn)


@dataclass
class Registry:
    intents: dict[str, IntentHandler] = field(default_factory=dict)
    flows: dict[str, FlowHandler] = field(default_factory=dict)
    events: dict[str, EventHandler] = field(default_factory=dict)
    messages: dict[str, EventHandler] = field(default_factory=dict)
    clicks: dict[str, EventHandler] = field(default_factory=dict)
    jobs: dict[str, JobFunction] = field(default_factory=dict)
    scenes: dict[str, SceneHandler] = field(default_factory=dict)
    commands: list[tuple[re.Pattern[str], CommandHandler]] = field(default_factory=list)
    codes: list[tuple[re.Pattern[str], CodeRedeemer]] = field(default_factory=list)
    message_hooks: list[MessageHook] = field(default_factory=list)
    reply_hooks: list[ReplyHook] = field(default_factory=list)
    measure_sinks: list[MeasureSink] = field(default_factory=list)
    # The brands a respondent is asked about; the recognition index's campaign rosters.
    roster: RosterProvider = default_roster
    # The recognition index's figures for a brand, or None (暂无数据).
    recognition: RecognitionProvider = no_recognition_data
    # Which module claimed each key, for the duplicate error's message.
    _owners: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def include(self, *all_routes: Routes) -> None:
        for routes in all_routes:
            for kind, key, fn in routes.entries:
                self._claim(kind, str(key), fn)
                self._put(kind, key, fn)

    def _claim(self, kind: str, key: str, fn: Callable[..., Any]) -> None:
        owner = f"{fn.__module__}.{fn.__qualname__}"
        seen = self._owners.get((kind, key))
        if seen is not None:
            raise RegistrationError(f"{kind} {key!r} registered twice: by {seen} and by {owner}")
        self._owners[(kind, key)] = owner

    def _put(self, kind: str, key: Any, fn: Any) -> None:
        tables: dict[str, dict[str, Any]] = {
            "intent": self.intents,
            "flow": self.flows,
            "event": self.events,
            "message": self.messages,
            "click": self.clicks,
            "job": self.jobs,
            "scene": self.scenes,
        }
        if kind in tables:
            tables[kind][key] = fn
        elif kind == "command":
            self.commands.append((re.compile(key), fn))
        elif kind == "code":
            self.codes.append((re.compile(key), fn))
        elif kind == "before_message":
            self.message_hooks.append(fn)
        elif kind == "after_message":
            self.reply_hooks.append(fn)
        elif kind == "measure_sink":
            self.measure_sinks.append(fn)
        elif kind == "roster":
            self.roster = fn
        elif kind == "recognition":
            self.recognition = fn
        else:  # pragma: no cover - Routes only makes the kinds above
            raise RegistrationError(f"unknown registration kind {kind!r}")

    def publish(self, session: Session, response: MeasuredResponse) -> None:
        """Hand a measured survey response to every sink (the recognition index)."""
        for sink in self.measure_sinks:
            sink(session, response)


@dataclass
class JobContext:
    session: Session
    api: WeChatApi
    now: datetime
    # Settings the jobs need (media directory, storage choice …), as plain values.
    options: dict[str, Any]
    jobs: list[JobRequest]
    # The handlers, jobs and providers in use (the same registry the chat uses).
    registry: Registry
    # What the account may send (customer-service, template, subscription messages).
    channels: Channels = field(default_factory=Channels)

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.jobs.append(JobRequest(name, kwargs))
