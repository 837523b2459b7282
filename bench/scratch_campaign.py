"""Shared by the recognition benches: a scratch PostgreSQL database and a 500-brand campaign.

Not a bench itself (the name does not end in ``_bench``, so ``make bench`` skips it).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from models import Brand, Union, UnionKind
from models.db import make_engine
from models.migrate import upgrade
from models.recognition import Campaign, CampaignBrand, CampaignKind


def scratch_engine(reset: bool) -> Engine:
    """The PostgreSQL database of ``DATABASE_URL``, migrated; ``reset`` empties it first."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("需要 DATABASE_URL=postgresql+psycopg://…（会清空该数据库，请用临时库）")
    engine = make_engine(url)
    if reset:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def campaign_of_brands(
    session: Session, n: int, code: str, labels: tuple[str, str, str, str], opens_at: datetime
) -> tuple[Campaign, list[Brand]]:
    """A city, ``n`` grassroots unions with one brand each, and a rating campaign over them.

    ``labels``: the city's name, the unions' and brands' name prefixes, the campaign's name.
    """
    city_name, union_prefix, brand_prefix, campaign_name = labels
    city = Union(code=code, name=city_name, kind=UnionKind.CITY, path="/")
    session.add(city)
    session.flush()
    city.path = f"/{city.id}/"
    unions = [
        Union(code=f"{code[0]}{i}", name=f"{union_prefix}{i}", kind=UnionKind.GRASSROOTS, parent=city)
        for i in range(n)
    ]
    session.add_all(unions)
    session.flush()
    for u in unions:
        u.path = f"{city.path}{u.id}/"
    brands = [Brand(name=f"{brand_prefix}{i:03d}", union=u) for i, u in enumerate(unions)]
    session.add_all(brands)
    session.flush()
    campaign = Campaign(name=campaign_name, kind=CampaignKind.RATING, opens_at=opens_at, max_choices=1)
    campaign.entries = [CampaignBrand(brand=b, number=i + 1) for i, b in enumerate(brands)]
    session.add(campaign)
    session.flush()
    return campaign, brands
