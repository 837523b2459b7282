"""Sign-in findings: failed-login limits that cannot lock a real admin out, trusted proxies,
sessions that end server-side on logout, and control characters in any field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.accounts import create_api_token
from bot.admin.auth import DEVICE_COOKIE
from bot.admin.security import LoginLimiter
from bot.store import MemoryStore
from config.settings import SettingsError, load_settings
from models.admin import AuditEntry
from tests.bot.admin.conftest import World, csrf, login

# --- failed-login limits ------------------------------------------------------------------------


def test_junk_usernames_from_a_shared_address_do_not_lock_out_the_admin(app: Flask, world: World) -> None:
    # Behind nginx without GHPP_TRUSTED_PROXIES every request comes from 127.0.0.1.
    attacker = app.test_client()
    for n in range(25):
        assert login(attacker, f"junk{n}", "wrong-password-1").status_code == 401
    assert login(app.test_client(), "province").status_code == 302


def test_failures_on_the_admins_name_do_not_slow_the_admins_own_browser(app: Flask, world: World) -> None:
    admin_browser = app.test_client()
    assert login(admin_browser, "province").status_code == 302
    assert admin_browser.get_cookie(DEVICE_COOKIE, path="/admin") is not None
    admin_browser.post("/admin/logout", data={"csrf_token": csrf(admin_browser, "/admin/")})
    attacker = app.test_client()
    for _ in range(12):
        attacker_status = login(attacker, "province", "wrong-password-1").status_code
        assert attacker_status in (401, 429)
    assert attacker_status == 429  # the stranger is slowed down …
    assert login(app.test_client(), "province").status_code == 429  # … and so is any new browser
    assert login(admin_browser, "province").status_code == 302  # the admin's own browser is not


def test_the_per_account_delay_grows_and_is_never_a_lock() -> None:
    now = [1_000_000.0]
    limiter = LoginLimiter(MemoryStore(), clock=lambda: now[0])

    def wait() -> str | None:
        return limiter.wait_message("admin", "127.0.0.1", None, trusted=False)

    for _ in range(4):
        limiter.failed("admin", "127.0.0.1", None, trusted=False)
        assert wait() is None  # the first failures cost nothing
    delays = []
    for _ in range(12):
        limiter.failed("admin", "127.0.0.1", None, trusted=False)
        message = wait()
        assert message is not None and "秒后再试" in message
        seconds = int(message.split("请 ")[1].split(" 秒")[0])
        delays.append(seconds)
        now[0] += seconds  # after the delay the next attempt goes ahead
        assert wait() is None
    assert delays[:4] == [2, 4, 8, 16] and max(delays) == limiter.max_delay_s


def test_per_address_limit_only_for_a_trustworthy_address() -> None:
    limiter = LoginLimiter(MemoryStore())
    for n in range(30):
        limiter.failed(f"junk{n}", "10.0.0.1", None, trusted=False)
    assert limiter.wait_message("someone", "10.0.0.1", None, trusted=False) is None
    for n in range(20):
        limiter.failed(f"junk{n}", "81.2.69.160", None, trusted=True)
    assert limiter.wait_message("someone", "81.2.69.160", None, trusted=True) is not None


def test_trusted_proxies_setting_gives_the_client_address(
    make_app: Callable[..., Flask], world: World, db: Session
) -> None:
    proxied = make_app(trusted_proxies=1)
    client = proxied.test_client()
    hop = {"X-Forwarded-For": "81.2.69.160"}
    assert login(client, "county", headers=hop).status_code == 302
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "account.login"))
    assert entry is not None and entry.address == "81.2.69.160"
    db.rollback()  # end the read: SQLite's writers wait for it
    # The forwarded address is trustworthy now: its failures add up, other clients' do not.
    for n in range(20):
        assert login(proxied.test_client(), f"junk{n}", "wrong-1", headers=hop).status_code == 401
    assert login(proxied.test_client(), "viewer", headers=hop).status_code == 429
    other = {"X-Forwarded-For": "81.2.69.161"}
    assert login(proxied.test_client(), "viewer", headers=other).status_code == 302


def test_trusted_proxies_setting_is_read(tmp_path: Path) -> None:
    base = {"WECHAT_TOKEN": "token123", "WECHAT_APPID": "wx", "WECHAT_SECRET": "s", "SECRET_KEY": "k" * 32}
    none = tmp_path / "none.env"
    assert load_settings(base, dotenv_path=none).trusted_proxies == 0
    assert load_settings({**base, "GHPP_TRUSTED_PROXIES": "2"}, dotenv_path=none).trusted_proxies == 2
    with pytest.raises(SettingsError, match="GHPP_TRUSTED_PROXIES"):
        load_settings({**base, "GHPP_TRUSTED_PROXIES": "nginx"}, dotenv_path=none)


# --- sessions end server-side ---------------------------------------------------------------------


def _copy_session(source: FlaskClient, target: FlaskClient) -> None:
    cookie = source.get_cookie("ghpp_session")
    assert cookie is not None
    target.set_cookie("ghpp_session", cookie.value)


def test_a_session_cookie_stops_working_after_logout(app: Flask, world: World) -> None:
    browser = app.test_client()
    assert login(browser, "county").status_code == 302
    stolen = app.test_client()
    _copy_session(browser, stolen)
    assert stolen.get("/admin/").status_code == 200
    other_device = app.test_client()
    assert login(other_device, "county").status_code == 302
    browser.post("/admin/logout", data={"csrf_token": csrf(browser, "/admin/")})
    assert stolen.get("/admin/").status_code == 302  # the copied cookie is dead
    assert other_device.get("/admin/").status_code == 302  # logout ends every session of the account
    assert login(app.test_client(), "county").status_code == 302


def test_a_password_reset_from_the_command_line_ends_sessions(app: Flask, world: World) -> None:
    # Held before too (password fingerprint in the session); guards the epoch bump in the CLI.
    browser = app.test_client()
    assert login(browser, "county").status_code == 302
    result = app.test_cli_runner().invoke(
        args=["admin", "password", "--username", "county", "--password-stdin"], input="Brand-new-pass-9\n"
    )
    assert result.exit_code == 0, result.output
    assert browser.get("/admin/").status_code == 302


# --- control characters ------------------------------------------------------------------------


def test_nul_in_the_login_form_is_400_in_chinese(app: Flask, world: World) -> None:
    client = app.test_client()
    token = csrf(client)
    resp = client.post("/admin/login", data={"username": "coun\x00ty", "password": "x", "csrf_token": token})
    assert resp.status_code == 400
    assert "控制字符" in resp.get_data(as_text=True)


def test_nul_in_a_query_is_400_on_pages_and_api(app: Flask, world: World, db: Session) -> None:
    client = app.test_client()
    assert login(client, "county").status_code == 302
    for query in ("%00", "a%01b", "%1b[31m"):
        resp = client.get(f"/admin/brands/?q={query}")
        assert resp.status_code == 400 and "控制字符" in resp.get_data(as_text=True)
    token = create_api_token(db, world.accounts["county"], "测试", actor_name="测试")
    db.commit()
    resp = client.get("/api/v1/brands?q=%00", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400 and "控制字符" in resp.get_json()["error"]
    # Ordinary text, tabs and line breaks included, is untouched.
    assert client.get("/admin/brands/?q=%E9%A9%BF%E7%AB%99%09").status_code == 200
