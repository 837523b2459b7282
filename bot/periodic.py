"""Jobs the worker starts on a timetable (the daily retention purge), once per period in all.

Every worker process ticks; the first to claim a period's key in the store enqueues the job
through the outbox, so several workers, or one restarted mid-period, never start it twice.
When the store is down the tick skips and the next one tries again: a purge a minute late
loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.store import Store, StoreUnavailable
from handlers.context import JobRequest
from handlers.recognition.live import REFRESH_OPEN_JOB
from handlers.retention import PURGE_JOB
from models import utcnow

log = logging.getLogger(__name__)

TICK_S = 60.0


class Enqueuer(Protocol):
    def enqueue(self, request: JobRequest) -> None: ...


@dataclass(frozen=True)
class Entry:
    job: str
    every: timedelta
    kwargs: dict[str, Any] = field(default_factory=dict)


# Daily: inbound message content older than retention_months is purged (handlers/retention.py).
# Every minute: the open campaigns' live reports catch up with the last ratings of a burst.
TIMETABLE: tuple[Entry, ...] = (
    Entry(PURGE_JOB, timedelta(days=1)),
    Entry(REFRESH_OPEN_JOB, timedelta(minutes=1)),
)


class Timetable:
    def __init__(
        self,
        store: Store,
        queue: Enqueuer,
        entries: Sequence[Entry] = TIMETABLE,
        clock: Callable[[], datetime] = utcnow,
        prefix: str = "ghpp",
    ) -> None:
        self.store, self.queue, self.entries, self.clock, self.prefix = store, queue, entries, clock, prefix

    def tick(self) -> list[str]:
        """Enqueue every entry whose current period has not been claimed yet; the jobs started."""
        now = self.clock()
        started = []
        for entry in self.entries:
            period_s = entry.every.total_seconds()
            key = f"{self.prefix}:periodic:{entry.job}:{int(now.timestamp() // period_s)}"
            try:
                first = self.store.set_if_absent(key, now.isoformat(), 2 * period_s)
            except StoreUnavailable:
                log.warning("store unavailable; periodic job %s waits for the next tick", entry.job)
                continue
            if first:
                self.queue.enqueue(JobRequest(entry.job, dict(entry.kwargs)))
                started.append(entry.job)
        return started

    def run(self, stop: threading.Event, interval_s: float = TICK_S) -> None:
        while True:
            try:
                for job in self.tick():
                    log.info("periodic job %s enqueued", job)
            except Exception:
                log.exception("periodic tick failed; trying again at the next one")
            if stop.wait(interval_s):
                return

    def start(self, interval_s: float = TICK_S) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop, interval_s), name="periodic", daemon=True)
        thread.start()
        return thread, stop
