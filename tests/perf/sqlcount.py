"""Counts the SQL statements an engine runs while a block executes (N+1 and per-message budgets)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, event


class Statements:
    def __init__(self) -> None:
        self.sql: list[str] = []

    @property
    def count(self) -> int:
        # BEGIN/COMMIT are not statements here (the DBAPI sends them implicitly on PostgreSQL).
        return len(self.sql)

    def __repr__(self) -> str:
        return f"{self.count} statements:\n" + "\n".join(s.split("\n")[0][:160] for s in self.sql)


@contextlib.contextmanager
def counting(engine: Engine) -> Iterator[Statements]:
    seen = Statements()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = statement.strip()
        if text.upper() in ("BEGIN", "COMMIT", "ROLLBACK", "BEGIN IMMEDIATE"):
            return
        seen.sql.append(text)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
