"""The index feeds the brand programme: standard 5 of a review and the 「查询 品牌」 reply."""

from __future__ import annotations

from sqlalchemy.orm import Session

from handlers.programme.recognition_hook import RecognitionInfo
from handlers.recognition.queries import brand_recognition
from handlers.registry import Routes
from models import Brand
from models.recognition import CampaignKind

routes = Routes()


def recognition_info(session: Session, brand: Brand) -> RecognitionInfo | None:
    """None (暂无数据) unless the latest campaign with results shows a number for the brand."""
    found = brand_recognition(session, brand.id, kind=CampaignKind.RATING)
    if found is None or found.index is None:  # 样本不足: no number may be shown or scored
        return None
    low, high = found.rank_range or (None, None)
    exact_rank = low if low is not None and low == high else None
    return RecognitionInfo(score=found.index, rank=exact_rank, campaign=found.campaign, summary=found.text())


routes.recognition(recognition_info)
