"""Passwords, CSRF tokens, API tokens and the login rate limit — the dashboard's small security kit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import abort, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.store import Store

MIN_PASSWORD_LENGTH = 10
CSRF_SESSION_KEY = "_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
API_TOKEN_PREFIX = "ghpp_"

# A real hash of a random password: unknown usernames are checked against it so a wrong
# username takes as long as a wrong password (no username probing by timing).
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


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
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


def password_fingerprint(password_hash: str) -> str:
    """Kept in the session: changing the password ends every other session of the account."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


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


def new_api_token() -> tuple[str, str]:
    """A fresh token and its stored hash. The token is shown once and never kept."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    # SHA-256 suffices: the token carries 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginLimiter:
    """Failed logins counted per username and per client address in the runtime store."""

    store: Store
    per_user: int = 5
    per_address: int = 20
    window_s: int = 15 * 60

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        return f"admin:login:user:{username.lower()}", f"admin:login:addr:{address}"

    def blocked(self, username: str, address: str) -> bool:
        user_key, addr_key = self._keys(username, address)
        return (
            int(self.store.get(user_key) or 0) >= self.per_user
            or int(self.store.get(addr_key) or 0) >= self.per_address
        )

    def failed(self, username: str, address: str) -> None:
        user_key, addr_key = self._keys(username, address)
        self.store.incr(user_key, self.window_s)
        self.store.incr(addr_key, self.window_s)

    def succeeded(self, username: str, address: str) -> None:
        self.store.delete(self._keys(username, address)[0])
