"""Safe-mode message crypto (AES-256-CBC), with the previous key kept for rotation."""

from __future__ import annotations

import logging

from wechatpy.crypto import WeChatCrypto

log = logging.getLogger(__name__)


class DecryptError(Exception):
    """No configured key decrypts the message (wrong key, or a forged body)."""


class MessageCrypto:
    def __init__(self, token: str, appid: str, aes_key: str, previous_key: str | None = None) -> None:
        self._appid = appid
        self._current = WeChatCrypto(token, aes_key, appid)
        self._previous = WeChatCrypto(token, previous_key, appid) if previous_key else None

    def decrypt(self, encrypted: str) -> str:
        """Decrypt the ``Encrypt`` field (signature already checked), current key first."""
        for name, crypto in (("current", self._current), ("previous", self._previous)):
            if crypto is None:
                continue
            try:
                text = _decrypt_with(crypto, encrypted, self._appid)
            except Exception:  # noqa: BLE001  (any failure means: not this key)
                continue
            if name == "previous":
                log.warning("message decrypted with WECHAT_AES_KEY_PREVIOUS; finish the key rotation")
            return text
        raise DecryptError("no configured AES key decrypts this message")

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """The encrypted reply envelope, always under the current key."""
        return str(self._current.encrypt_message(xml, nonce, timestamp))


def _decrypt_with(crypto: WeChatCrypto, encrypted: str, appid: str) -> str:
    # Signature is verified by the caller; here only the AES layer and the appid check run.
    from wechatpy.crypto import PrpCrypto

    return str(PrpCrypto(crypto.key).decrypt(encrypted, appid))
