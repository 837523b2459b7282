"""Where photo files go: a storage interface and its local-directory backend.

Files are named by their SHA-256, so the same bytes are stored once however often they
arrive. An S3-compatible backend is not implemented (see docs/zh/limitations.md); choosing
it fails loudly instead of silently writing somewhere else.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

# Magic numbers of the formats WeChat delivers for image messages.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def sniff_image(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) judged from the bytes themselves, or None if not an image."""
    for magic, mime, ext in _SIGNATURES:
        if content.startswith(magic):
            return mime, ext
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def photo_key(sha256: str, ext: str) -> str:
    return f"photos/{sha256[:2]}/{sha256}.{ext}"


class PhotoStorage(Protocol):
    def put(self, key: str, content: bytes, content_type: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def get(self, key: str) -> bytes: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the media directory: {key!r}")
        return path

    def put(self, key: str, content: bytes, content_type: str) -> None:
        path = self._path(key)
        if path.exists():
            return  # content-addressed: same key, same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crash never leaves a half file under a valid hash.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def storage_from_options(options: Mapping[str, Any]) -> PhotoStorage:
    backend = str(options.get("GHPP_MEDIA_STORAGE", "local")).strip().lower()
    if backend != "local":
        raise RuntimeError(f"media storage {backend!r} is not implemented; only 'local' is available")
    return LocalStorage(Path(str(options["media_dir"])))
