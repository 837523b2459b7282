"""/api/v1: token authentication, the same scoping as the pages, the OpenAPI document."""

from __future__ import annotations

import re

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.accounts import create_api_token
from models.admin import AdminAccount, ApiToken
from tests.bot.admin.conftest import World


def token_for(db: Session, world: World, username: str) -> str:
    account = db.get(AdminAccount, world.accounts[username].id)
    assert account is not None
    token = create_api_token(db, account, "测试大屏", actor_name="测试")
    db.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_openapi_document_is_public_and_lists_every_api_route(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    doc = yaml.safe_load(response.get_data(as_text=True))
    assert doc["openapi"].startswith("3.")
    documented = {"/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", p) for p in doc["paths"]}
    served = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1")
    }
    assert served == documented


def test_no_or_bad_token_is_401_json(client: FlaskClient, world: World, db: Session) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("ghpp_nope"), {"Authorization": "Bearer "}):
        response = client.get("/api/v1/brands", headers=headers)
        assert response.status_code == 401
        assert response.json == {"error": "缺少或无效的访问令牌。", "status": 401}


def test_api_is_scoped_like_the_pages(client: FlaskClient, world: World, db: Session) -> None:
    token = token_for(db, world, "county")
    overview = client.get("/api/v1/overview", headers=bearer(token)).json
    assert overview is not None
    assert overview["union"]["code"] == "BZ-BC" and overview["unions"] == 3 and overview["brands"] == 3
    assert {s["stage"]: s["brands"] for s in overview["stages"]}["cultivating"] == 1

    unions = client.get("/api/v1/unions", headers=bearer(token)).json
    assert unions is not None
    assert [u["code"] for u in unions["items"]] == ["BZ-BC", "BZ-BC-001", "BZ-BC-002"]
    assert unions["items"][0]["kind"] == "county" and unions["items"][0]["kind_label"] == "县区总工会"

    brands = client.get("/api/v1/brands", headers=bearer(token)).json
    assert brands is not None
    assert brands["total"] == 3
    assert "邹平纺织工匠" not in {b["name"] for b in brands["items"]}
    filtered = client.get("/api/v1/brands?stage=cultivating&q=驿站", headers=bearer(token)).json
    assert filtered is not None
    assert [b["name"] for b in filtered["items"]] == ["滨城幸福驿站"]
    assert filtered["items"][0]["aliases"] == ["驿站"]
    assert filtered["items"][0]["updated_at"].endswith("+00:00")
    page = client.get("/api/v1/brands?limit=1&offset=1", headers=bearer(token)).json
    assert page is not None and len(page["items"]) == 1 and page["total"] == 3

    one = client.get(f"/api/v1/brands/{world.county_brand.id}", headers=bearer(token))
    assert one.status_code == 200 and one.json is not None and one.json["stage"] == "cultivating"
    for url in (f"/api/v1/brands/{world.other_brand.id}", f"/api/v1/brands?union={world.other_county.id}"):
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 404
        assert response.json is not None and "管辖范围" in response.json["error"]


def test_token_is_stored_hashed_and_stops_with_its_account(
    client: FlaskClient, world: World, db: Session
) -> None:
    token = token_for(db, world, "viewer")
    row = db.scalar(select(ApiToken))
    assert row is not None and token not in (row.token_hash, row.prefix) and row.token_hash != token
    db.rollback()  # end the read (SQLite: every transaction holds the write lock)
    assert client.get("/api/v1/overview", headers=bearer(token)).status_code == 200
    db.expire_all()
    used = db.scalar(select(ApiToken))
    assert used is not None and used.last_used_at is not None
    account = db.get(AdminAccount, world.accounts["viewer"].id)
    assert account is not None
    account.active = False
    db.commit()
    assert client.get("/api/v1/overview", headers=bearer(token)).status_code == 401


def test_api_needs_no_csrf_and_ignores_session_cookies(client: FlaskClient, world: World) -> None:
    # A dashboard login does not open the API: only a token does.
    from tests.bot.admin.conftest import login

    login(client, "province")
    assert client.get("/api/v1/overview").status_code == 401
