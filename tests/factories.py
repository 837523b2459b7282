"""Plain factory functions: ``make_x(session, **overrides)``; they flush, never commit."""

from __future__ import annotations

import itertools
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.context import Context
from handlers.registry import Registry
from handlers.wiring import build_registry
from models import Brand, BrandAlias, Role, Stage, Union, UnionKind, User, utcnow
from models.union import assign_path
from nlp import BrandEntry, Router

_seq = itertools.count(1)


def make_union(session: Session, parent: Union | None = None, **overrides: Any) -> Union:
    n = next(_seq)
    union = Union(
        code=overrides.pop("code", f"U{n:05d}"),
        name=overrides.pop("name", f"测试工会{n}"),
        kind=overrides.pop("kind", UnionKind.GRASSROOTS if parent else UnionKind.CITY),
        parent=parent,
        **overrides,
    )
    session.add(union)
    session.flush()
    assign_path(session, union)
    session.flush()
    return union


def make_brand(
    session: Session, union: Union | None = None, aliases: tuple[str, ...] = (), **overrides: Any
) -> Brand:
    n = next(_seq)
    brand = Brand(
        name=overrides.pop("name", f"测试品牌{n}"),
        union=union or make_union(session),
        stage=overrides.pop("stage", Stage.CULTIVATING),
        **overrides,
    )
    brand.aliases = [BrandAlias(alias=a) for a in aliases]
    session.add(brand)
    session.flush()
    return brand


def make_user(session: Session, **overrides: Any) -> User:
    n = next(_seq)
    user = User(
        openid=overrides.pop("openid", f"o-test-{n:06d}"),
        role=overrides.pop("role", Role.WORKER),
        **overrides,
    )
    session.add(user)
    session.flush()
    return user


def make_legacy_campaign(
    session: Session, name: str, kind: str, brands: list[Brand], opens_at: datetime, **overrides: Any
) -> Any:
    """A campaign as made before cohorts (migration 0013): no cohort, candidates of any level.

    Databases from before then hold such campaigns; their results are computed as they always
    were, so pages and snapshots of them must keep working.
    """
    from models.recognition import Campaign, CampaignBrand, CampaignKind

    campaign = Campaign(name=name, kind=CampaignKind(kind), opens_at=opens_at, **overrides)
    campaign.entries = [CampaignBrand(brand=b, number=i) for i, b in enumerate(brands, start=1)]
    session.add(campaign)
    session.flush()
    return campaign


def make_ctx(session: Session, user: User | None = None, now: datetime | None = None) -> Context:
    """A handler context whose router knows every brand in the database."""
    brands = session.scalars(select(Brand).order_by(Brand.id)).all()
    router = Router([BrandEntry(b.name, tuple(b.alias_names)) for b in brands])
    return Context(
        session=session,
        user=user or make_user(session),
        now=now or utcnow(),
        router=router,
        registry=standard_registry(),
    )


@lru_cache(maxsize=1)
def standard_registry() -> Registry:
    """The registry the service builds at start-up (built once per test process)."""
    return build_registry()
