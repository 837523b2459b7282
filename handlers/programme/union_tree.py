"""The union tree: creating and updating unions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.errors import OperationError
from models import Union, UnionKind
from models.union import assign_path


class OrgError(OperationError):
    """A union that cannot be created as asked (message in Chinese, for operators)."""


def upsert_union(
    session: Session,
    code: str,
    name: str,
    kind: str,
    parent_code: str | None = None,
    members: int | None = None,
) -> Union:
    try:
        union_kind = UnionKind(kind)
    except ValueError as exc:
        raise OrgError(f"工会类型 {kind!r} 无效，应为：{'、'.join(k.value for k in UnionKind)}") from exc
    parent = None
    if parent_code:
        parent = session.scalar(select(Union).where(Union.code == parent_code))
        if parent is None:
            raise OrgError(f"上级工会代码 {parent_code} 不存在")
    union = session.scalar(select(Union).where(Union.code == code))
    if union is None:
        union = Union(code=code, name=name, kind=union_kind)
        session.add(union)
    union.name, union.kind, union.parent, union.members = name, union_kind, parent, members
    session.flush()
    assign_path(session, union)
    return union
