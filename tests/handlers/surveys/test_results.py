"""Survey statistics: exact Student-t intervals at every df, and percentages whose base is stated."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime
from typing import Any

import pytest
from scipy import stats as sps
from sqlalchemy.orm import Session

from handlers.surveys.reports import render_results
from handlers.surveys.results import survey_results
from models import Brand, SurveyResponse, Union, UnionKind, User
from models.union import assign_path

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _respond(session: Session, i: int, answers: dict[str, Any], plan: dict[str, Any]) -> None:
    user = User(openid=f"o-stat-{i}")
    session.add(user)
    session.flush()
    session.add(
        SurveyResponse(
            survey_key="brand_recognition",
            user_id=user.id,
            respondent_code=f"R{i:04d}",
            respondent_group="W",
            status="complete",
            answers=answers,
            plan=plan,
            started_at=T0,
            updated_at=T0,
            submitted_at=T0,
        )
    )


@pytest.mark.parametrize("n", [2, 5, 31, 32, 45, 60, 90, 121, 201])
def test_survey_mean_interval_uses_the_exact_t_quantile(session: Session, n: int) -> None:
    # df = n − 1 spans the old table (1–30), the range it got wrong (31–120) and beyond.
    scores = [1 + (i * 7) % 5 for i in range(n)]
    for i, score in enumerate(scores):
        _respond(session, i, {"union_service": score}, {"history": []})
    session.flush()
    q = next(
        q for q in survey_results(session, "brand_recognition")["questions"] if q["key"] == "union_service"
    )
    mean = statistics.fmean(scores)
    half = float(sps.t.ppf(0.975, n - 1)) * statistics.stdev(scores) / math.sqrt(n)
    assert q["n"] == n
    assert q["ci"][0] == pytest.approx(mean - half, rel=1e-9)
    assert q["ci"][1] == pytest.approx(mean + half, rel=1e-9)


def test_roster_percentages_state_their_base(session: Session) -> None:
    """13 answer the roster; one brand is shown to one of them only (other areas' brands differ).
    Its 100% is of the 1 who saw it, and the result says so next to the count of 13."""
    top = Union(code="TOPS", name="省总工会", kind=UnionKind.PROVINCE)
    session.add(top)
    session.flush()
    assign_path(session, top)
    common, rare = Brand(name="工惠乐学", union_id=top.id), Brand(name="山区驿站", union_id=top.id)
    session.add_all([common, rare])
    session.flush()
    for i in range(13):
        roster = [{"id": common.id, "name": "工惠乐学"}, {"id": None, "name": "劳模连心桥"}]
        if i == 0:
            roster.append({"id": rare.id, "name": "山区驿站"})
        ticked = [1, 3] if i == 0 else ([1] if i < 4 else [])
        _respond(session, i, {"aware": ticked}, {"roster": roster, "rated": [], "history": []})
    # A response that never answered the roster question is not counted as answering it.
    _respond(
        session, 99, {"union_service": 3}, {"roster": [{"id": common.id, "name": "工惠乐学"}], "history": []}
    )
    session.flush()
    results = survey_results(session, "brand_recognition")
    q = next(q for q in results["questions"] if q["key"] == "aware")
    assert q["n"] == 13
    by_name = {
        name: (count, pct, base) for (name, count, pct), base in zip(q["options"], q["bases"], strict=True)
    }
    assert by_name["山区驿站"] == (1, 100.0, 1)
    assert by_name["工惠乐学"] == (4, pytest.approx(100 * 4 / 13), 13)
    text = render_results(results)
    assert "（作答 13 人；各品牌的百分比以看到该品牌的人数为底数）" in text
    assert "山区驿站：1 人，100.0%（看到该品牌的 1 人中）" in text
    assert "工惠乐学：4 人，30.8%（看到该品牌的 13 人中）" in text


def test_dashboard_shows_each_roster_base(session: Session) -> None:
    from bot.admin.surveys.exports import question_view

    test_roster_percentages_state_their_base(session)
    q = next(q for q in survey_results(session, "brand_recognition")["questions"] if q["key"] == "aware")
    view = question_view(q, 0)
    assert "看到该品牌的人数为底数" in view["base_note"]
    row = next(r for r in view["table"].rows if r["name"] == "山区驿站")
    assert (row["count"], row["pct"], row["base"]) == (1, "100.0%", 1)
