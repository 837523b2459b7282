"""The survey engine's measured responses become roster ballots and ratings (handlers/measures.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.measures import MeasuredResponse
from handlers.recognition.campaign_scope import applies_to, open_campaigns_for
from handlers.recognition.recording import _insert
from handlers.recognition.respondents import respondent
from handlers.registry import Routes
from models import User
from models.recognition import Campaign, CampaignKind, RecognitionEvent

routes = Routes()

CHANNELS = ("neutral_invited", "neutral_open", "brand", "self", "third_party")


@routes.measured_response
def record_measured_response(session: Session, response: MeasuredResponse) -> None:
    """Idempotent on ``source_key``: a response delivered twice records its events once.

    A survey that names no campaign (the standing 品牌社会认可度调查) counts for every rating
    campaign open when it was submitted: each campaign is a round with its own roster ballot.
    """
    if not response.source_key:
        return  # no idempotency key: nothing we can count safely
    user = session.get(User, response.user_id)
    if user is None:
        return
    if response.campaign_id is not None:
        named = session.get(Campaign, response.campaign_id)
        campaigns = [named] if named is not None and applies_to(session, named, user) else []
    else:
        campaigns = [
            c
            for c in open_campaigns_for(session, user, response.submitted_at)
            if c.kind is CampaignKind.RATING
        ]
    for campaign in campaigns:
        _record_for(session, response, user, campaign)


def _record_for(session: Session, response: MeasuredResponse, user: User, campaign: Campaign) -> None:
    rsp = respondent(session, user, campaign)
    if rsp.reviewer_of is not None:
        return  # a G reviewer's answers count only in the campaign that invited them
    # The group is fixed by verification; a survey may only narrow it to what verification says.
    group = rsp.group
    channel = response.channel if response.channel in CHANNELS else "self"
    candidates = {e.brand_id for e in campaign.entries}
    base = {
        "campaign_id": campaign.id,
        "identity_hash": rsp.identity,
        "grp": group,
        "union_path": rsp.union_path,
        "cadre": rsp.cadre,
        "identity_first_seen_at": rsp.first_seen_at,
        "channel": channel,
        "src_brand_id": None,
        "started_at": response.started_at,
        "submitted_at": response.submitted_at,
    }
    prefix = f"survey:{response.source_key}:c{campaign.id}"
    if session.scalar(
        select(RecognitionEvent.id).where(RecognitionEvent.event_key.like(f"{prefix}:%")).limit(1)
    ):
        return
    if response.roster is not None and group in ("W", "S"):
        shown = [i.brand_id for i in response.roster.shown if i.brand_id is not None]
        _insert(
            session,
            RecognitionEvent(
                event_key=f"{prefix}:roster",
                kind="roster_ballot",
                brand_id=None,
                payload={
                    "shown": shown,
                    "aware": [b for b in response.roster.aware_brand_ids if b in shown],
                    "foil": response.roster.foil_ticked,
                },
                **base,
            ),
        )
    for answer in response.ratings:
        if answer.brand_id not in candidates:
            continue
        kind = "review_score" if group == "G" else "rating"
        payload = {"items": [answer.q1_overall]} if kind == "review_score" else {}
        _insert(
            session,
            RecognitionEvent(
                event_key=f"{prefix}:rating:{answer.brand_id}",
                kind=kind,
                brand_id=answer.brand_id,
                q1=answer.q1_overall,
                q2=answer.q2_vs_expect,
                q3=answer.q3_recommend,
                payload=payload,
                **base,
            ),
        )
