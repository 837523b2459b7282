"""The two suggestion dialogues (filing, rating an answer) and their sealed data.

The conversation row names its user; in clear, an anonymous step would hold the text (or the
ticket being rated) beside the user id. Named flows are sealed too, so the two look alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.anonymity import seal, unseal
from handlers.context import Context
from models import Conversation

FLOW = "suggest"
RATE_FLOW = "suggestion_rate"
FLOW_TTL = timedelta(hours=1)
RATE_TTL = timedelta(days=7)


def start_flow(
    ctx: Context, flow: str, data: dict[str, Any], ttl: timedelta, conv: Conversation | None = None
) -> None:
    """Start or update a suggestion flow with its data sealed."""
    sealed = {"sealed": seal(data)}
    if conv is None:
        ctx.start_flow(flow, sealed, ttl)
    else:
        ctx.update_flow(conv, sealed, ttl)


def flow_data(conv: Conversation) -> dict[str, Any]:
    """A suggestion flow's data, unsealed ({} when it cannot be read)."""
    raw = conv.data or {}
    token = raw.get("sealed")
    if isinstance(token, str):
        return unseal(token) or {}
    return dict(raw)
