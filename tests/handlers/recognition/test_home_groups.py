"""The amended home rule and groups by identity (docs/method/home.md §3; issue 12 §1, §5).

Home for brand b: its own brand channel, or a bound cadre of b's owning subtree. A member's
neutral answer from the service area is away. Cadres are W (home), never S; a G reviewer's score
counts only in the campaign that invited them.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.recognition import default_config
from handlers.measures import BrandRatingAnswer
from handlers.recognition.cohort_index import BrandInput, compute_cohort
from handlers.recognition.estimator_inputs import build_inputs, flag_states
from handlers.recognition.estimators import Capped, Cell, capped
from handlers.recognition.loader import load_campaign
from handlers.recognition.recording import record_rating
from handlers.recognition.reviewer_codes import invite_reviewer, redeem_reviewer_code
from models import Role
from models.recognition import RecognitionEvent
from tests.factories import make_user, standard_registry
from tests.handlers.recognition.conftest import T0, make_campaign
from tests.handlers.recognition.test_store import response

CFG = default_config()


def _cadre(session: Session, union_id: int):
    return make_user(session, role=Role.CADRE, union_id=union_id, union_source="invite")


def cap(data, phi: float = CFG.home_cap_phi) -> Capped:
    return capped(data if isinstance(data, Cell) else Cell.of(data), phi)


def _inputs(session: Session, campaign) -> dict[int, BrandInput]:
    return {i.brand_id: i for i in load_campaign(session, campaign, CFG).inputs}


def test_member_neutral_answers_are_away(session: Session, brands) -> None:
    """Members of the owning union answering the neutral survey are the target population."""
    c = make_campaign(session, "rating")
    b = brands[0]
    for i in range(40):
        user = make_user(session, union_id=b.union_id, union_source="member")
        standard_registry().publish(
            session,
            response(user.id, c.id, f"m{i}", [b.id], [b.id], ratings=[BrandRatingAnswer(b.id, 4, 4, 8)]),
        )
    w = _inputs(session, c)[b.id]
    for comp in (w.awareness["W"], w.reputation["W"]):
        result = cap(comp)
        assert not result.home_only
        assert result.share_before == 0.0


def test_cadre_is_w_and_home_never_s(session: Session, brands, say) -> None:
    c = make_campaign(session, "rating")
    b = brands[0]
    cadre = _cadre(session, b.union_id)
    say(cadre, f"{b.name} 5分")
    ev = session.scalar(select(RecognitionEvent).where(RecognitionEvent.kind == "rating"))
    assert ev is not None
    assert (ev.grp, ev.cadre, ev.union_path) == ("W", True, b.union.path)
    inputs = _inputs(session, c)
    assert cap(inputs[b.id].reputation["W"]).home_only
    assert cap(inputs[b.id].reputation["S"]).n == 0


def test_cadre_of_a_unit_below_is_home_a_cadre_elsewhere_away(session: Session, brands) -> None:
    from tests.factories import make_union

    c = make_campaign(session, "rating")
    below = make_union(session, parent=brands[0].union)
    record_rating(session, _cadre(session, below.id), c, brands[0], 5, "k1", T0)
    record_rating(session, _cadre(session, brands[1].union_id), c, brands[0], 4, "k2", T0)
    result = cap(_inputs(session, c)[brands[0].id].reputation["W"])
    assert result.share_before == pytest.approx(0.5)


def test_cadre_surge_through_brand_channel_is_capped(session: Session, brands) -> None:
    c = make_campaign(session, "rating")
    b = brands[0]
    for i in range(30):  # neutral, away
        user = make_user(session, union_id=b.union_id, union_source="member")
        record_rating(session, user, c, b, 3, f"a{i}", T0 + timedelta(minutes=i), "self")
    for i in range(300):
        record_rating(session, _cadre(session, b.union_id), c, b, 5, f"h{i}", T0, "brand", b.id)
    result = cap(_inputs(session, c)[b.id].reputation["W"])
    assert result.share_before > 0.9
    assert result.share_after == pytest.approx(CFG.home_cap_phi)


def test_sql_and_python_home_agree_with_cadres(session: Session, brands) -> None:
    rng = random.Random(5)
    c = make_campaign(session, "rating")
    ids = [b.id for b in brands]
    users = []
    for _ in range(80):
        r = rng.random()
        b = rng.choice(brands)
        if r < 0.3:
            users.append(_cadre(session, b.union_id))
        elif r < 0.7:
            users.append(make_user(session, union_id=b.union_id, union_source="member"))
        else:
            users.append(make_user(session))
    for i in range(300):
        u, b = rng.choice(users), rng.choice(brands)
        channel = rng.choice(["self", "brand", "neutral_open"])
        src = rng.choice(ids) if channel == "brand" else None
        record_rating(session, u, c, b, rng.randint(1, 5), f"r{i}", T0 + timedelta(minutes=i), channel, src)
    for i, u in enumerate(users):
        standard_registry().publish(
            session, response(u.id, c.id, f"s{i}", ids, [x for x in ids if rng.random() < 0.5])
        )
    sql = load_campaign(session, c, CFG)
    events = list(session.scalars(select(RecognitionEvent)))
    ref = build_inputs(events, [(b.id, b.name, b.union.path) for b in brands], flag_states(session), CFG)
    for x, y in zip(ref.inputs, sql.inputs, strict=True):
        for comp in ("awareness", "reputation"):
            for g in ("W", "S"):
                cx, cy = cap(getattr(x, comp).get(g, ())), cap(getattr(y, comp).get(g, ()))
                assert cx.share_before == pytest.approx(cy.share_before, abs=1e-12)
                assert cx.n == cy.n
    a = compute_cohort(ref.inputs, CFG, seed_text="x")
    b = compute_cohort(sql.inputs, CFG, seed_text="x")
    for bx, by in zip(a.brands, b.brands, strict=True):
        assert bx.status == by.status
        assert bx.index == pytest.approx(by.index, abs=1e-9)
    homes = sum(cap(i.reputation.get("W", ())).share_before > 0 for i in sql.inputs)
    assert homes > 0  # the cadres and brand channels did make home answers


def _reviewer(session: Session, invited):
    user = make_user(session)
    code = invite_reviewer(session, invited, "王评议", "市发改委")
    assert redeem_reviewer_code(session, user, code, T0) is not None
    return user


def test_reviewer_score_stays_in_the_inviting_campaign(session: Session, brands, say) -> None:
    a = make_campaign(session, "rating", name="测评甲")
    b = make_campaign(session, "rating", name="测评乙")
    reviewer = _reviewer(session, a)
    outcome = record_rating(session, reviewer, b, brands[0], 5, "leak", T0)
    assert outcome.status == "reviewer_elsewhere"
    reply = say(reviewer, f"{brands[1].name} 4分")
    assert "已记录" in reply.text and "测评甲" in reply.text  # routed to the inviting campaign, not asked
    in_b = list(session.scalars(select(RecognitionEvent).where(RecognitionEvent.campaign_id == b.id)))
    assert in_b == []
    in_a = list(session.scalars(select(RecognitionEvent).where(RecognitionEvent.campaign_id == a.id)))
    assert [(e.kind, e.grp, e.brand_id) for e in in_a] == [("review_score", "G", brands[1].id)]


def test_reviewer_told_why_a_rating_elsewhere_is_not_recorded(session: Session, brands, say) -> None:
    from handlers.recognition.campaigns import create_campaign

    a = create_campaign(session, "测评甲", "rating", [brands[0].name], T0 - timedelta(days=1))
    b = create_campaign(session, "测评乙", "rating", [brands[2].name], T0 - timedelta(days=1))
    reviewer = _reviewer(session, a)
    reply = say(reviewer, f"{brands[2].name} 4分")
    assert "您是「测评甲」的党政评议人" in reply.text and "「测评乙」这次没有记录" in reply.text
    assert list(session.scalars(select(RecognitionEvent).where(RecognitionEvent.campaign_id == b.id))) == []


def test_reviewer_survey_answers_stay_out_of_other_campaigns(session: Session, brands) -> None:
    a = make_campaign(session, "rating", name="测评甲")
    b = make_campaign(session, "rating", name="测评乙")
    reviewer = _reviewer(session, a)
    ids = [x.id for x in brands]
    standard_registry().publish(
        session, response(reviewer.id, b.id, "rv", ids, ids, ratings=[BrandRatingAnswer(ids[0], 5)])
    )
    assert list(session.scalars(select(RecognitionEvent).where(RecognitionEvent.campaign_id == b.id))) == []


def test_reviewer_recusal_holds_in_the_inviting_campaign(session: Session, brands) -> None:
    a = make_campaign(session, "rating", name="测评甲")
    make_campaign(session, "rating", name="测评乙")
    user = make_user(session)
    code = invite_reviewer(session, a, "李评议", "某局", recuse_union_code=brands[0].union.code)
    redeem_reviewer_code(session, user, code, T0)
    assert record_rating(session, user, a, brands[0], 5, "own", T0).status == "recused"


def test_a_reviewer_from_before_the_reviewer_column_is_still_a_reviewer(session: Session, brands) -> None:
    """Rows from before migration 0018 have reviewer NULL: learnt from the invites, never W/S."""
    a = make_campaign(session, "rating", name="测评甲")
    b = make_campaign(session, "rating", name="测评乙")
    reviewer = _reviewer(session, a)
    reviewer.reviewer = None
    session.flush()
    assert record_rating(session, reviewer, b, brands[0], 5, "legacy-leak", T0).status == "reviewer_elsewhere"
    assert reviewer.reviewer is True
    plain = make_user(session)
    plain.reviewer = None
    session.flush()
    record_rating(session, plain, a, brands[0], 4, "legacy-plain", T0)
    assert plain.reviewer is False
