"""A small key-value store: Redis in production, an in-process dict in the embedded mode.

Used for duplicate filtering, nonces, the shared access token and its lock. The in-process
store serves one process only; run several processes (gunicorn workers) only with Redis.

Redis is an accelerator here, never a dependency of the reply: every call has short socket and
connect timeouts and no client-side retries, and a circuit breaker skips Redis for a few
seconds after a failure, so a hung Redis costs one timeout, not one per call.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

T = TypeVar("T")

# Worst case per call while Redis hangs: connect or read timeout, then the breaker opens.
# 0.5 s leaves the 4 s reply budget intact even if the nonce check and the duplicate filter
# each hit one (the second finds the breaker open and returns at once).
SOCKET_TIMEOUT_S = 0.5
CONNECT_TIMEOUT_S = 0.5
BREAKER_COOLDOWN_S = 5.0


def redis_client(
    url: str,
    *,
    socket_timeout: float | None = SOCKET_TIMEOUT_S,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    decode_responses: bool = True,
) -> redis.Redis:
    """A client that fails fast: bounded timeouts and no retries (redis-py retries 3 times by default)."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 0),
    )


class CircuitBreaker:
    """Closed until a failure; then open (calls skipped) for ``cooldown_s``; then one trial call."""

    def __init__(self, cooldown_s: float = BREAKER_COOLDOWN_S, clock: Callable[[], float] = time.monotonic):
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return self._clock() < self._open_until

    def allow(self) -> bool:
        """True if a call may go through; the first caller after the cooldown gets the trial."""
        with self._lock:
            now = self._clock()
            if self._open_until == 0.0:
                return True
            if now < self._open_until:
                return False
            self._open_until = now + self.cooldown_s  # others keep skipping while the trial runs
            return True

    def success(self) -> None:
        with self._lock:
            self._open_until = 0.0

    def failure(self) -> None:
        with self._lock:
            self._open_until = self._clock() + self.cooldown_s


class StoreUnavailable(Exception):
    """The store could not be reached; callers fall back on the database where they can."""


class LockTimeout(Exception):
    pass


class Store(Protocol):
    def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool: ...
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl_s: float) -> None: ...
    def delete(self, key: str) -> None: ...
    def delete_if_equals(self, key: str, value: str) -> bool: ...
    def extend_if_equals(self, key: str, value: str, ttl_s: float) -> bool: ...
    def incr(self, key: str, ttl_s: float) -> int: ...
    def lock(self, name: str, ttl_s: float, wait_s: float) -> AbstractContextManager[None]: ...


_DELETE_IF_EQUALS = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

_EXTEND_IF_EQUALS = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class RedisStore:
    def __init__(
        self, client: redis.Redis, prefix: str = "ghpp:", breaker: CircuitBreaker | None = None
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.breaker = breaker or CircuitBreaker()
        self._delete_if_equals = client.register_script(_DELETE_IF_EQUALS)
        self._extend_if_equals = client.register_script(_EXTEND_IF_EQUALS)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        return cls(redis_client(url))

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _call(self, fn: Callable[[], T]) -> T:
        if not self.breaker.allow():
            raise StoreUnavailable("redis skipped: circuit open after a recent failure")
        try:
            result = fn()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.breaker.failure()
            raise StoreUnavailable(str(exc)) from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        self.breaker.success()
        return result

    def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(self._call(lambda: self.client.set(self._k(key), value, nx=True, px=int(ttl_s * 1000))))

    def get(self, key: str) -> str | None:
        value = self._call(lambda: self.client.get(self._k(key)))
        return None if value is None else str(value)

    def set(self, key: str, value: str, ttl_s: float) -> None:
        self._call(lambda: self.client.set(self._k(key), value, px=int(ttl_s * 1000)))

    def delete(self, key: str) -> None:
        self._call(lambda: self.client.delete(self._k(key)))

    def delete_if_equals(self, key: str, value: str) -> bool:
        return bool(self._call(lambda: self._delete_if_equals(keys=[self._k(key)], args=[value])))

    def extend_if_equals(self, key: str, value: str, ttl_s: float) -> bool:
        args: list[str | int] = [value, int(ttl_s * 1000)]
        return bool(self._call(lambda: self._extend_if_equals(keys=[self._k(key)], args=args)))

    def incr(self, key: str, ttl_s: float) -> int:
        def run() -> int:
            pipe = self.client.pipeline()
            pipe.incr(self._k(key))
            pipe.pexpire(self._k(key), int(ttl_s * 1000), nx=True)
            count, _ = pipe.execute()
            return int(count)

        return self._call(run)

    @contextmanager
    def lock(self, name: str, ttl_s: float, wait_s: float) -> Iterator[None]:
        lock = self.client.lock(self._k(name), timeout=ttl_s, blocking_timeout=wait_s)
        acquired = self._call(lock.acquire)
        if not acquired:
            raise LockTimeout(name)
        try:
            yield
        finally:
            # Expired while held: another holder may have it now, leave it alone.
            with contextlib.suppress(redis.exceptions.LockError, redis.RedisError):
                lock.release()


class MemoryStore:
    """Process-local stand-in for Redis with the same semantics (TTL, NX, locks)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._mutex = threading.RLock()
        self._locks: dict[str, threading.Lock] = {}

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        with self._mutex:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ttl_s)
            return True

    def get(self, key: str) -> str | None:
        with self._mutex:
            return self._live(key)

    def set(self, key: str, value: str, ttl_s: float) -> None:
        with self._mutex:
            self._data[key] = (value, time.monotonic() + ttl_s)

    def delete(self, key: str) -> None:
        with self._mutex:
            self._data.pop(key, None)

    def delete_if_equals(self, key: str, value: str) -> bool:
        with self._mutex:
            if self._live(key) == value:
                del self._data[key]
                return True
            return False

    def extend_if_equals(self, key: str, value: str, ttl_s: float) -> bool:
        with self._mutex:
            if self._live(key) == value:
                self._data[key] = (value, time.monotonic() + ttl_s)
                return True
            return False

    def incr(self, key: str, ttl_s: float) -> int:
        with self._mutex:
            current = self._live(key)
            count = int(current or 0) + 1
            expires = self._data[key][1] if current is not None else time.monotonic() + ttl_s
            self._data[key] = (str(count), expires)
            return count

    @contextmanager
    def lock(self, name: str, ttl_s: float, wait_s: float) -> Iterator[None]:
        with self._mutex:
            lock = self._locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=wait_s):
            raise LockTimeout(name)
        try:
            yield
        finally:
            lock.release()
