"""Votes and ratings in WeChat: 「投票」 lists the candidates, 「投3号」 votes, 「品牌 5分」 rates."""

from __future__ import annotations

import re
from datetime import timedelta

from config import recognition_texts as t
from config.recognition import default_config
from handlers.anonymity import keyed
from handlers.asking_back import ask_back
from handlers.clock import SHANGHAI
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.pages import guarded, link_line
from handlers.paging import pages_of
from handlers.recognition.adjudication import locked_open
from handlers.recognition.campaign_scope import campaigns_for_brand, entry_by_number, open_campaigns_for
from handlers.recognition.fraud import run_rules
from handlers.recognition.live import ask_refresh
from handlers.recognition.recording import Outcome, record_rating, record_vote
from handlers.recognition.respondents import identity_hash, may_be_reviewer, reviewer_campaigns
from handlers.recognition.reviewer_codes import redeem_reviewer_code
from handlers.registry import JobContext, Routes
from handlers.understanding import clear_score, flow_prompt, option
from models import Brand, Conversation
from models.recognition import Campaign, CampaignKind, ReviewerInvite

routes = Routes()

FLOW_SCORE = "recognition_score"
FLOW_TTL = timedelta(minutes=10)
# WeChat truncates passive text replies above 2048 bytes (UTF-8).
REPLY_LIMIT_BYTES = 2048
_PAGE = re.compile(r"(?:候选|名单)\s*(\d+)")


def _closes(c: Campaign) -> str:
    if c.closes_at is None:
        return "长期开放"
    return c.closes_at.astimezone(SHANGHAI).strftime("截至%m月%d日%H:%M")


def candidate_pages(campaign: Campaign, others: list[str], link: str | None = None) -> list[str]:
    """The candidate list cut into replies of at most 2048 bytes each."""
    head = t.LIST_HEADER.format(name=campaign.name, kind=campaign.kind.label, closes=_closes(campaign))
    foot = (
        t.LIST_FOOT_VOTE.format(k=campaign.max_choices)
        if campaign.kind is CampaignKind.VOTE
        else t.LIST_FOOT_RATING
    )
    if others:
        foot += "\n" + t.LIST_OTHER_CAMPAIGNS.format(names="、".join(others))
    if link:
        foot += "\n" + link  # seeing the brands' photos and descriptions beats a list of names
    lines = [t.LIST_LINE.format(number=e.number, brand=e.brand.name) for e in campaign.entries]
    reserve = len(t.LIST_MORE.format(page=999, pages=999, next=999).encode()) + 4
    budget = REPLY_LIMIT_BYTES - len(head.encode()) - len(foot.encode()) - reserve
    pages = pages_of(lines, budget)
    out = []
    for i, chunk in enumerate(pages, start=1):
        parts = [head, *chunk]
        if len(pages) > 1:
            parts.append(t.LIST_MORE.format(page=i, pages=len(pages), next=i % len(pages) + 1))
        parts.append(foot)
        out.append("\n".join(parts))
    return out


def _list_reply(ctx: Context, page: int = 1) -> Reply:
    campaigns = open_campaigns_for(ctx.session, ctx.user, ctx.now)
    if not campaigns:
        return Reply(t.NO_OPEN_CAMPAIGN)
    link = link_line(ctx, t.LIST_PAGE_LINK, f"/h5/campaigns/{campaigns[0].id}")
    pages = candidate_pages(campaigns[0], [c.name for c in campaigns[1:]], link)
    return guarded(ctx, Reply(pages[min(max(page, 1), len(pages)) - 1]), link)


@routes.intent("list")
def list_intent(ctx: Context, inbound: Inbound, intent: object) -> Reply:
    m = _PAGE.search(inbound.text)
    return _list_reply(ctx, int(m.group(1)) if m else 1)


@routes.click("MENU_LIST")
def list_click(ctx: Context, inbound: Inbound) -> Reply:
    return _list_reply(ctx)


@routes.click("MENU_VOTE")
def vote_click(ctx: Context, inbound: Inbound) -> Reply:
    return _list_reply(ctx)


def _resolve(
    ctx: Context,
    inbound: Inbound,
    brand_name: str | None,
    number: int | None,
    score: int | None,
    pinned: int | None = None,
) -> tuple[Campaign, Brand] | Reply:
    """The campaign and brand meant, among the campaigns that apply to this follower.

    With a rating and a vote campaign both open, a message with a score goes to the rating
    campaign, one without to the vote campaign. When several campaigns still fit, the worker
    is asked which (numbered choices); nothing is recorded until they answer. ``pinned`` is
    that answer: the campaign chosen.
    """
    prefer = CampaignKind.VOTE if score is None else CampaignKind.RATING
    campaigns = open_campaigns_for(ctx.session, ctx.user, ctx.now)
    if pinned is not None:
        campaigns = [c for c in campaigns if c.id == pinned]
    if not campaigns:
        return Reply(t.NO_OPEN_CAMPAIGN)
    pairs: list[tuple[Campaign, Brand]]
    if brand_name:
        from handlers.programme.brands import find_brand_by_name

        # The router names the brand as catalogued: found among the loaded candidates, else by
        # name or alias in the database.
        named = (e.brand for c in campaigns for e in c.entries if e.brand.name == brand_name)
        brand = next(named, None) or find_brand_by_name(ctx.session, brand_name)
        found = [c for c in campaigns if any(e.brand_id == brand.id for e in c.entries)] if brand else []
        if brand is None or not found:
            return Reply(t.BRAND_NOT_IN_CAMPAIGN.format(brand=brand_name))
        pairs = [(c, brand) for c in found if c.kind is prefer] or [(c, brand) for c in found]
    elif number is not None:
        # A number belongs to a list: that of the campaigns of the kind the message asks for.
        pool = [c for c in campaigns if c.kind is prefer] or campaigns
        pairs = [(c, e.brand) for c in pool if (e := entry_by_number(c, number)) is not None]
        if not pairs:
            return Reply(t.NUMBER_UNKNOWN.format(number=number))
    else:
        return Reply(t.WHICH_BRAND)
    # A G reviewer means the campaign that invited them; elsewhere record_rating refuses and says so.
    invited = (
        {c.id for c in reviewer_campaigns(ctx.session, identity_hash(ctx.session, ctx.user.openid))}
        if may_be_reviewer(ctx.session, ctx.user)
        else set()
    )
    if invited:
        pairs = [(c, b) for c, b in pairs if c.id in invited] or pairs
    if len(pairs) == 1:
        return pairs[0]
    options = [
        option("vote", brand=b.name if brand_name else None, number=number, score=score, campaign=c.id)
        for c, b in pairs
    ]
    return ask_back(ctx, inbound, options[:4], lead=t.ASK_WHICH_CAMPAIGN)


# Every this many events a background job (low-priority queue) scans the events since the
# campaign's checkpoint: its cost is that of the new events, and one scan per campaign runs at
# a time (the checkpoint row is locked), so jobs that pile up each find little to do.
SCAN_EVERY = 50


@routes.job("recognition_scan")
def scan_job(jctx: JobContext, campaign_id: int) -> None:
    campaign = jctx.session.get(Campaign, campaign_id)
    # Locked: a close in flight waits for this scan, or this scan sees the close and stops.
    if campaign is None or not locked_open(jctx.session, campaign):
        return  # a closed campaign's flags are not touched any more
    run_rules(jctx.session, campaign, jctx.now)


def _maybe_scan(ctx: Context, campaign: Campaign, o: Outcome) -> None:
    if o.event_id is not None:
        ask_refresh(ctx, campaign.id)
    if o.event_id is not None and o.event_id % SCAN_EVERY == 0:
        ctx.enqueue("recognition_scan", campaign_id=campaign.id)


def outcome_reply(o: Outcome, campaign: Campaign) -> Reply:
    if o.status == "limited":
        return Reply(t.RATE_LIMITED.format(limit=o.limit))
    if o.status == "closed":
        return Reply(t.CAMPAIGN_CLOSED.format(campaign=o.campaign))
    if o.status == "outside":
        return Reply(t.CAMPAIGN_OUTSIDE.format(campaign=o.campaign))
    if o.status == "reviewer_elsewhere":
        return Reply(t.REVIEWER_ELSEWHERE.format(invited=o.invited, campaign=o.campaign))
    if o.status == "recused":
        return Reply(t.REVIEW_RECUSED.format(brand=o.brand))
    if o.status == "already":
        return Reply(t.VOTE_ALREADY.format(brand=o.brand))
    if o.status == "full":
        return Reply(t.VOTE_FULL.format(k=o.limit, brands="、".join(o.voted)))
    if o.status == "replaced":
        return Reply(
            t.RATING_REPLACED.format(brand=o.brand, old=o.previous, score=o.score, campaign=o.campaign)
        )
    if o.status in ("same", "duplicate") and o.score is not None:
        return Reply(t.RATING_SAME.format(brand=o.brand, score=o.score))
    if o.score is not None:
        return Reply(t.RATING_RECORDED.format(brand=o.brand, score=o.score, campaign=o.campaign))
    if o.status == "duplicate":
        return Reply(t.VOTE_ALREADY.format(brand=o.brand))
    return Reply(t.VOTE_RECORDED.format(brand=o.brand, campaign=o.campaign, used=o.used, k=o.limit))


def _key(ctx: Context, inbound: Inbound, suffix: str = "") -> str:
    # Keyed hash of openid + MsgId: idempotent per message, but no openid in the event, and
    # not recomputable from the database alone (the key is the server's, not a stored salt).
    return f"chat:{keyed('event-key', inbound.dedupe_key)}{suffix}"[:255]


def _ask_score(ctx: Context, campaign: Campaign, brand: Brand, channel: str, src: int | None) -> Reply:
    ctx.start_flow(
        FLOW_SCORE,
        {"campaign_id": campaign.id, "brand_id": brand.id, "channel": channel, "src": src, "tries": 0},
        FLOW_TTL,
    )
    return Reply(t.ASK_SCORE.format(brand=brand.name))


@routes.intent("vote")
def vote_intent(ctx: Context, inbound: Inbound, intent: object) -> Reply:
    from nlp import Intent

    assert isinstance(intent, Intent)
    score = intent.score if intent.score is not None else clear_score(ctx, inbound.text)
    chosen = ctx.chosen  # the answer to "which campaign?", when this resumes one
    pinned = chosen.get("campaign") if isinstance(chosen.get("campaign"), int) else None
    resolved = _resolve(ctx, inbound, intent.brand, intent.number, score, pinned)
    if isinstance(resolved, Reply):
        return resolved
    campaign, brand = resolved
    if isinstance(chosen.get("src"), int) and campaign.kind is CampaignKind.RATING:
        return _ask_score(ctx, campaign, brand, "brand", chosen["src"])  # from a brand's QR code
    key = _key(ctx, inbound)
    if campaign.kind is CampaignKind.VOTE:
        outcome = record_vote(ctx.session, ctx.user, campaign, brand, key, ctx.now)
        _maybe_scan(ctx, campaign, outcome)
        return outcome_reply(outcome, campaign)
    if score is None:
        # 「投票给X」 in a rating campaign: heat (参与热度, outside the index), then ask for the score.
        record_vote(ctx.session, ctx.user, campaign, brand, _key(ctx, inbound, ":heat"), ctx.now)
        return _ask_score(ctx, campaign, brand, "self", None)
    outcome = record_rating(ctx.session, ctx.user, campaign, brand, score, key, ctx.now)
    _maybe_scan(ctx, campaign, outcome)
    return outcome_reply(outcome, campaign)


@routes.flow(FLOW_SCORE)
def score_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    data = dict(conv.data)
    # Only a plain score counts: "对食堂很不满意，菜里有头发" is a complaint, not a 1.
    score = clear_score(ctx, inbound.text) if inbound.text else None
    if score is None:
        # Something else entirely: let the router have it. A short unparseable answer: ask again.
        if len(inbound.text) > 6 or data.get("tries", 0) >= 2:
            ctx.end_flow()
            return None
        data["tries"] = data.get("tries", 0) + 1
        ctx.update_flow(conv, data, FLOW_TTL)
        return Reply(t.ASK_SCORE_AGAIN)
    campaign = ctx.session.get(Campaign, data["campaign_id"])
    brand = ctx.session.get(Brand, data["brand_id"])
    ctx.end_flow()
    if campaign is None or brand is None:
        return Reply(t.NO_OPEN_CAMPAIGN)
    outcome = record_rating(
        ctx.session,
        ctx.user,
        campaign,
        brand,
        score,
        _key(ctx, inbound),
        ctx.now,
        data["channel"],
        data["src"],
    )
    _maybe_scan(ctx, campaign, outcome)
    return outcome_reply(outcome, campaign)


@flow_prompt(FLOW_SCORE)
def score_prompt(ctx: Context, conv: Conversation) -> str:
    brand = ctx.session.get(Brand, conv.data.get("brand_id"))
    return t.ASK_SCORE.format(brand=brand.name if brand else "")


@routes.scene("brand")
def brand_scene(ctx: Context, inbound: Inbound, rest: str) -> Reply | None:
    """A brand's own QR code: opens its rating directly; the channel is marked ``brand``."""
    brand = ctx.session.get(Brand, int(rest)) if rest.isdigit() else None
    if brand is None:
        return Reply(t.BRAND_QR_UNKNOWN)
    found = campaigns_for_brand(ctx.session, brand.id, ctx.now, ctx.user)
    if not found:
        return Reply(t.NO_OPEN_CAMPAIGN)
    ratings = [c for c in found if c.kind is CampaignKind.RATING]
    if len(ratings) > 1:
        options = [option("vote", brand=brand.name, campaign=c.id, src=brand.id) for c in ratings[:4]]
        return ask_back(ctx, inbound, options, lead=t.ASK_WHICH_CAMPAIGN)
    if ratings:
        return _ask_score(ctx, ratings[0], brand, "brand", brand.id)
    campaign = found[0]
    entry = next(e for e in campaign.entries if e.brand_id == brand.id)
    return Reply(t.BRAND_QR_VOTE.format(brand=brand.name, number=entry.number, campaign=campaign.name))


@routes.scene("review")
def reviewer_scene(ctx: Context, inbound: Inbound, rest: str) -> Reply | None:
    """A reviewer's invitation QR code (scene ``review:<code>``) makes them a G reviewer."""
    invite = redeem_reviewer_code(ctx.session, ctx.user, rest, ctx.now)
    return reviewer_reply(ctx, invite)


@routes.code(r"PY[0-9A-F]{8}")
def reviewer_code_by_text(ctx: Context, code: str) -> tuple[Reply, bool]:
    """ "绑定 PY1A2B3C4D" (or "评议 …"): the same as scanning the reviewer's QR code."""
    invite = redeem_reviewer_code(ctx.session, ctx.user, code, ctx.now)
    return reviewer_reply(ctx, invite), invite is not None


def reviewer_reply(ctx: Context, invite: ReviewerInvite | None) -> Reply:
    if invite is None:
        return Reply(t.REVIEWER_CODE_BAD)
    campaign = ctx.session.get(Campaign, invite.campaign_id)
    assert campaign is not None
    return Reply(t.REVIEWER_BOUND.format(campaign=campaign.name, unit=invite.unit_name))


# Loaded (and validated) at import: a bad config file stops start-up with its Chinese message.
default_config()
