"""No query per candidate: the candidate list and the report cost the same few statements for
500 brands as for 5 (counted with an SQLAlchemy event listener)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from handlers.recognition.campaign_scope import open_campaigns_for
from handlers.recognition.campaigns import create_campaign
from handlers.recognition.chat import candidate_pages
from handlers.recognition.recording import record_rating
from handlers.recognition.report import compute_report
from tests.factories import make_brand, make_union, make_user
from tests.handlers.recognition.conftest import T0
from tests.perf.sqlcount import counting


def _campaign(session: Session, n: int, tag: str) -> None:
    city = make_union(session)
    unions = [make_union(session, parent=city) for _ in range(10)]
    names = [make_brand(session, union=unions[i % 10], name=f"{tag}品牌{i}").name for i in range(n)]
    campaign = create_campaign(session, f"{tag}测评", "rating", names, T0 - timedelta(days=1))
    for i in range(12):
        user = make_user(session)
        record_rating(session, user, campaign, campaign.entries[i % n].brand, 4, f"{tag}-{i}", T0)
    session.flush()
    session.expire_all()  # as a new request finds it: nothing loaded yet


def _list_statements(session: Session) -> int:
    user = make_user(session)
    session.flush()
    session.expire_all()
    with counting(session.get_bind().engine) as n:
        campaigns = open_campaigns_for(session, user, T0)
        pages = candidate_pages(campaigns[0], [c.name for c in campaigns[1:]])
    assert "品牌499" in "\n".join(pages)
    return n.count


def test_candidate_list_of_500_brands_costs_at_most_5_statements(session: Session) -> None:
    _campaign(session, 500, "大")
    assert _list_statements(session) <= 5


def test_report_statements_do_not_grow_with_the_brands(session: Session) -> None:
    _campaign(session, 5, "小")
    from models.recognition import Campaign

    small = session.query(Campaign).filter_by(name="小测评").one()
    with counting(session.get_bind().engine) as few:
        compute_report(session, small)
    _campaign(session, 500, "大")
    session.expire_all()
    big = session.query(Campaign).filter_by(name="大测评").one()
    with counting(session.get_bind().engine) as many:
        compute_report(session, big)
    assert many.count == few.count <= 20, many
