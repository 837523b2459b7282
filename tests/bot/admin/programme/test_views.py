"""Brand programme pages: timeline, forms, photos, imports, invitations, coverage, dossier, panels, API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.recognition_hook import RecognitionInfo
from handlers.programme.storage import LocalStorage, photo_key
from models import Brand, Role, Stage, Union, utcnow
from models.admin import AuditEntry
from models.programme import (
    Assessment,
    BrandPlan,
    Invitation,
    Photo,
    PhotoStatus,
    ProgressReport,
    StageTransition,
)
from tests.bot.admin.conftest import World, csrf
from tests.bot.admin.test_api import bearer, token_for
from tests.factories import make_user
from tests.factories_programme import png_bytes, recognition_provider

XSS = '<script>alert("x")</script>'
REVIEW_FORM = {
    "score_name": "85",
    "score_mechanism": "80",
    "score_carriers": "75",
    "score_demonstration": "70",
    "decision": "promote",
    "comments": "机制健全，建议推广",
}


def post(client: FlaskClient, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(url, data={**data, "csrf_token": csrf(client, "/admin/")}, **kwargs)


def add_photo(
    app: Flask, db: Session, brand: Brand, *, seed: int = 1, activity: str = "职工培训", **kw: Any
) -> Photo:
    """A stored photo whose bytes sit in the app's media directory, as the download job leaves it."""
    uploader = make_user(db, role=Role.CADRE, union_id=brand.union_id, union_source="invite")
    content = png_bytes(seed)
    import hashlib

    sha = hashlib.sha256(content).hexdigest()
    key = photo_key(sha, "png")
    LocalStorage(Path(app.extensions["ghpp"].job_options["media_dir"])).put(key, content, "image/png")
    photo = Photo(
        media_id=f"m-{brand.id}-{seed}",
        uploader_id=uploader.id,
        brand_id=brand.id,
        activity=activity,
        captured_at=utcnow(),
        status=PhotoStatus.STORED,
        sha256=sha,
        size=len(content),
        content_type="image/png",
        storage_key=key,
        stored_at=utcnow(),
        **kw,
    )
    db.add(photo)
    db.commit()
    return photo


def audit_actions(db: Session) -> list[str]:
    db.expire_all()
    actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    db.commit()  # SQLite: end the read (without expiring objects) so the app can write
    return actions


# --- the brand page -------------------------------------------------------------------------


def test_brand_page_shows_timeline_gallery_and_escapes_text(
    app: Flask, as_user, world: World, db: Session
) -> None:
    brand = db.get(Brand, world.county_brand.id)
    assert brand is not None
    now = utcnow()
    ops.record_transition(
        db, brand, Stage.CULTIVATING, Actor.admin("导入" + XSS), "理由" + XSS, now - timedelta(days=3)
    )
    ops.save_plan(
        db,
        brand,
        {"goals": XSS, "measures": "m", "long_term": "l", "this_year": "t"},
        Actor.admin("县区"),
        now,
    )
    report = ProgressReport(brand_id=brand.id, text="开展培训" + XSS, created_at=now)
    db.add(report)
    db.commit()
    add_photo(app, db, brand, activity="活动" + XSS, report_id=report.id, flag="duplicate")
    photo = db.scalar(select(Photo).where(Photo.brand_id == brand.id))
    assert photo is not None and photo.uploader is not None
    uploader_openid = photo.uploader.openid
    db.commit()
    page = as_user("county").get(f"/admin/brands/{brand.id}").get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;" in page
    assert "开展培训" in page and "重复照片" in page and "工会干部" in page
    assert uploader_openid not in page
    assert "/admin/programme/photos/" in page
    assert "暂无数据" in page  # recognition and scores
    # The dossier: the same content, printable.
    dossier = as_user("county").get(f"/admin/programme/brands/{brand.id}/dossier").get_data(as_text=True)
    assert "评审材料" in dossier and XSS not in dossier and "打印" in dossier


def test_recognition_comes_from_the_provider_hook(app, as_user, world: World) -> None:
    info = RecognitionInfo(score=72.5, rank=3, out_of=40)
    with recognition_provider(lambda s, b: info, app.extensions["ghpp"].registry):
        page = as_user("county").get(f"/admin/brands/{world.county_brand.id}").get_data(as_text=True)
    assert "72.5" in page and "排名第 3" in page


def test_forms_are_shown_by_permission(as_user, world: World) -> None:
    county = as_user("county")
    own = county.get(f"/admin/brands/{world.county_brand.id}").get_data(as_text=True)
    assert 'id="plan-form"' in own and 'id="self-form"' in own and 'id="review-box"' not in own
    child = county.get(f"/admin/brands/{world.grassroots_brand.id}").get_data(as_text=True)
    assert 'id="review-box"' in child and 'id="plan-form"' not in child
    assert 'id="review-form"' not in child  # shown once the brand is under review
    reviewing = as_user("province").get(f"/admin/brands/{world.other_brand.id}").get_data(as_text=True)
    assert 'id="review-form"' in reviewing


# --- the review form ------------------------------------------------------------------------


def test_superior_review_advances_the_stage_and_is_audited(as_user, world: World, db: Session) -> None:
    client = as_user("province")
    report = ProgressReport(brand_id=world.other_brand.id, text="开展活动", created_at=utcnow())
    db.add(report)
    db.commit()
    form = {**REVIEW_FORM, "reports_carriers": str(report.id)}
    response = post(client, f"/admin/programme/brands/{world.other_brand.id}/review", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.expire_all()
    brand = db.get(Brand, world.other_brand.id)
    assert brand is not None and brand.stage == Stage.DEEPENING
    review = db.scalar(select(Assessment).where(Assessment.brand_id == brand.id, Assessment.kind == "review"))
    assert review is not None and review.author.startswith("province")
    move = db.scalar(select(StageTransition).where(StageTransition.brand_id == brand.id))
    assert move is not None and move.from_stage == Stage.REVIEWING and "推广" in move.reason
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "brand.review"))
    assert (
        entry is not None
        and entry.before == {"stage": "reviewing"}
        and entry.after is not None
        and entry.after["stage"] == "deepening"
    )
    db.commit()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "评议已提交：推广" in page and "机制健全" in page


def test_review_errors_are_shown_in_chinese_and_nothing_is_written(
    as_user, world: World, db: Session
) -> None:
    client = as_user("province")
    url = f"/admin/programme/brands/{world.other_brand.id}/review"
    bad = post(client, url, {**REVIEW_FORM, "score_name": "120"})
    assert bad.status_code == 400 and "超出 0–100" in bad.get_data(as_text=True)
    missing = post(client, url, {**REVIEW_FORM, "comments": " "})
    assert "评议意见不能为空" in missing.get_data(as_text=True)
    wrong_stage = post(client, f"/admin/programme/brands/{world.county_brand.id}/review", REVIEW_FORM)
    assert wrong_stage.status_code == 400 and "不在评议推广阶段" in wrong_stage.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(select(func.count(Assessment.id))) == 0
    assert "brand.review" not in audit_actions(db)


def test_only_strict_ancestor_admins_may_review(as_user, world: World) -> None:
    # The county admin is the brand's own union, not its superior; cadres and viewers never review.
    url = f"/admin/programme/brands/{world.county_brand.id}/review"
    assert post(as_user("county"), url, REVIEW_FORM).status_code == 403


@pytest.mark.parametrize("username", ["viewer", "cadre"])
def test_viewers_and_cadres_cannot_review(as_user, world: World, username: str) -> None:
    brand = world.grassroots_brand if username == "cadre" else world.county_brand
    assert (
        post(as_user(username), f"/admin/programme/brands/{brand.id}/review", REVIEW_FORM).status_code == 403
    )


# --- plan, self-evaluation, advance ---------------------------------------------------------


def test_gates_plan_and_advance_through_the_forms(as_user, world: World, db: Session) -> None:
    client = as_user("county")
    sibling = world.sibling_brand.id  # planned, no plan yet
    refused = post(
        client, f"/admin/programme/brands/{sibling}/advance", {"to": "cultivating", "reason": "开始培育"}
    )
    assert refused.status_code == 400 and "需要先提交创建方案" in refused.get_data(as_text=True)
    # The county admin is not the sibling union's own account: plans belong to the brand's union.
    plan = {"goals": "目标" + XSS, "measures": "措施", "long_term": "长期", "this_year": "今年"}
    assert post(client, f"/admin/programme/brands/{sibling}/plan", plan).status_code == 403
    own = world.county_brand.id  # cultivating, own union
    half = post(client, f"/admin/programme/brands/{own}/plan", {**plan, "this_year": ""})
    assert half.status_code == 400 and "创建方案缺少：年度计划" in half.get_data(as_text=True)
    assert post(client, f"/admin/programme/brands/{own}/plan", plan).status_code == 302
    no_reports = post(
        client, f"/admin/programme/brands/{own}/advance", {"to": "reviewing", "reason": "申请评议"}
    )
    assert "至少一条进度上报" in no_reports.get_data(as_text=True)
    report = ProgressReport(brand_id=own, text="开展活动", created_at=utcnow())
    db.add(report)
    db.commit()
    scores = {f"score_{s}": "80" for s in ("name", "mechanism", "carriers", "demonstration", "recognition")}
    scores["reports_carriers"] = str(report.id)
    assert post(client, f"/admin/programme/brands/{own}/self-evaluation", scores).status_code == 302
    moved = post(client, f"/admin/programme/brands/{own}/advance", {"to": "reviewing", "reason": "申请评议"})
    assert moved.status_code == 302
    db.expire_all()
    assert db.get_one(Brand, own).stage == Stage.REVIEWING
    db.commit()
    assert db.scalar(select(func.count(BrandPlan.id))) == 1
    assert audit_actions(db)[-3:] == ["brand.plan", "brand.self_evaluate", "brand.advance"]
    page = client.get(f"/admin/brands/{own}").get_data(as_text=True)
    assert XSS not in page and "申请评议" in page


def test_cadre_writes_its_own_brands_only(as_user, world: World, db: Session) -> None:
    client = as_user("cadre")
    plan = {"goals": "目标", "measures": "措施", "long_term": "长期", "this_year": "今年"}
    assert post(client, f"/admin/programme/brands/{world.grassroots_brand.id}/plan", plan).status_code == 302
    assert post(client, f"/admin/programme/brands/{world.sibling_brand.id}/plan", plan).status_code == 404
    self_eval = post(client, f"/admin/programme/brands/{world.grassroots_brand.id}/self-evaluation", {})
    assert self_eval.status_code == 400 and "进入培育创建后才能自评" in self_eval.get_data(as_text=True)


def test_viewer_reads_but_every_write_is_403(as_user, world: World) -> None:
    client = as_user("viewer")
    b = world.county_brand.id
    assert client.get(f"/admin/brands/{b}").status_code == 200
    for url in ("plan", "self-evaluation", "advance", "review"):
        assert post(client, f"/admin/programme/brands/{b}/{url}", {"to": "reviewing"}).status_code == 403, url
    assert post(client, "/admin/programme/invitations", {"union": world.county.id}).status_code == 403
    assert client.get("/admin/programme/import").status_code == 403


def test_cross_county_by_id_is_404(app: Flask, as_user, world: World, db: Session) -> None:
    other = db.get(Brand, world.other_brand.id)
    assert other is not None
    photo = add_photo(app, db, other)
    client = as_user("county")
    b = world.other_brand.id
    assert client.get(f"/admin/brands/{b}").status_code == 404
    assert client.get(f"/admin/programme/brands/{b}/dossier").status_code == 404
    assert client.get(f"/admin/programme/photos/{photo.id}").status_code == 404
    for url in ("plan", "self-evaluation", "advance", "review"):
        assert post(client, f"/admin/programme/brands/{b}/{url}", REVIEW_FORM).status_code == 404, url
    assert post(client, "/admin/programme/invitations", {"union": world.other_county.id}).status_code == 404


def test_csrf_missing_is_400_on_every_form(as_user, world: World) -> None:
    client = as_user("province")
    b = world.other_brand.id
    for url in (
        f"/admin/programme/brands/{b}/review",
        f"/admin/programme/brands/{b}/plan",
        f"/admin/programme/brands/{b}/self-evaluation",
        f"/admin/programme/brands/{b}/advance",
        "/admin/programme/invitations",
        "/admin/programme/import",
    ):
        assert client.post(url, data=REVIEW_FORM).status_code == 400, url


def test_wrong_role_pages_are_403(as_user) -> None:
    client = as_user("cadre")
    for url in ("/admin/programme/coverage", "/admin/programme/invitations", "/admin/programme/import"):
        assert client.get(url).status_code == 403, url


# --- photos ---------------------------------------------------------------------------------


def test_photo_route_serves_bytes_in_scope_only(app: Flask, as_user, world: World, db: Session) -> None:
    grassroots = db.get(Brand, world.grassroots_brand.id)
    assert grassroots is not None
    photo = add_photo(app, db, grassroots, seed=7)
    county = as_user("county")
    response = county.get(f"/admin/programme/photos/{photo.id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data == png_bytes(7)
    assert "private" in response.headers["Cache-Control"]
    pending = Photo(
        media_id="pending-1", uploader_id=photo.uploader_id, brand_id=grassroots.id, captured_at=utcnow()
    )
    db.add(pending)
    db.commit()
    assert county.get(f"/admin/programme/photos/{pending.id}").status_code == 404
    assert county.get("/admin/programme/photos/999999").status_code == 404
    county.post("/admin/logout", data={"csrf_token": csrf(county, "/admin/")})
    # The cadre of the photo's own union sees it too.
    assert as_user("cadre").get(f"/admin/programme/photos/{photo.id}").status_code == 200
    # No public path serves the media directory.
    anonymous = app.test_client()
    for url in (
        f"/static/{photo.storage_key}",
        f"/admin/static/{photo.storage_key}",
        f"/media/{photo.storage_key}",
    ):
        assert anonymous.get(url).status_code == 404, url


def test_overview_panels_show_latest_photos_and_overdue_reviews(
    app: Flask, as_user, world: World, db: Session
) -> None:
    brand = db.get(Brand, world.grassroots_brand.id)
    assert brand is not None
    add_photo(app, db, brand, activity="劳动竞赛" + XSS)
    other = db.get(Brand, world.other_brand.id)
    assert other is not None
    long_ago = utcnow() - timedelta(days=90)
    other.created_at = long_ago
    db.add(
        StageTransition(
            brand_id=other.id,
            from_stage=Stage.CULTIVATING,
            to_stage=Stage.REVIEWING,
            actor="x",
            reason="r",
            at=long_ago,
        )
    )
    db.commit()
    page = as_user("province").get("/admin/").get_data(as_text=True)
    assert "劳动竞赛" in page and XSS not in page
    assert "邹平纺织工匠" in page  # overdue review and no progress for 90 days
    assert 'id="panel-quiet"' in page


# --- imports --------------------------------------------------------------------------------


def upload(client: FlaskClient, kind: str, name: str, content: bytes) -> Any:
    return client.post(
        "/admin/programme/import",
        data={"kind": kind, "file": (io.BytesIO(content), name), "csrf_token": csrf(client, "/admin/")},
        content_type="multipart/form-data",
    )


def test_union_import_bad_rows_import_nothing(as_user, world: World, db: Session) -> None:
    client = as_user("county")
    body = "code,name,parent_code,kind\nBZ-BC-010,新工会,BZ-BC,grassroots\n,无代码,BZ-BC,grassroots\nBZ-BC-011,坏类型,BZ-BC,planet\n"
    response = upload(client, "orgs", "orgs.csv", body.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "第3行" in page and "第4行" in page and "未导入任何数据" in page
    db.expire_all()
    assert db.scalar(select(Union).where(Union.code == "BZ-BC-010")) is None


def test_union_import_outside_the_subtree_is_refused(as_user, world: World, db: Session) -> None:
    client = as_user("county")
    body = "code,name,parent_code,kind\nBZ-ZP-001,邹平某工会,BZ-ZP,grassroots\nBZ-ZP,改名,BZ,county\nX-1,顶层,,county\n"
    page = upload(client, "orgs", "orgs.csv", body.encode()).get_data(as_text=True)
    assert "第2行：上级工会代码 BZ-ZP 不在您的管辖范围内" in page
    assert "第3行：工会代码 BZ-ZP 不在您的管辖范围内" in page
    assert "第4行" in page
    db.expire_all()
    assert db.scalar(select(Union.name).where(Union.code == "BZ-ZP")) == "邹平市总工会"


def test_union_and_brand_import_xlsx_larger_than_the_webhook_limit(
    as_user, world: World, db: Session
) -> None:
    client = as_user("county")
    brand_id = world.county_brand.id
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "name", "parent_code", "kind", "note"])
    sheet.append(["BZ-BC-020", "滨城区新建工会", "BZ-BC", "grassroots", "x" * 30_000])
    out = io.BytesIO()
    book.save(out)
    big = out.getvalue()
    padding = ",".join(["y" * 100_000] * 3)  # the csv module's field limit is 128 KiB
    csv_big = (
        "code,name,parent_code,kind,a,b,c\nBZ-BC-021,另一个工会,BZ-BC,grassroots," + padding + "\n"
    ).encode()
    assert len(csv_big) > 256 * 1024
    assert upload(client, "orgs", "orgs.csv", csv_big).status_code == 200
    ok = upload(client, "orgs", "orgs.xlsx", big)
    assert ok.status_code == 200 and "新增 1 条" in ok.get_data(as_text=True)
    brands = "name,org_code,aliases,stage\n新品牌,BZ-BC-020,新品;新,proposed\n".encode()
    assert upload(client, "brands", "brands.csv", brands).status_code == 200
    db.expire_all()
    brand = db.scalar(select(Brand).where(Brand.name == "新品牌"))
    assert brand is not None and brand.union.code == "BZ-BC-020"
    db.commit()
    assert audit_actions(db).count("import.orgs") == 2 and "import.brands" in audit_actions(db)
    # Other admin form posts keep the 256 KB limit.
    huge = post(client, f"/admin/programme/brands/{brand_id}/plan", {"goals": "z" * 300_000})
    assert huge.status_code == 413


def test_brand_import_cannot_take_another_countys_brand(as_user, world: World) -> None:
    body = "name,org_code\n邹平纺织工匠,BZ-BC\n".encode()
    page = upload(as_user("county"), "brands", "b.csv", body).get_data(as_text=True)
    assert "第2行：品牌「邹平纺织工匠」属于您管辖范围以外的工会" in page


# --- invitations ----------------------------------------------------------------------------


def test_invitation_code_is_shown_once_and_listed(as_user, world: World, db: Session) -> None:
    client = as_user("county")
    response = post(client, "/admin/programme/invitations", {"union": world.grassroots.id})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "只显示这一次" in page
    import re

    found = re.search(r'class="big-code">([A-Z0-9]{8})<', page)
    assert found is not None
    code = found.group(1)
    listing = client.get("/admin/programme/invitations").get_data(as_text=True)
    assert code not in listing and "待使用" in listing and "滨州化工厂工会" in listing
    db.expire_all()
    invitation = db.scalar(select(Invitation))
    assert invitation is not None and code not in invitation.code_hash
    invitation.expires_at = utcnow() - timedelta(days=1)
    db.commit()
    assert "已过期" in client.get("/admin/programme/invitations").get_data(as_text=True)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "invitation.create"))
    assert entry is not None and code not in str(entry.after)


# --- coverage -------------------------------------------------------------------------------


def test_coverage_export_has_the_cli_columns_and_rows(app: Flask, as_user, world: World) -> None:
    client = as_user("county")
    page = client.get("/admin/programme/coverage").get_data(as_text=True)
    assert "品牌创建覆盖情况" in page and "邹平" not in page
    exported = client.get("/admin/programme/coverage?format=csv").data.decode("utf-8-sig")
    cli = app.test_cli_runner().invoke(args=["report", "coverage", "--org", "BZ-BC", "--format", "csv"])
    assert cli.exit_code == 0, cli.output
    assert list(csv.reader(io.StringIO(exported))) == list(csv.reader(io.StringIO(cli.output.strip() + "\n")))
    xlsx = client.get("/admin/programme/coverage?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["类别", "工会代码", "工会", "品牌", "说明", "天数"]


# --- API ------------------------------------------------------------------------------------


def test_api_timeline_and_coverage_are_scoped(
    app: Flask, client: FlaskClient, world: World, db: Session
) -> None:
    token = token_for(db, world, "county")
    brand = db.get(Brand, world.county_brand.id)
    assert brand is not None
    add_photo(app, db, brand, activity="读书会")
    ok = client.get(f"/api/v1/brands/{brand.id}/timeline", headers=bearer(token))
    assert ok.status_code == 200
    data = ok.get_json()
    assert data["brand"]["name"] == "滨城幸福驿站" and data["photos"][0]["uploader_role"] == "工会干部"
    assert data["recognition"] is None and len(data["gap"]) == 5
    assert "openid" not in ok.get_data(as_text=True)
    assert (
        client.get(f"/api/v1/brands/{world.other_brand.id}/timeline", headers=bearer(token)).status_code
        == 404
    )
    assert client.get("/api/v1/coverage").status_code == 401
    cov = client.get("/api/v1/coverage", headers=bearer(token)).get_json()
    assert cov["root"] == "滨城区总工会" and "units_expected" in cov
