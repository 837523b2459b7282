"""The contract between the survey engine and the recognition index.

Surveys ask the questions (a neutral brand roster for awareness, rating items for
reputation); the recognition index consumes the answers. Neither imports the other: the
survey engine builds a ``MeasuredResponse`` when a response is complete and hands it to
every sink in the registry (``Registry.publish``); the index registers one. Rosters come from
the registry's roster provider: ``default_roster`` unless the index registers its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Brand, Union, UnionKind, User

# Fictitious brand names shown once in every roster: whoever "knows" one is not counted.
FOIL_NAMES = ("职工暖心加油站", "匠心筑梦工坊", "劳模连心桥", "职工智慧书苑")


@dataclass(frozen=True)
class RosterItem:
    brand_id: int | None  # None for the foil
    name: str

    @property
    def is_foil(self) -> bool:
        return self.brand_id is None


@dataclass(frozen=True)
class RosterAnswer:
    shown: tuple[RosterItem, ...]
    aware_brand_ids: tuple[int, ...]
    foil_ticked: bool


@dataclass(frozen=True)
class BrandRatingAnswer:
    brand_id: int
    q1_overall: int | None = None  # 1–5, None for 说不清
    q2_vs_expect: int | None = None  # 1–5, None for 说不清
    q3_recommend: int | None = None  # 0–10, None when not asked or skipped
    open_text: str | None = None


@dataclass(frozen=True)
class MeasuredResponse:
    user_id: int
    survey_key: str
    # "W", "S" or "G" when the survey link/QR scene fixed it; None: derive from verification.
    group: str | None
    # neutral_invited / neutral_open / brand / self / third_party (docs/method/sampling.md §3)
    channel: str
    started_at: datetime
    submitted_at: datetime
    roster: RosterAnswer | None
    ratings: tuple[BrandRatingAnswer, ...]
    campaign_id: int | None = None
    # Idempotency: one survey response produces one measured response, whatever retries.
    source_key: str = ""


# A province department's or an industrial union's brand serves the whole province: their
# members sit in the city/county branches of the tree, not below the department itself.
_PROVINCE_WIDE = {UnionKind.PROVINCE_DEPT, UnionKind.INDUSTRY}


def area_root(union: Union) -> Union:
    """The union whose subtree is the service area of a brand owned by ``union``."""
    if union.kind in _PROVINCE_WIDE and union.parent is not None:
        return union.parent
    return union


def brands_in_area(session: Session, user: User) -> list[Brand]:
    """Brands whose service area contains the user (docs/method/sampling.md §5: the owning union's subtree).

    Users with no union (社会公众) are in every brand's area.
    """
    brands = list(session.scalars(select(Brand).order_by(Brand.id)))
    if user.union_id is None:
        return brands
    union = session.get(Union, user.union_id)
    assert union is not None
    return [b for b in brands if union.path.startswith(area_root(b.union).path)]


def default_roster(session: Session, user: User, rng: random.Random) -> list[RosterItem]:
    items = [RosterItem(b.id, b.name) for b in brands_in_area(session, user)]
    items.append(RosterItem(None, rng.choice(FOIL_NAMES)))
    rng.shuffle(items)
    return items
