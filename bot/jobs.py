"""Background jobs: RQ on Redis in production, an in-process thread pool in embedded mode.

A job is a name registered in ``handlers.registry.JOBS`` plus plain arguments. The runner
opens its own session, commits once, and enqueues the jobs the job itself asked for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from handlers.context import JobRequest
from handlers.ports import WeChatApiError
from handlers.registry import JOBS, JobContext
from models import utcnow

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

QUEUE_NAME = "ghpp"
# Delays between attempts of a job that failed with a retryable error.
RETRY_DELAYS_S = (10, 60, 300)


class JobQueue(Protocol):
    def enqueue(self, request: JobRequest) -> None: ...


class UnknownJob(LookupError):
    pass


def execute(runtime: Runtime, name: str, kwargs: dict[str, Any]) -> list[JobRequest]:
    """Run one job in its own transaction; returns the follow-up jobs it requested."""
    fn = JOBS.get(name)
    if fn is None:
        raise UnknownJob(name)
    with runtime.session_factory() as session, session.begin():
        jctx = JobContext(
            session=session, api=runtime.api, now=utcnow(), options=runtime.job_options, jobs=[]
        )
        fn(jctx, **kwargs)
    return jctx.jobs


def run_job(name: str, kwargs: dict[str, Any]) -> None:
    """RQ entry point (imported by path in the worker process)."""
    from bot.runtime import Runtime

    runtime = Runtime.current()
    for follow_up in execute(runtime, name, kwargs):
        runtime.queue.enqueue(follow_up)


class InlineQueue:
    """Runs jobs in-process on a small thread pool, retrying retryable failures."""

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

    def enqueue(self, request: JobRequest) -> None:
        if self._pool is None:
            self._run(request)
            return
        self.futures.append(self._pool.submit(self._run, request))

    def _run(self, request: JobRequest) -> None:
        for attempt in range(len(self._delays) + 1):
            try:
                follow_ups = execute(self._runtime(), request.name, request.kwargs)
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
            for follow_up in follow_ups:
                self.enqueue(follow_up)
            return

    def wait(self, timeout_s: float = 30) -> None:
        """Wait for queued jobs (tests, CLI commands that exit right after)."""
        deadline = time.monotonic() + timeout_s
        while self.futures:
            future = self.futures.pop(0)
            future.result(timeout=max(0.0, deadline - time.monotonic()))


class RQQueue:
    def __init__(self, redis_url: str) -> None:
        import redis
        from rq import Queue

        self.connection = redis.Redis.from_url(redis_url)
        self.queue = Queue(QUEUE_NAME, connection=self.connection)

    def enqueue(self, request: JobRequest) -> None:
        from rq import Retry

        self.queue.enqueue(
            run_job,
            request.name,
            request.kwargs,
            retry=Retry(max=len(RETRY_DELAYS_S), interval=list(RETRY_DELAYS_S)),
            job_timeout=120,
        )
