"""Login, logout, password change, sessions, CSRF, rate limit and roles."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.admin import AdminAccount, AuditEntry
from tests.bot.admin.conftest import PASSWORD, World, csrf, login

# A value for each URL parameter so every dashboard route can be requested.
PARAMS = {
    "brand_id": "1",
    "union_id": "1",
    "account_id": "1",
    "photo_id": "1",
    "filename": "admin.css",
    "suggestion_id": "1",
    "key": "brand_recognition",
    "campaign_id": "1",
    "flag_id": "1",
    "message_id": "1",
}


def admin_routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{arg}>", PARAMS[arg], url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    return routes


def test_every_route_sends_anonymous_visitors_to_login(app: Flask, client: FlaskClient) -> None:
    routes = admin_routes(app)
    assert len(routes) >= 12
    token = csrf(client)
    for method, url in routes:
        if url in ("/admin/login",) or url.startswith("/admin/static"):
            continue
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/admin/login?next="), (method, url)


def test_static_and_login_are_public(client: FlaskClient) -> None:
    with client.get("/admin/static/admin.css") as css:
        assert css.status_code == 200
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert "登录管理后台" in page.get_data(as_text=True)


def test_login_then_next_page(client: FlaskClient, world: World, db: Session) -> None:
    first = client.get("/admin/brands/?stage=planned")
    assert first.status_code == 302
    token = csrf(client)
    response = client.post(
        "/admin/login?next=/admin/brands/%3Fstage%3Dplanned",
        data={"username": "county", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/brands/?stage=planned"
    assert "滨城幸福驿站" in client.get("/admin/brands/").get_data(as_text=True)
    account = db.scalar(select(AdminAccount).where(AdminAccount.username == "county"))
    assert account is not None and account.last_login_at is not None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin", "/wechat"])
def test_login_never_redirects_off_the_dashboard(client: FlaskClient, world: World, target: str) -> None:
    token = csrf(client)
    response = client.post(
        "/admin/login",
        query_string={"next": target},
        data={"username": "county", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/"


def test_wrong_password_and_inactive_account(client: FlaskClient, world: World, db: Session) -> None:
    response = login(client, "county", "wrong-password-1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert login(client, "nobody", PASSWORD).status_code == 401
    account = db.get(AdminAccount, world.accounts["viewer"].id)
    assert account is not None
    account.active = False
    db.commit()
    assert login(client, "viewer").status_code == 401


def test_session_cookie_is_httponly_lax_and_secure_by_default(client: FlaskClient, world: World) -> None:
    response = login(client, "county")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("ghpp_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_deactivated_account_loses_its_session(client: FlaskClient, world: World, db: Session) -> None:
    login(client, "viewer")
    assert client.get("/admin/").status_code == 200
    account = db.get(AdminAccount, world.accounts["viewer"].id)
    assert account is not None
    account.active = False
    db.commit()
    assert client.get("/admin/").status_code == 302


def test_logout_needs_csrf_and_ends_the_session(client: FlaskClient, world: World) -> None:
    login(client, "county")
    assert client.post("/admin/logout").status_code == 400
    token = csrf(client, "/admin/")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_csrf_missing_or_wrong_is_400(client: FlaskClient, world: World) -> None:
    csrf(client)
    bad_login = client.post("/admin/login", data={"username": "county", "password": PASSWORD})
    assert bad_login.status_code == 400
    assert "安全校验码" in bad_login.get_data(as_text=True)
    login(client, "county")
    form = {"username": "newone", "union": str(world.county.id), "role": "viewer", "password": PASSWORD}
    assert client.post("/admin/accounts/", data=form).status_code == 400
    assert client.post("/admin/accounts/", data={**form, "csrf_token": "forged"}).status_code == 400
    pw_form = {
        "old_password": PASSWORD,
        "new_password": "another-pass-9",
        "confirm_password": "another-pass-9",
    }
    assert client.post("/admin/password", data=pw_form).status_code == 400
    target = world.accounts["viewer"].id
    assert client.post(f"/admin/accounts/{target}/active", data={"active": "0"}).status_code == 400
    # The header form is accepted too (for scripts on the page).
    token = csrf(client, "/admin/")
    response = client.post("/admin/accounts/", data=form, headers={"X-CSRF-Token": token})
    assert response.status_code == 302


def test_password_change(app: Flask, client: FlaskClient, world: World, db: Session) -> None:
    other_device = app.test_client()
    login(other_device, "county")
    login(client, "county")
    token = csrf(client, "/admin/password")
    wrong_old = {
        "old_password": "nope-nope-1",
        "new_password": "Fresh-pass-77",
        "confirm_password": "Fresh-pass-77",
    }
    response = client.post("/admin/password", data={**wrong_old, "csrf_token": token})
    assert response.status_code == 400 and "当前密码不正确" in response.get_data(as_text=True)
    mismatch = {
        "old_password": PASSWORD,
        "new_password": "Fresh-pass-77",
        "confirm_password": "Fresh-pass-78",
    }
    response = client.post("/admin/password", data={**mismatch, "csrf_token": token})
    assert response.status_code == 400 and "不一致" in response.get_data(as_text=True)
    short = {"old_password": PASSWORD, "new_password": "short", "confirm_password": "short"}
    assert client.post("/admin/password", data={**short, "csrf_token": token}).status_code == 400
    ok = {"old_password": PASSWORD, "new_password": "Fresh-pass-77", "confirm_password": "Fresh-pass-77"}
    assert client.post("/admin/password", data={**ok, "csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 200  # this session continues
    assert other_device.get("/admin/").status_code == 302  # the other one is logged out
    assert login(app.test_client(), "county", PASSWORD).status_code == 401
    assert login(app.test_client(), "county", "Fresh-pass-77").status_code == 302
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "account.password"))
    assert entry is not None and entry.actor == "county"
    assert "Fresh" not in str(entry.after) and "scrypt" not in str(entry.after)


def test_login_rate_limited_per_user(app: Flask, world: World) -> None:
    attacker = app.test_client()
    for _ in range(5):
        assert login(attacker, "county", "wrong-password-1").status_code == 401
    # The next attempt at this username waits a little, from a browser without the account's
    # device cookie (tests/security covers the growing delay and the device cookie).
    blocked = login(app.test_client(), "county", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert blocked.status_code == 429
    assert "秒后再试" in blocked.get_data(as_text=True)
    assert login(app.test_client(), "viewer", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302


def test_login_rate_limited_per_address(app: Flask, world: World) -> None:
    # A direct public peer is a trustworthy address (no proxy in front): its failures add up.
    client = app.test_client()
    addr = {"REMOTE_ADDR": "81.2.69.160"}
    for n in range(20):
        assert login(client, f"guess{n}", "wrong-password-1", environ_base=addr).status_code == 401
    assert login(client, "viewer", environ_base=addr).status_code == 429
    assert login(app.test_client(), "viewer", environ_base={"REMOTE_ADDR": "81.2.69.161"}).status_code == 302


def test_successful_login_resets_the_user_counter(app: Flask, world: World) -> None:
    client = app.test_client()
    for _ in range(4):
        login(client, "county", "wrong-password-1")
    assert login(client, "county").status_code == 302
    for _ in range(4):
        assert login(app.test_client(), "county", "wrong-password-1").status_code == 401
    assert login(app.test_client(), "county").status_code == 302


@pytest.mark.parametrize(
    ("username", "method", "url"),
    [
        ("viewer", "GET", "/admin/accounts/"),
        ("viewer", "GET", "/admin/audit/"),
        ("cadre", "GET", "/admin/accounts/"),
        ("cadre", "GET", "/admin/audit/"),
        ("viewer", "POST", "/admin/accounts/"),
        ("cadre", "POST", "/admin/accounts/"),
        ("viewer", "POST", "/admin/accounts/{viewer}/active"),
    ],
)
def test_wrong_role_is_403(as_user, world: World, username: str, method: str, url: str) -> None:
    client = as_user(username)
    token = csrf(client, "/admin/")
    url = url.format(viewer=world.accounts["county"].id)
    form = {"csrf_token": token, "username": "x-new", "union": str(world.county.id), "role": "admin"}
    response = client.open(url, method=method, data=form)
    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)


def test_menu_shows_admin_pages_to_admins_only(as_user) -> None:
    page = as_user("viewer").get("/admin/").get_data(as_text=True)
    assert "组织架构" in page and "工作品牌" in page
    assert "账号管理" not in page and "操作日志" not in page


def test_security_headers(as_user) -> None:
    response = as_user("county").get("/admin/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
