"""Service areas and rosters for the recognition survey."""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from handlers.measures import brands_in_area, default_roster
from models import UnionKind
from tests.factories import make_brand, make_union, make_user


def _tree(session: Session):
    province = make_union(session, kind=UnionKind.PROVINCE)
    dept = make_union(session, parent=province, kind=UnionKind.PROVINCE_DEPT)
    city = make_union(session, parent=province, kind=UnionKind.CITY)
    other_city = make_union(session, parent=province, kind=UnionKind.CITY)
    shop = make_union(session, parent=city, kind=UnionKind.GRASSROOTS)
    return province, dept, city, other_city, shop


def test_area_is_the_owning_subtree_and_departments_serve_the_province(session: Session) -> None:
    province, dept, city, other_city, shop = _tree(session)
    own_city = make_brand(session, union=city, name="本市品牌")
    elsewhere = make_brand(session, union=other_city, name="外市品牌")
    dept_brand = make_brand(session, union=dept, name="部室品牌")
    province_brand = make_brand(session, union=province, name="省级品牌")
    worker = make_user(session, union_id=shop.id)
    names = {b.name for b in brands_in_area(session, worker)}
    assert names == {own_city.name, dept_brand.name, province_brand.name}
    assert elsewhere.name not in names


def test_public_respondents_see_every_brand_and_one_foil(session: Session) -> None:
    _, _, city, other_city, _ = _tree(session)
    make_brand(session, union=city)
    make_brand(session, union=other_city)
    roster = default_roster(session, make_user(session), random.Random(3))
    assert sum(item.is_foil for item in roster) == 1
    assert len(roster) == 3
