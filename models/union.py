"""The union tree: province down to grassroots unions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from models.brand import Brand


class UnionKind(enum.StrEnum):
    PROVINCE = "province"
    PROVINCE_DEPT = "province_dept"
    INDUSTRY = "industry"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    GRASSROOTS = "grassroots"

    @property
    def label(self) -> str:
        return UNION_KIND_LABELS[self]


UNION_KIND_LABELS = {
    UnionKind.PROVINCE: "省总工会",
    UnionKind.PROVINCE_DEPT: "省总部室",
    UnionKind.INDUSTRY: "产业工会",
    UnionKind.CITY: "市总工会",
    UnionKind.COUNTY: "县区总工会",
    UnionKind.TOWNSHIP: "乡镇街道工会",
    UnionKind.GRASSROOTS: "基层工会",
}


class Union(Base):
    __tablename__ = "union_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnionKind] = mapped_column(str_enum(UnionKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("union_unit.id"), index=True)
    # Materialised path of ids ("/1/4/9/") so a subtree is one indexed prefix query.
    path: Mapped[str] = mapped_column(String(1000), index=True, default="/")
    members: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Union | None] = relationship(remote_side="Union.id", back_populates="children")
    children: Mapped[list[Union]] = relationship(back_populates="parent")
    brands: Mapped[list[Brand]] = relationship(back_populates="union")

    def is_within(self, ancestor: Union) -> bool:
        """True when this union is ``ancestor`` or lies in its subtree."""
        return self.path.startswith(ancestor.path)

    def ancestors(self) -> list[Union]:
        chain: list[Union] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


def assign_path(session: Session, union: Union) -> None:
    """Set ``union.path`` from its parent; the union must have an id (flush first)."""
    parent_path = "/"
    if union.parent_id is not None:
        parent = union.parent or session.get(Union, union.parent_id)
        assert parent is not None
        parent_path = parent.path
    union.path = f"{parent_path}{union.id}/"


def subtree_ids(session: Session, root: Union) -> list[int]:
    stmt = select(Union.id).where(Union.path.startswith(root.path))
    return list(session.scalars(stmt))
