"""Concurrent deliveries against PostgreSQL: the database, not luck, keeps one vote per brand."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from handlers.recognition.recording import record_rating, record_vote
from models import Brand, User
from models.recognition import Campaign, RecognitionEvent
from tests.conftest import need
from tests.factories import make_brand, make_user
from tests.handlers.recognition.conftest import T0, make_campaign


@pytest.mark.postgres
def test_concurrent_votes_and_ratings_count_once(engine: Engine, clean_db: Engine) -> None:
    need("postgres")  # explicit: threads against SQLite would only test SQLite's file lock
    with Session(engine) as s, s.begin():
        brand = make_brand(s, name="并发品牌")
        vote_c = make_campaign(s, "vote", k=3, name="并发评选")
        rate_c = make_campaign(s, "rating", name="并发测评")
        user = make_user(s)
        ids = (brand.id, vote_c.id, rate_c.id, user.id)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        with Session(engine) as s:
            with s.begin():
                b, vc, rc, u = (
                    s.get(Brand, ids[0]),
                    s.get(Campaign, ids[1]),
                    s.get(Campaign, ids[2]),
                    s.get(User, ids[3]),
                )
                assert b and vc and rc and u
                barrier.wait()
                # Four threads send the same vote with different message ids, four retry one rating.
                if i % 2:
                    o = record_vote(s, u, vc, b, f"chat:vote:{i}", T0)
                else:
                    o = record_rating(s, u, rc, b, 4, "chat:rating:same-msg", T0)
            with lock:
                outcomes.append(o.status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as s:
        votes = s.scalar(select(func.count()).where(RecognitionEvent.kind == "support_vote"))
        ratings = s.scalar(select(func.count()).where(RecognitionEvent.kind == "rating"))
    assert (votes, ratings) == (1, 1)
    assert outcomes.count("recorded") == 2


@pytest.mark.postgres
def test_one_fraud_scan_per_campaign_at_a_time(engine: Engine, clean_db: Engine) -> None:
    """A second scan of the same campaign waits on the checkpoint row, then finds nothing new."""
    need("postgres")
    from datetime import timedelta

    from handlers.recognition.fraud import run_rules
    from tests.handlers.recognition.test_attack_matrix import ATTACK_AT, END, TARGET, build

    with Session(engine) as s, s.begin():
        p = build(s)
        for i in range(200):  # a machine-timed burst, so the first scan has work to write
            p.add(ATTACK_AT + timedelta(seconds=3 * i), TARGET, f"bot{i}", q1=5, first=ATTACK_AT)
        p.flush(s)
        cid = p.campaign.id
    results: list[dict[str, int]] = []
    first = Session(engine)
    first.begin()
    c1 = first.get(Campaign, cid)
    assert c1 is not None
    results.append(run_rules(first, c1, END))  # holds the checkpoint lock until commit

    def second() -> None:
        with Session(engine) as s, s.begin():
            c2 = s.get(Campaign, cid)
            assert c2 is not None
            results.append(run_rules(s, c2, END))

    t = threading.Thread(target=second)
    t.start()
    t.join(1.0)
    assert t.is_alive()  # waiting for the first scan
    first.commit()
    first.close()
    t.join(30)
    assert results[0].get("B2_timing") and results[1] == {}
