"""Closing a campaign: the one operation the CLI and the dashboard both call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from handlers.recognition.campaigns import CampaignError
from handlers.recognition.fraud import run_rules
from handlers.recognition.report import take_snapshot
from models.recognition import Campaign, RecognitionSnapshot


def close_campaign(session: Session, campaign: Campaign, now: datetime) -> RecognitionSnapshot:
    """Mark the campaign closed, re-run the rules over the whole round, write the immutable snapshot."""
    if campaign.closed_at is not None:
        raise CampaignError(f"活动「{campaign.name}」已经结束")
    campaign.closed_at = min(now, campaign.closes_at) if campaign.closes_at else now
    session.flush()
    # The rules run once more over the whole round, so the official numbers exclude every
    # current suspect; adjudicate (recognition decide) before closing.
    run_rules(session, campaign, now)
    return take_snapshot(session, campaign)
