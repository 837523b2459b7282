"""The recognition index's hook into the programme: a brand's score for reviews and replies.

The programme does not import the recognition index; the index registers a provider in the
registry at start-up (``handlers.recognition.links``), and callers pass ``registry.recognition``
in. Without one every brand reads 暂无数据.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import Brand


@dataclass(frozen=True)
class RecognitionInfo:
    """What the recognition index says about a brand: its score (0–100) and rank when known."""

    score: float
    rank: int | None = None
    out_of: int | None = None
    campaign: str | None = None
    # The index's own one-paragraph account (interval, status, disclosure) for chat replies.
    summary: str | None = None


RecognitionProvider = Callable[[Session, Brand], RecognitionInfo | None]


def no_recognition_data(session: Session, brand: Brand) -> RecognitionInfo | None:
    """The provider when the index is not registered: every brand reads 暂无数据."""
    return None
