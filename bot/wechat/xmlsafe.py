"""Guards for the XML WeChat posts us and the XML we send back."""

from __future__ import annotations

import re

# XML 1.0 forbids these characters even escaped; users still manage to type them.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INVALID_CHAR_REFS = re.compile(
    r"&#(?:x0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]));"
)
_FORBIDDEN_DECLS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UnsafeXML(ValueError):
    """DOCTYPE or entity declarations: never from WeChat, refused before parsing."""


def check_no_declarations(body: bytes) -> None:
    if _FORBIDDEN_DECLS.search(body):
        raise UnsafeXML("DOCTYPE/ENTITY declarations are not accepted")


def strip_invalid_chars(text: str) -> str:
    """Remove characters (raw or as character references) that XML 1.0 does not allow."""
    return _INVALID_CHAR_REFS.sub("", _INVALID_XML_CHARS.sub("", text))


def cdata(text: str) -> str:
    """A CDATA section holding ``text`` exactly, even when it contains ``]]>``."""
    safe = strip_invalid_chars(text).replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{safe}]]>"


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``max_bytes`` UTF-8 bytes on a character boundary."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget = max_bytes - len(ellipsis.encode("utf-8"))
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + ellipsis
