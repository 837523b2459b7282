"""Dashboard response times on a province-sized tree (run by hand: python bench/admin_bench.py).

Builds a temporary SQLite database with 1 province, 16 cities, 160 counties, 1,600 grassroots
unions and 5,000 brands, logs in as the province admin and a county admin, and times the main
pages and exports (median of 5 requests, Flask test client, no network).
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask.testing import FlaskClient

from bot import create_app
from bot.admin.accounts import create_account
from config.settings import Settings
from models import Brand, Stage, Union, UnionKind
from models.admin import AdminRole
from models.migrate import upgrade
from models.union import assign_path

PASSWORD = "Bench-password-1"


def build(session) -> tuple[Union, Union]:
    def add(code: str, name: str, kind: UnionKind, parent: Union | None) -> Union:
        union = Union(code=code, name=name, kind=kind, parent=parent, members=1000)
        session.add(union)
        session.flush()
        assign_path(session, union)
        return union

    province = add("P", "省总工会", UnionKind.PROVINCE, None)
    county_sample: Union | None = None
    stages = list(Stage)
    n = 0
    for c in range(16):
        city = add(f"C{c}", f"第{c}市总工会", UnionKind.CITY, province)
        for k in range(10):
            county = add(f"C{c}K{k}", f"第{c}市第{k}县总工会", UnionKind.COUNTY, city)
            county_sample = county_sample or county
            for g in range(10):
                grass = add(f"C{c}K{k}G{g}", f"第{c}市第{k}县第{g}基层工会", UnionKind.GRASSROOTS, county)
                for _ in range(3 if g % 3 else 4):
                    if n < 5000:
                        session.add(Brand(name=f"品牌{n:05d}", union=grass, stage=stages[n % 5]))
                        n += 1
    session.flush()
    assert county_sample is not None
    return province, county_sample


def timed(client, url: str, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples) * 1000


def bench_app() -> Flask:
    """The app on a fresh temporary SQLite database, in demo mode (no WeChat calls)."""
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(
        wechat_token="benchtoken",
        wechat_appid="wxbench",
        wechat_secret="x",
        secret_key="bench-secret-key-0123456789",
        database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
        instance_dir=tmp,
        extra={"GHPP_SIMULATE_WECHAT": "1"},
    )
    return create_app(settings)


def logged_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").get_data(as_text=True))
    assert token
    form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/admin/login", data=form).status_code == 302
    return client


def main() -> None:
    app = bench_app()
    runtime = app.extensions["ghpp"]
    upgrade(runtime.engine)
    with runtime.session_factory() as session, session.begin():
        province, county = build(session)
        create_account(session, province, "province", AdminRole.ADMIN, PASSWORD, actor_name="bench")
        create_account(session, county, "county", AdminRole.ADMIN, PASSWORD, actor_name="bench")
    print("SQLite, 1,777 unions, 5,000 brands; median of 5 requests, ms")
    for username in ("province", "county"):
        client = logged_in(app, username)
        for url in (
            "/admin/",
            "/admin/unions/",
            "/admin/brands/",
            "/admin/brands/?q=品牌01&stage=planned",
            "/admin/brands/?format=csv",
            "/admin/brands/?format=xlsx",
            "/admin/unions/?format=xlsx",
        ):
            print(f"{username:<9} {url:<42} {timed(client, url):8.1f}")


if __name__ == "__main__":
    main()
