from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings

BASE = {
    "WECHAT_TOKEN": "token123",
    "WECHAT_APPID": "wxappid",
    "WECHAT_SECRET": "s",
    "SECRET_KEY": "x" * 32,
}


def load(tmp_path: Path, **env: str):
    return load_settings({**BASE, **env}, dotenv_path=tmp_path / "none.env")


def test_defaults_are_embedded(tmp_path: Path) -> None:
    s = load(tmp_path)
    assert s.embedded and s.database_url.startswith("sqlite:///") and s.wechat_aes_key is None
    assert s.wechat_api_base == "https://api.weixin.qq.com"


@pytest.mark.parametrize("name", ["WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET", "SECRET_KEY"])
def test_missing_required_setting_is_named(tmp_path: Path, name: str) -> None:
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(SettingsError, match=name):
        load_settings(env, dotenv_path=tmp_path / "none.env")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"WECHAT_AES_KEY": "short"}, "WECHAT_AES_KEY"),
        ({"WECHAT_AES_KEY": "!" * 43}, "WECHAT_AES_KEY"),
        ({"WECHAT_AES_KEY_PREVIOUS": "a" * 43}, "WECHAT_AES_KEY_PREVIOUS"),
        ({"WECHAT_API_BASE": "ftp://x"}, "WECHAT_API_BASE"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DATABASE_URL": "not-a-url"}, "DATABASE_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"WECHAT_TOKEN": "has space"}, "WECHAT_TOKEN"),
        ({"REPLY_BUDGET_S": "soon"}, "REPLY_BUDGET_S"),
    ],
)
def test_malformed_setting_is_named(tmp_path: Path, env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load(tmp_path, **env)


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "WECHAT_TOKEN=fromfile\nWECHAT_APPID=fileapp\nWECHAT_SECRET=s\nSECRET_KEY=" + "k" * 20 + "\n"
    )
    s = load_settings({"WECHAT_APPID": "envapp"}, dotenv_path=dotenv)
    assert s.wechat_token == "fromfile" and s.wechat_appid == "envapp"


def test_valid_aes_keys_and_redis(tmp_path: Path) -> None:
    key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    s = load(tmp_path, WECHAT_AES_KEY=key, WECHAT_AES_KEY_PREVIOUS=key, REDIS_URL="redis://127.0.0.1:6379/0")
    assert s.wechat_aes_key == key and not s.embedded


def test_app_refuses_to_start_without_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot import create_app

    for name in BASE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("config.settings.PROJECT_ROOT", tmp_path)
    with pytest.raises(SystemExit, match="WECHAT_TOKEN"):
        create_app()
