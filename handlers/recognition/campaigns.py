"""Campaign operations: create, close, candidates, and recording votes and ratings.

Everything a respondent submits becomes an append-only ``RecognitionEvent`` keyed by its
inbound message (or survey response), so WeChat's retries and concurrent deliveries are
counted once by the database's unique keys, not by luck.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from config.recognition import RecognitionConfig, default_config
from models import Brand, Role, Union, UnionKind, User
from models.recognition import (
    Campaign,
    CampaignBrand,
    CampaignKind,
    RecognitionEvent,
    RecognitionSecret,
    ReviewerInvite,
)


class CampaignError(ValueError):
    """An operation that cannot be done as asked (Chinese message for operators)."""


# The salt is written once by the migration and never changed: read once per database.
_salts: dict[str, str] = {}


def identity_hash(session: Session, openid: str) -> str:
    """Salted sha256 of the openid: what the index stores instead of the openid."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    salt = _salts.get(url)
    if salt is None:
        salt = session.scalar(select(RecognitionSecret.salt).where(RecognitionSecret.id == 1)) or ""
        _salts[url] = salt
    return hashlib.sha256(f"{salt}:{openid}".encode()).hexdigest()


# --- cohorts: ranks compare like with like -------------------------------------------------------

COHORT_LEVELS = {"province": "省级", "city": "市级", "county": "县区级", "grassroots": "基层"}
# A brand's level is its owning union's: province departments and industrial unions are
# province-level; townships rank with the grassroots.
_LEVEL_OF_KIND = {
    UnionKind.PROVINCE: "province",
    UnionKind.PROVINCE_DEPT: "province",
    UnionKind.INDUSTRY: "province",
    UnionKind.CITY: "city",
    UnionKind.COUNTY: "county",
    UnionKind.TOWNSHIP: "grassroots",
    UnionKind.GRASSROOTS: "grassroots",
}


def brand_level(brand: Brand) -> str:
    return _LEVEL_OF_KIND[brand.union.kind]


def cohort_label(level: str | None, region: Union | None) -> str:
    name = COHORT_LEVELS.get(level or "", "未设层级")
    return f"{name}·{region.name}范围" if region is not None else f"{name}·全省"


def campaign_cohort_label(session: Session, campaign: Campaign) -> str:
    """The campaign's cohort for operators; campaigns made before cohorts say so."""
    if campaign.cohort_level is None:
        return "未设比较组（迁移 0013 前创建）"
    region = session.get(Union, campaign.cohort_union_id) if campaign.cohort_union_id else None
    return cohort_label(campaign.cohort_level, region)


def cohort_problem(brand: Brand, level: str, region: Union | None) -> str | None:
    """Why ``brand`` cannot be ranked in the cohort (Chinese), or None when it belongs."""
    own = brand_level(brand)
    label = cohort_label(level, region)
    if own != level:
        return (
            f"品牌「{brand.name}」是{COHORT_LEVELS[own]}品牌，不在本活动的比较组（{label}）内："
            f"不同层级的品牌不同榜排名，请为{COHORT_LEVELS[own]}品牌另建活动"
        )
    if region is not None and not brand.union.is_within(region):
        return f"品牌「{brand.name}」不属于{region.name}及其下级，不在本活动的比较组（{label}）内"
    return None


def check_cohort(session: Session, campaign: Campaign) -> None:
    """Refuse to rank a campaign whose candidates left its cohort (none can, but say so if so)."""
    if campaign.cohort_level is None:
        return  # made before cohorts: ranked as it always was, so closed snapshots reproduce
    region = session.get(Union, campaign.cohort_union_id) if campaign.cohort_union_id else None
    # One query for the candidates' unions: brand.union then comes from the identity map (held
    # here, since the map only keeps weak references).
    union_ids = {entry.brand.union_id for entry in campaign.entries}
    unions = session.scalars(select(Union).where(Union.id.in_(union_ids))).all()
    for entry in campaign.entries:
        problem = cohort_problem(entry.brand, campaign.cohort_level, region)
        if problem is not None:
            raise CampaignError(problem)
    del unions


def create_campaign(
    session: Session,
    name: str,
    kind: str,
    brands: str | Sequence[str],
    now: datetime,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    max_choices: int = 1,
    blind: bool = False,
    union: Union | None = None,
    cohort_level: str | None = None,
    cohort_union: Union | None = None,
) -> Campaign:
    """A campaign over one cohort: candidates of one level inside one region (default: the
    organiser's subtree, or the whole programme). ``brands="all"`` means the cohort's brands."""
    name = name.strip()
    if not name:
        raise CampaignError("活动名称不能为空")
    if session.scalar(select(Campaign).where(Campaign.name == name)):
        raise CampaignError(f"活动「{name}」已存在")
    try:
        kind_enum = CampaignKind(kind)
    except ValueError as exc:
        raise CampaignError(f"活动类型只能是 rating（满意度测评）或 vote（评选投票），现为 {kind}") from exc
    if max_choices < 1:
        raise CampaignError("每人可支持的品牌数（--max-choices）至少为 1")
    opens = opens_at or now
    if closes_at is not None and closes_at <= opens:
        raise CampaignError("结束时间必须晚于开始时间")
    if cohort_level is not None and cohort_level not in COHORT_LEVELS:
        levels = "、".join(f"{k}（{v}）" for k, v in COHORT_LEVELS.items())
        raise CampaignError(f"比较组层级只能是 {levels}，现为 {cohort_level}")
    region = cohort_union or union
    if region is not None and region.parent_id is None:
        region = None  # the province's subtree is the whole programme
    if isinstance(brands, str) and brands.strip() == "all":
        chosen = [
            b
            for b in session.scalars(select(Brand).order_by(Brand.id))
            if (region is None or b.union.is_within(region))
            and (cohort_level is None or brand_level(b) == cohort_level)
        ]
    else:
        names = [n.strip() for n in (brands.split(",") if isinstance(brands, str) else brands) if n.strip()]
        from handlers.programme.brands import find_brand_by_name

        chosen = []
        for n in names:
            brand = find_brand_by_name(session, n)
            if brand is None:
                raise CampaignError(f"找不到品牌「{n}」")
            if brand not in chosen:
                chosen.append(brand)
    if not chosen:
        raise CampaignError("活动至少需要一个候选品牌")
    if cohort_level is None:
        found_levels = {brand_level(b) for b in chosen}
        if len(found_levels) > 1:
            found = "、".join(COHORT_LEVELS[v] for v in COHORT_LEVELS if v in found_levels)
            raise CampaignError(
                f"候选品牌分属不同层级（{found}）：排名只在同一层级内比较，"
                "请指定比较组层级（--cohort-level），或按层级分别创建活动"
            )
        cohort_level = found_levels.pop()
    for b in chosen:
        problem = cohort_problem(b, cohort_level, region)
        if problem is not None:
            raise CampaignError(problem)
    campaign = Campaign(
        name=name,
        kind=kind_enum,
        opens_at=opens,
        closes_at=closes_at,
        max_choices=max_choices,
        blind=blind,
        union_id=union.id if union is not None else None,
        cohort_level=cohort_level,
        cohort_union_id=region.id if region is not None else None,
    )
    campaign.entries = [CampaignBrand(brand=b, number=i) for i, b in enumerate(chosen, start=1)]
    session.add(campaign)
    session.flush()
    return campaign


def find_campaign(session: Session, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name))
    if campaign is None:
        raise CampaignError(f"找不到活动「{name}」")
    return campaign


def open_campaigns(session: Session, now: datetime) -> list[Campaign]:
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.closed_at.is_(None))
        .order_by(Campaign.opens_at.desc(), Campaign.id.desc())
        # Every caller looks at the candidates: campaigns, entries and brands in one query.
        .options(joinedload(Campaign.entries))
    ).unique()
    return [c for c in rows if c.is_open(now)]


def campaigns_for_brand(
    session: Session, brand_id: int, now: datetime, user: User | None = None
) -> list[Campaign]:
    found = open_campaigns(session, now) if user is None else open_campaigns_for(session, user, now)
    return [c for c in found if any(e.brand_id == brand_id for e in c.entries)]


# --- whom a campaign is for --------------------------------------------------------------------


def is_programme_wide(session: Session, campaign: Campaign) -> bool:
    """No organiser (made with the CLI) or a top-level organiser (the province): for everyone."""
    if campaign.union_id is None:
        return True
    owner = session.get(Union, campaign.union_id)
    return owner is None or owner.parent_id is None


def applies_to(session: Session, campaign: Campaign, user: User) -> bool:
    """A campaign is for the followers bound within its organiser's subtree.

    A programme-wide campaign is for everyone, unbound followers included; a follower bound to
    no union takes part only in those. A reviewer invited to a campaign keeps access to it
    wherever they are bound.
    """
    if is_programme_wide(session, campaign):
        return True
    owner = session.get(Union, campaign.union_id)
    assert owner is not None
    if user.union is not None and user.union.is_within(owner):
        return True
    if not may_be_reviewer(session, user):
        return False
    ident = identity_hash(session, user.openid)
    invited = select(ReviewerInvite.id).where(
        ReviewerInvite.campaign_id == campaign.id, ReviewerInvite.identity_hash == ident
    )
    return session.scalar(invited) is not None


def open_campaigns_for(session: Session, user: User, now: datetime) -> list[Campaign]:
    """The open campaigns this follower may vote or rate in, newest first."""
    return [c for c in open_campaigns(session, now) if applies_to(session, c, user)]


def entry_by_number(campaign: Campaign, number: int) -> CampaignBrand | None:
    return next((e for e in campaign.entries if e.number == number), None)


# --- who is answering -----------------------------------------------------------------------


@dataclass(frozen=True)
class Respondent:
    identity: str
    group: str  # W / S / G
    union_path: str | None
    first_seen_at: datetime | None
    recuse_path: str | None = None
    # A bound cadre of the union_path unit: home for its subtree's brands, never the public.
    cadre: bool = False
    # A G reviewer of another campaign still open: nothing they rate here may count
    # (docs/method/sampling.md §2).
    reviewer_of: str | None = None


def may_be_reviewer(session: Session, user: User) -> bool:
    """Whether this follower holds a G reviewer code; learnt once for rows from before 0018."""
    if user.reviewer is None:
        ident = identity_hash(session, user.openid)
        held = select(ReviewerInvite.id).where(ReviewerInvite.identity_hash == ident).limit(1)
        user.reviewer = session.scalar(held) is not None
    return bool(user.reviewer)


def reviewer_campaigns(session: Session, ident: str) -> list[Campaign]:
    """The not-yet-closed campaigns that invited this identity as a G reviewer."""
    return list(
        session.scalars(
            select(Campaign)
            .join(ReviewerInvite, ReviewerInvite.campaign_id == Campaign.id)
            .where(ReviewerInvite.identity_hash == ident, Campaign.closed_at.is_(None))
            .order_by(Campaign.id)
        )
    )


def is_bound_cadre(user: User) -> bool:
    """A union cadre (or admin) bound to a unit: answers as the union, not as the public."""
    return user.role in (Role.CADRE, Role.ADMIN) and user.union_id is not None and user.union is not None


def respondent(session: Session, user: User, campaign: Campaign) -> Respondent:
    """Group by verification, never self-declared: G invited, W bound to a union, else S.

    A bound cadre is W (a union person, docs/method/sampling.md §2) and marked, so the estimators count their
    answers for their own subtree's brands as home (capped), never as the public.
    """
    ident = identity_hash(session, user.openid)
    if may_be_reviewer(session, user):
        invite = session.scalar(
            select(ReviewerInvite).where(
                ReviewerInvite.campaign_id == campaign.id, ReviewerInvite.identity_hash == ident
            )
        )
        if invite is not None:
            recuse = session.get(Union, invite.recuse_union_id) if invite.recuse_union_id else None
            return Respondent(ident, "G", None, user.first_seen_at, recuse.path if recuse else None)
        invited = reviewer_campaigns(session, ident)
        if invited:
            # Their score belongs to the campaign that invited them, with its recusal; here it
            # would count as a public (W/S) rating and skip both.
            return Respondent(ident, "G", None, user.first_seen_at, reviewer_of=invited[0].name)
    if is_bound_cadre(user):
        assert user.union is not None
        return Respondent(ident, "W", user.union.path, user.first_seen_at, cadre=True)
    if user.union_id is not None and user.union_source in ("member", "qrcode") and user.union is not None:
        return Respondent(ident, "W", user.union.path, user.first_seen_at)
    return Respondent(ident, "S", None, user.first_seen_at)


def submissions_last_hour(session: Session, ident: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count(RecognitionEvent.id)).where(
                RecognitionEvent.identity_hash == ident,
                RecognitionEvent.submitted_at > now - timedelta(hours=1),
                RecognitionEvent.submitted_at <= now,
            )
        )
        or 0
    )


def _closed_at_locked(campaign_id: int) -> Any:
    # A shared lock on the campaign row: events never wait for each other, but close (which
    # locks the row for update) waits for events in flight, and later events see it closed.
    return select(Campaign.closed_at).where(Campaign.id == campaign_id).with_for_update(read=True)


def _closed_under_lock(session: Session, campaign_id: int) -> bool:
    return session.scalar(_closed_at_locked(campaign_id)) is not None


def _insert(session: Session, event: RecognitionEvent, locked: bool = False) -> bool:
    """Insert one event; False when its key (or the one-vote rule) already holds one, or when
    the campaign has closed meanwhile (an answer delivered late, or racing the close).

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id``: one statement, no savepoint. The event is
    written by the statement, not added to the session; ``event.id`` is set from it.
    ``locked``: the caller's guard already took the campaign row's shared lock and saw it open.
    """
    if not locked and _closed_under_lock(session, event.campaign_id):
        return False
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {k: v for k, v in vars(event).items() if not k.startswith("_")}
    stmt = insert(RecognitionEvent).values(**values).on_conflict_do_nothing().returning(RecognitionEvent.id)
    new_id = session.scalar(stmt)
    if new_id is None:
        return False
    event.id = new_id
    return True


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    # recorded / replaced / same / duplicate / already / full / limited / closed / recused / outside /
    # reviewer_elsewhere
    status: str
    brand: str
    campaign: str
    score: int | None = None
    previous: int | None = None
    used: int = 0
    limit: int = 0
    voted: tuple[str, ...] = ()
    event_id: int | None = None
    invited: str = ""  # reviewer_elsewhere: the campaign whose reviewer this is


def _base_event(
    rsp: Respondent,
    campaign: Campaign,
    brand_id: int,
    key: str,
    now: datetime,
    channel: str,
    src: int | None,
    started_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "event_key": key,
        "campaign_id": campaign.id,
        "identity_hash": rsp.identity,
        "grp": rsp.group,
        "union_path": rsp.union_path,
        "cadre": rsp.cadre,
        "identity_first_seen_at": rsp.first_seen_at,
        "channel": channel,
        "src_brand_id": src if channel == "brand" else None,
        "brand_id": brand_id,
        "payload": {},
        # A page's form starts when the page was shown (time on page); a chat message, now.
        "started_at": started_at if started_at is not None and started_at <= now else now,
        "submitted_at": now,
    }


def _guard(
    session: Session,
    user: User,
    rsp: Respondent,
    campaign: Campaign,
    brand: Brand,
    key: str,
    now: datetime,
    cfg: RecognitionConfig,
    rating: bool = False,
) -> tuple[Outcome | None, int | None]:
    """(why not to record, or None; for a rating, the score of the respondent's latest rating of
    the brand). The three look-ups are one statement: every rating makes them."""
    E = RecognitionEvent
    duplicate = select(E.id).where(E.event_key == key).limit(1).scalar_subquery()
    recent = (
        select(func.count(E.id))
        .where(
            E.identity_hash == rsp.identity, E.submitted_at > now - timedelta(hours=1), E.submitted_at <= now
        )
        .scalar_subquery()
    )
    # The campaign row's shared lock rides on the same statement (see _closed_at_locked).
    columns = [duplicate, recent, _closed_at_locked(campaign.id).scalar_subquery()]
    if rating:
        columns.append(
            select(E.q1)
            .where(
                E.campaign_id == campaign.id,
                E.identity_hash == rsp.identity,
                E.brand_id == brand.id,
                E.kind.in_(("rating", "review_score")),
            )
            .order_by(E.submitted_at.desc(), E.id.desc())
            .limit(1)
            .scalar_subquery()
        )
    row = session.execute(select(*columns)).one()
    previous = row[3] if rating else None
    if row[0] is not None:
        return Outcome("duplicate", brand.name, campaign.name), previous
    if not applies_to(session, campaign, user):
        # Whatever path led here (a stale flow, a brand QR code): never recorded outside its scope.
        return Outcome("outside", brand.name, campaign.name), previous
    if row[2] is not None or not campaign.is_open(now):
        return Outcome("closed", brand.name, campaign.name), previous
    limit = cfg.submissions_per_hour
    if (row[1] or 0) >= limit:
        return Outcome("limited", brand.name, campaign.name, limit=limit), previous
    return None, previous


def record_vote(
    session: Session,
    user: User,
    campaign: Campaign,
    brand: Brand,
    key: str,
    now: datetime,
    channel: str = "self",
    src: int | None = None,
    config: RecognitionConfig | None = None,
    started_at: datetime | None = None,
) -> Outcome:
    """A support vote (参与热度): once per brand, at most K brands per campaign."""
    cfg = config or default_config()
    rsp = respondent(session, user, campaign)
    blocked, _ = _guard(session, user, rsp, campaign, brand, key, now, cfg)
    if blocked is not None:
        return blocked
    voted_ids = list(
        session.scalars(
            select(RecognitionEvent.brand_id).where(
                RecognitionEvent.campaign_id == campaign.id,
                RecognitionEvent.identity_hash == rsp.identity,
                RecognitionEvent.kind == "support_vote",
            )
        )
    )
    if brand.id in voted_ids:
        return Outcome("already", brand.name, campaign.name)
    if campaign.kind is CampaignKind.VOTE and len(voted_ids) >= campaign.max_choices:
        names = tuple(b.name for b in session.scalars(select(Brand).where(Brand.id.in_(voted_ids))))
        return Outcome("full", brand.name, campaign.name, limit=campaign.max_choices, voted=names)
    event = RecognitionEvent(
        kind="support_vote", **_base_event(rsp, campaign, brand.id, key, now, channel, src, started_at)
    )
    if not _insert(session, event, locked=True):
        # Same key (a retry) or the one-vote index (a concurrent duplicate): nothing counted twice.
        return Outcome("already", brand.name, campaign.name)
    return Outcome(
        "recorded",
        brand.name,
        campaign.name,
        used=len(voted_ids) + 1,
        limit=campaign.max_choices,
        event_id=event.id,
    )


def latest_rating(session: Session, campaign: Campaign, ident: str, brand_id: int) -> RecognitionEvent | None:
    return session.scalar(
        select(RecognitionEvent)
        .where(
            RecognitionEvent.campaign_id == campaign.id,
            RecognitionEvent.identity_hash == ident,
            RecognitionEvent.brand_id == brand_id,
            RecognitionEvent.kind.in_(("rating", "review_score")),
        )
        .order_by(RecognitionEvent.submitted_at.desc(), RecognitionEvent.id.desc())
        .limit(1)
    )


def record_rating(
    session: Session,
    user: User,
    campaign: Campaign,
    brand: Brand,
    score: int,
    key: str,
    now: datetime,
    channel: str = "self",
    src: int | None = None,
    config: RecognitionConfig | None = None,
    started_at: datetime | None = None,
) -> Outcome:
    """A 1–5 rating (q1 overall satisfaction); a later one replaces the earlier in the index."""
    if not 1 <= score <= 5:
        raise CampaignError("评分只能是 1–5 分")
    cfg = config or default_config()
    rsp = respondent(session, user, campaign)
    blocked, previous = _guard(session, user, rsp, campaign, brand, key, now, cfg, rating=True)
    if blocked is not None:
        return blocked
    if rsp.reviewer_of is not None:
        return Outcome("reviewer_elsewhere", brand.name, campaign.name, invited=rsp.reviewer_of)
    if rsp.recuse_path is not None and brand.union.path.startswith(rsp.recuse_path):
        return Outcome("recused", brand.name, campaign.name)
    if previous is not None and previous == score:
        return Outcome("same", brand.name, campaign.name, score=score)
    kind = "review_score" if rsp.group == "G" else "rating"
    fields = _base_event(rsp, campaign, brand.id, key, now, channel, src, started_at)
    if kind == "review_score":
        fields["payload"] = {"items": [score]}
    event = RecognitionEvent(kind=kind, q1=score, **fields)
    if not _insert(session, event, locked=True):
        return Outcome("duplicate", brand.name, campaign.name, score=score)
    if previous is not None:
        return Outcome(
            "replaced", brand.name, campaign.name, score=score, previous=previous, event_id=event.id
        )
    return Outcome("recorded", brand.name, campaign.name, score=score, event_id=event.id)


# --- G reviewers ----------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def invite_reviewer(
    session: Session,
    campaign: Campaign,
    reviewer_name: str,
    unit_name: str,
    recuse_union_code: str | None = None,
) -> str:
    """A one-time code for a party/government reviewer; only its hash is stored."""
    import secrets

    recuse_id = None
    if recuse_union_code:
        union = session.scalar(select(Union).where(Union.code == recuse_union_code))
        if union is None:
            raise CampaignError(f"回避单位的工会代码 {recuse_union_code} 不存在")
        recuse_id = union.id
    code = "PY" + secrets.token_hex(4).upper()
    session.add(
        ReviewerInvite(
            campaign_id=campaign.id,
            code_hash=_code_hash(code),
            reviewer_name=reviewer_name,
            unit_name=unit_name,
            recuse_union_id=recuse_id,
        )
    )
    session.flush()
    return code


def redeem_reviewer_code(session: Session, user: User, code: str, now: datetime) -> ReviewerInvite | None:
    """Bind the code's reviewer role to this follower; None when unknown or used by someone else."""
    invite = session.scalar(select(ReviewerInvite).where(ReviewerInvite.code_hash == _code_hash(code)))
    # Union staff cannot hold G codes (docs/method/sampling.md §2): G is the party/government view
    # from outside.
    if invite is None or user.role is not Role.WORKER:
        return None
    ident = identity_hash(session, user.openid)
    if invite.identity_hash is not None:
        return invite if invite.identity_hash == ident else None
    invite.identity_hash = ident
    invite.used_at = now
    user.reviewer = True
    session.flush()
    return invite
