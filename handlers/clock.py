"""Shanghai time for everything a user reads, and working days as the State Council sets them.

Deadlines are promised in working days (工作日). Mainland China's public holidays and the
adjusted working weekends around them (调休) are published each year by the State Council; the
``chinese-calendar`` package carries them. For a year it does not know yet, a day counts as a
working day when it is Monday to Friday: the deadline may then fall on a holiday, never earlier.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

log = logging.getLogger(__name__)


def local_day(now: datetime) -> str:
    """``now``'s Shanghai calendar day as ``YYYYMMDD``."""
    return now.astimezone(SHANGHAI).strftime("%Y%m%d")


def show_time(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def show_day(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d")


@lru_cache(maxsize=64)
def _year_unknown(year: int) -> bool:
    # Logged once per year and process: operators should update chinese-calendar each November.
    log.warning("chinese-calendar has no holiday data for %s; counting Mon–Fri as working days", year)
    return True


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China (holidays off, 调休 weekends on)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _year_unknown(day.year)
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days counted in Asia/Shanghai, at the same clock time."""
    local = start.astimezone(SHANGHAI)
    counted = 0
    while counted < days:
        local += timedelta(days=1)
        if is_working_day(local.date()):
            counted += 1
    return local.astimezone(start.tzinfo)
