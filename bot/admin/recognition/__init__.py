"""Campaigns (评选/测评) and the 社会认可度 index in the dashboard (/admin/campaigns) and its API.

Scoping rule. A campaign has an organising union (``Campaign.union_id``, set to the creating
account's union when created here; None for programme-wide campaigns made with the CLI). An
account sees a campaign when its organiser is in the account's subtree or when at least one of
its candidate brands is; in either case it sees only the rows of brands in its subtree (a
county sees its own brands in the province's campaign, never the neighbours'). The rank range
and tier stay those of the whole cohort: they are the campaign's result, not a local re-ranking.
Otherwise the campaign answers 404 by id. The queries are ``handlers.recognition.scoped_queries``.

The organiser's admins are the admins of the organising union and of its ancestors (for a
programme-wide campaign: admins of a top union). Only they close a campaign, invite reviewers,
adjudicate flags, and see a blind campaign's results before it closes.

Every number comes from ``handlers.recognition.report.results`` (the function behind
``flask --app bot recognition --format json``); the export has the columns of its CSV.

Modules: ``views`` (the list, creating, a campaign's page, closing, inviting, the method page),
``flags`` (flags and brand checks), ``exports`` (the tables and charts of a campaign's page),
``access`` (a campaign by id for the account, its stored results), ``panels`` (the overview's
panels) and ``api`` (/api/v1/campaigns).
"""

from flask import Flask

from bot.admin.recognition import api, flags, panels  # noqa: F401  (their routes)
from bot.admin.recognition.views import bp, nav

__all__ = ["bp", "init_admin", "nav"]


def init_admin(app: Flask) -> None:
    """Serve this domain's pages and overview panels (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
    panels.register_panels(app)
