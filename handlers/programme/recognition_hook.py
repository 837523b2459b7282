"""The recognition index's hook into the programme: a brand's score for reviews and replies.

The programme does not import the recognition index; the index registers a provider here at
start-up (``handlers.recognition.links``). Without one every brand reads 暂无数据.
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


def _no_recognition_data(session: Session, brand: Brand) -> RecognitionInfo | None:
    return None


_recognition_provider: RecognitionProvider = _no_recognition_data


def set_recognition_score_provider(provider: RecognitionProvider | None) -> None:
    """The recognition index registers itself here; None restores the default (暂无数据)."""
    global _recognition_provider
    _recognition_provider = provider or _no_recognition_data


def recognition_provider() -> RecognitionProvider:
    """The provider in use (tests put it back after swapping in their own)."""
    return _recognition_provider


def recognition_for(session: Session, brand: Brand) -> RecognitionInfo | None:
    return _recognition_provider(session, brand)
