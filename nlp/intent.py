"""The router's public data types."""

from __future__ import annotations

from dataclasses import dataclass, field

INTENTS = (
    "vote",
    "list",
    "status",
    "suggest",
    "survey",
    "progress",
    "bind",
    "help",
    "cancel",
    "unknown",
)

# Intent.text of a "status" intent when the user asks about their own suggestions (我的建议).
MY_SUGGESTIONS = "我的建议"


@dataclass(frozen=True)
class BrandEntry:
    """One brand of the catalogue the router resolves names against."""

    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intent:
    name: str
    brand: str | None = None
    number: int | None = None
    score: int | None = None
    ticket: str | None = None
    text: str | None = None
    anonymous: bool = False
    # Below 1.0 the router is guessing: the bot should ask back before acting.
    confidence: float = 1.0
    # For "unknown": the intents closest to what was typed, best first ("您是不是想：…").
    suggestions: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, object]:
        return {
            "intent": self.name,
            "brand": self.brand,
            "number": self.number,
            "score": self.score,
            "ticket": self.ticket,
            "text": self.text,
            "anonymous": self.anonymous,
        }
