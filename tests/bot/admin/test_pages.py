"""Pages: what each role sees, cross-subtree access by id (404), filters, escaping, exports, audit."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.tables import Column, Table, to_csv, to_xlsx
from models import Stage
from models.admin import AdminAccount, AuditEntry
from tests.bot.admin.conftest import PASSWORD, World, csrf, login
from tests.factories import make_brand, make_union


def text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_overview_counts_the_subtree_and_shows_empty_panels(as_user) -> None:
    page = text(as_user("county"), "/admin/")
    assert "滨城区总工会 · 总览" in page
    # county, its two grassroots unions; brands: county + grassroots + sibling.
    assert '<span class="num">3</span><span class="label">管辖工会</span>' in page
    assert '<span class="num">3</span><span class="label">工作品牌</span>' in page
    # campaigns, overdue and photos are empty; participation shows the open survey at 0 responses.
    assert page.count("暂无数据") >= 3
    assert "0.00%" in page
    assert 'id="stage-funnel"' in page and "vendor/echarts.min.js" in page
    # The funnel's data travels as JSON next to the table with the same numbers.
    found = re.search(r'id="stage-funnel-data">(.*?)</script>', page, re.S)
    assert found is not None
    spec = json.loads(found.group(1))
    assert spec["type"] == "funnel"
    assert [d["value"] for d in spec["data"]] == [1, 1, 1, 0, 0]
    assert spec["data"][2]["name"] == "培育创建"


def test_province_admin_sees_everything(as_user, world: World) -> None:
    client = as_user("province")
    page = text(client, "/admin/brands/")
    for brand in ("滨城幸福驿站", "邹平纺织工匠", "齐鲁工匠", "医院天使之家"):
        assert brand in page
    assert text(client, f"/admin/brands/{world.other_brand.id}")


def test_county_admin_never_sees_another_county(as_user, world: World) -> None:
    client = as_user("county")
    brands = text(client, "/admin/brands/")
    assert "滨城幸福驿站" in brands and "化工厂职工书屋" in brands
    assert "邹平纺织工匠" not in brands and "齐鲁工匠" not in brands
    unions = text(client, "/admin/unions/")
    assert "滨城区人民医院工会" in unions
    assert "邹平市总工会" not in unions and "滨州市总工会" not in unions
    assert "邹平" not in text(client, "/admin/brands/?format=csv")


@pytest.mark.parametrize("username", ["county", "viewer", "cadre"])
def test_cross_subtree_access_by_id_is_404(as_user, world: World, username: str) -> None:
    client = as_user(username)
    for url in (
        f"/admin/brands/{world.other_brand.id}",
        f"/admin/brands/{world.province_brand.id}",
        f"/admin/unions/{world.other_county.id}",
        f"/admin/unions/{world.city.id}",
        f"/admin/brands/?union={world.other_county.id}",
        f"/admin/brands/?union={world.other_county.id}&format=xlsx",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "不在您的管辖范围内" in response.get_data(as_text=True)


def test_cadre_sees_only_its_own_unions_brands(as_user, world: World) -> None:
    client = as_user("cadre")
    page = text(client, "/admin/brands/")
    assert "化工厂职工书屋" in page
    assert "医院天使之家" not in page and "滨城幸福驿站" not in page
    assert client.get(f"/admin/brands/{world.sibling_brand.id}").status_code == 404
    assert client.get(f"/admin/brands/{world.county_brand.id}").status_code == 404
    assert client.get(f"/admin/unions/{world.county.id}").status_code == 404
    assert text(client, f"/admin/brands/{world.grassroots_brand.id}")


def test_admin_cannot_touch_accounts_of_another_county(as_user, world: World, db: Session) -> None:
    client = as_user("county")
    token = csrf(client, "/admin/")
    target = world.accounts["other"].id
    assert (
        client.post(f"/admin/accounts/{target}/active", data={"csrf_token": token, "active": "0"}).status_code
        == 404
    )
    page = text(client, "/admin/accounts/")
    assert "viewer" in page and "cadre" in page
    assert ">other<" not in page and ">province<" not in page
    form = {"csrf_token": token, "username": "intruder", "union": str(world.other_county.id), "role": "admin"}
    assert client.post("/admin/accounts/", data={**form, "password": PASSWORD}).status_code == 404
    account = db.get(AdminAccount, target)
    assert account is not None and account.active


def test_brand_filters(as_user, world: World) -> None:
    client = as_user("province")
    planned = text(client, "/admin/brands/?stage=planned")
    assert "医院天使之家" in planned and "滨城幸福驿站" not in planned
    by_union = text(client, f"/admin/brands/?union={world.county.id}")
    assert "化工厂职工书屋" in by_union and "邹平纺织工匠" not in by_union
    by_alias = text(client, "/admin/brands/?q=驿站")
    assert "滨城幸福驿站" in by_alias and "齐鲁工匠" not in by_alias
    # LIKE wildcards are literal.
    assert "共 0 个品牌" in text(client, "/admin/brands/?q=%25")
    assert "共 5 个品牌" in text(client, "/admin/brands/?stage=bogus")


def test_brand_detail_shows_foundation_fields(as_user, world: World) -> None:
    page = text(as_user("county"), f"/admin/brands/{world.county_brand.id}")
    assert "滨城幸福驿站" in page and "驿站" in page and "滨城区总工会" in page
    assert 'aria-current="step">培育创建' in page
    assert "暂无数据" in page


def test_union_tree_and_detail(as_user, world: World) -> None:
    client = as_user("county")
    page = text(client, "/admin/unions/")
    assert page.index("滨城区总工会") < page.index("滨州化工厂工会")
    detail = text(client, f"/admin/unions/{world.county.id}")
    assert "滨州化工厂工会" in detail and "滨城幸福驿站" in detail
    # Its parent is out of scope: named in the breadcrumb, but not linked.
    assert f'href="/admin/unions/{world.city.id}"' not in detail and "滨州市总工会" in detail


XSS_BRAND = '<script>alert("b")</script>'
XSS_UNION = '<img src=x onerror=alert("u")>'


def test_xss_payloads_render_escaped(as_user, world: World, db: Session) -> None:
    evil_union = make_union(db, world.county, code="EVIL", name=XSS_UNION, kind="grassroots")
    evil = make_brand(db, evil_union, name=XSS_BRAND, aliases=("</dd><b>x",), summary="<iframe src=//x>")
    db.commit()
    client = as_user("county")
    for url in (
        "/admin/brands/",
        f"/admin/brands/{evil.id}",
        "/admin/unions/",
        f"/admin/unions/{evil_union.id}",
    ):
        page = text(client, url)
        assert XSS_BRAND not in page and XSS_UNION not in page, url
        assert "<iframe" not in page and "</dd><b>" not in page, url
    assert "&lt;script&gt;alert(&#34;b&#34;)&lt;/script&gt;" in text(client, "/admin/brands/")
    assert "&lt;img src=x onerror=alert(&#34;u&#34;)&gt;" in text(client, "/admin/unions/")
    accounts = text(client, "/admin/accounts/")
    assert XSS_UNION not in accounts


def test_exports_have_the_pages_columns(as_user, world: World) -> None:
    client = as_user("county")
    page = text(client, "/admin/brands/")
    response = client.get("/admin/brands/?format=csv&stage=cultivating")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["品牌名称", "别名", "所属工会", "阶段", "更新时间"]
    for title in rows[0]:
        assert f'<th scope="col">{title}</th>' in page
    assert [r[0] for r in rows[1:]] == ["滨城幸福驿站"]
    assert rows[1][1] == "驿站" and rows[1][3] == "培育创建"

    xlsx = client.get("/admin/brands/?format=xlsx")
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == rows[0]
    assert sorted(v[0] for v in values[1:]) == sorted(["滨城幸福驿站", "化工厂职工书屋", "医院天使之家"])

    unions = client.get("/admin/unions/?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(unions.get_data())).active
    assert sheet is not None
    head, *body_rows = list(sheet.iter_rows(values_only=True))
    assert list(head) == ["代码", "名称", "类型", "上级工会", "会员数", "品牌数"]
    assert [r[0] for r in body_rows] == ["BZ-BC", "BZ-BC-001", "BZ-BC-002"]
    assert body_rows[0][4] == 86000  # numbers stay numbers
    assert client.get("/admin/unions/?format=csv").status_code == 200


def test_exports_defuse_spreadsheet_formulas() -> None:
    table = Table("t", [Column("a", "甲")], [{"a": '=HYPERLINK("http://x")'}, {"a": "-1+2"}, {"a": "普通"}])
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8").lstrip("\ufeff"))))
    assert rows[1:] == [['\'=HYPERLINK("http://x")'], ["'-1+2"], ["普通"]]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(table))).active
    assert sheet is not None
    assert sheet["A2"].value == '\'=HYPERLINK("http://x")'
    assert sheet["A2"].data_type == "s"


def test_account_creation_is_validated_and_audited(as_user, world: World, db: Session) -> None:
    client = as_user("county")
    token = csrf(client, "/admin/accounts/")
    base = {"csrf_token": token, "union": str(world.grassroots.id), "role": "cadre"}
    short = client.post("/admin/accounts/", data={**base, "username": "newcadre", "password": "short"})
    assert short.status_code == 400 and "至少 10 个字符" in short.get_data(as_text=True)
    taken = client.post("/admin/accounts/", data={**base, "username": "viewer", "password": PASSWORD})
    assert taken.status_code == 400 and "已被使用" in taken.get_data(as_text=True)
    bad_name = client.post("/admin/accounts/", data={**base, "username": "<b>", "password": PASSWORD})
    assert bad_name.status_code == 400
    ok = client.post("/admin/accounts/", data={**base, "username": "newcadre", "password": "A-good-pass-1"})
    assert ok.status_code == 302
    assert login(client.application.test_client(), "newcadre", "A-good-pass-1").status_code == 302

    target = world.accounts["viewer"].id
    assert (
        client.post(f"/admin/accounts/{target}/active", data={"csrf_token": token, "active": "0"}).status_code
        == 302
    )
    # Deactivating yourself is refused (an admin locked out of its own dashboard).
    own = world.accounts["county"].id
    client.post(f"/admin/accounts/{own}/active", data={"csrf_token": token, "active": "0"})

    audit = text(client, "/admin/audit/")
    assert "创建账号" in audit and "停用账号" in audit and "newcadre" in audit
    entries = list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor == "county", AuditEntry.action != "account.login")
            .order_by(AuditEntry.id)
        )
    )
    assert [e.action for e in entries] == ["account.create", "account.deactivate"]
    created, deactivated = entries
    assert created.before is None and created.after == {
        "username": "newcadre",
        "union": "BZ-BC-001",
        "role": "cadre",
        "active": True,
    }
    assert deactivated.before is not None and deactivated.before["active"] is True
    assert deactivated.after is not None and deactivated.after["active"] is False
    assert deactivated.target_id == str(target) and deactivated.address == "127.0.0.1"
    for entry in entries:
        assert "scrypt" not in str(entry.after) and "A-good-pass-1" not in str(entry.after)
    me = db.get(AdminAccount, own)
    assert me is not None and me.active


def test_audit_page_is_scoped_and_exports(as_user, world: World) -> None:
    county = as_user("county")
    token = csrf(county, "/admin/accounts/")
    target = world.accounts["viewer"].id
    county.post(f"/admin/accounts/{target}/active", data={"csrf_token": token, "active": "0"})
    csv_text = county.get("/admin/audit/?format=csv").get_data().decode("utf-8")
    assert "停用账号" in csv_text and csv_text.splitlines()[0].lstrip("\ufeff").startswith("时间,操作人")
    county.post("/admin/logout", data={"csrf_token": csrf(county, "/admin/")})
    other = as_user("other")
    assert "停用账号" not in text(other, "/admin/audit/")
    other.post("/admin/logout", data={"csrf_token": csrf(other, "/admin/")})
    assert "停用账号" in text(as_user("province"), "/admin/audit/")


def test_logins_are_audited_and_unknown_admin_urls_get_a_chinese_404(as_user, db: Session) -> None:
    client = as_user("viewer")
    missing = client.get("/admin/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "account.login"))
    assert entry is not None and entry.actor == "viewer"
    assert entry.before == {"last_login_at": None} and entry.after is not None


def test_pagination(as_user, world: World, db: Session) -> None:
    for n in range(55):
        make_brand(db, world.county, name=f"批量品牌{n:02d}", stage=Stage.PROPOSED)
    db.commit()
    client = as_user("county")
    first = text(client, "/admin/brands/")
    assert "第 1 / 2 页，共 58 条" in first
    second = text(client, "/admin/brands/?page=2")
    assert "第 2 / 2 页" in second
    csv_rows = client.get("/admin/brands/?format=csv").get_data().decode("utf-8").strip().splitlines()
    assert len(csv_rows) == 59  # the export has every row, not one page
