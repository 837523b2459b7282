"""The brand programme (issue 6): brands and the union tree, member imports, cadre invitations
and binding, the brand lifecycle with evidence gates and a timeline, plans, progress reports and
photos, self-evaluations and reviews against the five standards, and the coverage report.

State changes are in ``operations`` (their rules in ``gates``, the round's evidence in
``evidence``), read models in ``queries``, file imports in ``imports``.
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
    from handlers.programme import binding, photos, progress

    registry.include(binding.routes, photos.routes, progress.routes)
