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
    """What a message asks for. The full per-intent table is in docs/zh/router.md."""

    name: str
    # Canonical brand name (vote, status, suggest, survey, progress), or None.
    brand: str | None = None
    # vote: the candidate number typed (投3号, 第三个, a bare "3").
    number: int | None = None
    # vote: 1–5 when the user rates (5分, 四星, 非常满意=5 … 非常不满意=1).
    score: int | None = None
    # status: a quoted ticket in canonical form, JY20261121-0042.
    ticket: str | None = None
    # suggest/progress: the content without command words; bind: the code (upper case);
    # status: MY_SUGGESTIONS when asking about one's own suggestions.
    text: str | None = None
    # suggest: the user asked to stay anonymous.
    anonymous: bool = False
    # The router's probability that ``name`` is what the user meant: the classifier's softmax with a
    # temperature fitted on cross-validation folds of the training corpus (0.9 is right about 9 times
    # in 10), or a rule's measured precision; capped for thin messages (a bare brand 0.6, a bare
    # number 0.9, a vote naming two brands 0.7, a brand known only by part or sound 0.85/0.8).
    # Handlers read it through one policy (config/router/policy.yaml).
    confidence: float = 1.0
    # For "unknown": the intents closest to what was typed, best first ("您是不是想：…"), never
    # empty; otherwise, when confidence < policy ``act``: (name, the next most likely intent).
    suggestions: tuple[str, ...] = field(default_factory=tuple)
    # The next most likely intents after ``name``, best first (at most 3).
    alternatives: tuple[str, ...] = field(default_factory=tuple)

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
