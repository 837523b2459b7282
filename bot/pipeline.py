"""One inbound message, start to end, without Flask: dedupe → one transaction → jobs → cache.

Order matters: the duplicate filter runs before any work; the inbound record is inserted
first in the transaction so its unique key stops a second delivery even without Redis; jobs
are written to the outbox in that same transaction and handed to the queue after commit, so
they exist exactly when the change does and never see uncommitted rows.

The duplicate filter is a short lease, not a long lock: the first delivery holds the key for
``LEASE_S`` and renews it every ``LEASE_S / 3`` while it works. A process killed mid-message
stops renewing, and WeChat's next retry (every ~5 s, three times) finds the lease gone and
processes the message again; the unique key on the inbound record still stops a double effect.
Any answer ends WeChat's retries, so a retry that finds a live lease waits for it (up to one
lease) before it answers ``success``: it either gets the reply, or takes over from a dead holder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.leases import Leases
from bot.outbox import Outbox
from bot.router_cache import RouterCache
from bot.store import Store, StoreUnavailable
from config import texts
from handlers.anonymity import day_stamp, seal, unseal
from handlers.context import Context, JobRequest, Reply
from handlers.dispatch import handle
from handlers.held_replies import hold_reply, take_held
from handlers.inbound import Inbound
from handlers.members import resolve_sender
from handlers.ports import Channels, PageLinks
from handlers.registry import Registry
from handlers.router_learning import follow_up_candidate, mark_follow_up
from models import InboundMessage, utcnow

log = logging.getLogger(__name__)

PROCESSING = "__processing__"
_SEALED = "sealed:"
# Short enough that a dead holder's lease is gone before WeChat's last retry (~15 s after the
# first delivery, the retries ~5 s apart); renewed three times per lease while the work runs.
LEASE_S = 3.0
_POLL_S = 0.1
# Marker replies of _run: not cached, the lease is released instead (nothing was committed,
# or the first delivery's own reply must not be overwritten).
_FAILED = Reply(texts.INTERNAL_ERROR)
_DUPLICATE = Reply(texts.ALREADY_HANDLED)
# Messages that are not the user talking to us: they open no 48-hour service window.
_PASSIVE_EVENTS = {"unsubscribe", "templatesendjobfinish", "view"}


def hashed_key(inbound: Inbound, secret: bytes) -> str:
    # Keyed hash so neither Redis nor the audit table holds "openid + MsgId" in clear, and a
    # dump cannot be brute-forced back to the sender of an anonymous suggestion without the key.
    return hmac.new(secret, inbound.dedupe_key.encode("utf-8"), hashlib.sha256).hexdigest()


class Pipeline:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        store: Store,
        queue: Outbox,
        routers: RouterCache,
        *,
        budget_s: float = 4.0,
        dedupe_ttl_s: float = 300,
        dedupe_secret: bytes,
        lease_s: float = LEASE_S,
        registry: Registry,
        channels: Channels | None = None,
    ) -> None:
        self.dedupe_secret = dedupe_secret
        self.registry = registry
        self.channels = channels or Channels()
        self.session_factory = session_factory
        self.store = store
        self.queue = queue
        self.routers = routers
        self.budget_s = budget_s
        self.dedupe_ttl_s = dedupe_ttl_s
        self.lease_s = lease_s
        self._leases = Leases(store, lease_s)
        self._executor = ThreadPoolExecutor(8, thread_name_prefix="msg")
        # Links to the H5 pages for replies; set by bot.h5 when it is registered (None: no links).
        self.page_links: PageLinks | None = None

    def process(self, inbound: Inbound) -> Reply:
        """The reply to send now. An empty reply means ``success`` (nothing to say)."""
        started = time.monotonic()
        key = "dedupe:" + hashed_key(inbound, self.dedupe_secret)
        token = f"{PROCESSING}:{uuid.uuid4().hex}"
        acquired = self._acquire(key, token)
        # Without a lease of our own (the store is down, or an earlier delivery's lease ran out)
        # the database's unique key is the only guard: the inbound row goes first, so a
        # duplicate stops before any work. With the lease it is written once, at the end.
        guard_first = acquired is None
        if acquired is False:
            # Waiting costs reply budget: keep enough of it to do the work if we take over.
            wait_until = started + min(self.lease_s + 2 * _POLL_S, self.budget_s - 1.0)
            cached, first = self._await_holder(key, token, wait_until)
            if not first:
                log.info("duplicate delivery %s: %s", key[-12:], "replayed" if cached else "still running")
                return cached or Reply()
            log.warning("message %s: lease of an earlier delivery expired; processing it again", key[-12:])
            guard_first = True

        future = self._executor.submit(self._run, inbound, guard_first)
        try:
            reply = future.result(timeout=max(0.1, self.budget_s - (time.monotonic() - started)))
        except FutureTimeout:
            # Answer within WeChat's deadline; the real reply follows as a service message.
            future.add_done_callback(lambda f: self._deliver_late(inbound.openid, f))
            reply = Reply(texts.RECEIVED_PROCESSING)
            log.warning("message %s over budget (%.1fs); reply will be pushed", key[-12:], self.budget_s)
        self._leases.drop(key)
        if reply is _FAILED or reply is _DUPLICATE:
            # Failed: nothing was committed, a retry may try again. Duplicate: the first
            # delivery's reply, if it comes, is the one to keep.
            with contextlib.suppress(StoreUnavailable):
                self.store.delete_if_equals(key, token)
        else:
            self._remember(key, reply)
        return reply

    def _acquire(self, key: str, token: str) -> bool | None:
        """True: the lease is ours; False: another delivery holds it; None: no store to ask."""
        try:
            first = self.store.set_if_absent(key, token, self.lease_s)
        except StoreUnavailable:
            log.warning("store unavailable; relying on the database to catch duplicates")
            return None
        if first:
            self._leases.hold(key, token)
        return first

    def _await_holder(self, key: str, token: str, wait_until: float) -> tuple[Reply | None, bool]:
        """(the holder's reply, False), or (None, True) when its lease ran out and we took over."""
        while True:
            try:
                value = self.store.get(key)
            except StoreUnavailable:
                return None, False  # cannot tell: the database's unique key still guards the work
            if value is not None and not value.startswith(PROCESSING):
                return _decode(value), False
            if value is None and self._acquire(key, token) is not False:
                return None, True
            if time.monotonic() >= wait_until:
                return None, False
            time.sleep(_POLL_S)

    def _cached(self, key: str) -> Reply | None:
        try:
            value = self.store.get(key)
        except StoreUnavailable:
            return None
        if value is None or value.startswith(PROCESSING):
            return None
        return _decode(value)

    def _remember(self, key: str, reply: Reply) -> None:
        # The reply of an anonymous exchange holds its ticket and code: sealed in Redis.
        value = (
            _SEALED + seal(reply.to_json())
            if reply.private
            else json.dumps(reply.to_json(), ensure_ascii=False)
        )
        with contextlib.suppress(StoreUnavailable):
            self.store.set(key, value, self.dedupe_ttl_s)

    def _deliver_late(self, openid: str, future: Future[Reply]) -> None:
        try:
            reply = future.result()
        except Exception:  # noqa: BLE001  (already logged by _run)
            return
        if not reply.text or reply is _DUPLICATE:
            return
        if reply.private:
            # An anonymous exchange: a push would put its ticket and code beside the openid in the
            # job payload and the API call log. Held (sealed) for the sender's next message instead.
            try:
                with self.session_factory() as session, session.begin():
                    hold_reply(session, openid, reply.text, utcnow())
            except Exception:
                log.exception("could not hold a late reply")
            return
        self.queue.enqueue(JobRequest("send_text", {"openid": openid, "text": reply.text}))

    def _run(self, inbound: Inbound, guard_first: bool = False) -> Reply:
        started = time.monotonic()
        now = utcnow()
        job_ids: list[int] = []
        try:
            with self.session_factory() as session, session.begin():
                record = InboundMessage(
                    dedupe_key=hashed_key(inbound, self.dedupe_secret),
                    openid=inbound.openid,
                    msg_type=inbound.kind,
                    event=inbound.event,
                    msg_id=inbound.msg_id,
                    content=_audit_content(inbound),
                    received_at=now,
                )
                if guard_first:
                    session.add(record)
                    session.flush()  # the unique key: a second delivery stops here
                sender = resolve_sender(session, inbound.openid, now)
                user = sender.user
                ctx = Context(
                    session=session,
                    user=user,
                    now=now,
                    router=self.routers.get(session),
                    registry=self.registry,
                    channels=self.channels,
                    page_links=self.page_links,
                )
                ctx.know_conversation(sender.conversation)
                reply = handle(ctx, inbound)
                if (inbound.event or "").lower() not in _PASSIVE_EVENTS:
                    held = take_held(session, inbound.openid, now)
                    if held:
                        ctx.redact_inbound = True  # it carries an anonymous ticket and code
                        reply = _with_held(held, reply)
                # Normally written once, complete, here: its unique key still stops a second
                # delivery (that transaction fails at this point and nothing of it is kept).
                record.intent = ctx.intent_name
                record.intent_confidence = ctx.intent_confidence
                record.latency_ms = int((time.monotonic() - started) * 1000)
                if ctx.redact_inbound:
                    # Neither the instant nor the user's last_message_at: both would match the
                    # sender's other rows to this exchange.
                    record.redact(day_stamp(now))
                    reply = dataclasses.replace(reply, private=True)
                    session.add(record)
                else:
                    previous = follow_up_candidate(session, record, sender.previous_text)
                    session.add(record)
                    if previous is not None:
                        session.flush()  # the follow-up mark points at this record's id
                        mark_follow_up(previous, record)
                    passive = (inbound.event or "").lower() in _PASSIVE_EVENTS
                    if not passive and _stale(user.last_message_at, now):
                        user.last_message_at = now
                job_ids = self.queue.stage(session, ctx.jobs)  # committed with the change, or not at all
                session.flush()  # the unique key of a second delivery fails here, inside the try
        except IntegrityError:
            if self._already_recorded(inbound):
                log.info("duplicate caught by the database")
                return self._cached("dedupe:" + hashed_key(inbound, self.dedupe_secret)) or _DUPLICATE
            log.exception("integrity error while handling a message")
            return _FAILED
        except Exception:
            log.exception("handler failed (intent unknown); user told to retry")
            return _FAILED
        self.queue.dispatch(job_ids)
        return reply

    def _already_recorded(self, inbound: Inbound) -> bool:
        with self.session_factory() as session:
            stmt = select(InboundMessage.id).where(
                InboundMessage.dedupe_key == hashed_key(inbound, self.dedupe_secret)
            )
            return session.scalar(stmt) is not None


# The 48-hour service window needs the last message's time to the minute, not to the message.
_LAST_MESSAGE_STEP = timedelta(minutes=1)


def _stale(last: datetime | None, now: datetime) -> bool:
    return last is None or now - last >= _LAST_MESSAGE_STEP


_REPLY_BYTES = 2000  # WeChat's passive reply limit is 2048 bytes


def _with_held(held: list[str], reply: Reply) -> Reply:
    """The held late replies first, then this message's own reply if it still fits."""
    text = "\n\n".join([texts.HELD_REPLY_HEADER, *held])
    if reply.text:
        both = f"{text}\n\n{reply.text}"
        text = both if len(both.encode("utf-8")) <= _REPLY_BYTES else f"{text}\n\n{texts.HELD_REPLY_RESEND}"
    return Reply(text, reply.articles)


def _decode(value: str) -> Reply | None:
    """A cached reply as stored by ``_remember``: plain JSON, or sealed for an anonymous exchange."""
    if value.startswith(_SEALED):
        data = unseal(value[len(_SEALED) :])
        return Reply.from_json(data) if data is not None else None
    return Reply.from_json(json.loads(value))


def _audit_content(inbound: Inbound) -> str | None:
    if inbound.kind in ("text", "voice", "link"):
        return inbound.content
    if inbound.kind == "event":
        return inbound.event_key
    if inbound.kind == "location":
        return json.dumps(inbound.extra, ensure_ascii=False)
    return inbound.media_id
