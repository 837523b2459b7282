"""Suggestion tickets under concurrency, and survey results on many responses.

Run by hand: DATABASE_URL=postgresql+psycopg://…/scratch python bench/feedback_bench.py
(defaults to a temporary SQLite file). It drops and rebuilds the schema of that database.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.orm import Session

import handlers  # noqa: F401  (registers handlers)
import models
from handlers.suggestions import operations as sg
from handlers.surveys.results import survey_results
from models import SurveyResponse, Union, UnionKind, User, utcnow
from models.db import make_engine
from models.migrate import upgrade
from models.union import assign_path

THREADS = int(os.environ.get("BENCH_THREADS", "16"))
PER_THREAD, RESPONSES = 800 // THREADS, 5000


def main() -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = make_engine(url, pool_size=THREADS + 2) if url.startswith("postgresql") else make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            models.Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    with Session(engine) as session, session.begin():
        top = Union(code="TOP", name="省总工会", kind=UnionKind.PROVINCE)
        session.add(top)
        session.flush()
        assign_path(session, top)
        users = [User(openid=f"o-bench-{i}", union_id=top.id) for i in range(THREADS * PER_THREAD)]
        session.add_all(users)
        session.flush()
        ids = [u.id for u in users]

    now = utcnow()
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(chunk: list[int]) -> None:
        for uid in chunk:
            started = time.perf_counter()
            with Session(engine) as session, session.begin():
                user = session.get(User, uid)
                assert user is not None
                sg.submit(session, user, f"建议食堂增加菜品，第{uid}号", now)
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(ids[i::THREADS],)) for i in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    n = len(latencies)
    print(f"{engine.dialect.name}: {n} suggestions from {THREADS} threads in {elapsed:.2f}s "
          f"= {n / elapsed:.0f}/s; p50 {latencies[n // 2] * 1000:.1f} ms, "
          f"p95 {latencies[int(n * 0.95)] * 1000:.1f} ms")  # fmt: skip

    rng = random.Random(1)
    with Session(engine) as session, session.begin():
        for i in range(RESPONSES):
            user = User(openid=f"o-resp-{i}")
            session.add(user)
            session.flush()
            answers = {
                "aware": [],
                "union_service": rng.randint(1, 5),
                "joined": rng.randint(1, 2),
                "channel": rng.randint(1, 5),
                "comment": rng.choice([None, "希望多开展技能培训"]),
            }
            if answers["joined"] == 1:
                answers["activity"] = sorted(rng.sample(range(1, 6), rng.randint(1, 2)))
            session.add(
                SurveyResponse(
                    survey_key="brand_recognition",
                    user_id=user.id,
                    respondent_code=f"R{i:06d}",
                    respondent_group=rng.choice("WWWWGS"),
                    status="complete",
                    answers=answers,
                    plan={"roster": [], "rated": [], "history": []},
                    submitted_at=now,
                )
            )
    t0 = time.perf_counter()
    with Session(engine) as session:
        results = survey_results(session, "brand_recognition")
    print(f"survey results over {results['n']} responses: {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":
    main()
