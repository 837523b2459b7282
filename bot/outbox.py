"""The transactional outbox: jobs are rows written with the change that asked for them.

``stage`` adds the rows inside the caller's transaction, so a job exists exactly when its
change was committed: nothing is lost when Redis is down at commit, nothing is enqueued for a
change that was rolled back. ``dispatch`` hands freshly committed rows on at once (best effort);
``run`` (inside ``flask worker``) relays whatever is left, every second. A row is handed off
under a deterministic queue job id and marked sent with it, so a second relay of the same row
(two relays, or one that died before marking) finds the job and does not enqueue it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.jobs import Transport
from bot.store import CircuitBreaker
from handlers.context import JobRequest
from models import OutboxJob, utcnow

log = logging.getLogger(__name__)

RELAY_INTERVAL_S = 1.0
RELAY_BATCH = 100
# Sent rows are kept a week for the operator ("was it ever queued?"), then purged.
KEEP_SENT = timedelta(days=7)
PURGE_EVERY_S = 3600.0


class Outbox:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        transport: Transport,
        *,
        prefix: str = "ghpp",
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.transport = transport
        self.prefix = prefix
        self.breaker = breaker

    def job_id(self, row_id: int) -> str:
        return f"{self.prefix}-outbox-{row_id}"

    # --- writing -----------------------------------------------------------------------------

    def stage(self, session: Session, requests: Iterable[JobRequest]) -> list[int]:
        """Add jobs to the caller's transaction; returns their ids for ``dispatch`` after commit."""
        rows = [OutboxJob(name=r.name, kwargs=dict(r.kwargs), created_at=utcnow()) for r in requests]
        if not rows:
            return []
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]

    def enqueue(self, request: JobRequest) -> None:
        """A job on its own (no change to go with it): its own transaction, then dispatch."""
        with self.session_factory() as session, session.begin():
            ids = self.stage(session, [request])
        self.dispatch(ids)

    # --- relaying ----------------------------------------------------------------------------

    def dispatch(self, ids: Sequence[int]) -> None:
        """Hand just-committed rows on now; on any failure they wait for the relay loop."""
        if not ids:
            return
        if self.breaker is not None and self.breaker.is_open:
            return  # the queue failed a moment ago: do not make the reply wait on it again
        try:
            # In-process jobs have no separate relay: every hand-off also sweeps rows left
            # unsent (a crash between commit and hand-off), so they run with the next job.
            self.relay(None if not self.transport.durable else ids)
        except Exception:  # the rows are safe in the table; the relay loop retries
            log.warning("could not hand %d job(s) to the queue now; the relay will", len(ids), exc_info=True)

    def relay(self, ids: Sequence[int] | None = None, limit: int = RELAY_BATCH) -> int:
        """Hand unsent rows (all, or those of ``ids``) to the transport; returns how many."""
        error: Exception | None = None
        with self.session_factory() as session, session.begin():
            stmt = select(OutboxJob).where(OutboxJob.sent_at.is_(None)).order_by(OutboxJob.id).limit(limit)
            if ids is not None:
                stmt = stmt.where(OutboxJob.id.in_(list(ids)))
            # Two relays (two workers, or a worker and a web process) skip each other's rows.
            rows = session.scalars(stmt.with_for_update(skip_locked=True)).all()
            if not rows:
                return 0
            if self.transport.durable:
                sent, error = self._hand_off_then_mark(rows)
            else:
                claimed = [(self.job_id(row.id), JobRequest(row.name, dict(row.kwargs))) for row in rows]
                for row, (job_id, _) in zip(rows, claimed, strict=True):
                    row.sent_at, row.queue_job_id = utcnow(), job_id
        if self.transport.durable:
            if error is not None and sent == 0:
                raise error
            return sent
        # In-process: marked and committed first, so the job's own transaction does not wait
        # on this one (SQLite has one writer); a crash now loses it exactly as before.
        for job_id, request in claimed:
            self.transport.submit(request, job_id)
        return len(claimed)

    def _hand_off_then_mark(self, rows: Sequence[OutboxJob]) -> tuple[int, Exception | None]:
        sent = 0
        for row in rows:
            job_id = self.job_id(row.id)
            try:
                self.transport.submit(JobRequest(row.name, dict(row.kwargs)), job_id)
            except Exception as exc:  # noqa: BLE001  (counted on the row, raised by relay)
                row.failures += 1
                if self.breaker is not None:
                    self.breaker.failure()
                return sent, exc  # the rows handed off so far are marked; the rest wait
            if self.breaker is not None:
                self.breaker.success()
            row.sent_at, row.queue_job_id = utcnow(), job_id
            sent += 1
        return sent, None

    def pending(self) -> int:
        with self.session_factory() as session:
            stmt = select(func.count()).select_from(OutboxJob).where(OutboxJob.sent_at.is_(None))
            return int(session.scalar(stmt) or 0)

    def purge_sent(self) -> int:
        with self.session_factory() as session, session.begin():
            cutoff = utcnow() - KEEP_SENT
            result = session.execute(delete(OutboxJob).where(OutboxJob.sent_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    def run(self, stop: threading.Event, interval_s: float = RELAY_INTERVAL_S) -> None:
        """The relay loop (a thread of ``flask worker``): until ``stop`` is set."""
        next_purge = time.monotonic()
        while not stop.is_set():
            try:
                while self.relay() == RELAY_BATCH and not stop.is_set():
                    pass  # a backlog: keep going without sleeping
                if time.monotonic() >= next_purge:
                    self.purge_sent()
                    next_purge = time.monotonic() + PURGE_EVERY_S
            except Exception:  # Redis or the database away: try again shortly
                log.warning("outbox relay: hand-off failed; retrying", exc_info=True)
            stop.wait(interval_s)

    def start(self, interval_s: float = RELAY_INTERVAL_S) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop, interval_s), name="outbox-relay", daemon=True)
        thread.start()
        return thread, stop

    def wait(self, timeout_s: float = 30) -> None:
        """Wait for in-process jobs to finish (CLI commands that exit right after, tests)."""
        wait = getattr(self.transport, "wait", None)
        if wait is not None:
            wait(timeout_s)
