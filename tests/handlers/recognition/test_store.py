"""The event store: survey sink, flags and adjudication, append-only, live cache, brand query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.recognition import default_config, parse_config
from handlers.actor import Actor
from handlers.measures import BrandRatingAnswer, MeasuredResponse, RosterAnswer, RosterItem
from handlers.recognition import report as report_mod
from handlers.recognition.adjudication import decide_flag
from handlers.recognition.fraud import FraudError, run_rules
from handlers.recognition.live import refresh
from handlers.recognition.queries import brand_recognition
from handlers.recognition.recording import record_rating
from handlers.recognition.report import compute_report, results
from models.recognition import (
    AppendOnlyError,
    FlagStatus,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionFlagAudit,
)
from tests.factories import make_user, standard_registry
from tests.handlers.recognition.conftest import T0, make_campaign


def response(
    user_id: int, campaign_id: int, key: str, shown, aware, foil=False, ratings=(), channel="neutral_open"
):
    return MeasuredResponse(
        user_id=user_id,
        survey_key="recognition",
        group=None,
        channel=channel,
        started_at=T0,
        submitted_at=T0 + timedelta(minutes=3),
        roster=RosterAnswer(
            shown=(*tuple(RosterItem(b, f"b{b}") for b in shown), RosterItem(None, "职工暖心加油站")),
            aware_brand_ids=tuple(aware),
            foil_ticked=foil,
        ),
        ratings=tuple(ratings),
        campaign_id=campaign_id,
        source_key=key,
    )


def test_sink_records_roster_and_ratings_once(session: Session, brands) -> None:
    c = make_campaign(session, "rating")
    ids = [b.id for b in brands]
    user = make_user(session, union_id=brands[0].union_id, union_source="member")
    r = response(user.id, c.id, "resp-1", ids, ids[:1], ratings=[BrandRatingAnswer(ids[0], 5, 4, 9)])
    standard_registry().publish(session, r)
    standard_registry().publish(session, r)  # delivered twice
    evs = list(session.scalars(select(RecognitionEvent).order_by(RecognitionEvent.id)))
    assert [e.kind for e in evs] == ["roster_ballot", "rating"]
    assert evs[0].payload == {"shown": ids, "aware": ids[:1], "foil": False}
    assert (evs[1].q1, evs[1].q2, evs[1].q3, evs[1].grp) == (5, 4, 9, "W")


def test_awareness_from_neutral_roster_only_and_foil_excluded(session: Session, brands) -> None:
    c = make_campaign(session, "rating")
    ids = [b.id for b in brands]
    for i in range(30):
        standard_registry().publish(
            session, response(make_user(session).id, c.id, f"n{i}", ids, ids[:1] if i % 3 == 0 else [])
        )
    standard_registry().publish(session, response(make_user(session).id, c.id, "foil", ids, ids, foil=True))
    rep = compute_report(session, c)
    a_s = next(b for b in rep["brands"] if b["brand"] == "工惠乐学")["groups"]["S"]["awareness"]
    assert a_s["n"] == 30 and a_s["raw"] == pytest.approx(33.3, abs=0.05)
    # Brand-channel ratings never touch awareness (docs/method/tests.md case 15).
    for i in range(20):
        u = make_user(session)
        record_rating(session, u, c, brands[0], 5, f"k{i}", T0, channel="brand", src=brands[0].id)
    after = next(b for b in compute_report(session, c)["brands"] if b["brand"] == "工惠乐学")
    assert after["groups"]["S"]["awareness"] == a_s


def _burst(session: Session, c, brand) -> None:
    for i in range(40):
        at = T0 + timedelta(seconds=i * 3)
        user = make_user(session, first_seen_at=at - timedelta(minutes=5))
        record_rating(session, user, c, brand, 1, f"bot{i}", at)


def test_flags_are_versioned_reversible_and_audited(session: Session, brands) -> None:
    c = make_campaign(session, "rating")
    for i in range(15):
        for b in brands:  # ordinary traffic on every brand, so the burst stands out against the cohort
            record_rating(session, make_user(session), c, b, 4, f"ok{i}:{b.id}", T0 - timedelta(hours=20 - i))
    before = compute_report(session, c)
    _burst(session, c, brands[0])
    summary = run_rules(session, c, T0 + timedelta(hours=1))
    assert summary["B2_timing"] == 40
    assert run_rules(session, c, T0 + timedelta(hours=2)) == {}  # nothing changed: nothing written
    flagged = compute_report(session, c)
    entry = next(b for b in flagged["brands"] if b["brand"] == "工惠乐学")
    assert entry["suspect"] == 40 and entry["status"] in ("样本不足", "数据核查中")
    assert entry["index_with_suspects"] != entry["index"] or entry["index"] is None
    audits = session.scalar(select(func.count(RecognitionFlagAudit.id)))
    flags = session.scalar(select(func.count(RecognitionFlag.id)))
    assert audits == flags
    flag = session.scalars(select(RecognitionFlag).where(RecognitionFlag.rule_id == "B2_timing")).first()
    assert flag is not None
    with pytest.raises(FraudError, match="理由"):
        decide_flag(session, flag.id, "restore", Actor.admin("张审核"), " ", T0)
    assert not decide_flag(session, flag.id, "restore", Actor.admin("张审核"), "经核实为真人", T0).effective
    restored = decide_flag(session, flag.id, "restore", Actor.admin("王审核"), "经核实为真人", T0).flag
    assert restored is not None and restored.status == FlagStatus.RESTORED and restored.version_no == 2
    with pytest.raises(FraudError, match="更新的版本"):
        decide_flag(session, flag.id, "confirm", Actor.admin("李审核"), "重复", T0)
    run_rules(session, c, T0 + timedelta(hours=3))  # a re-run never overrides a person
    latest = session.scalars(
        select(RecognitionFlag)
        .where(RecognitionFlag.event_id == flag.event_id, RecognitionFlag.rule_id == "B2_timing")
        .order_by(RecognitionFlag.id.desc())
    ).first()
    assert latest is not None and latest.status == FlagStatus.RESTORED
    # Restoring everything reproduces the pre-flag view exactly for the untouched brands.
    other = next(b for b in before["brands"] if b["brand"] == "幸福驿站")
    assert other == next(b for b in flagged["brands"] if b["brand"] == "幸福驿站")


def test_rule_version_bump_reflags_whole_round(session: Session, brands) -> None:
    import yaml

    from config.recognition import CONFIG_FILE

    c = make_campaign(session, "rating")
    _burst(session, c, brands[1])
    run_rules(session, c, T0)
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    data["anti_fraud"]["version"] = "9.9.9"
    data["anti_fraud"]["rules"]["B2_timing"]["min_arrivals"] = 100  # the new version no longer fires B2
    run_rules(session, c, T0, parse_config(data))
    latest: dict[tuple[int, str], RecognitionFlag] = {}
    for f in session.scalars(select(RecognitionFlag).order_by(RecognitionFlag.id)):
        latest[(f.event_id, f.rule_id)] = f
    b2 = [f for (eid, rule), f in latest.items() if rule == "B2_timing"]
    assert b2 and all(f.status == FlagStatus.RESTORED and f.rule_version == "B2_timing@9.9.9" for f in b2)


def test_events_cannot_be_updated_or_deleted(session: Session, brands) -> None:
    c = make_campaign(session, "rating")
    record_rating(session, make_user(session), c, brands[0], 4, "x", T0)
    ev = session.scalar(select(RecognitionEvent))
    assert ev is not None
    ev.q1 = 5
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()


def test_live_view_cached_until_new_data(session: Session, brands, monkeypatch) -> None:
    c = make_campaign(session, "rating")
    record_rating(session, make_user(session), c, brands[0], 4, "a", T0)
    calls = []
    real = report_mod.compute_report

    def counted(*a: Any, **k: Any) -> dict[str, Any]:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(report_mod, "compute_report", counted)
    results(session, c)
    results(session, c)
    assert len(calls) == 1
    record_rating(session, make_user(session), c, brands[0], 5, "b", T0)
    assert next(b for b in results(session, c)["brands"] if b["brand"] == "工惠乐学")["ratings"] == 2
    assert len(calls) == 2


def test_brand_recognition_query(session: Session, brands) -> None:
    assert brand_recognition(session, brands[0].id) is None
    c = make_campaign(session, "rating")
    for i in range(12):
        u = make_user(session, union_id=brands[2].union_id, union_source="qrcode")
        record_rating(session, u, c, brands[0], 4 + i % 2, f"q{i}", T0)
    assert brand_recognition(session, brands[0].id, now=T0) is None  # never computed: nothing shown
    assert refresh(session, c, T0)
    rec = brand_recognition(session, brands[0].id, now=T0)
    assert rec is not None and rec.live and rec.ratings == 12
    assert rec.status == "暂定" and rec.index is not None and rec.ci is not None
    assert "非随机抽样调查" in rec.text() and "参与热度" in rec.text()
    blind = make_campaign(session, "rating", name="盲评", blind=True)
    record_rating(session, make_user(session), blind, brands[1], 5, "bl", T0)
    refresh(session, blind, T0)
    assert brand_recognition(session, brands[1].id) is None
    assert brand_recognition(session, brands[1].id, include_blind=True) is not None
    assert default_config().version == rec.method_version


def test_sql_loader_matches_reference_loader(session: Session, brands) -> None:
    """The database aggregation gives the same index as the row-by-row reference (build_inputs)."""
    import random

    from handlers.recognition.cohort_index import compute_cohort
    from handlers.recognition.estimator_inputs import build_inputs, flag_states
    from handlers.recognition.loader import load_both, load_campaign

    rng = random.Random(11)
    c = make_campaign(session, "rating")
    ids = [b.id for b in brands]
    users = [
        make_user(
            session,
            union_id=rng.choice(brands).union_id if rng.random() < 0.5 else None,
            union_source="member",
        )
        for _ in range(60)
    ]
    for i in range(400):
        u = rng.choice(users)
        b = rng.choice(brands)
        channel = rng.choice(["self", "brand"])
        record_rating(session, u, c, b, rng.randint(1, 5), f"r{i}", T0 + timedelta(minutes=i), channel, b.id)
    for i, u in enumerate(users):
        aware = [b for b in ids if rng.random() < 0.4]
        standard_registry().publish(
            session, response(u.id, c.id, f"s{i}", ids, aware, foil=rng.random() < 0.1)
        )
    _burst(session, c, brands[2])
    run_rules(session, c, T0 + timedelta(days=1))
    # Suspects on some ordinary ratings too, so that a kept earlier rating is the fallback.
    ordinary = list(session.scalars(select(RecognitionEvent).where(RecognitionEvent.event_key.like("r%"))))
    for ev in rng.sample(ordinary, 40):
        session.add(
            RecognitionFlag(
                event_id=ev.id,
                rule_id="T_manual",
                rule_version="t",
                status=FlagStatus.SUSPECT,
                decided_by="system",
                reason="t",
            )
        )
    session.flush()
    cfg = default_config()
    events = list(session.scalars(select(RecognitionEvent)))
    ref_brands = [(b.id, b.name, b.union.path) for b in brands]
    kept, corrected = load_both(session, c, cfg)
    assert corrected is not kept  # the burst left suspects: the corrected pass ran
    for include, sql in (
        (False, kept),
        (True, load_campaign(session, c, cfg, include_suspects=True)),
        (True, corrected),
    ):
        ref = build_inputs(events, ref_brands, flag_states(session), cfg, include_suspects=include)
        a = compute_cohort(ref.inputs, cfg, seed_text="x")
        b = compute_cohort(sql.inputs, cfg, seed_text="x")
        for x, y in zip(a.brands, b.brands, strict=True):
            assert x.name == y.name and x.status == y.status
            assert x.index == pytest.approx(y.index, abs=1e-9)
            assert x.ci == pytest.approx(y.ci, abs=1e-9)
        assert {k: vars(v) for k, v in ref.counts.items()} == {k: vars(v) for k, v in sql.counts.items()}


def test_roster_area_one_foil_and_uniform_order(session: Session, brands) -> None:
    """docs/method/tests.md case 17: never outside the area, exactly one foil, positions a
    permutation (χ²)."""
    import random

    from scipy import stats

    from tests.factories import make_brand, make_union

    elsewhere = make_union(session, name="外市总工会")
    outside = make_brand(session, union=make_union(session, parent=elsewhere), name="外地品牌")
    c = make_campaign(session, "rating")
    c.opens_at = T0 - timedelta(days=400)  # open now, whatever today's date
    session.flush()
    worker = make_user(session, union_id=brands[0].union_id, union_source="member")
    rng = random.Random(5)
    positions = {b.id: [0] * 2 for b in brands[:1]}
    for _ in range(2000):
        roster = standard_registry().roster(session, worker, rng)
        assert sum(1 for i in roster if i.is_foil) == 1
        assert outside.id not in {i.brand_id for i in roster}
        ids = [i.brand_id for i in roster]
        assert ids.count(brands[0].id) == 1
        positions[brands[0].id][ids.index(brands[0].id)] += 1
    # The worker's area holds one brand (its own union's) plus the foil: two equally likely positions.
    assert stats.chisquare(positions[brands[0].id]).pvalue > 0.001
    public = make_user(session)
    public_ids = {i.brand_id for i in standard_registry().roster(session, public, rng)}
    assert {b.id for b in brands} <= public_ids and outside.id in public_ids


def test_unsure_is_missing_not_fifty() -> None:
    from handlers.recognition.estimator_inputs import composite

    cfg = default_config()
    assert composite(None, 5, 10, cfg) is None  # no q1: not in reputation
    assert composite(4, None, None, cfg) == 75.0  # 说不清 on q2/q3: left out, not 50
    assert composite(4, 2, None, cfg) == pytest.approx((0.5 * 75 + 0.25 * 25) / 0.75)
    assert composite(5, 5, 10, cfg) == 100.0
