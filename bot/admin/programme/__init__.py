"""The brand programme in the dashboard: a brand's timeline and forms, photos, imports,
invitations, coverage (督导), the review dossier and three overview panels.

Every write calls the same operation the CLI and chat call (handlers.programme.*), commits
in the view (the view is the boundary) and records an audit entry. Who may write what
(``access``):

- review (上级评议): an admin whose union is a strict ancestor of the brand's union;
- plan, self-evaluation: an admin or cadre account of the brand's own union;
- stage advance: those two, and ancestor admins (the evidence gates apply to everyone);
- imports, invitations: admins, for unions in their subtree only.

Viewers read; any write is 403 for them. Records outside the subtree are 404.

Pages by group: ``timeline`` (the brand page, its forms, photos, the dossier), ``imports``,
``invitations``, ``coverage``; ``panels`` (overview), ``exports`` (tables). ``api`` adds the
timeline and coverage routes to the JSON API's blueprint; ``bot.admin`` imports it.
"""

from flask import Flask

from bot.admin.programme import api, coverage, imports, invitations, panels, timeline  # noqa: F401  (their routes)
from bot.admin.programme.blueprint import bp, nav

__all__ = ["bp", "init_admin", "nav"]


def init_admin(app: Flask) -> None:
    """Serve this domain's pages and overview panels (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
    panels.register_panels(app)
