"""The shared access token: one per app id for every process, kept in the store.

Uses WeChat's ``stable_token`` endpoint, refreshes under a lock so that many workers starting
at once make one upstream call, and drops a cached token only if it is the one that failed
(compare-and-delete), so a slow process cannot throw away a token another just fetched.
"""

from __future__ import annotations

import logging
import time

import requests

from bot.store import Store
from handlers.ports import WeChatApiError

log = logging.getLogger(__name__)

# Refresh this long before WeChat's expiry, so no request carries a token that dies in flight.
EXPIRY_MARGIN_S = 300


class TokenService:
    def __init__(
        self,
        store: Store,
        appid: str,
        secret: str,
        api_base: str,
        *,
        http: requests.Session | None = None,
        timeout_s: float = 5.0,
        lock_wait_s: float = 10.0,
    ) -> None:
        self._store = store
        self._appid = appid
        self._secret = secret
        self._url = f"{api_base.rstrip('/')}/cgi-bin/stable_token"
        self._http = http or requests.Session()
        self._timeout = timeout_s
        self._lock_wait = lock_wait_s
        self._key = f"wechat:token:{appid}"

    def get(self) -> str:
        token = self._store.get(self._key)
        if token:
            return token
        return self._refresh(failed=None)

    def renew_after_failure(self, failed: str) -> str:
        """WeChat said ``failed`` is invalid (40001/42001): replace it, once for everyone."""
        self._store.delete_if_equals(self._key, failed)
        return self._refresh(failed=failed)

    def _refresh(self, failed: str | None) -> str:
        with self._store.lock(f"{self._key}:lock", ttl_s=self._timeout * 3, wait_s=self._lock_wait):
            cached = self._store.get(self._key)
            if cached and cached != failed:
                return cached  # another process refreshed while we waited for the lock
            token, expires_in = self._fetch(force=False)
            if failed is not None and token == failed:
                # The stable endpoint still returns the token WeChat just rejected.
                token, expires_in = self._fetch(force=True)
            ttl = max(60, expires_in - EXPIRY_MARGIN_S)
            self._store.set(self._key, token, ttl_s=ttl)
            return token

    def _fetch(self, *, force: bool) -> tuple[str, int]:
        payload = {
            "grant_type": "client_credential",
            "appid": self._appid,
            "secret": self._secret,
            "force_refresh": force,
        }
        started = time.monotonic()
        try:
            resp = self._http.post(self._url, json=payload, timeout=self._timeout)
            resp.raise_for_status()
            data = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatApiError(None, f"stable_token request failed: {exc}", retryable=True) from exc
        errcode = int(data.get("errcode", 0) or 0)
        if errcode != 0 or "access_token" not in data:
            raise WeChatApiError(
                errcode or None, str(data.get("errmsg", "no access_token")), retryable=errcode == -1
            )
        log.info("access token fetched (force=%s) in %.0f ms", force, (time.monotonic() - started) * 1000)
        return str(data["access_token"]), int(data.get("expires_in", 7200))
