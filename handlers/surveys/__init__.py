"""Surveys (满意度问卷): YAML templates, one response per person shared by the chat and the H5
page, the results with their intervals, and the exports.

``templates`` parses config/surveys; ``answers`` is the one set of answer rules; ``operations``
changes state (open/close, start, answer, complete: completion publishes the index's measures);
``chat`` and ``page`` are the two ways to answer; ``queries`` is what the others read;
``results`` and ``reports`` serve the dashboard and the CLI.

``register`` adds its chat handlers to the service's registry.
"""

from handlers.registry import Registry
from handlers.surveys import chat


def register(registry: Registry) -> None:
    """This domain's chat handlers, jobs and hooks (called once, by ``handlers.wiring``)."""
    registry.include(chat.routes)
