"""Both store implementations keep the same contract."""

from __future__ import annotations

import threading
import time

import pytest

from bot.store import LockTimeout, MemoryStore, Store


def test_set_if_absent_get_and_expiry(store: Store) -> None:
    assert store.set_if_absent("k", "v1", ttl_s=0.3)
    assert not store.set_if_absent("k", "v2", ttl_s=0.3)
    assert store.get("k") == "v1"
    time.sleep(0.4)
    assert store.get("k") is None
    assert store.set_if_absent("k", "v3", ttl_s=5)


def test_delete_if_equals_is_compare_and_delete(store: Store) -> None:
    store.set("tok", "A", ttl_s=5)
    assert not store.delete_if_equals("tok", "B")
    assert store.get("tok") == "A"
    assert store.delete_if_equals("tok", "A")
    assert store.get("tok") is None


def test_incr_counts_within_a_window(store: Store) -> None:
    assert [store.incr("c", ttl_s=5) for _ in range(3)] == [1, 2, 3]


def test_lock_excludes_and_times_out(store: Store) -> None:
    entered = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with store.lock("L", ttl_s=5, wait_s=1):
            entered.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    assert entered.wait(5)
    with pytest.raises(LockTimeout), store.lock("L", ttl_s=5, wait_s=0.2):
        pass
    release.set()
    t.join(5)
    with store.lock("L", ttl_s=5, wait_s=1):
        pass


def test_memory_store_is_isolated_per_instance() -> None:
    a, b = MemoryStore(), MemoryStore()
    a.set("x", "1", ttl_s=5)
    assert b.get("x") is None
