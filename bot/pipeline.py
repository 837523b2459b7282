"""One inbound message, start to end, without Flask: dedupe → one transaction → jobs → cache.

Order matters: the duplicate filter runs before any work; the inbound record is inserted
first in the transaction so its unique key stops a second delivery even without Redis; jobs
are enqueued only after commit, so they never see uncommitted rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.jobs import JobQueue
from bot.store import Store, StoreUnavailable
from config import texts
from handlers.anonymity import day_stamp, seal, unseal
from handlers.context import Context, JobRequest, Reply
from handlers.dispatch import handle
from handlers.held_replies import hold_reply, take_held
from handlers.inbound import Inbound
from handlers.members import resolve_user
from handlers.router_learning import note_follow_up
from models import Brand, BrandAlias, InboundMessage, utcnow
from nlp import BrandEntry, Router

log = logging.getLogger(__name__)

PROCESSING = "__processing__"
_SEALED = "sealed:"
# Messages that are not the user talking to us: they open no 48-hour service window.
_PASSIVE_EVENTS = {"unsubscribe", "templatesendjobfinish", "view"}


def hashed_key(inbound: Inbound, secret: bytes) -> str:
    # Keyed hash so neither Redis nor the audit table holds "openid + MsgId" in clear, and a
    # dump cannot be brute-forced back to the sender of an anonymous suggestion without the key.
    return hmac.new(secret, inbound.dedupe_key.encode("utf-8"), hashlib.sha256).hexdigest()


class RouterCache:
    """The router for the current brand catalogue, rebuilt only when the catalogue changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signature: tuple[object, ...] | None = None
        self._router: Router | None = None

    def get(self, session: Session) -> Router:
        signature = tuple(
            session.execute(
                select(
                    func.count(Brand.id),
                    func.max(Brand.id),
                    func.max(Brand.updated_at),
                    select(func.count(BrandAlias.id)).scalar_subquery(),
                    select(func.max(BrandAlias.id)).scalar_subquery(),
                )
            ).one()
        )
        with self._lock:
            if self._router is not None and signature == self._signature:
                return self._router
        brands = session.scalars(select(Brand).order_by(Brand.id)).all()
        router = Router([BrandEntry(b.name, tuple(b.alias_names)) for b in brands])
        with self._lock:
            self._router, self._signature = router, signature
        return router


class Pipeline:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        store: Store,
        queue: JobQueue,
        routers: RouterCache,
        *,
        budget_s: float = 4.0,
        dedupe_ttl_s: float = 300,
        dedupe_secret: bytes,
    ) -> None:
        self.dedupe_secret = dedupe_secret
        self.session_factory = session_factory
        self.store = store
        self.queue = queue
        self.routers = routers
        self.budget_s = budget_s
        self.dedupe_ttl_s = dedupe_ttl_s
        self._executor = ThreadPoolExecutor(8, thread_name_prefix="msg")

    def process(self, inbound: Inbound) -> Reply:
        """The reply to send now. An empty reply means ``success`` (nothing to say)."""
        key = "dedupe:" + hashed_key(inbound, self.dedupe_secret)
        try:
            first = self.store.set_if_absent(key, PROCESSING, self.dedupe_ttl_s)
        except StoreUnavailable:
            log.warning("store unavailable; relying on the database to catch duplicates")
            first = True
        if not first:
            cached = self._cached(key)
            log.info("duplicate delivery %s: %s", key[-12:], "replayed" if cached else "still running")
            return cached or Reply()

        future = self._executor.submit(self._run, inbound)
        try:
            reply = future.result(timeout=self.budget_s)
        except FutureTimeout:
            # Answer within WeChat's deadline; the real reply follows as a service message.
            future.add_done_callback(lambda f: self._deliver_late(inbound.openid, f))
            reply = Reply(texts.RECEIVED_PROCESSING)
            log.warning("message %s over budget (%.1fs); reply will be pushed", key[-12:], self.budget_s)
        self._remember(key, reply)
        return reply

    def _cached(self, key: str) -> Reply | None:
        try:
            value = self.store.get(key)
        except StoreUnavailable:
            return None
        if value is None or value == PROCESSING:
            return None
        if value.startswith(_SEALED):
            data = unseal(value[len(_SEALED) :])
            return Reply.from_json(data) if data is not None else None
        return Reply.from_json(json.loads(value))

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
        if not reply.text:
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

    def _run(self, inbound: Inbound) -> Reply:
        started = time.monotonic()
        now = utcnow()
        jobs: list[JobRequest] = []
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
                session.add(record)
                session.flush()  # the unique key: a second delivery stops here
                user = resolve_user(session, inbound.openid, now)
                ctx = Context(session=session, user=user, now=now, router=self.routers.get(session))
                reply = handle(ctx, inbound)
                if (inbound.event or "").lower() not in _PASSIVE_EVENTS:
                    held = take_held(session, inbound.openid, now)
                    if held:
                        ctx.redact_inbound = True  # it carries an anonymous ticket and code
                        reply = _with_held(held, reply)
                record.intent = ctx.intent_name
                record.intent_confidence = ctx.intent_confidence
                record.latency_ms = int((time.monotonic() - started) * 1000)
                if ctx.redact_inbound:
                    # Neither the instant nor the user's last_message_at: both would match the
                    # sender's other rows to this exchange.
                    record.redact(day_stamp(now))
                    reply = dataclasses.replace(reply, private=True)
                else:
                    note_follow_up(session, record)
                    if (inbound.event or "").lower() not in _PASSIVE_EVENTS:
                        user.last_message_at = now
                jobs = ctx.jobs
        except IntegrityError:
            if self._already_recorded(inbound):
                log.info("duplicate caught by the database")
                return Reply()
            log.exception("integrity error while handling a message")
            return Reply(texts.INTERNAL_ERROR)
        except Exception:
            log.exception("handler failed (intent unknown); user told to retry")
            return Reply(texts.INTERNAL_ERROR)
        for job in jobs:
            try:
                self.queue.enqueue(job)
            except Exception:
                log.exception("could not enqueue job %s", job.name)
        return reply

    def _already_recorded(self, inbound: Inbound) -> bool:
        with self.session_factory() as session:
            stmt = select(InboundMessage.id).where(
                InboundMessage.dedupe_key == hashed_key(inbound, self.dedupe_secret)
            )
            return session.scalar(stmt) is not None


_REPLY_BYTES = 2000  # WeChat's passive reply limit is 2048 bytes


def _with_held(held: list[str], reply: Reply) -> Reply:
    """The held late replies first, then this message's own reply if it still fits."""
    text = "\n\n".join([texts.HELD_REPLY_HEADER, *held])
    if reply.text:
        both = f"{text}\n\n{reply.text}"
        text = both if len(both.encode("utf-8")) <= _REPLY_BYTES else f"{text}\n\n{texts.HELD_REPLY_RESEND}"
    return Reply(text, reply.articles)


def _audit_content(inbound: Inbound) -> str | None:
    if inbound.kind in ("text", "voice", "link"):
        return inbound.content
    if inbound.kind == "event":
        return inbound.event_key
    if inbound.kind == "location":
        return json.dumps(inbound.extra, ensure_ascii=False)
    return inbound.media_id
