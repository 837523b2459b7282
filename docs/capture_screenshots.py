"""``make screenshots``: the documentation's screenshots (docs/screenshots/*.png) from the demo data.

A fresh instance directory and SQLite database in a temporary directory, loaded the way ``make run``
loads them (``python -m bot.devenv``, then ``seed-demo``, ``admin seed-demo``, ``voice-demo`` and
``recognition-demo`` on the demo app); the demo app served on a free local port with ``flask run``;
Debian's Chromium driven by Playwright (no browser download) signs in with the printed demo
password, or as a demo worker on the H5 pages, and takes each picture the documentation shows.
The dashboard at 1280×900, the phone pages at 390×844. Not part of CI; the database is thrown
away afterwards.

A picture the demo data cannot show (no suspect answers to review, say) is left as it is, and
said so at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
DEMO_FILE = ROOT / "config" / "demo" / "demo.yaml"
DEMO_APP = "bot.devenv:demo_app"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# WeChat's in-app browser on Android: the H5 pages send any other browser to open them in WeChat.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin "
    "NetType/WIFI Language/zh_CN ABI/arm64"
)
MAX_BYTES = 400 * 1024
# Names from the demo data (config/demo/demo.yaml, handlers/recognition/demo.py, handlers/feedback_demo.py).
RATING_CAMPAIGN = "2026年度工作品牌满意度测评"
BRAND_UNDER_REVIEW = "工惠乐学"
BRAND_CULTIVATING = "幸福驿站"
# A demo worker with named suggestions (one answered) and no survey answer yet.
H5_WORKER = "demo-voice-BZ-BC-001"
CHARTS_SETTLE_MS = 1500  # ECharts' entry animation

PASSWORD_LINE = re.compile(r"^\s+(\S+)\s+密码\s+(\S+)", re.MULTILINE)


def log(message: str) -> None:
    print(message, flush=True)


def demo_env(instance: Path) -> dict[str, str]:
    """The environment of every step: the demo's .env, with the instance, database and store of
    this run (the environment wins over .env) and nothing shared with a running ``make run``."""
    env = dict(os.environ)
    env.update(
        INSTANCE_DIR=str(instance),
        DATABASE_URL=f"sqlite:///{instance / 'ghpp.sqlite3'}",
        DATABASE_READ_URL="",
        REDIS_URL="",
        PUBLIC_BASE_URL="",
        GHPP_SIMULATE_WECHAT="1",
        GHPP_COOKIE_SECURE="0",
    )
    return env


def flask(env: dict[str, str], *args: str) -> str:
    """One ``flask --app bot.devenv:demo_app …`` command, as the Makefile runs it; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", DEMO_APP, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"flask {' '.join(args)} failed ({done.returncode})")
    return done.stdout


def load_demo(env: dict[str, str]) -> dict[str, str]:
    """The Makefile's ``run`` steps; returns the demo accounts' passwords by username."""
    subprocess.run([sys.executable, "-m", "bot.devenv"], cwd=ROOT, env=env, check=True)
    log(flask(env, "seed-demo").strip())
    passwords = dict(PASSWORD_LINE.findall(flask(env, "admin", "seed-demo")))
    if "admin" not in passwords:
        raise SystemExit("admin seed-demo printed no password for admin")
    log(flask(env, "voice-demo").strip())
    log(flask(env, "recognition-demo").strip())
    return passwords


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(env: dict[str, str], instance: Path) -> Iterator[str]:
    """``flask run`` of the demo app on a free port; its base URL once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = (instance / "server.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", DEMO_APP, "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120  # the first start may train the router's classifier
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the demo server stopped; see {instance / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{base}/admin/login", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the demo server did not answer within two minutes") from None
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        server_log.close()


class Camera:
    """Saves the pictures and remembers what was taken and what was left as it was."""

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.kept: list[tuple[str, str]] = []

    def shoot(
        self, page: Any, name: str, *, full_page: bool = True, clip: dict[str, float] | None = None
    ) -> None:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page or clip is not None, clip=clip)
        size = path.stat().st_size
        if size > MAX_BYTES:
            # Too tall to be worth its bytes: the first screenful says what the page is.
            page.screenshot(path=str(path), full_page=False)
            size = path.stat().st_size
        self.taken.append(name)
        log(f"  {name}.png  {size // 1024} KB")

    def keep(self, name: str, why: str) -> None:
        self.kept.append((name, why))
        log(f"  {name}.png  kept as it was: {why}")


def log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def settle(page: Any, *selectors: str) -> None:
    """Wait for the charts' canvases, then for their entry animation to end."""
    for selector in selectors:
        page.wait_for_selector(selector)
    page.wait_for_timeout(CHARTS_SETTLE_MS)


def page_box(page: Any, selector: str, *, within: str | None = None) -> dict[str, float]:
    """Where the element (or its nearest ancestor matching ``within``) is on the whole page."""
    box: dict[str, float] = page.evaluate(
        "([sel, within]) => { let el = document.querySelector(sel);"
        " if (within) el = el.closest(within) || el;"
        " const r = el.getBoundingClientRect();"
        " return {x: r.left + window.scrollX, y: r.top + window.scrollY,"
        " width: r.width, height: r.height}; }",
        [selector, within],
    )
    return box


def top_down_to(page: Any, selector: str) -> dict[str, float]:
    """From the top of the page down to the end of the section holding ``selector``."""
    box = page_box(page, selector, within="section, .card")
    return {"x": 0, "y": 0, "width": DESKTOP["width"], "height": box["y"] + box["height"] + 12}


def around(page: Any, selector: str, pad: float = 24) -> dict[str, float]:
    """The element with a margin, less above it: the text before it would show cut off."""
    box = page_box(page, selector)
    x, y = max(0.0, box["x"] - pad), max(0.0, box["y"] - pad / 3)
    return {"x": x, "y": y, "width": box["width"] + 2 * pad, "height": box["height"] + pad * 4 / 3}


def dashboard(browser: Any, base: str, password: str, camera: Camera) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{base}/admin/login")
    camera.shoot(page, "login", full_page=False)
    log_in(page, base, "admin", password)
    settle(page, "#stage-funnel canvas")
    camera.shoot(page, "overview")

    page.goto(f"{base}/admin/brands/")
    camera.shoot(page, "brands")
    page.click(f"table.data >> text={BRAND_CULTIVATING}")
    camera.shoot(page, "brand-detail")
    page.goto(f"{base}/admin/unions/")
    camera.shoot(page, "unions")
    page.click("nav.mainnav >> text=账号管理")
    camera.shoot(page, "accounts")

    page.goto(f"{base}/admin/suggestions/")
    camera.shoot(page, "suggestions")
    page.goto(f"{base}/admin/suggestions/topics")
    settle(page, "#topic-categories canvas", "#topic-keywords canvas")
    camera.shoot(page, "suggestion-topics")

    page.goto(f"{base}/admin/campaigns/")
    page.click(f"table.data >> text={RATING_CAMPAIGN}")
    settle(page, "#ri-interval canvas", "#ri-quadrant canvas")
    # The ranking with its interval chart and the awareness × satisfaction quadrant; the tables
    # below them would double the picture.
    camera.shoot(page, "recognition", clip=top_down_to(page, "#ri-quadrant"))
    page.goto(f"{page.url.rstrip('/')}/flags")
    if page.locator("#flags tbody tr input[name=reason]").count() == 0:
        camera.keep("recognition-flags", "the demo's answers raise no suspect-answer flag to review")
    else:
        camera.shoot(page, "recognition-flags")

    review_and_promote(page, base, camera)
    if errors:
        raise SystemExit(f"script errors on the dashboard pages: {errors}")
    context.close()


def review_and_promote(page: Any, base: str, camera: Camera) -> None:
    """The superior union's review of the demo brand under review, filled in and submitted:
    the form, then the brand page after it (the stage moves to 深化提升)."""
    page.goto(f"{base}/admin/brands/?q={BRAND_UNDER_REVIEW}")
    page.click(f"table.data >> text={BRAND_UNDER_REVIEW}")
    form = page.locator("#review-form")
    hint = form.locator("#round-evidence").inner_text()
    # "本轮可引用：进度上报 5、6；照片 …": the review cites this round's reports.
    citable = re.search(r"可引用：进度上报\s*([0-9、,，\s]+)", hint)
    if citable is None:
        raise SystemExit(f"{BRAND_UNDER_REVIEW}: no progress report to cite ({hint})")
    reports = ", ".join(re.findall(r"\d+", citable.group(1)))
    rows = (
        ("name", "88", "名称简洁好记，职工认知度高"),
        ("mechanism", "80", "季度例会制度已运行一年"),
        ("carriers", "85", "线上线下课程六十余门"),
        ("demonstration", "78", "在三个县区推广"),
    )
    for standard, score, evidence in rows:
        form.locator(f"input[name=score_{standard}]").fill(score)
        form.locator(f"textarea[name=evidence_{standard}]").fill(evidence)
    form.locator("input[name=reports_carriers]").fill(reports)
    form.locator("input[name=decision][value=promote]").check()
    form.locator("textarea[name=comments]").fill("机制健全、载体丰富，同意在全省推广。")
    camera.shoot(page, "brand-review", clip=around(page, "#review-box"))
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    camera.shoot(page, "brand-timeline")


def phone_dashboard(browser: Any, base: str, password: str, camera: Camera) -> None:
    """The overview's first screen on a phone without scripts: the menu folded behind its
    button, a table where the chart would be."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "admin", password)
    camera.shoot(page, "overview-phone", full_page=False)
    context.close()


def h5_pages(browser: Any, base: str, camera: Camera) -> None:
    """A demo worker in WeChat: rate a brand, answer the survey up to its skip, see their suggestions."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, java_script_enabled=False, user_agent=WECHAT_UA, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(f"{base}/h5/")  # the demo sign-in stands in for WeChat's
    page.locator(f"input[name=openid][value={H5_WORKER}]").check()
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/h5/")

    page.click(f"text={RATING_CAMPAIGN}")
    card = page.locator("article.card.brand").first
    card.locator(".scale label:has-text('4')").click()
    card.locator("button:has-text('提交评分')").click()
    page.wait_for_selector(".notice")
    camera.shoot(page, "h5-campaign-rated")

    page.goto(f"{base}/h5/surveys/brand_recognition")
    # One real demo brand from the roster (which also holds made-up names, to catch guessing).
    brands = {row["name"] for row in yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["brands"]}
    roster = page.locator("label.choice")
    known = [i for i in range(roster.count()) if roster.nth(i).inner_text().strip() in brands]
    roster.nth(known[0]).locator("input").check()
    page.locator("button[type=submit]").click()
    for question in ("q1", "q2"):
        page.locator(f"input[name^='a.{question}:'][value='4']").first.check()
    page.locator("input[name='a.union_service'][value='4']").check()
    page.locator("input[name='a.joined'][value='2']").check()  # 没参加过: the activity question is skipped
    camera.shoot(page, "h5-survey-skip")

    page.goto(f"{base}/h5/me/suggestions")
    camera.shoot(page, "h5-my-suggestions")
    context.close()


def capture(base: str, passwords: dict[str, str]) -> Camera:
    from playwright.sync_api import sync_playwright

    camera = Camera()
    steps: list[Callable[[Any], None]] = [
        # The phone first: the dashboard's last step (a review) moves a brand to the next stage.
        lambda b: phone_dashboard(b, base, passwords["admin"], camera),
        lambda b: dashboard(b, base, passwords["admin"], camera),
        lambda b: h5_pages(b, base, camera),
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            for step in steps:
                step(browser)
        finally:
            browser.close()
    return camera


def main() -> None:
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs chromium (apt-get install -y chromium)")
    if not (ROOT / "bot" / "static" / "vendor" / "echarts.min.js").exists():
        raise SystemExit("needs ECharts (make assets)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ghpp-screenshots-") as tmp:
        instance = Path(tmp)
        env = demo_env(instance)
        log(f"demo instance in {instance}")
        passwords = load_demo(env)
        with serving(env, instance) as base:
            log(f"demo app at {base}; screenshots to {SHOTS}")
            camera = capture(base, passwords)
    log(f"{len(camera.taken)} screenshots taken: {', '.join(camera.taken)}")
    for name, why in camera.kept:
        log(f"{name}.png kept as it was: {why}")


if __name__ == "__main__":
    main()
