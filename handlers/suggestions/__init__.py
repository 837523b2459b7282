"""Suggestions (职工建议: 建议 / 意见 / 投诉), named or anonymous: filing in WeChat, tickets, the
union's handling (accept, start, answer, transfer, reject, escalation when overdue), answers
pushed to the worker, ratings, the worker's H5 page and the dashboard's read models.

``operations`` changes state (``states`` says what is allowed), ``chat`` and ``jobs`` are the
entry points from WeChat and the queue, ``queries`` and ``page`` serve what is read. The
categories, deadlines and limits are in config/suggestions.yaml (``config.suggestions``).

``register`` adds its chat handlers and jobs to the service's registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry imports this package's provider types
    from handlers.registry import Registry


def register(registry: Registry) -> None:
    """This domain's chat handlers, jobs and hooks (called once, by ``handlers.wiring``)."""
    # Imported here: importing one module of the domain (its models' helpers, its queries) must
    # not load its chat handlers, nor ``handlers.registry`` the whole domain.
    from handlers.suggestions import chat, jobs

    registry.include(chat.routes, jobs.routes)
