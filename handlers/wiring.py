"""Every domain's chat handlers, jobs and hooks, registered in one visible list.

The service builds its registry here once at start-up (``bot.runtime.Runtime``); the order of the
list is the order of hooks that run on every message. Adding a domain is one line below and a
``register(registry)`` in the domain's package.
"""

from __future__ import annotations

from handlers import (
    asking_back,
    delivery,
    help,
    members,
    members_rights,
    notify,
    pages,
    programme,
    recognition,
    retention,
    status,
    suggestions,
    surveys,
)
from handlers.registry import Registry


def build_registry() -> Registry:
    """A registry with every domain in; a key claimed twice raises ``RegistrationError``."""
    registry = Registry()
    # The chat's own modules: events, exact commands (tried in this order: 「页面」 before the
    # data-rights commands), help, status questions, asked-back confirmations, pushed answers.
    registry.include(
        members.routes,
        pages.routes,
        members_rights.routes,
        help.routes,
        status.routes,
        asking_back.routes,
        delivery.routes,
        notify.routes,
        retention.routes,
    )
    # The domains.
    programme.register(registry)  # binding, progress reports, photos
    recognition.register(registry)  # voting, rating, rosters, the index for reviews
    suggestions.register(registry)
    surveys.register(registry)
    return registry
