"""Passwords, CSRF tokens, API tokens and the login rate limit — the dashboard's small security kit."""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.store import Store

MIN_PASSWORD_LENGTH = 10
CSRF_SESSION_KEY = "_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
API_TOKEN_PREFIX = "ghpp_"


@functools.cache
def _dummy_hash() -> str:
    """A real hash of a random password: unknown usernames are checked against it so a wrong
    username takes as long as a wrong password (no username probing by timing). Made on the
    first sign-in, not at import: importing the module does no work."""
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


class PasswordError(ValueError):
    """A password that does not meet the rules (message in Chinese)."""


def check_new_password(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符。")
    if username and password.lower() == username.lower():
        raise PasswordError("密码不能与用户名相同。")
    if len(set(password)) < 4:
        raise PasswordError("密码过于简单，请使用更多不同的字符。")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


def password_fingerprint(password_hash: str) -> str:
    """Kept in the session: changing the password ends every other session of the account."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


# Control characters (NUL …) that no form field or query value may hold; tab, LF and CR are text.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHAR_MESSAGE = "输入内容含有不允许的控制字符（如 NUL），请删除后重试。"


def has_control_chars(*values: str) -> bool:
    return any(_CONTROL_CHARS.search(v) for v in values)


def csrf_token() -> str:
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def check_csrf() -> None:
    """Abort with 400 unless the form or header carries this session's token."""
    expected = session.get(CSRF_SESSION_KEY)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        abort(400, description="表单已失效（缺少或错误的安全校验码），请刷新页面后重试。")


def client_address() -> str:
    """The request's client address (the audit log's 来源地址, the login limit's key)."""
    # Behind a reverse proxy set GHPP_TRUSTED_PROXIES (werkzeug's ProxyFix) so this is the client.
    return request.remote_addr or "unknown"


def new_api_token() -> tuple[str, str]:
    """A fresh token and its stored hash. The token is shown once and never kept."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    # SHA-256 suffices: the token carries 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginLimiter:
    """Failed-login limits that strangers cannot turn against a real account.

    Per account: the first ``free_failures`` cost nothing; after that each failure makes the
    next attempt at that username wait 2, 4, 8 … seconds, at most ``max_delay_s``. A delay,
    not a lock, and counted per *device*: a browser that signed in to the account before
    carries a signed device cookie and has its own counter, so failures from elsewhere never
    slow the real user down there. Per address: only when the address is trustworthy (see
    ``auth.address_trusted``), ``per_address`` failures in ``window_s`` make that address wait.
    """

    store: Store
    clock: Callable[[], float] = time.time
    free_failures: int = 5
    max_delay_s: int = 300
    per_address: int = 20
    window_s: int = 15 * 60

    def _user_key(self, username: str, device: str | None) -> str:
        return f"admin:login:user:{username.lower()}:{device or '-'}"

    @staticmethod
    def _addr_key(address: str) -> str:
        return f"admin:login:addr:{address}"

    def wait_message(self, username: str, address: str, device: str | None, trusted: bool) -> str | None:
        """None when the attempt may go ahead, else the Chinese message saying how long to wait."""
        until = float(self.store.get(self._user_key(username, device) + ":until") or 0)
        remaining = until - self.clock()
        if remaining > 0:
            return f"登录失败次数较多，请 {math.ceil(remaining)} 秒后再试。"
        if trusted and int(self.store.get(self._addr_key(address)) or 0) >= self.per_address:
            return f"本机登录失败次数过多，请 {self.window_s // 60} 分钟后再试。"
        return None

    def failed(self, username: str, address: str, device: str | None, trusted: bool) -> None:
        key = self._user_key(username, device)
        count = self.store.incr(key + ":n", 4 * self.window_s)
        if count >= self.free_failures:
            delay = min(2 ** (count - self.free_failures + 1), self.max_delay_s)
            self.store.set(key + ":until", str(self.clock() + delay), ttl_s=delay)
        if trusted:
            self.store.incr(self._addr_key(address), self.window_s)

    def succeeded(self, username: str, device: str | None) -> None:
        for dev in {device, None}:
            key = self._user_key(username, dev)
            self.store.delete(key + ":n")
            self.store.delete(key + ":until")
