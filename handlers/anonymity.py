"""Keys and helpers that keep anonymous suggestions anonymous.

Threat model: an insider who holds the database, the logs, Redis and the follower list but not
SECRET_KEY. Everything that must not be joinable to an openid is either absent, coarsened to the
Asia/Shanghai day, or an HMAC keyed from SECRET_KEY (set once by the composition root).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from handlers.clock import SHANGHAI

# Crockford base32: no I, L, O, U, so codes survive being read aloud and typed on a phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 8 × 5 = 40 bits
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
LEGACY_PREFIX = "legacy:"

_key: bytes | None = None


def anonymity_key(secret_key: str) -> bytes:
    """The HMAC key for anonymity, derived from SECRET_KEY (given by the caller, never read here)."""
    return hmac.new(secret_key.encode("utf-8"), b"ghpp/anonymity/v1", hashlib.sha256).digest()


def set_anonymity_key(key: bytes) -> None:
    """Called once by the composition root with a key derived from SECRET_KEY."""
    global _key
    _key = key


def _current_key() -> bytes:
    if _key is None:
        raise RuntimeError("anonymity key not configured: call set_anonymity_key() at start-up")
    return _key


def keyed(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for ``purpose``: joinable only by someone holding SECRET_KEY."""
    msg = f"{purpose}\x00{value}".encode()
    return hmac.new(_current_key(), msg, hashlib.sha256).hexdigest()


def seal(data: dict[str, Any]) -> str:
    """AES-GCM under a key from SECRET_KEY: conversation state and held replies of anonymous
    exchanges, readable by the application only (the row holding it still names its user)."""
    key = hmac.new(_current_key(), b"seal", hashlib.sha256).digest()
    nonce = secrets.token_bytes(12)
    blob = AESGCM(key).encrypt(nonce, json.dumps(data, ensure_ascii=False).encode(), None)
    return base64.urlsafe_b64encode(nonce + blob).decode("ascii")


def unseal(token: str) -> dict[str, Any] | None:
    """The sealed data, or None when it was not sealed with this key (or was tampered with)."""
    key = hmac.new(_current_key(), b"seal", hashlib.sha256).digest()
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        data = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], None))
    except Exception:  # noqa: BLE001  (any failure means "not ours")
        return None
    return data if isinstance(data, dict) else None


# --- access codes -------------------------------------------------------------------------------


def new_access_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def show_code(code: str) -> str:
    """ABCD-EFGH: easier to copy by eye; the hyphen is optional when typed back."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "").translate(_CROCKFORD_ALIASES)


def hash_code(ticket: str, code: str) -> str:
    # The ticket is part of the message: the same code on two tickets gives different hashes.
    return keyed("access-code", f"{ticket.upper()}:{normalise_code(code)}")


def legacy_hash(ticket: str, code: str) -> str:
    """How migration 0010 stored the old 4-digit codes (it has no SECRET_KEY to key them)."""
    digest = hashlib.sha256(f"{ticket.upper()}:{code.strip()}".encode()).hexdigest()
    return LEGACY_PREFIX + digest


def code_matches(ticket: str, code: str, stored: str | None) -> bool:
    if not stored:
        return False
    if stored.startswith(LEGACY_PREFIX):
        return hmac.compare_digest(legacy_hash(ticket, code), stored)
    return hmac.compare_digest(hash_code(ticket, code), stored)


# --- time -----------------------------------------------------------------------------------------


def day_stamp(now: datetime) -> datetime:
    """The start of ``now``'s Asia/Shanghai day, in ``now``'s zone: what anonymous records store.

    Never later than ``now``, so nothing looks filed in the future.
    """
    local = now.astimezone(SHANGHAI)
    start = datetime.combine(local.date(), time(0), tzinfo=SHANGHAI)
    return start.astimezone(now.tzinfo)


ATTEMPT_WINDOW = timedelta(hours=1)
MAX_WRONG_ATTEMPTS = 5
