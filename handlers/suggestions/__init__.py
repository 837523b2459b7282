"""Suggestions (职工建议: 建议 / 意见 / 投诉), named or anonymous: filing in WeChat, tickets, the
union's handling (accept, start, answer, transfer, reject, escalation when overdue), answers
pushed to the worker, ratings, the worker's H5 page and the dashboard's read models.

``operations`` changes state (``states`` says what is allowed), ``chat`` and ``jobs`` are the
entry points from WeChat and the queue, ``queries`` and ``page`` serve what is read. The
categories, deadlines and limits are in config/suggestions.yaml (``config.suggestions``).

``register`` adds its chat handlers and jobs to the service's registry.
"""

from handlers.registry import Registry
from handlers.suggestions import chat, jobs


def register(registry: Registry) -> None:
    """This domain's chat handlers, jobs and hooks (called once, by ``handlers.wiring``)."""
    registry.include(chat.routes, jobs.routes)
