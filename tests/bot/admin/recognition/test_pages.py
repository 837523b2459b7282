"""Campaigns and the 社会认可度 index in the dashboard: scoping, roles, CSRF, exports, flags, close."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.recognition.campaigns import create_campaign
from handlers.recognition.fraud import _write
from handlers.recognition.report import results
from handlers.recognition.report_text import csv_text
from models import utcnow
from models.admin import AuditEntry
from models.recognition import Campaign, FlagStatus, RecognitionEvent, RecognitionSnapshot
from tests.bot.admin.conftest import World, csrf
from tests.bot.admin.test_api import bearer, token_for
from tests.factories import make_legacy_campaign

T0 = utcnow() - timedelta(days=2)


@dataclass
class Rec:
    cid: int  # organised by the county, brands of the county and the other county
    pid: int  # CLI-made (no organiser), blind, open
    flag_id: int
    cname: str


def _event(db: Session, c: Campaign, key: str, **kw: object) -> RecognitionEvent:
    fields: dict[str, object] = {
        "event_key": key,
        "campaign_id": c.id,
        "grp": "W",
        "union_path": None,
        "identity_first_seen_at": T0 - timedelta(days=300),
        "channel": "neutral_open",
        "src_brand_id": None,
        "payload": {},
        "started_at": T0,
        "submitted_at": T0,
    }
    fields.update(kw)
    ev = RecognitionEvent(**fields)
    db.add(ev)
    return ev


def populate(db: Session, c: Campaign, rich_brand: int, poor_brand: int, tag: str) -> list[RecognitionEvent]:
    """Enough W/S/G answers for ``rich_brand`` to show a number; two ratings for ``poor_brand``."""
    ratings = []
    shown = [e.brand_id for e in c.entries]
    for i in range(60):
        grp = "W" if i % 2 else "S"
        ident = f"{tag}-{i:03d}"
        _event(
            db,
            c,
            f"{tag}-roster-{i}",
            kind="roster_ballot",
            identity_hash=ident,
            grp=grp,
            payload={"shown": shown, "aware": [rich_brand] if i % 3 else [], "foil": False},
        )
        ratings.append(
            _event(
                db,
                c,
                f"{tag}-rating-{i}",
                kind="rating",
                identity_hash=ident,
                grp=grp,
                brand_id=rich_brand,
                q1=4 + (i % 2),
                submitted_at=T0 + timedelta(minutes=i),
            )
        )
    for i in range(6):
        _event(
            db,
            c,
            f"{tag}-review-{i}",
            kind="review_score",
            identity_hash=f"{tag}-g{i}",
            grp="G",
            brand_id=rich_brand,
            q1=4,
            payload={"items": [4]},
        )
    for i in range(2):
        _event(
            db, c, f"{tag}-poor-{i}", kind="rating", identity_hash=f"{tag}-p{i}", brand_id=poor_brand, q1=2
        )
    for i in range(3):
        _event(
            db, c, f"{tag}-vote-{i}", kind="support_vote", identity_hash=f"{tag}-v{i}", brand_id=poor_brand
        )
    db.flush()
    return ratings


@pytest.fixture
def rec(db: Session, world: World) -> Rec:
    # Made before cohorts (county and grassroots brands together): its pages still work.
    c = make_legacy_campaign(
        db, "滨州<b>测评</b>", "rating", [world.county_brand, world.grassroots_brand, world.other_brand], T0
    )
    c.union_id = world.county.id
    ratings = populate(db, c, world.county_brand.id, world.grassroots_brand.id, "a")
    populate(db, c, world.other_brand.id, world.grassroots_brand.id, "b")
    # Five suspect ratings on the county brand, all score 1: excluding them raises the index.
    suspects = [
        _event(
            db,
            c,
            f"sus-{i}",
            kind="rating",
            identity_hash=f"sus-{i}",
            brand_id=world.county_brand.id,
            q1=1,
            submitted_at=T0 + timedelta(hours=2),
        )
        for i in range(5)
    ]
    db.flush()
    flag = None
    for ev in suspects:
        flag = _write(
            db, ev.id, "B1", "B1@test", 1, FlagStatus.SUSPECT, {}, "system", "短时集中", "raise", T0
        )
    assert ratings and flag is not None
    province = make_legacy_campaign(db, "全省盲评", "vote", [world.county_brand, world.province_brand], T0)
    province.blind = True
    db.commit()
    return Rec(c.id, province.id, flag.id, c.name)


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_recognition_page_shows_index_disclosure_and_suppression(as_user, rec: Rec, world: World) -> None:
    client = as_user("county")
    html = page(client, f"/admin/campaigns/{rec.cid}")
    assert "方法版本 v" in html and "数据截至" in html and "非随机抽样调查" in html
    assert "滨城幸福驿站" in html and "化工厂职工书屋" in html
    assert "邹平纺织工匠" not in html  # the other county's row is never shown
    assert "第" in html and "位" in html  # a rank range
    assert "参与热度（不计入社会认可度）" in html
    assert "样本不足" in html
    assert "红榜" not in html and "黑榜" not in html
    assert 'data-chart="ri-interval-data"' in html
    reliability = html.split('id="reliability"')[1].split("</p>")[0]
    assert "Cronbach" in reliability and "职工" in reliability and "公众" in reliability
    # the brand below threshold shows no number anywhere in its insufficient entry
    block = html.split('id="insufficient"')[1].split("</ul>")[0]
    assert "化工厂职工书屋：样本不足" in block
    assert not any(ch.isdigit() for ch in block.split("化工厂职工书屋")[1].split("（")[0])
    # XSS: the campaign's name is escaped
    assert "<b>测评</b>" not in html and "&lt;b&gt;测评&lt;/b&gt;" in html


def test_group_component_below_threshold_says_insufficient(as_user, rec: Rec) -> None:
    html = page(as_user("county"), f"/admin/campaigns/{rec.cid}")
    groups = html.split("分群体结果")[1].split("</table>")[0]
    row = next(r for r in groups.split("<tr>") if "化工厂职工书屋" in r and "职工" in r)
    assert "样本不足" in row
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[1:]]
    assert cells[4] == "样本不足"  # two ratings: reputation below the threshold, no number
    assert cells[2] != "样本不足"  # awareness (30 roster ballots) is shown


def test_exports_match_cli_columns_with_version_in_every_row(
    app: Flask, as_user, rec: Rec, db: Session, world: World
) -> None:
    client = as_user("county")
    body = client.get(f"/admin/campaigns/{rec.cid}?format=csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    cli_rows = list(csv.reader(io.StringIO(csv_text(results(db, db.get_one(Campaign, rec.cid))))))
    db.rollback()  # end the read transaction: SQLite lets one writer in at a time
    assert rows[0] == cli_rows[0]
    version = rows[1][-1]
    assert version and all(r[-1] == version for r in rows[1:-1])
    assert len(rows) == 2 + 2  # header, two brands in scope, disclosure
    assert "方法版本 v" + version in rows[-1][0]
    mine = {r[1]: r for r in cli_rows[1:-1]}
    for r in rows[1:-1]:
        assert r == mine[r[1]]  # the same numbers as the CLI
        assert r[5] and r[8]  # status and n in every row
    xlsx = client.get(f"/admin/campaigns/{rec.cid}?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == cli_rows[0]
    assert all(v[-1] == version for v in values[1:-1])
    assert "方法版本 v" in values[-1][0]


def test_scoping_roles_and_blind(as_user, rec: Rec, world: World) -> None:
    other = as_user("other")
    assert "邹平纺织工匠" in page(other, f"/admin/campaigns/{rec.cid}")
    assert other.get(f"/admin/campaigns/{rec.pid}").status_code == 404
    token = csrf(other, "/admin/campaigns/")
    # not the organiser: 403 on the organiser's actions
    assert other.post(f"/admin/campaigns/{rec.cid}/close", data={"csrf_token": token}).status_code == 403
    # blind campaign, open: the county (not the organiser) sees no results
    county = as_user("county")
    html = page(county, f"/admin/campaigns/{rec.pid}")
    assert 'id="hidden"' in html and "方法版本" not in html
    assert county.get(f"/admin/campaigns/{rec.pid}?format=csv").status_code == 403
    # the province admin organises programme-wide campaigns and sees them
    province = as_user("province")
    assert 'id="hidden"' not in page(province, f"/admin/campaigns/{rec.pid}")


@pytest.mark.parametrize("username", ["viewer", "cadre"])
def test_viewers_cannot_write(as_user, rec: Rec, username: str) -> None:
    client = as_user(username)
    token = csrf(client, "/admin/password")
    cid = rec.cid
    for url, data in (
        ("/admin/campaigns/", {"name": "x", "kind": "rating"}),
        (f"/admin/campaigns/{cid}/close", {}),
        (f"/admin/campaigns/{cid}/invite", {"reviewer": "张", "unit": "区委"}),
        (f"/admin/campaigns/{cid}/flags/{rec.flag_id}", {"decision": "confirm", "reason": "x"}),
    ):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url


def test_csrf_required_on_every_action(as_user, rec: Rec) -> None:
    client = as_user("county")
    cid = rec.cid
    for url in (
        "/admin/campaigns/",
        f"/admin/campaigns/{cid}/close",
        f"/admin/campaigns/{cid}/invite",
        f"/admin/campaigns/{cid}/flags/{rec.flag_id}",
    ):
        assert client.post(url, data={"decision": "confirm", "reason": "x"}).status_code == 400, url


def test_cross_county_ids_are_404(as_user, rec: Rec, world: World, db: Session) -> None:
    other_only = create_campaign(db, "邹平测评", "rating", [world.other_brand.name], T0)
    other_only.union_id = world.other_county.id
    db.commit()
    other_id = other_only.id
    client = as_user("county")
    token = csrf(client, "/admin/campaigns/")
    for url in (f"/admin/campaigns/{other_id}", f"/admin/campaigns/{other_id}/flags"):
        assert client.get(url).status_code == 404, url
    for url in (f"/admin/campaigns/{other_id}/close", f"/admin/campaigns/{other_id}/invite"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    # a brand of another county cannot be made a candidate
    response = client.post(
        "/admin/campaigns/",
        data={"csrf_token": token, "name": "越权", "kind": "rating", "brands": [str(world.other_brand.id)]},
    )
    assert response.status_code == 404
    assert "邹平测评" not in page(client, "/admin/campaigns/")


def test_flags_confirm_and_restore_are_audited_and_move_the_index(
    as_user, rec: Rec, db: Session, world: World
) -> None:
    client = as_user("county")
    cid = rec.cid
    html = page(client, f"/admin/campaigns/{cid}/flags")
    assert "B1" in html and "sus-" not in html  # no identity hashes
    for ev in db.scalars(select(RecognitionEvent.identity_hash)):
        assert ev not in html
    db.rollback()

    def county_index() -> tuple[float, float]:
        rep = client.get(f"/admin/campaigns/{cid}?format=csv").data.decode("utf-8-sig")
        row = next(r for r in csv.reader(io.StringIO(rep)) if len(r) > 1 and r[1] == "滨城幸福驿站")
        return float(row[2]), float(row[11])

    before, with_suspects = county_index()
    assert with_suspects < before  # the five 1-point suspects pull the index down when counted
    token = csrf(client, f"/admin/campaigns/{cid}/flags")
    missing = client.post(
        f"/admin/campaigns/{cid}/flags/{rec.flag_id}", data={"csrf_token": token, "decision": "restore"}
    )
    assert missing.status_code == 302
    assert "复核必须填写理由" in page(client, f"/admin/campaigns/{cid}/flags")
    ok = client.post(
        f"/admin/campaigns/{cid}/flags/{rec.flag_id}",
        data={"csrf_token": token, "decision": "restore", "reason": "经核实为真实职工"},
    )
    assert ok.status_code == 302
    # One adjudicator's decision is only an opinion: the flag and the index stay as they were.
    html = page(client, f"/admin/campaigns/{cid}/flags")
    assert "需另一位复核人" in html and "county：恢复计入" in html
    pending = db.scalar(select(AuditEntry).where(AuditEntry.action == "recognition.flag_propose"))
    assert pending is not None and pending.after is not None and pending.after["decision"] == "restore"
    db.rollback()
    assert county_index() == (before, with_suspects)
    again_alone = client.post(
        f"/admin/campaigns/{cid}/flags/{rec.flag_id}",
        data={"csrf_token": token, "decision": "restore", "reason": "再次确认"},
    )
    assert again_alone.status_code == 302
    assert "需由另一位复核人复核" in page(client, f"/admin/campaigns/{cid}/flags")
    # The second adjudicator (the province, also an organiser's admin) agrees: now it counts.
    client = as_user("province")
    token = csrf(client, f"/admin/campaigns/{cid}/flags")
    second = client.post(
        f"/admin/campaigns/{cid}/flags/{rec.flag_id}",
        data={"csrf_token": token, "decision": "restore", "reason": "经核实为真实职工"},
    )
    assert second.status_code == 302
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "recognition.flag_restore"))
    assert entry is not None and entry.after is not None and entry.after["reason"] == "经核实为真实职工"
    assert entry.after["adjudicators"] == ["county", "province"]
    db.rollback()
    after, _ = county_index()
    assert after < before  # one 1-point rating counts again
    # the old version can no longer be decided
    again = client.post(
        f"/admin/campaigns/{cid}/flags/{rec.flag_id}",
        data={"csrf_token": token, "decision": "confirm", "reason": "x"},
    )
    assert again.status_code == 404


def test_create_and_close_through_the_page_equal_the_cli(
    app: Flask, as_user, rec: Rec, db: Session, world: World
) -> None:
    cid, cname = rec.cid, rec.cname
    grassroots_bid, sibling_bid, county_uid = (
        world.grassroots_brand.id,
        world.sibling_brand.id,
        world.county.id,
    )
    county_bid = world.county_brand.id
    db.rollback()
    client = as_user("county")
    token = csrf(client, "/admin/campaigns/")
    response = client.post(
        "/admin/campaigns/",
        data={
            "csrf_token": token,
            "name": "网页测评",
            "kind": "vote",
            "brands": [str(grassroots_bid), str(sibling_bid)],
            "max_choices": "2",
            "blind": "1",
        },
    )
    assert response.status_code == 302
    web_c = db.scalar(select(Campaign).where(Campaign.name == "网页测评"))
    assert web_c is not None and web_c.union_id == county_uid and web_c.blind and web_c.max_choices == 2
    assert [e.brand.name for e in web_c.entries] == ["化工厂职工书屋", "医院天使之家"]
    assert (web_c.cohort_level, web_c.cohort_union_id) == ("grassroots", county_uid)
    web_id = web_c.id
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.create")) is not None
    db.rollback()
    # a duplicate name: a clear message, nothing lost
    client.post(
        "/admin/campaigns/",
        data={"csrf_token": token, "name": "网页测评", "kind": "vote", "brands": [str(county_bid)]},
    )
    assert "已存在" in page(client, "/admin/campaigns/")

    assert client.post(f"/admin/campaigns/{cid}/close", data={"csrf_token": token}).status_code == 302
    db.expire_all()
    snap = db.scalar(select(RecognitionSnapshot).where(RecognitionSnapshot.campaign_id == cid))
    assert snap is not None
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.close")) is not None
    db.rollback()
    # the CLI closing another campaign writes the same kind of snapshot; the report equals the snapshot
    cli = app.test_cli_runner().invoke(args=["campaign", "close", "网页测评"])
    assert cli.exit_code == 0, cli.output
    db.expire_all()
    cli_snap = db.scalar(select(RecognitionSnapshot).where(RecognitionSnapshot.campaign_id == web_id))
    assert cli_snap is not None and cli_snap.sha256 in cli.output
    db.rollback()
    again = app.test_cli_runner().invoke(args=["campaign", "close", cname])
    assert again.exit_code != 0 and "已经结束" in again.output
    html = page(client, f"/admin/campaigns/{cid}")
    assert "正式结果" in html and "结束活动并生成正式结果" not in html


def test_invite_shows_code_once_and_never_logs_it(as_user, rec: Rec, db: Session) -> None:
    client = as_user("county")
    token = csrf(client, f"/admin/campaigns/{rec.cid}")
    response = client.post(
        f"/admin/campaigns/{rec.cid}/invite",
        data={"csrf_token": token, "reviewer": "<script>x</script>", "unit": "区委办"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "只显示这一次" in html
    code = html.split('id="invite-code">')[1].split("<")[0]
    assert code.startswith("PY")
    assert "<script>x</script>" not in html
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.invite_reviewer"))
    assert entry is not None and code not in str(entry.after)
    db.rollback()
    assert code not in page(client, f"/admin/campaigns/{rec.cid}")


def test_overview_panels_list_open_campaigns_and_participation(
    as_user, rec: Rec, db: Session, world: World
) -> None:
    # Four workers of the county's grassroots union rated; one of them twice (counted once).
    c = db.get(Campaign, rec.cid)
    assert c is not None
    path, bid = world.grassroots.path, world.county_brand.id
    for i, who in enumerate(["w1", "w2", "w3", "w4", "w1"]):
        _event(db, c, f"part-{i}", kind="rating", identity_hash=who, union_path=path, brand_id=bid, q1=5)
    db.commit()
    html = page(as_user("county"), "/admin/")
    panel = html.split('id="panel-campaigns"')[1].split("</section>")[0]
    assert "滨州&lt;b&gt;测评&lt;/b&gt;" in panel and "全省盲评" in panel
    part = html.split('id="panel-participation"')[1].split("</section>")[0]
    row = next(r for r in part.split("<tr>") if "滨州&lt;b&gt;测评" in r)
    assert ">4<" in row and "86000" in row
    other = page(as_user("other"), "/admin/").split('id="panel-campaigns"')[1].split("</section>")[0]
    assert "全省盲评" not in other and "滨州&lt;b&gt;测评" in other


def test_method_page(as_user, rec: Rec) -> None:
    html = page(as_user("viewer"), "/admin/campaigns/method")
    assert "计算方法" in html and "权重" in html


def test_api_is_scoped_and_shaped_like_the_cli(
    app: Flask, client: FlaskClient, rec: Rec, db: Session, world: World
) -> None:
    cid, pid = rec.cid, rec.pid
    token = token_for(db, world, "county")
    listing = client.get("/api/v1/campaigns", headers=bearer(token)).get_json()
    assert {i["name"] for i in listing["items"]} == {"滨州<b>测评</b>", "全省盲评"}
    body = client.get(f"/api/v1/campaigns/{cid}/recognition", headers=bearer(token)).get_json()
    cli = results(db, db.get_one(Campaign, cid))
    db.rollback()
    assert set(cli) <= set(body)
    assert [b["brand"] for b in body["brands"]] == [
        b["brand"] for b in cli["brands"] if b["brand"] != "邹平纺织工匠"
    ]
    assert body["disclosure"] == cli["disclosure"]
    blind = client.get(f"/api/v1/campaigns/{pid}/recognition", headers=bearer(token))
    assert blind.status_code == 403
    other = token_for(db, world, "other")
    assert client.get(f"/api/v1/campaigns/{pid}/recognition", headers=bearer(other)).status_code == 404
    assert client.get(f"/api/v1/campaigns/{cid}/recognition").status_code == 401


def test_dates_are_aware() -> None:
    assert T0.tzinfo is not None and datetime.now(UTC) > T0


def test_brand_page_recognition_card_has_interval_and_disclosure(as_user, rec: Rec, world: World) -> None:
    bid = world.county_brand.id
    html = page(as_user("county"), f"/admin/brands/{bid}")
    card = html.split("社会认可度指数：")[1]
    assert "暂无数据" not in card.split("</p>")[0]
    assert "可信区间" in card and "方法版本 v" in card and "数据截至" in card


def test_brand_names_are_escaped_on_every_recognition_page(
    as_user, rec: Rec, db: Session, world: World
) -> None:
    from tests.factories import make_brand

    evil = make_brand(db, world.county, name='<img src=x onerror="alert(1)">')
    c = create_campaign(db, "转义测试", "rating", [evil.name, world.county_brand.name], T0)
    c.union_id = world.county.id
    _event(db, c, "x-1", kind="support_vote", identity_hash="x1", brand_id=evil.id)
    db.commit()
    cid = c.id
    client = as_user("county")
    for url in (f"/admin/campaigns/{cid}", f"/admin/campaigns/{cid}/flags", "/admin/campaigns/", "/admin/"):
        html = page(client, url)
        assert "<img src=x" not in html, url
    assert "&lt;img src=x" in page(client, f"/admin/campaigns/{cid}")


def test_dashboard_refuses_a_candidate_outside_the_cohort(as_user, world: World, db: Session) -> None:
    """County and grassroots brands are different cohorts: a clear message, nothing created."""
    county_bid, grassroots_bid = world.county_brand.id, world.grassroots_brand.id
    db.rollback()
    client = as_user("county")
    token = csrf(client, "/admin/campaigns/")
    form = {
        "csrf_token": token,
        "name": "混合测评",
        "kind": "rating",
        "brands": [str(county_bid), str(grassroots_bid)],
    }
    client.post("/admin/campaigns/", data=form)
    html = page(client, "/admin/campaigns/")
    assert "候选品牌分属不同层级（县区级、基层）" in html
    client.post("/admin/campaigns/", data={**form, "cohort_level": "county"})
    assert "「化工厂职工书屋」是基层品牌，不在本活动的比较组（县区级·滨城区总工会范围）内" in page(
        client, "/admin/campaigns/"
    )
    db.expire_all()
    assert db.scalar(select(Campaign).where(Campaign.name == "混合测评")) is None
    db.rollback()
    client.post("/admin/campaigns/", data={**form, "brands": [str(county_bid)]})
    db.expire_all()
    made = db.scalar(select(Campaign).where(Campaign.name == "混合测评"))
    assert made is not None
    made_id = made.id
    db.rollback()
    assert "比较组：县区级·滨城区总工会范围" in page(client, f"/admin/campaigns/{made_id}")


def test_checks_escalation_deadline_and_appeal_on_the_flags_page(
    as_user, rec: Rec, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = rec.cid
    county_bid, grass_bid = world.county_brand.id, world.grassroots_brand.id
    ring = [
        _event(
            db,
            db.get_one(Campaign, cid),
            f"ring-{i}",
            kind="rating",
            identity_hash=f"ring-{i}",
            brand_id=county_bid if i % 2 else grass_bid,
            q1=5,
            channel="brand",
        )
        for i in range(4)
    ]
    db.flush()
    for ev in ring:
        _write(
            db,
            ev.id,
            "B7_exchange_ring",
            "B7@test",
            1,
            FlagStatus.WATCH,
            {"pair": sorted([county_bid, grass_bid])},
            "system",
            "换票圈",
            "raise",
            T0,
        )
    db.commit()
    client = as_user("county")
    html = page(client, f"/admin/campaigns/{cid}/flags")
    assert "没有未结束的品牌核查" in html and "升级为品牌核查" in html
    token = csrf(client, f"/admin/campaigns/{cid}/flags")
    done = client.post(
        f"/admin/campaigns/{cid}/checks/escalate",
        data={"csrf_token": token, "brand_a": county_bid, "brand_b": grass_bid, "reason": "互评 25 + 25"},
    )
    assert done.status_code == 302
    html = page(client, f"/admin/campaigns/{cid}/flags")
    assert "换票圈升级核查" in html and "互评 25 + 25" in html and "已逾期" not in html
    detail = page(client, f"/admin/campaigns/{cid}")
    assert "数据核查中" in detail
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "recognition.check_escalate")) is not None
    db.rollback()
    # Eleven days later the check is past its ten-day deadline.
    later = utcnow() + timedelta(days=11)
    monkeypatch.setattr("bot.admin.recognition.flags.utcnow", lambda: later)
    monkeypatch.setattr("bot.admin.recognition.access.utcnow", lambda: later)
    assert "已逾期" in page(client, f"/admin/campaigns/{cid}/flags")
    # Appeal: nothing decided yet on the county brand's check, so nothing to appeal.
    token = csrf(client, f"/admin/campaigns/{cid}/flags")
    client.post(
        f"/admin/campaigns/{cid}/checks/appeal",
        data={"csrf_token": token, "brand": county_bid, "reason": "x"},
    )
    assert "核查尚未结束" in page(client, f"/admin/campaigns/{cid}/flags")
    # The cadre of the grassroots union cannot appeal; the other county cannot see the campaign's brand.
    cadre = as_user("cadre")
    token = csrf(cadre, "/admin/")
    assert cadre.post(
        f"/admin/campaigns/{cid}/checks/appeal", data={"csrf_token": token, "brand": grass_bid, "reason": "x"}
    ).status_code in (403, 404)


def test_overview_counts_distinct_participants_at_most_once_a_minute(
    as_user, rec: Rec, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.perf.sqlcount import counting

    c = db.get(Campaign, rec.cid)
    assert c is not None
    path, bid = world.grassroots.path, world.county_brand.id
    _event(db, c, "once-1", kind="rating", identity_hash="w1", union_path=path, brand_id=bid, q1=5)
    db.commit()
    client = as_user("county")
    page(client, "/admin/")
    engine = db.get_bind().engine
    with counting(engine) as n:
        html = page(client, "/admin/")
    assert not any("count(DISTINCT" in q or "count(distinct" in q for q in n.sql), n
    part = html.split('id="panel-participation"')[1].split("</section>")[0]
    assert ">1<" in next(r for r in part.split("<tr>") if "滨州&lt;b&gt;测评" in r)
    later = time.monotonic() + 61
    monkeypatch.setattr("handlers.recognition.scoped_queries.time.monotonic", lambda: later)
    with counting(engine) as n:
        page(client, "/admin/")
    assert any("count(DISTINCT" in q or "count(distinct" in q for q in n.sql)
