"""Surveys (满意度问卷): YAML templates, one response per person shared by the chat and the H5
page, the results with their intervals, and the exports.

``templates`` parses config/surveys; ``answers`` is the one set of answer rules; ``operations``
changes state (open/close, start, answer, complete: completion publishes the index's measures);
``chat`` and ``page`` are the two ways to answer; ``queries`` is what the others read;
``results`` and ``reports`` serve the dashboard and the CLI.

``register`` adds its chat handlers to the service's registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry imports this package's provider types
    from handlers.registry import Registry


def register(registry: Registry) -> None:
    """This domain's chat handlers, jobs and hooks (called once, by ``handlers.wiring``)."""
    # Imported here: importing one module of the domain (its models' helpers, its queries) must
    # not load its chat handlers, nor ``handlers.registry`` the whole domain.
    from handlers.surveys import chat

    registry.include(chat.routes)
