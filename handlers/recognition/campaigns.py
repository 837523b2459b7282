"""Campaigns and their cohorts: creating a campaign, finding one by name, the cohort it ranks.

A campaign ranks like with like: candidates of one level (province, city, county, grassroots)
inside one region. Recording what respondents submit lives in ``recording``; whom a campaign is
for in ``campaign_scope``; who is answering in ``respondents``; G reviewer codes in
``reviewer_codes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.errors import OperationError
from models import Brand, Union, UnionKind
from models.recognition import Campaign, CampaignBrand, CampaignKind


class CampaignError(OperationError):
    """An operation that cannot be done as asked (Chinese message for operators)."""


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
