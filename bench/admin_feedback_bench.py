"""Suggestion and survey pages on a province-sized tree (run by hand: python bench/admin_feedback_bench.py).

Reuses the tree of bench/admin_bench.py (1,777 unions), adds 20,000 suggestions spread over the
grassroots unions (this month) and 2,000 complete survey responses, and times the inbox, the
topics page (jieba keywords over the month), the survey results and the exports for the
province admin and a county admin (median of 5 requests, Flask test client, SQLite).
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.admin_bench import PASSWORD, bench_app, build, logged_in, timed
from bot.admin.accounts import create_account
from models import Suggestion, SuggestionState, SurveyResponse, Union, UnionKind, User, utcnow
from models.admin import AdminRole

TEXTS = [
    "食堂的饭菜品种太少，希望增加几个窗口",
    "车间夏天太热，防暑降温用品发放不及时",
    "希望工会多组织技能培训和岗位练兵活动",
    "劳保手套质量差，希望更换供应商",
    "夜班休息室太小，希望改善值班休息条件",
    "希望增加女职工休息室和母婴室",
    "加班费计算不清楚，希望公开标准",
]


def main() -> None:
    app = bench_app()
    runtime = app.extensions["ghpp"]
    from models.migrate import upgrade

    upgrade(runtime.engine)
    rng = random.Random(7)
    now = utcnow()
    with runtime.session_factory() as session, session.begin():
        province, county = build(session)
        grass = list(session.scalars(select(Union).where(Union.kind == UnionKind.GRASSROOTS)))
        states = list(SuggestionState)
        for i in range(20_000):
            union = grass[i % len(grass)]
            session.add(
                Suggestion(
                    ticket=f"JY{i:08d}-0001"[:16],
                    content=f"{rng.choice(TEXTS)}（{i}）",
                    category=rng.choice(["职工福利", "劳动保护", "培训", "女职工", "薪酬", "其他"]),
                    anonymous=i % 3 == 0,
                    union_id=union.id,
                    state=states[i % len(states)],
                    due_at=now + timedelta(days=rng.randint(-5, 10)),
                    created_at=now - timedelta(hours=rng.randint(0, 400)),
                )
            )
        for i in range(2_000):
            user = User(openid=f"o-bench-{i}", union_id=grass[i % len(grass)].id)
            session.add(user)
            session.flush()
            session.add(
                SurveyResponse(
                    survey_key="brand_recognition",
                    user_id=user.id,
                    respondent_code=f"B{i:08d}",
                    status="complete",
                    answers={"aware": [], "union_service": 1 + i % 5, "joined": 1 + i % 2,
                             "channel": 1 + i % 5, "activity": [1 + i % 5] if i % 2 == 0 else None,
                             "comment": rng.choice(TEXTS)},
                    plan={"roster": [], "rated": [], "history": []},
                    started_at=now,
                    updated_at=now,
                    submitted_at=now,
                )
            )  # fmt: skip
        create_account(session, province, "province", AdminRole.ADMIN, PASSWORD, actor_name="bench")
        create_account(session, county, "county", AdminRole.ADMIN, PASSWORD, actor_name="bench")
    print("SQLite, 1,777 unions, 20,000 suggestions, 2,000 survey responses; median of 5 requests, ms")
    for username in ("province", "county"):
        client = logged_in(app, username)
        for url in (
            "/admin/",
            "/admin/suggestions/",
            "/admin/suggestions/?state=submitted&overdue=1",
            "/admin/suggestions/topics",
            "/admin/suggestions/?format=csv",
            "/admin/suggestions/?format=xlsx",
            "/admin/surveys/brand_recognition",
            "/admin/surveys/brand_recognition?format=xlsx",
        ):
            print(f"{username:<9} {url:<46} {timed(client, url):8.1f}")


if __name__ == "__main__":
    main()
