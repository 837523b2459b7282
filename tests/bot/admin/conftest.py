"""Fixtures for the dashboard: a small union tree with brands and accounts, committed through
the app's own session factory (``clean_db`` empties the tables afterwards), and login helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bot.admin import security
from bot.admin.accounts import create_account
from models import Brand, Stage, Union
from models.admin import AdminAccount, AdminRole
from tests.factories import make_brand, make_union

PASSWORD = "correct-horse-42"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    province: Union
    city: Union
    county: Union  # 滨城区: the "own" county
    grassroots: Union  # under county
    sibling: Union  # another grassroots union under county
    other_county: Union  # 邹平市: another county of the same city
    county_brand: Brand
    grassroots_brand: Brand
    sibling_brand: Brand
    other_brand: Brand
    province_brand: Brand
    accounts: dict[str, AdminAccount]


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with app.extensions["ghpp"].session_factory() as sess:
        yield sess


_REAL_HASH = security.hash_password
_CACHED: dict[str, str] = {}


def _cached_hash(password: str) -> str:
    # scrypt is slow on purpose; tests reuse one hash of the shared test password.
    if password != PASSWORD:
        return _REAL_HASH(password)
    if PASSWORD not in _CACHED:
        _CACHED[PASSWORD] = _REAL_HASH(PASSWORD)
    return _CACHED[PASSWORD]


@pytest.fixture
def world(db: Session, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(security, "hash_password", _cached_hash)
    province = make_union(db, code="SD", name="山东省总工会", kind="province")
    city = make_union(db, province, code="BZ", name="滨州市总工会", kind="city", members=310000)
    county = make_union(db, city, code="BZ-BC", name="滨城区总工会", kind="county", members=86000)
    grassroots = make_union(db, county, code="BZ-BC-001", name="滨州化工厂工会", kind="grassroots")
    sibling = make_union(db, county, code="BZ-BC-002", name="滨城区人民医院工会", kind="grassroots")
    other = make_union(db, city, code="BZ-ZP", name="邹平市总工会", kind="county")
    world = World(
        province=province,
        city=city,
        county=county,
        grassroots=grassroots,
        sibling=sibling,
        other_county=other,
        county_brand=make_brand(db, county, name="滨城幸福驿站", stage=Stage.CULTIVATING, aliases=("驿站",)),
        grassroots_brand=make_brand(db, grassroots, name="化工厂职工书屋", stage=Stage.PROPOSED),
        sibling_brand=make_brand(db, sibling, name="医院天使之家", stage=Stage.PLANNED),
        other_brand=make_brand(db, other, name="邹平纺织工匠", stage=Stage.REVIEWING),
        province_brand=make_brand(db, province, name="齐鲁工匠", stage=Stage.DEEPENING),
        accounts={},
    )
    for username, union, role in (
        ("province", province, AdminRole.ADMIN),
        ("county", county, AdminRole.ADMIN),
        ("viewer", county, AdminRole.VIEWER),
        ("cadre", grassroots, AdminRole.CADRE),
        ("other", other, AdminRole.ADMIN),
    ):
        world.accounts[username] = create_account(db, union, username, role, PASSWORD, actor_name="测试")
    db.commit()
    return world


def csrf(client: FlaskClient, path: str = "/admin/login") -> str:
    """The session's CSRF token, read from a rendered form like a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, **kwargs: object) -> TestResponse:
    token = csrf(client)
    return client.post(
        "/admin/login", data={"username": username, "password": password, "csrf_token": token}, **kwargs
    )


@pytest.fixture
def as_user(client: FlaskClient, world: World):
    """``as_user("county")`` logs the test client in as that account and returns the client."""

    def _login(username: str) -> FlaskClient:
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login
