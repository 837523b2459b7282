"""Votes, ratings and the 社会认可度 index (method: docs/method/).

``estimators`` (per group) and ``cohort_index`` are the pure maths (quantiles from
``handlers.statistics``); ``loader`` (with
``estimator_inputs``) reads events; ``campaigns`` makes campaigns and ``recording`` records votes
and ratings; ``chat`` and ``sink`` are the entry points from WeChat and from the survey engine;
``fraud`` flags suspicious responses (the rules in ``detection`` and the ``*_rules`` modules, run
by ``scan``); ``adjudication`` and ``brand_checks`` hold the people's decisions; ``report``,
``snapshots`` and ``queries`` serve the results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry imports this package's provider types
    from handlers.registry import Registry


def register(registry: Registry) -> None:
    """This domain's chat handlers, jobs and hooks (called once, by ``handlers.wiring``)."""
    # Imported here: importing one module of the domain (its models' helpers, its queries) must
    # not load its chat handlers, nor ``handlers.registry`` the whole domain.
    from handlers.recognition import chat, links, live, roster, sink

    registry.include(chat.routes, links.routes, live.routes, roster.routes, sink.routes)
