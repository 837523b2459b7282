"""Issue 14 through the database: H5 submissions with web signals are judged by F1, F2, F5 and
B4 in the incremental scan; chat submissions of the same people never are; the retention purge
deletes old signals and leaves events and flags as they were."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from handlers.recognition.campaigns import create_campaign
from handlers.recognition.fraud import run_rules
from handlers.recognition.recording import record_rating
from handlers.recognition.web_signals import attach_signal, web_signal
from handlers.registry import JobContext
from handlers.retention import purge_job, purge_web_signals
from models import Brand, User
from models.recognition import (
    Campaign,
    FlagStatus,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionSnapshot,
)
from models.recognition_web import RecognitionWebSignal
from tests.factories import make_brand, make_union, make_user, standard_registry
from tests.handlers.recognition.conftest import T0, make_campaign
from tests.handlers.recognition.test_web_signals import WECHAT_ANDROID, WECHAT_IOS

WEB_RULES = ("F1_device_multi", "F2_idc_ip", "F5_geo_jump", "B4_concentration")
END = T0 + timedelta(days=5)


class Round:
    """A rating campaign filled through record_rating, the way the H5 pages and chat do."""

    def __init__(self, session: Session, campaign: Campaign, brands: list[Brand]) -> None:
        self.s, self.c, self.brands = session, campaign, brands
        self.users: dict[str, User] = {}
        self.roles: dict[str, list[int]] = defaultdict(list)
        self.key: dict[int, tuple[str, int, float]] = {}  # event id → (who, brand, minute)
        self.n = 0

    def rate(self, role: str, name: str, brand: int, minutes: float, score: int = 5, **web: Any) -> None:
        """One rating; with ``addr``/``device`` keywords it came from an H5 page with its signal."""
        self.n += 1
        at = T0 + timedelta(minutes=minutes)
        if name not in self.users:
            self.users[name] = make_user(self.s)
        user = self.users[name]
        channel = "h5" if web else "self"
        out = record_rating(
            self.s, user, self.c, self.brands[brand], score, f"{self.c.id}:{self.n}", at, channel
        )
        assert out.event_id is not None, out
        if web:
            ua = web.get("ua", WECHAT_ANDROID)
            sig = web_signal(web.get("addr"), ua, web.get("device"), at - timedelta(seconds=40), at)
            attach_signal(self.s, out.event_id, sig, at)
        self.roles[role].append(out.event_id)
        self.key[out.event_id] = (name, brand, minutes)

    def flags(self) -> set[tuple[tuple[str, int, float], str, FlagStatus]]:
        """The web rules' live flags, by who submitted what when (comparable across campaigns)."""
        return {
            (self.key[e], rule, f.status)
            for (e, rule), f in latest(self.s, self.c).items()
            if rule in WEB_RULES and f.status != FlagStatus.RESTORED
        }


def latest(session: Session, c: Campaign) -> dict[tuple[int, str], RecognitionFlag]:
    ids = select(RecognitionEvent.id).where(RecognitionEvent.campaign_id == c.id)
    out: dict[tuple[int, str], RecognitionFlag] = {}
    for f in session.scalars(
        select(RecognitionFlag).where(RecognitionFlag.event_id.in_(ids)).order_by(RecognitionFlag.id)
    ):
        out[(f.event_id, f.rule_id)] = f
    return out


def fill(r: Round, pause: Callable[[], None] = lambda: None) -> None:
    """Each attack, and chat ratings by the same people; ``pause`` runs between some of them."""
    for i in range(5):  # five identities on one phone: the 4th and 5th are F1
        r.rate(
            "farm_first3" if i < 3 else "farm_later",
            f"farm{i}",
            0,
            i,
            addr=f"218.56.9.{i + 10}",
            device="farm",
        )
        r.rate("chat", f"farm{i}", 1, 30 + i)  # the same people in chat
        if i == 2:
            pause()  # the 4th identity arrives after a scan
    r.rate("cloud", "cloud", 0, 40, addr="47.92.1.1", device="cloud-vm", ua=WECHAT_IOS)  # F2: Alibaba Cloud
    r.rate("jump", "jumper", 0, 120, addr="218.56.2.1", device="jumper-phone")  # 山东
    r.rate("jump", "jumper", 1, 140, addr="223.104.1.1", device="jumper-phone")  # 广东
    pause()  # the third province arrives after a scan
    r.rate("jump", "jumper", 2, 170, addr="60.30.1.1", device="jumper-phone")  # 天津
    r.rate("chat", "jumper", 1, 150, score=4)  # a chat rating inside the jumping hour
    for i in range(32):  # brand 2's away answers: 11 of the 33 with a signal share an office network
        addr = f"113.200.1.{i + 1}" if i < 11 else f"218.58.{i}.7"
        r.rate(
            "crowd" if i < 11 else "plain", f"crowd{i}", 2, 200 + 90 * i, score=4, addr=addr, device=f"p{i}"
        )
        r.rate("chat", f"chat{i}", 2, 245 + 90 * i, score=4)  # chat answers are not counted
        if i == 20:
            pause()


def test_h5_events_are_flagged_and_chat_events_never(session: Session, brands) -> None:
    r = Round(session, make_campaign(session, "rating"), brands)
    fill(r)
    run_rules(session, r.c, END)
    got = {(e, rule): f.status for (e, rule), f in latest(session, r.c).items() if rule in WEB_RULES}
    expect = {(e, "F1_device_multi"): FlagStatus.SUSPECT for e in r.roles["farm_later"]}
    expect |= {(e, "F2_idc_ip"): FlagStatus.SUSPECT for e in r.roles["cloud"]}
    expect |= {(e, "F5_geo_jump"): FlagStatus.SUSPECT for e in r.roles["jump"]}
    expect |= {(e, "B4_concentration"): FlagStatus.WATCH for e in r.roles["crowd"]}
    assert got == expect
    chat = set(r.roles["chat"])
    assert len(chat) == 38 and not any(e in chat for e, _ in latest(session, r.c))  # no rule at all
    assert run_rules(session, r.c, END, full=True) == {}  # a full re-scan agrees


def test_increments_give_the_same_web_flags_as_one_full_scan(session: Session, brands) -> None:
    whole = Round(session, make_campaign(session, "rating", name="整轮"), brands)
    fill(whole)
    run_rules(session, whole.c, END)
    parts = Round(session, make_campaign(session, "rating", name="分三次"), brands)
    seen: list[int] = []

    def scan() -> None:
        run_rules(session, parts.c, END)
        seen.append(len(parts.flags()))

    fill(parts, scan)
    scan()
    assert seen[0] == 0 and seen[1] > 0  # the farm is flagged only once its 4th identity came
    assert parts.flags() == whole.flags() and len(whole.flags()) == 2 + 1 + 3 + 11
    assert run_rules(session, parts.c, END, full=True) == {}


def test_purged_signals_leave_their_flags_and_a_rescan_keeps_them(session: Session, brands) -> None:
    r = Round(session, make_campaign(session, "rating"), brands)
    fill(r)
    run_rules(session, r.c, END)
    before = r.flags()
    events = session.scalar(select(func.count()).select_from(RecognitionEvent))
    later = T0 + timedelta(days=400)
    signals = 5 + 1 + 3 + 32
    assert purge_web_signals(session, later, 12, dry_run=True) == signals
    assert purge_web_signals(session, T0 + timedelta(days=300), 12) == 0  # not yet due
    assert purge_web_signals(session, later, 12) == signals
    assert session.scalar(select(func.count()).select_from(RecognitionWebSignal)) == 0
    assert session.scalar(select(func.count()).select_from(RecognitionEvent)) == events
    assert run_rules(session, r.c, later, full=True) == {}  # no signal: out of the web rules' scope
    assert r.flags() == before


def _signal_at(session: Session, c: Campaign, brand: Brand, name: str, at: Any) -> int:
    out = record_rating(session, make_user(session), c, brand, 4, f"{c.name}:{name}", at, "h5")
    assert out.event_id is not None
    attach_signal(session, out.event_id, web_signal("218.56.1.1", WECHAT_ANDROID, name, None, at), at)
    return out.event_id


def test_retention_counts_from_the_official_snapshot(session: Session) -> None:
    city = make_union(session, name="保留期测试市总工会")
    brand = make_brand(session, union=make_union(session, parent=city), name="保留期品牌")
    start = T0 - timedelta(days=800)
    open_c = create_campaign(session, "进行中的活动", "rating", "all", start)
    recent_snap = create_campaign(session, "半年前出结果", "rating", "all", start)
    old_snap = create_campaign(session, "早已出结果", "rating", "all", start)
    now = T0
    gone = [_signal_at(session, open_c, brand, "old", now - timedelta(days=400))]
    kept = [_signal_at(session, open_c, brand, "new", now - timedelta(days=300))]
    kept.append(_signal_at(session, recent_snap, brand, "old", now - timedelta(days=500)))
    gone.append(_signal_at(session, old_snap, brand, "old", now - timedelta(days=500)))
    for c, age in ((recent_snap, 180), (old_snap, 420)):
        session.add(
            RecognitionSnapshot(
                campaign_id=c.id,
                version=1,
                method_version="t",
                config_digest="t",
                body="{}",
                sha256="t",
                created_at=now - timedelta(days=age),
            )
        )
    session.flush()
    assert purge_web_signals(session, now, 12, dry_run=True) == 2
    purge_job(
        JobContext(
            session=session,
            api=None,  # type: ignore[arg-type]  # the purge sends nothing
            now=now,
            options={},
            jobs=[],
            registry=standard_registry(),
        )
    )
    left = set(session.scalars(select(RecognitionWebSignal.event_id)))
    assert left == set(kept) and not left & set(gone)
    assert purge_web_signals(session, now, 12) == 0


def test_the_cli_purges_web_signals(app: Flask, clean_db: Engine, monkeypatch: Any) -> None:
    import bot.cli.retention as cli

    rt = app.extensions["ghpp"]
    with rt.session_factory() as s, s.begin():
        brand = make_brand(s, union=make_union(s, name="命令行测试工会"), name="命令行品牌")
        c = create_campaign(s, "命令行活动", "rating", "all", T0 - timedelta(days=800))
        _signal_at(s, c, brand, "old", T0 - timedelta(days=500))
        _signal_at(s, c, brand, "new", T0 - timedelta(days=10))
    monkeypatch.setattr(cli, "utcnow", lambda: T0)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0 and "1 条网页提交的风险信号" in dry.output, dry.output
    done = runner.invoke(args=["retention", "purge"])
    assert done.exit_code == 0 and "删除网页提交的风险信号 1 条" in done.output, done.output
    with rt.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(RecognitionWebSignal)) == 1
        assert s.scalar(select(func.count()).select_from(RecognitionEvent)) == 2
