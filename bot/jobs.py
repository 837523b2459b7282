"""Background jobs: RQ on Redis in production, an in-process thread pool in embedded mode.

A job is a name in the runtime's registry (``Registry.jobs``) plus plain arguments. Jobs reach a
queue only through the outbox (bot/outbox.py): the queues here are its transports. The runner
opens its own session, commits once, and writes the jobs the job itself asked for to the
outbox in that same transaction.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from bot.current import current
from bot.store import CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S, CircuitBreaker, redis_client
from handlers.context import JobRequest
from handlers.ports import WeChatApiError
from handlers.registry import JobContext
from models import utcnow

if TYPE_CHECKING:
    from rq import Queue

    from bot.runtime import Runtime

log = logging.getLogger(__name__)

QUEUE_PREFIX = "ghpp"
HIGH, LOW = "high", "low"
# Someone is waiting for these: a late reply, an answer to a suggestion, a photo's fate.
# Everything else (fraud scans, reports) may wait behind them.
HIGH_PRIORITY_JOBS = frozenset({"send_text", "suggestion_answer", "download_photo"})
# Delays between attempts of a job that failed with a retryable error.
RETRY_DELAYS_S: tuple[int, ...] = (10, 60, 300)
JOB_TIMEOUT_S = 120
# How long a finished job's id stays in Redis: a second hand-off of the same outbox row within
# this time finds it and is skipped (the relay crashed between enqueue and marking it sent).
RESULT_TTL_S = 3600


def priority(name: str) -> str:
    return HIGH if name in HIGH_PRIORITY_JOBS else LOW


def queue_names(prefix: str = QUEUE_PREFIX) -> list[str]:
    """The worker listens in this order: high first."""
    return [f"{prefix}-{HIGH}", f"{prefix}-{LOW}"]


def parse_delays(value: str | None) -> tuple[int, ...]:
    """``GHPP_JOB_RETRY_DELAYS="10,60,300"`` → (10, 60, 300) seconds; empty or unset: the defaults."""
    if not value:
        return RETRY_DELAYS_S
    return tuple(int(part) for part in value.split(",") if part.strip())


class Transport(Protocol):
    """Where the outbox hands jobs. ``durable``: the hand-off survives this process (RQ), so the
    outbox marks a row sent only after it; otherwise (in-process) it marks first, then runs."""

    durable: bool

    def submit(self, request: JobRequest, job_id: str) -> str: ...


class UnknownJob(LookupError):
    pass


def execute(runtime: Runtime, name: str, kwargs: dict[str, Any]) -> list[int]:
    """Run one job in its own transaction; its follow-up jobs go to the outbox in that same
    transaction and are handed on after commit. Returns the follow-ups' outbox ids."""
    fn = runtime.registry.jobs.get(name)
    if fn is None:
        raise UnknownJob(name)
    with runtime.session_factory() as session, session.begin():
        jctx = JobContext(
            session=session,
            api=runtime.api,
            now=utcnow(),
            options=runtime.job_options,
            jobs=[],
            registry=runtime.registry,
            channels=runtime.channels,
        )
        fn(jctx, **kwargs)
        ids = runtime.queue.stage(session, jctx.jobs)
    runtime.queue.dispatch(ids)
    return ids


def run_job(name: str, kwargs: dict[str, Any]) -> None:
    """RQ entry point (imported by path in the worker process)."""
    runtime = current()
    runtime.after_fork()
    try:
        execute(runtime, name, kwargs)
    except (UnknownJob, WeChatApiError) as exc:
        if isinstance(exc, UnknownJob) or not exc.retryable:
            _no_more_retries()  # waiting cannot fix it: straight to the failed registry
        raise


def _no_more_retries() -> None:
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.retries_left = 0


class InlineQueue:
    """Runs jobs in-process on a small thread pool, retrying retryable failures."""

    durable = False

    def __init__(
        self,
        runtime_getter: Callable[[], Runtime],
        *,
        synchronous: bool = False,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
    ) -> None:
        self._runtime = runtime_getter
        self._sync = synchronous
        self._delays = tuple(retry_delays_s)
        self._pool = None if synchronous else ThreadPoolExecutor(2, thread_name_prefix="job")
        self.futures: list[Future[None]] = []

    def submit(self, request: JobRequest, job_id: str) -> str:
        if self._pool is None:
            self._run(request)
        else:
            self.futures.append(self._pool.submit(self._run, request))
        return job_id

    def enqueue(self, request: JobRequest) -> None:
        """Run a job now, bypassing the outbox (tests of the runner itself)."""
        self.submit(request, "")

    def _run(self, request: JobRequest) -> None:
        for attempt in range(len(self._delays) + 1):
            try:
                execute(self._runtime(), request.name, request.kwargs)
            except WeChatApiError as exc:
                if not exc.retryable or attempt == len(self._delays):
                    log.error("job %s failed for good: %s", request.name, exc)
                    return
                log.warning("job %s failed (%s); retry in %ss", request.name, exc, self._delays[attempt])
                time.sleep(self._delays[attempt])
                continue
            except Exception:
                log.exception("job %s crashed", request.name)
                return
            return

    def wait(self, timeout_s: float = 30) -> None:
        """Wait for queued jobs (tests, CLI commands that exit right after)."""
        deadline = time.monotonic() + timeout_s
        while self.futures:
            future = self.futures.pop(0)
            future.result(timeout=max(0.0, deadline - time.monotonic()))


class RQQueue:
    """RQ on Redis: a high and a low priority queue, retries with back-off by RQ's scheduler."""

    durable = True

    def __init__(
        self,
        redis_url: str,
        *,
        prefix: str = QUEUE_PREFIX,
        retry_delays_s: Sequence[int] = RETRY_DELAYS_S,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        from rq import Queue

        self.redis_url = redis_url
        self.prefix = prefix
        self.retry_delays_s = tuple(retry_delays_s)
        self.breaker = breaker
        # Enqueueing runs on the reply path (right after commit): the same fail-fast client
        # settings as the store. The worker opens its own connection (bot/cli/jobs.py).
        self.connection = redis_client(
            redis_url,
            decode_responses=False,
            socket_timeout=SOCKET_TIMEOUT_S,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
        high, low = queue_names(prefix)
        self.queues: dict[str, Queue] = {
            HIGH: Queue(high, connection=self.connection),
            LOW: Queue(low, connection=self.connection),
        }

    def submit(self, request: JobRequest, job_id: str) -> str:
        from rq import Retry
        from rq.job import Job

        if Job.exists(job_id, connection=self.connection):
            return job_id  # handed off before (a relay that died before marking the row)
        delays = list(self.retry_delays_s)
        self.queues[priority(request.name)].enqueue(
            run_job,
            request.name,
            request.kwargs,
            job_id=job_id,
            retry=Retry(max=len(delays), interval=delays) if delays else None,
            job_timeout=JOB_TIMEOUT_S,
            result_ttl=RESULT_TTL_S,
            description=f"{request.name}({request.kwargs})",
        )
        return job_id

    def enqueue(self, request: JobRequest) -> None:
        """Enqueue directly, bypassing the outbox (tests of the queue itself)."""
        self.submit(request, f"{self.prefix}-direct-{os.urandom(8).hex()}")
