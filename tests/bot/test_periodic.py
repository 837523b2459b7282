"""The worker's timetable: the daily retention purge starts once per day, however many workers tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.periodic import TIMETABLE, Entry, Timetable
from bot.store import MemoryStore, StoreUnavailable
from handlers.context import JobRequest
from handlers.retention import PURGE_JOB

T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.jobs: list[JobRequest] = []

    def enqueue(self, request: JobRequest) -> None:
        self.jobs.append(request)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_retention_purge_is_on_the_timetable_daily() -> None:
    assert Entry(PURGE_JOB, timedelta(days=1)) in TIMETABLE


def test_one_purge_per_day_across_workers_and_restarts() -> None:
    store, queue, clock = MemoryStore(), Recorder(), Clock()
    workers = [Timetable(store, queue, clock=clock) for _ in range(3)]
    assert PURGE_JOB in workers[0].tick()
    for w in workers:  # the other workers, and the first one again an hour later
        clock.now += timedelta(hours=1)
        assert PURGE_JOB not in w.tick()
    restarted = Timetable(store, queue, clock=clock)  # a worker restarted mid-day
    assert PURGE_JOB not in restarted.tick()
    clock.now = T0 + timedelta(days=1)
    assert PURGE_JOB in workers[2].tick()
    assert [j.name for j in queue.jobs if j.name == PURGE_JOB] == [PURGE_JOB, PURGE_JOB]


def test_a_store_outage_skips_the_tick_and_the_next_one_catches_up() -> None:
    class Down(MemoryStore):
        def set_if_absent(self, key: str, value: str, ttl_s: float) -> bool:
            raise StoreUnavailable("down")

    queue, clock = Recorder(), Clock()
    assert Timetable(Down(), queue, clock=clock).tick() == []
    assert queue.jobs == []
    assert PURGE_JOB in Timetable(MemoryStore(), queue, clock=clock).tick()
