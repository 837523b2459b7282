"""Ticket numbers (JY + Shanghai date + - + daily sequence): issuing them, and reading them back
from what a worker types (full-width digits, spaces, a missing hyphen, the access code after it)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from handlers.anonymity import normalise_code
from handlers.clock import local_day
from handlers.suggestions.errors import SuggestionError
from models.voice import TicketCounter


def next_ticket(session: Session, now: datetime) -> str:
    """JY + Shanghai date + - + daily sequence, atomically.

    One statement inserts the day's counter row or increments it and returns the new value:
    PostgreSQL takes a row lock, so concurrent submissions queue on it; SQLite serialises
    writers (BEGIN IMMEDIATE). The unique ticket column is the last line of defence.
    """
    day = local_day(now)
    dialect = session.get_bind().dialect.name
    ins = pg_insert(TicketCounter) if dialect == "postgresql" else sqlite_insert(TicketCounter)
    stmt = (
        ins.values(day=day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
        .returning(TicketCounter.last)
    )
    seq = session.execute(stmt).scalar_one()
    if seq > 9999:
        raise SuggestionError("今日建议单号已用完，请明天再提交。")
    return f"JY{day}-{seq:04d}"


FULLWIDTH = str.maketrans("０１２３４５６７８９，－—ＪＹｊｙ", "0123456789,--JYjy")

_TICKET = re.compile(r"JY\s*(\d{8})\s*-?\s*(\d{4})(?!\d)", re.IGNORECASE)
# 8 Crockford letters/digits (a hyphen or space allowed in the middle), or a legacy 4-digit code.
_CODE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{4}[\s-]?[0-9A-Za-z]{4}|\d{4})(?![0-9A-Za-z])")


def parse_ticket(text: str) -> tuple[str | None, str | None]:
    """The ticket and, for anonymous ones, the access code written after it (any wording)."""
    text = text.translate(FULLWIDTH)
    m = _TICKET.search(text)
    if m is None:
        return None, None
    code = _CODE.search(text, m.end())
    return f"JY{m.group(1)}-{m.group(2)}", normalise_code(code.group(1)) if code else None


def normalise_ticket(text: str) -> str | None:
    """A ticket typed into a form, in its canonical form (JY20261121-0042), or None."""
    m = _TICKET.fullmatch(text.strip().translate(FULLWIDTH))
    return f"JY{m.group(1)}-{m.group(2)}" if m else None
