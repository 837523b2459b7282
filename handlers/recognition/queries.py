"""What the dashboard and 「查询 品牌」 ask: a brand's current recognition figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.recognition.live import stored_results
from models import Brand, utcnow
from models.recognition import Campaign, CampaignBrand, CampaignKind


@dataclass(frozen=True)
class BrandRecognition:
    campaign: str
    live: bool
    index: float | None
    ci: tuple[float, float] | None
    status: str
    tier: str | None
    rank_range: tuple[int, int] | None
    ratings: int
    heat: int
    suspect: int
    index_with_suspects: float | None
    method_version: str
    disclosure: str
    detail: dict[str, Any]
    freshness: str | None = None  # how old the live figures are, when they are not current

    def text(self) -> str:
        """One short paragraph for a WeChat reply."""
        kind = "实时" if self.live else "正式结果"
        head = f"「{self.detail['brand']}」社会认可度（{self.campaign}，{kind}）："
        if self.index is None or self.ci is None:
            body = f"{self.status}，暂不显示指数。"
        else:
            body = f"{self.index:.1f}（可信区间 {self.ci[0]:.1f}–{self.ci[1]:.1f}），{self.status}"
            if self.tier:
                body += f"，{self.tier}"
            if self.rank_range:
                body += f"，第{self.rank_range[0]}–{self.rank_range[1]}位"
            body += "。"
        note = self.freshness or ""
        return f"{head}{body}参与热度 {self.heat}（不计入指数）。{note}\n{self.disclosure}"


def brand_recognition(
    session: Session,
    brand_id: int,
    include_blind: bool = False,
    kind: CampaignKind | None = None,
    now: datetime | None = None,
) -> BrandRecognition | None:
    """The latest campaign with results containing the brand; blind open campaigns only for admins.

    Reads the stored results only (the snapshot, or the live report the background refresh
    keeps): a question never computes the report.

    ``kind=RATING`` skips vote campaigns, which carry participation heat but never an index.
    """
    stmt = (
        select(Campaign)
        .join(CampaignBrand, CampaignBrand.campaign_id == Campaign.id)
        .where(CampaignBrand.brand_id == brand_id)
        .order_by(Campaign.opens_at.desc(), Campaign.id.desc())
    )
    if kind is not None:
        stmt = stmt.where(Campaign.kind == kind)
    campaigns = session.scalars(stmt)
    brand = session.get(Brand, brand_id)
    if brand is None:
        return None
    for campaign in campaigns:
        if campaign.blind and campaign.closed_at is None and not include_blind:
            continue
        stored = stored_results(session, campaign)
        if stored is None:
            continue  # not computed yet: the refresh job is on its way
        report = stored.report
        entry = next(
            (b for b in report["brands"] if b["brand"] == brand.name),
            None,
        )
        if entry is None or (entry["ratings"] == 0 and entry["heat"] == 0):
            continue
        return BrandRecognition(
            campaign=campaign.name,
            live=bool(report["live"]),
            index=entry["index"],
            ci=tuple(entry["ci"]) if entry["ci"] else None,
            status=entry["status"],
            tier=entry["tier"],
            rank_range=tuple(entry["rank_range"]) if entry["rank_range"] else None,
            ratings=entry["ratings"],
            heat=entry["heat"],
            suspect=entry["suspect"],
            index_with_suspects=entry["index_with_suspects"],
            method_version=report["method_version"],
            disclosure=report["disclosure"],
            detail=entry,
            freshness=stored.freshness(now or utcnow()),
        )
    return None
