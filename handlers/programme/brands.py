"""Work brands: creating them and keeping their names and aliases unique."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from handlers.errors import OperationError
from models import Brand, BrandAlias, Stage, Union


class BrandError(OperationError):
    """A brand that cannot be saved as asked (message in Chinese, for operators)."""


def find_brand_by_name(session: Session, name: str) -> Brand | None:
    """The brand of a name or alias; remembered for the transaction (a message looks its brand
    up in several places), forgotten when a brand or alias changes."""
    _forget_on_change(session)  # unflushed brands: the query's autoflush must see them
    memo: dict[str, int | None] = session.info.setdefault(_MEMO, {})
    if name in memo:
        bid = memo[name]
        return session.get(Brand, bid) if bid is not None else None
    stmt = (
        select(Brand)
        .outerjoin(BrandAlias, BrandAlias.brand_id == Brand.id)
        .where(or_(Brand.name == name, BrandAlias.alias == name))
        .order_by((Brand.name == name).desc())  # a name wins over another brand's alias
        .limit(1)
    )
    brand = session.scalar(stmt)
    memo[name] = brand.id if brand is not None else None
    return brand


_MEMO = "brand_by_name"


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_MEMO, None)


def _forget_on_change(session: Session, *_args: Any) -> None:
    if any(isinstance(o, (Brand, BrandAlias)) for o in (*session.new, *session.dirty, *session.deleted)):
        _forget(session)


event.listen(Session, "before_flush", _forget_on_change)
event.listen(Session, "after_commit", _forget)
event.listen(Session, "after_rollback", _forget)


def upsert_brand(
    session: Session,
    name: str,
    union_code: str,
    aliases: Sequence[str] = (),
    stage: str | None = None,
) -> Brand:
    union = session.scalar(select(Union).where(Union.code == union_code))
    if union is None:
        raise BrandError(f"品牌「{name}」的所属工会代码 {union_code} 不存在")
    brand = session.scalar(select(Brand).where(Brand.name == name))
    if brand is None:
        if session.scalar(select(BrandAlias).where(BrandAlias.alias == name)):
            raise BrandError(f"品牌名称「{name}」已是另一品牌的别名")
        brand = Brand(name=name, union=union)
        session.add(brand)
    brand.union = union
    if stage:
        try:
            brand.stage = Stage(stage)
        except ValueError as exc:
            raise BrandError(f"品牌「{name}」的阶段 {stage!r} 无效") from exc
    wanted = [a.strip() for a in aliases if a.strip() and a.strip() != name]
    for alias in wanted:
        clash = session.scalar(select(BrandAlias).where(BrandAlias.alias == alias))
        if clash is not None and clash.brand is not brand:
            raise BrandError(f"别名「{alias}」已属于品牌「{clash.brand.name}」")
        if session.scalar(select(Brand).where(Brand.name == alias, Brand.id != brand.id)):
            raise BrandError(f"别名「{alias}」与另一品牌的名称相同")
    brand.aliases = [a for a in brand.aliases if a.alias in wanted] + [
        BrandAlias(alias=a) for a in wanted if a not in brand.alias_names
    ]
    session.flush()
    return brand
