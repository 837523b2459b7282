"""Closed means closed (issue 12 part 4): no decision, flag or job changes a closed campaign's official
snapshot; a correction is a new, versioned snapshot with its reason, and every version reproduces."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.recognition import CONFIG_FILE, parse_config
from handlers.actor import Actor
from handlers.recognition.adjudication import locked_open
from handlers.recognition.closing import close_campaign
from handlers.recognition.fraud import run_rules
from handlers.recognition.report import results
from handlers.recognition.snapshots import reproduce_snapshot
from models.recognition import Campaign, FlagStatus, RecognitionFlag, RecognitionSnapshot
from tests.conftest import need
from tests.handlers.recognition.cohort import bots, build_cohort, flag

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _closed_with_suspects(rt):
    with rt.session_factory() as session, session.begin():
        c, ids = build_cohort(session, T0)
        flags = flag(session, bots(session, c, ids[0], T0 + timedelta(hours=1)), T0 + timedelta(hours=2))
        close_campaign(session, c, Actor.admin("管理员"), T0 + timedelta(days=1))
        snap = session.scalars(select(RecognitionSnapshot)).one()
        assert snap.created_by == "管理员"  # who closed it: the snapshot is the close's record
        # The final scan at close may write newer versions of these flags (with its own params):
        # adjudicators act on the newest one.
        newest = [
            session.scalars(
                select(RecognitionFlag.id)
                .where(RecognitionFlag.event_id == f.event_id, RecognitionFlag.rule_id == f.rule_id)
                .order_by(RecognitionFlag.version_no.desc())
                .limit(1)
            ).one()
            for f in flags
        ]
        return c.name, newest, snap.body, snap.sha256


def test_cli_decide_after_close_is_refused_and_snapshot_unchanged(app) -> None:
    rt = app.extensions["ghpp"]
    _, flag_ids, body, _ = _closed_with_suspects(rt)
    with rt.session_factory() as session:
        last_flag = session.scalar(select(RecognitionFlag.id).order_by(RecognitionFlag.id.desc()).limit(1))
    runner = app.test_cli_runner()
    for by in ("张审核", "李审核"):
        out = runner.invoke(
            args=["recognition", "decide", str(flag_ids[0]), "restore", "--by", by, "--reason", "真人"]
        )
        assert out.exit_code != 0 and "已结束" in out.output
    with rt.session_factory() as session:
        assert (
            session.scalar(select(RecognitionFlag.id).order_by(RecognitionFlag.id.desc()).limit(1))
            == last_flag
        )
        (snap,) = session.scalars(select(RecognitionSnapshot))
        assert snap.body == body and reproduce_snapshot(session, snap) == body


def test_scan_finishing_after_close_leaves_the_snapshot_reproducible(app) -> None:
    """A scan job that passed its checks before close writes its flags afterwards (here: a rule
    version whose B2 no longer fires, restoring the bots). The official bytes must not move."""
    rt = app.extensions["ghpp"]
    name, _, body, sha = _closed_with_suspects(rt)
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    data["anti_fraud"]["version"] = "9.9.9"
    data["anti_fraud"]["rules"]["B2_timing"]["min_arrivals"] = 10_000
    with rt.session_factory() as session, session.begin():
        c = session.scalars(select(Campaign).where(Campaign.name == name)).one()
        written = run_rules(session, c, T0 + timedelta(days=2), parse_config(data))
        assert written  # the late job did write flags
    with rt.session_factory() as session:
        (snap,) = session.scalars(select(RecognitionSnapshot))
        c = session.scalars(select(Campaign).where(Campaign.name == name)).one()
        assert snap.body == body and snap.sha256 == sha
        assert reproduce_snapshot(session, snap) == body
        assert results(session, c)["brands"] == __import__("json").loads(body)["brands"]


def test_correction_is_a_new_version_and_both_reproduce(app) -> None:
    rt = app.extensions["ghpp"]
    name, flag_ids, body, sha = _closed_with_suspects(rt)
    runner = app.test_cli_runner()
    no_reason = runner.invoke(
        args=[
            "recognition",
            "correct",
            name,
            "--by",
            "张审核",
            "--by",
            "李审核",
            "--confirm",
            str(flag_ids[0]),
        ]
    )
    assert no_reason.exit_code != 0
    alone = runner.invoke(
        args=[
            "recognition",
            "correct",
            name,
            "--reason",
            "复核确认脚本",
            "--by",
            "张审核",
            "--confirm",
            str(flag_ids[0]),
        ]
    )
    assert alone.exit_code != 0 and "两位" in alone.output
    args = ["recognition", "correct", name, "--reason", "复核确认脚本", "--by", "张审核", "--by", "李审核"]
    for fid in flag_ids:
        args += ["--confirm", str(fid)]
    out = runner.invoke(args=args)
    assert out.exit_code == 0, out.output
    assert "第 2 版" in out.output
    with rt.session_factory() as session:
        v1, v2 = session.scalars(select(RecognitionSnapshot).order_by(RecognitionSnapshot.version))
        assert (v1.version, v2.version) == (1, 2)
        assert v1.body == body and v1.sha256 == sha and v1.reason is None
        assert v2.reason == "复核确认脚本" and v2.body != body
        assert v2.created_by == "张审核、李审核"
        assert reproduce_snapshot(session, v1) == body  # byte for byte, after the correction
        assert reproduce_snapshot(session, v2) == v2.body
        c = session.scalars(select(Campaign).where(Campaign.name == name)).one()
        published = results(session, c)
        assert published["correction"] == {"version": 2, "reason": "复核确认脚本", "previous_sha256": sha}
        entry = next(b for b in published["brands"] if b["brand"] == "工惠乐学")
        assert entry["status"] == "正常" and entry["excluded"] == 60
        latest = session.scalar(
            select(RecognitionFlag)
            .where(RecognitionFlag.id.in_(flag_ids) | True)
            .order_by(RecognitionFlag.id.desc())
        )
        assert latest is not None and latest.status == FlagStatus.EXCLUDED_FRAUD
    # Still closed: a plain decide is refused after the correction too.
    again = runner.invoke(
        args=["recognition", "decide", str(flag_ids[0]), "restore", "--by", "王", "--reason", "x"]
    )
    assert again.exit_code != 0


def test_survey_answer_delivered_after_close_is_not_recorded(app) -> None:
    """A survey response naming the campaign arrives after close: no event, the bytes stay."""
    from handlers.measures import BrandRatingAnswer, MeasuredResponse
    from models.recognition import RecognitionEvent
    from tests.factories import make_user

    rt = app.extensions["ghpp"]
    name, _, body, _ = _closed_with_suspects(rt)
    with rt.session_factory() as session, session.begin():
        c = session.scalars(select(Campaign).where(Campaign.name == name)).one()
        brand_id = c.entries[0].brand_id
        before = session.scalar(select(RecognitionEvent.id).order_by(RecognitionEvent.id.desc()).limit(1))
        for i in range(30):
            rt.registry.publish(
                session,
                MeasuredResponse(
                    user_id=make_user(session).id,
                    survey_key="recognition",
                    group=None,
                    channel="neutral_open",
                    started_at=T0 + timedelta(days=1, hours=1),
                    submitted_at=T0 + timedelta(days=1, hours=1),
                    roster=None,
                    ratings=(BrandRatingAnswer(brand_id, 1, 1, 0),),
                    campaign_id=c.id,
                    source_key=f"late-{i}",
                ),
            )
    with rt.session_factory() as session:
        last = session.scalar(select(RecognitionEvent.id).order_by(RecognitionEvent.id.desc()).limit(1))
        assert last == before
        (snap,) = session.scalars(select(RecognitionSnapshot))
        assert reproduce_snapshot(session, snap) == body


def test_cli_checks_escalate_and_close_check(app) -> None:
    from models.recognition import FlagStatus as FS

    rt = app.extensions["ghpp"]
    with rt.session_factory() as session, session.begin():
        c, ids = build_cohort(session, T0)
        ring = bots(session, c, ids[0], T0, n=2) + bots(session, c, ids[1], T0, n=2)
        flag(session, ring, T0, FS.WATCH, "B7_exchange_ring", {"pair": sorted(ids[:2]), "min_each": 20})
        name = c.name
    runner = app.test_cli_runner()
    assert "没有未结束的品牌核查" in runner.invoke(args=["recognition", "checks", name]).output
    bad = runner.invoke(
        args=["recognition", "escalate", name, "工惠乐学", "职工书屋", "--by", "张", "--reason", "r"]
    )
    assert bad.exit_code != 0 and "换票圈" in bad.output
    out = runner.invoke(
        args=["recognition", "escalate", name, "工惠乐学", "幸福驿站", "--by", "张", "--reason", "互评"]
    )
    assert out.exit_code == 0, out.output
    listed = runner.invoke(args=["recognition", "checks", name]).output
    assert "工惠乐学｜换票圈升级核查｜互评" in listed and "幸福驿站｜换票圈升级核查" in listed
    first = runner.invoke(
        args=["recognition", "close-check", name, "工惠乐学", "--by", "张", "--reason", "无异常"]
    )
    assert first.exit_code == 0 and "另一位" in first.output
    same = runner.invoke(
        args=["recognition", "close-check", name, "工惠乐学", "--by", "张", "--reason", "无异常"]
    )
    assert same.exit_code != 0
    second = runner.invoke(
        args=["recognition", "close-check", name, "工惠乐学", "--by", "李", "--reason", "无异常"]
    )
    assert second.exit_code == 0 and "已结束" in second.output
    listed = runner.invoke(args=["recognition", "checks", name]).output
    assert "工惠乐学" not in listed and "幸福驿站" in listed


@pytest.mark.postgres
def test_close_waits_for_a_scan_in_flight(engine: Engine, clean_db: Engine) -> None:
    """A scan that checked "still open" before close: close waits for it; the snapshot reproduces."""
    need("postgres")
    with Session(engine) as s, s.begin():
        c, ids = build_cohort(s, T0)
        flag(s, bots(s, c, ids[0], T0 + timedelta(hours=1)), T0 + timedelta(hours=2))
        cid = c.id
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    data["anti_fraud"]["version"] = "9.9.9"
    data["anti_fraud"]["rules"]["B2_timing"]["min_arrivals"] = 10_000
    late_cfg = parse_config(data)
    locked = threading.Event()
    order: list[str] = []

    def scan() -> None:
        with Session(engine) as s, s.begin():
            c = s.get(Campaign, cid)
            assert c is not None and locked_open(s, c)
            locked.set()
            time.sleep(1.0)  # the close below starts meanwhile and must wait
            run_rules(s, c, T0 + timedelta(days=1), late_cfg)
            order.append("scan")

    def close() -> None:
        locked.wait(10)
        with Session(engine) as s, s.begin():
            c = s.get(Campaign, cid)
            assert c is not None
            close_campaign(s, c, Actor.admin("管理员"), T0 + timedelta(days=1))
            order.append("close")

    threads = [threading.Thread(target=scan), threading.Thread(target=close)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order == ["scan", "close"]
    with Session(engine) as s:
        (snap,) = s.scalars(select(RecognitionSnapshot))
        assert reproduce_snapshot(s, snap) == snap.body
