"""End to end in headless Chromium (Debian's package, driven by Playwright; no browser download):
log in, see the ECharts funnel drawn, walk the pages, export XLSX, check the no-script fallback.

Screenshots go to test-artifacts/ (the documentation's come from the demo data: make screenshots).
Skips without chromium/Playwright/ECharts, except under REQUIRE_SERVICES=1 (CI), where it fails.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask

from bot.admin.accounts import create_account
from config.settings import PROJECT_ROOT
from handlers.actor import Actor
from handlers.demo import load_demo
from models.admin import AdminRole
from tests.conftest import REQUIRE_SERVICES
from tests.live_server import serving

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ECHARTS = PROJECT_ROOT / "bot" / "static" / "vendor" / "echarts.min.js"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Browser-demo-42"


def _require_browser() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append("chromium (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -r requirements-dev.txt)")
    if not ECHARTS.exists():
        missing.append("ECharts (make assets)")
    if missing:
        message = "browser test needs " + ", ".join(missing)
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


def _shot_dirs() -> list[Path]:
    dirs = [PROJECT_ROOT / "test-artifacts"]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    return dirs


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    _require_browser()
    with app.extensions["ghpp"].session_factory() as db, db.begin():
        load_demo(db)
        from sqlalchemy import select

        from models import Union

        province = db.scalar(select(Union).where(Union.code == "SD"))
        assert province is not None
        create_account(db, province, "admin", AdminRole.ADMIN, PASSWORD, actor_name="测试")
    with serving(app) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def shoot(page: Any, name: str) -> None:
    for directory in _shot_dirs():
        page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def test_login_overview_chart_pages_and_xlsx_export(live_server: str, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, accept_downloads=True, locale="zh-CN"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server}/admin/")
    assert "/admin/login" in page.url
    shoot(page, "login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    assert page.locator("h1").inner_text() == "山东省总工会 · 总览"

    # The funnel: a canvas drawn by ECharts, with the five stages in its legend and real pixels.
    page.wait_for_selector("#stage-funnel canvas")
    legend = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('stage-funnel')).getOption().legend[0].data"
    )
    assert legend == ["品牌提出", "制定方案", "培育创建", "评议推广", "深化提升"]
    values = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('stage-funnel'))"
        ".getOption().series[0].data.map(d => d.value)"
    )
    assert values == [1, 2, 4, 3, 2]  # the demo fixture's 12 brands
    painted = page.evaluate(
        """() => { const c = document.querySelector('#stage-funnel canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }"""
    )
    assert painted > 1000
    shoot(page, "overview")

    page.click("nav.mainnav >> text=工作品牌")
    page.wait_for_url(f"{live_server}/admin/brands/")
    assert page.locator("table.data tbody tr").count() == 12
    page.select_option("select[name=stage]", "cultivating")
    page.click("form.filters button")
    assert page.locator("table.data tbody tr").count() == 4
    shoot(page, "brands")
    with page.expect_download() as download_info:
        page.click("a.button >> text=XLSX")
    target = tmp_path / "brands.xlsx"
    download_info.value.save_as(str(target))
    sheet = openpyxl.load_workbook(io.BytesIO(target.read_bytes())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ["品牌名称", "别名", "所属工会", "阶段", "更新时间"]
    assert len(rows) == 5 and {r[3] for r in rows[1:]} == {"培育创建"}

    page.click("table.data >> text=幸福驿站")
    assert page.locator("h1").inner_text() == "幸福驿站"
    shoot(page, "brand-detail")
    page.click("nav.mainnav >> text=组织架构")
    assert page.locator("ul.tree li").count() == 21
    shoot(page, "unions")
    page.click("nav.mainnav >> text=账号管理")
    shoot(page, "accounts")
    assert errors == []
    context.close()


def test_phone_layout_and_no_script_fallback(live_server: str, browser: Any) -> None:
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, java_script_enabled=False
    )
    page = phone.new_page()
    page.goto(f"{live_server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    # Without scripts the chart stays hidden and the table carries the numbers.
    assert page.locator("#stage-funnel").is_hidden()
    assert page.locator("table.data >> text=培育创建").is_visible()
    # The menu folds behind a CSS-only toggle on a phone.
    assert page.locator("nav.mainnav").is_hidden()
    page.click("label.nav-toggle-label")
    assert page.locator("nav.mainnav").is_visible()
    shoot(page, "overview-phone")
    phone.close()


def _gradient_png(width: int, height: int, tint: tuple[int, int, int]) -> bytes:
    """A real-looking photo stand-in (no imaging library needed): a coloured gradient PNG."""
    import struct
    import zlib

    rows = b"".join(
        b"\x00"
        + bytes(
            v
            for x in range(width)
            for v in ((tint[0] * x // width) % 256, (tint[1] * y // height) % 256, tint[2])
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _brand_evidence(app: Flask) -> list[int]:
    """Progress reports with photos and a self-evaluation for the demo brand under review (工惠乐学);
    returns the reports' ids (the review cites them)."""
    import hashlib
    from datetime import timedelta

    from sqlalchemy import select

    from handlers.programme import operations as ops
    from handlers.programme.storage import LocalStorage, photo_key
    from models import Brand, Role, utcnow
    from models.programme import Photo, PhotoStatus, ProgressReport
    from tests.factories import make_user

    storage = LocalStorage(Path(app.extensions["ghpp"].job_options["media_dir"]))
    with app.extensions["ghpp"].session_factory() as db, db.begin():
        brand = db.scalar(select(Brand).where(Brand.name == "工惠乐学"))
        assert brand is not None
        now = utcnow()
        cadre = make_user(db, role=Role.CADRE, union_id=brand.union_id, union_source="invite")
        texts = ("本月开展技能培训 12 场，参训职工 860 人次", "“乐学课堂”进车间 5 次，新增线上课程 20 门")
        report_ids = []
        for i, text in enumerate(texts):
            report = ProgressReport(
                brand_id=brand.id, author_id=cadre.id, text=text, created_at=now - timedelta(days=20 - 10 * i)
            )
            db.add(report)
            db.flush()
            report_ids.append(report.id)
            for j, tint in enumerate(((200, 120, 60), (60, 160, 220))):
                content = _gradient_png(240, 160, (tint[0], tint[1], 40 + 60 * i))
                sha = hashlib.sha256(content).hexdigest()
                key = photo_key(sha, "png")
                storage.put(key, content, "image/png")
                db.add(
                    Photo(
                        media_id=f"demo-{i}-{j}",
                        uploader_id=cadre.id,
                        brand_id=brand.id,
                        report_id=report.id,
                        activity=("车间技能比武", "线上课堂")[j],
                        captured_at=report.created_at,
                        status=PhotoStatus.STORED,
                        sha256=sha,
                        size=len(content),
                        content_type="image/png",
                        storage_key=key,
                        stored_at=report.created_at,
                        flag="duplicate" if (i, j) == (1, 1) else None,
                    )
                )
        scores = {
            s: {"score": v, "evidence": e, "reports": report_ids}
            for s, v, e in (
                ("name", 90, "名称简洁，职工认知度高"),
                ("mechanism", 85, "建立季度例会与考核办法"),
                ("carriers", 88, "线上线下课程 60 门"),
                ("demonstration", 80, "在 3 个县区推广"),
                ("recognition", 75, "职工满意度调查 92%"),
            )
        }
        ops.self_evaluate(db, brand, scores, Actor.admin("ly-admin", "临沂市总工会"), now - timedelta(days=5))
    return report_ids


def test_open_a_brand_and_submit_the_superiors_review(live_server: str, browser: Any, app: Flask) -> None:
    report_ids = _brand_evidence(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/brands/?q=工惠乐学")
    page.click("table.data >> text=工惠乐学")
    assert page.locator("h1").inner_text() == "工惠乐学"
    # The gallery's photos load through the scoped route and are real images.
    page.wait_for_selector(".gallery img")
    # Under load the images arrive after the markup: wait for them rather than read too early.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gallery img')].every(i => i.complete && i.naturalWidth)"
    )
    loaded = page.evaluate("() => [...document.querySelectorAll('.gallery img')].map(i => i.naturalWidth)")
    assert loaded == [240] * 4
    assert "重复上传" in page.locator("#reports").inner_text()
    form = page.locator("#review-form")
    for name, value in (("name", "88"), ("mechanism", "80"), ("carriers", "85"), ("demonstration", "78")):
        form.locator(f"input[name=score_{name}]").fill(value)
    form.locator("textarea[name=evidence_mechanism]").fill("季度例会制度已运行一年")
    # A review cites this round's material; the form lists what may be cited.
    hint = form.locator("#round-evidence").inner_text()
    assert "本轮可引用：进度上报" in hint and "、".join(map(str, report_ids)) in hint
    form.locator("input[name=reports_carriers]").fill(", ".join(map(str, report_ids)))
    form.locator("input[name=decision][value=promote]").check()
    form.locator("textarea[name=comments]").fill("机制健全、载体丰富，同意在全省推广。")
    shoot(page, "brand-review")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    assert "评议已提交：推广" in page.locator(".flash-success").inner_text()
    assert "深化提升" in page.locator("dl.facts").first.inner_text()
    gap = page.locator("table.gap").inner_text()
    assert "有完善机制" in gap and "+5" in gap  # self 85, review 80
    shoot(page, "brand-timeline")
    # The dossier prints without the menu and forms, photos loaded (not lazy) for the printer.
    page.click("text=评审材料（可打印）")
    page.wait_for_selector(".dossier")
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert "工会工作品牌评审材料：工惠乐学" in page.locator("h1").inner_text()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gallery img')].every(i => i.complete && i.naturalWidth)"
    )
    page.emulate_media(media="screen")
    page.goto(f"{live_server}/admin/programme/coverage")
    assert "品牌创建覆盖情况（山东省总工会）" in page.locator("h1").inner_text()
    headers = page.locator("table.data thead th").all_inner_texts()
    assert headers == ["类别", "工会代码", "工会", "品牌", "说明", "天数"]
    page.screenshot(path=str(PROJECT_ROOT / "test-artifacts" / "coverage.png"), full_page=True)
    page.goto(f"{live_server}/admin/programme/import")
    bad = "code,name,parent_code,kind\nX1,新工会,SD,planet\n".encode()
    page.set_input_files(
        "input[name=file]", files=[{"name": "orgs.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    page.click("#import-form button")
    assert "第2行" in page.locator(".errors").inner_text()
    page.screenshot(path=str(PROJECT_ROOT / "test-artifacts" / "import-errors.png"), full_page=True)
    assert errors == []
    context.close()
