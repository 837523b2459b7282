"""Working days follow the State Council's calendar: holidays off, 调休 weekends on."""

from __future__ import annotations

from datetime import UTC, date, datetime

from handlers.clock import add_working_days, is_working_day, local_day

# 10:00 in Shanghai.
TEN = (2, 0)


def _at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, *TEN, tzinfo=UTC)


def test_national_day_week_is_not_counted() -> None:
    # Wed 30 Sep 2026 + 1 working day: 1–7 October are off (the 3rd and 4th are a weekend),
    # so the next working day is Thu 8 October.
    assert add_working_days(_at(2026, 9, 30), 1) == _at(2026, 10, 8)


def test_adjusted_working_saturday_counts() -> None:
    # Sat 10 Oct 2026 is a 调休 working day: Fri 9 Oct + 1 working day is that Saturday.
    assert is_working_day(date(2026, 10, 10))
    assert add_working_days(_at(2026, 10, 9), 1) == _at(2026, 10, 10)


def test_spring_festival_deadline() -> None:
    # Filed Fri 13 Feb 2026; 14 Feb (Sat) is worked, 15–23 Feb are off, 24 Feb is the next.
    assert add_working_days(_at(2026, 2, 13), 1) == _at(2026, 2, 14)
    assert add_working_days(_at(2026, 2, 13), 2) == _at(2026, 2, 24)


def test_year_without_data_falls_back_to_weekdays() -> None:
    # chinese-calendar has no 2031 data: Mon–Fri, and a deadline is never earlier than that.
    friday = _at(2031, 1, 3)
    assert add_working_days(friday, 1) == _at(2031, 1, 6)
    assert not is_working_day(date(2031, 1, 4))


def test_local_day_uses_shanghai() -> None:
    # 16:30 UTC on 31 Dec is already 1 January in Shanghai.
    assert local_day(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "20270101"
