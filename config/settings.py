"""Settings from environment variables (and an optional ``.env`` file).

A missing or malformed required setting stops start-up with a message naming it.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"
WECHAT_DEFAULT_API_BASE = "https://api.weixin.qq.com"
# The authorize step of web sign-in (网页授权) is on another host than the server API.
WECHAT_DEFAULT_OAUTH_BASE = "https://open.weixin.qq.com"
# 明文 / 兼容 / 安全: the message encryption mode chosen in the WeChat admin console.
WECHAT_MODES = ("plain", "compat", "safe")
ACCOUNT_TYPES = {"service": "服务号", "subscription": "订阅号"}
# Production secrets policy: SECRET_KEY length and estimated entropy, WECHAT_TOKEN length.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_BITS = 100
MIN_PRODUCTION_TOKEN_LENGTH = 16


class SettingsError(ValueError):
    """Raised with an operator-facing (Chinese) message naming the bad setting."""


@dataclass(frozen=True)
class Settings:
    wechat_token: str
    wechat_appid: str
    wechat_secret: str
    secret_key: str
    wechat_aes_key: str | None = None
    wechat_aes_key_previous: str | None = None
    wechat_api_base: str = WECHAT_DEFAULT_API_BASE
    wechat_oauth_base: str = WECHAT_DEFAULT_OAUTH_BASE
    database_url: str = ""
    # A read replica for the dashboard's read-only pages (None: they read the primary).
    database_read_url: str | None = None
    redis_url: str | None = None
    instance_dir: Path = DEFAULT_INSTANCE_DIR
    # Seconds a request's timestamp may differ from our clock before it counts as stale.
    replay_window_s: int = 300
    # WeChat gives up after 5 s; we answer before this many seconds whatever happens.
    reply_budget_s: float = 4.0
    # How long a finished reply is kept for WeChat's retries (they come within ~15 s).
    dedupe_ttl_s: int = 300
    max_body_bytes: int = 256 * 1024
    # None: inferred (compat with an AES key, plain without); see ``transport_mode``.
    wechat_mode: str | None = None
    # Reverse-proxy hops in front of the app whose X-Forwarded-For is trusted (0: none).
    trusted_proxies: int = 0
    # What the official account may do (公众平台 → 设置与开发 → 账号信息): subscription (订阅号) or
    # service (服务号), and whether it is verified (微信认证). See bot/capabilities.py.
    account_type: str = "service"
    account_verified: bool = True
    # The public https origin of this service (H5 links, the OAuth redirect_uri); None: the request's.
    public_base_url: str | None = None
    # Template ids (模板消息 / 一次性订阅消息) picked in 公众平台; None switches that channel off.
    template_answer_id: str | None = None
    subscribe_template_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: single-process mode with an in-process store."""
        return self.redis_url is None

    @property
    def transport_mode(self) -> str:
        """plain, compat or safe; safe refuses any POST that is not encrypted and signed."""
        if self.wechat_mode:
            return self.wechat_mode
        return "compat" if self.wechat_aes_key else "plain"

    @property
    def demo(self) -> bool:
        """GHPP_SIMULATE_WECHAT=1: the simulator replaces WeChat (refused in production start-up)."""
        return self.extra.get("GHPP_SIMULATE_WECHAT") == "1"


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    from dotenv import dotenv_values

    for key, value in dotenv_values(path).items():
        if value is not None:
            values[key] = value
    return values


def validate_aes_key(name: str, value: str) -> str:
    if len(value) != 43:
        raise SettingsError(
            f"配置项 {name} 格式错误：EncodingAESKey 应为 43 个字符，当前为 {len(value)} 个。"
        )
    try:
        raw = base64.b64decode(value + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SettingsError(f"配置项 {name} 格式错误：不是合法的 Base64 字符串。") from exc
    if len(raw) != 32:
        raise SettingsError(f"配置项 {name} 格式错误：解码后应为 32 字节。")
    return value


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"缺少必需的配置项 {name}，请在环境变量或 .env 文件中设置。")
    return value


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"配置项 {name} 格式错误：应为数字，当前为 {raw!r}。") from exc
    if value <= 0:
        raise SettingsError(f"配置项 {name} 格式错误：应为正数。")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingsError(f"配置项 {name} 格式错误：应为 0 或正整数，当前为 {raw!r}。")
    return int(raw)


def estimated_bits(secret: str) -> float:
    """A rough entropy estimate: length × log2(number of distinct characters).

    ``secrets.token_urlsafe(32)`` scores ~200 bits and ``token_hex(16)`` ~120; ``aaaa…`` scores 0.
    """
    distinct = len(set(secret))
    return len(secret) * math.log2(distinct) if distinct > 1 else 0.0


def check_production_secrets(settings: Settings) -> None:
    """Refuse demo mode and weak secrets at production start-up (Chinese message names the setting)."""
    if settings.demo:
        raise SettingsError(
            "配置项 GHPP_SIMULATE_WECHAT=1（演示模式）不能用于正式启动：请从 .env 中删除该项；"
            "本地演示请用 make run，或 flask --app bot.devenv:demo_app <命令>。"
        )
    key = settings.secret_key
    if len(key) < MIN_SECRET_KEY_LENGTH or estimated_bits(key) < MIN_SECRET_KEY_BITS:
        raise SettingsError(
            f"配置项 SECRET_KEY 强度不足：至少 {MIN_SECRET_KEY_LENGTH} 个字符且足够随机"
            "（不同字符要多），请用 python -c 'import secrets; print(secrets.token_urlsafe(48))' 生成。"
        )
    if len(settings.wechat_token) < MIN_PRODUCTION_TOKEN_LENGTH:
        raise SettingsError(
            f"配置项 WECHAT_TOKEN 太短：生产环境至少 {MIN_PRODUCTION_TOKEN_LENGTH} 个字符"
            "（公众平台「服务器配置」中的令牌，最长 32 位字母或数字）。"
        )


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None) -> Settings:
    """Read settings; ``environ`` wins over the ``.env`` file."""
    env: dict[str, str] = {}
    env.update(_read_dotenv(dotenv_path or PROJECT_ROOT / ".env"))
    env.update(os.environ if environ is None else environ)

    token = _required(env, "WECHAT_TOKEN")
    if not (3 <= len(token) <= 32) or not token.isalnum():
        raise SettingsError("配置项 WECHAT_TOKEN 格式错误：应为 3–32 位英文字母或数字。")
    appid = _required(env, "WECHAT_APPID")
    secret = _required(env, "WECHAT_SECRET")
    secret_key = _required(env, "SECRET_KEY")
    if len(secret_key) < 16:
        raise SettingsError("配置项 SECRET_KEY 太短：至少 16 个字符，请使用随机生成的长字符串。")

    aes_key = _optional(env, "WECHAT_AES_KEY")
    if aes_key:
        validate_aes_key("WECHAT_AES_KEY", aes_key)
    aes_prev = _optional(env, "WECHAT_AES_KEY_PREVIOUS")
    if aes_prev:
        validate_aes_key("WECHAT_AES_KEY_PREVIOUS", aes_prev)
        if not aes_key:
            raise SettingsError("配置项 WECHAT_AES_KEY_PREVIOUS 已设置，但缺少当前密钥 WECHAT_AES_KEY。")

    api_base = (_optional(env, "WECHAT_API_BASE") or WECHAT_DEFAULT_API_BASE).rstrip("/")
    if not api_base.startswith(("http://", "https://")):
        raise SettingsError("配置项 WECHAT_API_BASE 格式错误：应以 http:// 或 https:// 开头。")

    oauth_base = (_optional(env, "WECHAT_OAUTH_BASE") or WECHAT_DEFAULT_OAUTH_BASE).rstrip("/")
    if not oauth_base.startswith(("http://", "https://")):
        raise SettingsError("配置项 WECHAT_OAUTH_BASE 格式错误：应以 http:// 或 https:// 开头。")

    instance_dir = Path(_optional(env, "INSTANCE_DIR") or DEFAULT_INSTANCE_DIR)
    database_url = _optional(env, "DATABASE_URL") or f"sqlite:///{instance_dir / 'ghpp.sqlite3'}"
    if "://" not in database_url:
        raise SettingsError(
            "配置项 DATABASE_URL 格式错误：应为 SQLAlchemy 连接串，如 postgresql+psycopg://user@host/db。"
        )
    read_url = _optional(env, "DATABASE_READ_URL")
    if read_url and "://" not in read_url:
        raise SettingsError(
            "配置项 DATABASE_READ_URL 格式错误：应为 SQLAlchemy 连接串（只读副本），如 postgresql+psycopg://…。"
        )
    mode = (_optional(env, "WECHAT_MODE") or "").lower() or None
    if mode is not None and mode not in WECHAT_MODES:
        raise SettingsError(
            "配置项 WECHAT_MODE 格式错误：应为 plain（明文）、compat（兼容）或 safe（安全）。"
        )
    if mode in ("compat", "safe") and not aes_key:
        raise SettingsError(f"配置项 WECHAT_MODE={mode} 需要同时设置 WECHAT_AES_KEY。")

    redis_url = _optional(env, "REDIS_URL")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("配置项 REDIS_URL 格式错误：应以 redis://、rediss:// 或 unix:// 开头。")

    account_type = (_optional(env, "WECHAT_ACCOUNT_TYPE") or "service").lower()
    if account_type not in ACCOUNT_TYPES:
        raise SettingsError(
            "配置项 WECHAT_ACCOUNT_TYPE 格式错误：应为 service（服务号）或 subscription（订阅号）。"
        )
    verified_raw = (_optional(env, "WECHAT_VERIFIED") or "1").lower()
    if verified_raw not in ("0", "1", "true", "false", "yes", "no"):
        raise SettingsError("配置项 WECHAT_VERIFIED 格式错误：应为 1（已微信认证）或 0（未认证）。")
    public_base = _optional(env, "PUBLIC_BASE_URL")
    if public_base and not public_base.startswith(("http://", "https://")):
        raise SettingsError(
            "配置项 PUBLIC_BASE_URL 格式错误：应为 https://域名，例如 https://ghpp.example.cn。"
        )

    return Settings(
        wechat_token=token,
        wechat_appid=appid,
        wechat_secret=secret,
        secret_key=secret_key,
        wechat_aes_key=aes_key,
        wechat_aes_key_previous=aes_prev,
        wechat_api_base=api_base,
        wechat_oauth_base=oauth_base,
        database_url=database_url,
        database_read_url=read_url,
        redis_url=redis_url,
        instance_dir=instance_dir,
        reply_budget_s=_positive_number(env, "REPLY_BUDGET_S", 4.0),
        wechat_mode=mode,
        trusted_proxies=_non_negative_int(env, "GHPP_TRUSTED_PROXIES", 0),
        account_type=account_type,
        account_verified=verified_raw in ("1", "true", "yes"),
        public_base_url=public_base.rstrip("/") if public_base else None,
        template_answer_id=_optional(env, "WECHAT_TEMPLATE_ANSWER_ID"),
        subscribe_template_id=_optional(env, "WECHAT_SUBSCRIBE_TEMPLATE_ID"),
        extra={k: v for k, v in env.items() if k.startswith("GHPP_")},
    )
