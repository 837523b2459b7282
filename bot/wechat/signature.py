"""WeChat's request signatures: SHA-1 over the sorted, concatenated parts."""

from __future__ import annotations

import hashlib
import hmac


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check(expected_parts: tuple[str, ...], signature: str) -> bool:
    """Constant-time comparison of ``signature`` with the signature of ``expected_parts``."""
    # As bytes: compare_digest refuses non-ASCII str, and a forged signature may be anything.
    given = (signature or "").lower().encode("utf-8", "surrogatepass")
    return hmac.compare_digest(sign(*expected_parts).encode("ascii"), given)
