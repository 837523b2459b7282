"""A small key-value store: Redis in production, an in-process dict in the embedded mode.

Used for duplicate filtering, nonces, the shared access token and its lock. The in-process
store serves one process only; run several processes (gunicorn workers) only with Redis.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import redis


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
    def incr(self, key: str, ttl_s: float) -> int: ...
    def lock(self, name: str, ttl_s: float, wait_s: float) -> AbstractContextManager[None]: ...


_DELETE_IF_EQUALS = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisStore:
    def __init__(self, client: redis.Redis, prefix: str = "ghpp:") -> None:
        self.client = client
        self.prefix = prefix
        self._delete_if_equals = client.register_script(_DELETE_IF_EQUALS)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
        return cls(client)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
        try:
            return bool(self.client.set(self._k(key), value, nx=True, px=int(ttl_s * 1000)))
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(self._k(key))
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return None if value is None else str(value)

    def set(self, key: str, value: str, ttl_s: float) -> None:
        try:
            self.client.set(self._k(key), value, px=int(ttl_s * 1000))
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete(self._k(key))
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def delete_if_equals(self, key: str, value: str) -> bool:
        try:
            return bool(self._delete_if_equals(keys=[self._k(key)], args=[value]))
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def incr(self, key: str, ttl_s: float) -> int:
        try:
            pipe = self.client.pipeline()
            pipe.incr(self._k(key))
            pipe.pexpire(self._k(key), int(ttl_s * 1000), nx=True)
            count, _ = pipe.execute()
            return int(count)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    @contextmanager
    def lock(self, name: str, ttl_s: float, wait_s: float) -> Iterator[None]:
        lock = self.client.lock(self._k(name), timeout=ttl_s, blocking_timeout=wait_s)
        try:
            acquired = lock.acquire()
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if not acquired:
            raise LockTimeout(name)
        try:
            yield
        finally:
            # Expired while held: another holder may have it now, leave it alone.
            with contextlib.suppress(redis.exceptions.LockError):
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
