"""A campaign by id as the account may see it, and the stored results its pages show."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.scoping import Scope
from handlers.recognition import scoped_queries as q
from handlers.recognition.live import StoredResults, refresh, stored_results
from handlers.recognition.report import results
from models import utcnow
from models.recognition import Campaign


def campaign_or_404(session: Session, sc: Scope, campaign_id: int) -> Campaign:
    campaign = q.visible_campaign(session, sc, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def organiser_campaign(campaign_id: int) -> Campaign:
    """The campaign for a write only its organiser's admins may make (403 for anyone else)."""
    sc = web.scope()
    campaign = campaign_or_404(web.db(), sc, campaign_id)
    if not q.is_organiser(web.db(), sc, campaign):
        abort(403)
    return campaign


def page_results(session: Session, campaign: Campaign) -> StoredResults:
    """The stored results (snapshot, or the live report the background refresh keeps). Only a
    campaign never refreshed yet is computed here, once, and stored for the next requests."""
    stored = stored_results(session, campaign)
    if stored is None:
        refresh(session, campaign, utcnow())
        session.commit()
        stored = stored_results(session, campaign)
    if stored is None:  # a concurrent first refresh holds it: compute without storing
        return StoredResults(results(session, campaign), utcnow())
    return stored


def scoped_report(
    session: Session, sc: Scope, campaign: Campaign, full: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The CLI's JSON report with only the rows of brands in the account's subtree."""
    report = full if full is not None else page_results(session, campaign).report
    return q.scoped_report(session, sc, campaign, report)
