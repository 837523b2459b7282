"""Start-up findings: weak secrets and a demo .env left behind are refused in production;
the demo's own entry point (make run) still starts."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

import config.settings
from bot import create_app
from bot.devenv import demo_app
from config.settings import SettingsError, check_production_secrets, estimated_bits, load_settings
from tests.conftest import TEST_AES_KEY

STRONG_KEY = "Qm7vT2pXc9LwR4sZ8nYb3KdF6hJ1gA5e"  # 32 distinct characters
STRONG_TOKEN = "Xp4Lw8Rt2Zc6Vb9N"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A process environment and project root of our own; returns the .env path."""
    monkeypatch.setattr(config.settings, "PROJECT_ROOT", tmp_path)
    for name in ("DATABASE_URL", "REDIS_URL", "WECHAT_MODE", "GHPP_SIMULATE_WECHAT", "GHPP_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "WECHAT_TOKEN": STRONG_TOKEN,
        "WECHAT_APPID": "wx1234567890abcdef",
        "WECHAT_SECRET": "s3cret",
        "WECHAT_AES_KEY": TEST_AES_KEY,
        "SECRET_KEY": STRONG_KEY,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'start.sqlite3'}",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return tmp_path / ".env"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "aaaaaaaaaaaaaaaa"),
        ("SECRET_KEY", "a" * 64),
        ("SECRET_KEY", "abababababababababababababababab"),
        ("SECRET_KEY", "short-but-random-Q7x"),
        ("WECHAT_TOKEN", "abc"),
        ("WECHAT_TOKEN", "ghppdemo"),
    ],
)
def test_production_start_refuses_weak_secrets(
    environment: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc:
        create_app()
    assert f"配置项 {name}" in str(exc.value) and str(exc.value).startswith("启动失败：")


def test_strong_generated_secrets_pass() -> None:
    for _ in range(20):
        assert estimated_bits(secrets.token_urlsafe(32)) >= config.settings.MIN_SECRET_KEY_BITS
        assert estimated_bits(secrets.token_hex(32)) >= config.settings.MIN_SECRET_KEY_BITS
    base = {
        "WECHAT_TOKEN": STRONG_TOKEN,
        "WECHAT_APPID": "wx",
        "WECHAT_SECRET": "s",
        "SECRET_KEY": STRONG_KEY,
    }
    check_production_secrets(load_settings(base, dotenv_path=Path("/nonexistent/.env")))


def test_a_demo_env_left_behind_does_not_start_production(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WECHAT_TOKEN")  # the whole demo .env, demo token included
    environment.write_text("WECHAT_TOKEN=ghppdemo\nGHPP_SIMULATE_WECHAT=1\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        create_app()
    assert "GHPP_SIMULATE_WECHAT" in str(exc.value)


def test_the_demo_entry_point_accepts_the_demo_env(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What bot.devenv writes for make run: the demo token is short, demo mode on.
    monkeypatch.setenv("WECHAT_TOKEN", "ghppdemo")
    environment.write_text("GHPP_SIMULATE_WECHAT=1\n", encoding="utf-8")
    app = demo_app()
    runtime = app.extensions["ghpp"]
    assert runtime.settings.demo and type(runtime.api).__name__ == "SimulatedWeChatApi"
    runtime.engine.dispose()


def test_the_setting_error_names_the_setting() -> None:
    base = {"WECHAT_TOKEN": STRONG_TOKEN, "WECHAT_APPID": "wx", "WECHAT_SECRET": "s", "SECRET_KEY": "x" * 40}
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        check_production_secrets(load_settings(base, dotenv_path=Path("/nonexistent/.env")))
