"""Links from chat replies to the H5 pages (the handlers' ``PageLinks`` port).

With web sign-in (a verified service account) a link is the page's address: WeChat signs the
worker in when it opens. Without it, a link is a one-time chat link (``/h5/enter?t=…``, ten
minutes, once) that signs in whoever holds it, so it is made for one reply to one worker. No
public address (PUBLIC_BASE_URL unset): no links, the chat says what it always said.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.h5.signin import enter_token

if TYPE_CHECKING:
    from bot.runtime import Runtime


class H5Links:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime  # read at each call: settings and capabilities may be replaced

    @property
    def signs_in(self) -> bool:
        return not self._runtime.capabilities.oauth

    def url(self, openid: str, path: str) -> str | None:
        settings = self._runtime.settings
        base = settings.public_base_url
        if not base or not path.startswith("/h5/"):
            return None
        if self._runtime.capabilities.oauth:
            return f"{base}{path}"
        return f"{base}/h5/enter?t={enter_token(openid, path, settings.secret_key)}"
