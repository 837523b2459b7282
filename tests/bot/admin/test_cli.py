"""`flask --app bot admin …`: creating accounts, tokens, and the demo accounts."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, select

from bot.store import Store
from config.settings import Settings
from handlers.demo import load_demo
from models.admin import AdminAccount, AdminRole, ApiToken, AuditEntry
from tests.bot.admin.conftest import World, login


def test_create_account_from_stdin(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "admin",
            "create",
            "--org",
            "BZ-ZP",
            "--username",
            "zp-viewer",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        input="Zouping-pass-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "已创建账号 zp-viewer（查看员，邹平市总工会）" in result.output
    with app.extensions["ghpp"].session_factory() as db:
        account = db.scalar(select(AdminAccount).where(AdminAccount.username == "zp-viewer"))
        assert account is not None and account.role is AdminRole.VIEWER
        assert account.password_hash.startswith("scrypt:") and "Zouping" not in account.password_hash
        entry = db.scalar(select(AuditEntry).where(AuditEntry.target_id == str(account.id)))
        assert entry is not None and entry.actor == "命令行" and entry.union_id == world.other_county.id
    assert login(app.test_client(), "zp-viewer", "Zouping-pass-1").status_code == 302


def test_create_account_prompts_twice(app: Flask, world: World) -> None:
    result = app.test_cli_runner().invoke(
        args=["admin", "create", "--org", "BZ", "--username", "bz-admin"],
        input="Binzhou-pass-1\nBinzhou-pass-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "管理员" in result.output


def test_create_account_errors_are_chinese(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    unknown = runner.invoke(
        args=["admin", "create", "--org", "NOPE", "--username", "x-1", "--password-stdin"]
    )
    assert unknown.exit_code != 0 and "工会代码 NOPE 不存在" in unknown.output
    taken = runner.invoke(args=["admin", "create", "--org", "BZ", "--username", "county", "--password-stdin"])
    assert "已被使用" in taken.output
    weak = runner.invoke(
        args=["admin", "create", "--org", "BZ", "--username", "weakling", "--password-stdin"], input="123\n"
    )
    assert weak.exit_code != 0 and "至少 10 个字符" in weak.output


def test_token_command_prints_a_working_token(app: Flask, world: World) -> None:
    result = app.test_cli_runner().invoke(args=["admin", "token", "--username", "county"])
    assert result.exit_code == 0, result.output
    found = re.search(r"(ghpp_\S+)", result.output)
    assert found is not None
    token = found.group(1)
    response = app.test_client().get("/api/v1/overview", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    with app.extensions["ghpp"].session_factory() as db:
        assert db.scalar(select(ApiToken.name)) == "大屏接口"
    missing = app.test_cli_runner().invoke(args=["admin", "token", "--username", "ghost"])
    assert missing.exit_code != 0 and "不存在" in missing.output


def test_demo_accounts_only_in_demo_mode(
    app: Flask, settings: Settings, clean_db: Engine, store: Store
) -> None:
    refused = app.test_cli_runner().invoke(args=["admin", "seed-demo"])
    assert refused.exit_code != 0 and "仅在演示模式" in refused.output

    from bot import create_app

    demo_settings = dataclasses.replace(settings, extra={"GHPP_SIMULATE_WECHAT": "1"})
    demo_app = create_app(demo_settings, engine=clean_db, store=store)
    with demo_app.extensions["ghpp"].session_factory() as db, db.begin():
        load_demo(db)
    runner = demo_app.test_cli_runner()
    first = runner.invoke(args=["admin", "seed-demo"])
    assert first.exit_code == 0, first.output
    passwords = dict(re.findall(r"^\s+(\S+)\s+密码 (\S+)", first.output, re.M))
    assert set(passwords) == {"admin", "binzhou", "bincheng"}
    assert login(demo_app.test_client(), "admin", passwords["admin"]).status_code == 302
    # Running it again (make run twice) prints new working passwords.
    again = dict(
        re.findall(r"^\s+(\S+)\s+密码 (\S+)", runner.invoke(args=["admin", "seed-demo"]).output, re.M)
    )
    assert again["admin"] != passwords["admin"]
    assert login(demo_app.test_client(), "admin", again["admin"]).status_code == 302
    assert login(demo_app.test_client(), "binzhou", passwords["binzhou"]).status_code == 401


def test_demo_mode_cookie_is_not_secure_for_plain_http(
    settings: Settings, clean_db: Engine, store: Store, tmp_path: Path
) -> None:
    from bot import create_app

    demo = create_app(
        dataclasses.replace(settings, extra={"GHPP_SIMULATE_WECHAT": "1"}), engine=clean_db, store=store
    )
    assert demo.config["SESSION_COOKIE_SECURE"] is False
    forced = create_app(
        dataclasses.replace(settings, extra={"GHPP_SIMULATE_WECHAT": "1", "GHPP_COOKIE_SECURE": "1"}),
        engine=clean_db,
        store=store,
    )
    assert forced.config["SESSION_COOKIE_SECURE"] is True


def test_password_reset_reenables_and_ends_sessions(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    browser = app.test_client()
    assert login(browser, "viewer").status_code == 302
    with app.extensions["ghpp"].session_factory() as db:
        account = db.get(AdminAccount, world.accounts["viewer"].id)
        assert account is not None
        account.active = False
        db.commit()
    result = runner.invoke(
        args=["admin", "password", "--username", "viewer", "--password-stdin"], input="Reset-pass-123\n"
    )
    assert result.exit_code == 0, result.output
    assert "密码已重置" in result.output
    assert browser.get("/admin/").status_code == 302
    assert login(app.test_client(), "viewer", "Reset-pass-123").status_code == 302
    weak = runner.invoke(args=["admin", "password", "--username", "viewer", "--password-stdin"], input="x\n")
    assert weak.exit_code != 0 and "至少 10 个字符" in weak.output
    ghost = runner.invoke(args=["admin", "password", "--username", "ghost", "--password-stdin"], input="x\n")
    assert ghost.exit_code != 0 and "不存在" in ghost.output


def test_list_and_revoke_tokens(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    assert "暂无接口令牌" in runner.invoke(args=["admin", "tokens"]).output
    found = re.search(r"(ghpp_\S+)", runner.invoke(args=["admin", "token", "--username", "county"]).output)
    assert found is not None
    token = found.group(1)
    listing = runner.invoke(args=["admin", "tokens"]).output
    assert token[:12] in listing and token not in listing and "有效" in listing and "从未使用" in listing
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/overview", headers=headers).status_code == 200
    result = runner.invoke(args=["admin", "revoke-token", "--prefix", token[:12]])
    assert result.exit_code == 0, result.output
    assert app.test_client().get("/api/v1/overview", headers=headers).status_code == 401
    assert "已作废" in runner.invoke(args=["admin", "tokens"]).output
    again = runner.invoke(args=["admin", "revoke-token", "--prefix", token[:12]])
    assert again.exit_code != 0 and "没有找到" in again.output
    with app.extensions["ghpp"].session_factory() as db:
        actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["token.create", "token.revoke"]
