"""What an account may see: its union's subtree (admin, viewer) or its own union (cadre).

Every dashboard and API query goes through a ``Scope``: the filter is part of the SQL, so a
record outside the subtree is never loaded, and fetching one by id answers 404 (not 403, which
would confirm it exists). For a new domain model with a ``union_id`` (or ``brand_id``) column:

    stmt = scope.where_union(select(Suggestion), Suggestion.union_id)
    item = scope.get_or_404(session, Suggestion, item_id, Suggestion.union_id)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import Brand, Union
from models.admin import AdminAccount, AdminRole

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    root_id: int
    root_path: str
    role: AdminRole

    @classmethod
    def of(cls, account: AdminAccount) -> Scope:
        return cls(account.union_id, account.union.path, account.role)

    @property
    def can_write(self) -> bool:
        return self.role is AdminRole.ADMIN

    def union_condition(self) -> ColumnElement[bool]:
        """True for the unions this scope covers (one indexed prefix match on the path)."""
        if self.role is AdminRole.CADRE:
            return Union.id == self.root_id
        return Union.path.startswith(self.root_path)

    def union_ids(self) -> Select[tuple[int]]:
        return select(Union.id).where(self.union_condition())

    def where_union(self, stmt: Select[Any], union_column: InstrumentedAttribute[Any]) -> Select[Any]:
        """Keep rows whose ``union_column`` is a union in scope."""
        return stmt.where(union_column.in_(self.union_ids()))

    def where_brand(self, stmt: Select[Any], brand_column: InstrumentedAttribute[Any]) -> Select[Any]:
        """Keep rows whose ``brand_column`` is a brand of a union in scope."""
        return stmt.where(brand_column.in_(select(Brand.id).where(Brand.union_id.in_(self.union_ids()))))

    def get_or_404(
        self, session: Session, model: type[T], ident: int, union_column: InstrumentedAttribute[Any]
    ) -> T:
        pk = model.id  # type: ignore[attr-defined]
        stmt = self.where_union(select(model).where(pk == ident), union_column)
        row: T | None = session.scalar(stmt)
        if row is None:
            abort(404)
        return row

    def union(self, session: Session, union_id: int) -> Union:
        return self.get_or_404(session, Union, union_id, Union.id)

    def brand(self, session: Session, brand_id: int) -> Brand:
        return self.get_or_404(session, Brand, brand_id, Brand.union_id)
