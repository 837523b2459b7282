"""路由标注 on a province-sized log (run by hand: python bench/learning_bench.py).

Reuses the tree of bench/admin_bench.py (1,777 unions), adds 5,000 bound followers and
100,000 logged text messages over 30 days (about 8 % below ``act``, 4 % ``unknown``, 3 %
followed by 取消 or a rephrasing) and 2,000 labels, then times the review page, its filters, a
deep page and the label export for the province admin and a county admin (median of 5 requests,
Flask test client, SQLite), and the pipeline's follow-up check per message.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from bench.admin_bench import PASSWORD, bench_app, build, logged_in, timed
from bot.admin.accounts import create_account
from handlers.router_learning import note_follow_up
from models import InboundLabel, InboundMessage, Union, UnionKind, User, utcnow
from models.admin import AdminRole

TEXTS = ["投3号", "查询工惠乐学", "候选名单", "我要提建议", "问卷", "帮助", "驿站", "今天食堂几点开门"]
INTENTS = ["vote", "status", "list", "suggest", "survey", "help", "vote", "unknown"]
MESSAGES = 100_000
USERS = 5_000


def main() -> None:
    app = bench_app()
    runtime = app.extensions["ghpp"]
    from models.migrate import upgrade

    upgrade(runtime.engine)
    rng = random.Random(11)
    now = utcnow()
    with runtime.session_factory() as session, session.begin():
        province, county = build(session)
        grass = list(session.scalars(select(Union.id).where(Union.kind == UnionKind.GRASSROOTS)))
        users = [{"openid": f"o-bench-{i}", "union_id": grass[i % len(grass)]} for i in range(USERS)]
        session.execute(insert(User), users)
        rows = []
        for i in range(MESSAGES):
            k = rng.randrange(len(TEXTS))
            roll = rng.random()
            rows.append(
                {
                    "dedupe_key": f"bench-{i}",
                    "openid": f"o-bench-{rng.randrange(USERS)}",
                    "msg_type": "text",
                    "content": f"{TEXTS[k]}{i}",
                    "intent": "unknown" if roll < 0.04 else INTENTS[k],
                    "intent_confidence": 0.5 if 0.04 <= roll < 0.12 else 1.0,
                    "followed_by": ("cancel", "rephrase")[i % 2] if 0.12 <= roll < 0.15 else None,
                    "received_at": now - timedelta(seconds=rng.randrange(30 * 86400)),
                    "redacted": False,
                }
            )
        session.execute(insert(InboundMessage), rows)
        flagged = session.scalars(
            select(InboundMessage.id).where(InboundMessage.intent == "unknown").limit(2_000)
        ).all()
        labels = [
            {"inbound_id": m, "intent": "help", "labelled_by": "bench", "labelled_at": now} for m in flagged
        ]
        session.execute(insert(InboundLabel), labels)
        create_account(session, province, "province", AdminRole.ADMIN, PASSWORD, actor_name="bench")
        create_account(session, county, "county", AdminRole.ADMIN, PASSWORD, actor_name="bench")
    print(f"SQLite, 1,777 unions, {USERS:,} followers, {MESSAGES:,} messages, 2,000 labels; median of 5, ms")
    for username in ("province", "county"):
        client = logged_in(app, username)
        for url in (
            "/admin/learning/",
            "/admin/learning/?reason=rephrase",
            "/admin/learning/?labelled=no&page=100",
            "/admin/learning/labels.txt",
        ):
            print(f"{username:<9} {url:<42} {timed(client, url):8.1f}")

    samples = []
    with runtime.session_factory() as session:
        for i in range(500):
            m = InboundMessage(
                dedupe_key=f"new-{i}",
                openid=f"o-bench-{i}",
                msg_type="text",
                content="取消",
                intent="cancel",
                received_at=utcnow(),
            )
            session.add(m)
            session.flush()
            start = time.perf_counter()
            note_follow_up(session, m)
            samples.append(time.perf_counter() - start)
        session.rollback()
    print(f"pipeline follow-up check per message: median {statistics.median(samples) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
