"""H5 page fixtures: a frozen clock, a WeChat browser (user agent), sign-in through the stub's
web sign-in (the real redirect dance), and a small province with campaigns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import bot.h5.web
import bot.pipeline
from handlers.recognition.campaigns import create_campaign
from models import Brand, Stage, Union, UnionKind, User
from models.recognition import Campaign
from models.union import assign_path
from tests.wechat_chat import Chat
from tests.wechat_stub import WeChatStub

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin "
    "NetType/WIFI Language/zh_CN ABI/arm64"
)
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"
WORKER_A, WORKER_B, VISITOR = "o-h5-a", "o-h5-b", "o-h5-visitor"


@pytest.fixture(autouse=True)
def _frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pages and the chat on one frozen clock: both continue one survey response or campaign.
    monkeypatch.setattr(bot.h5.web, "utcnow", lambda: NOW)
    monkeypatch.setattr(bot.pipeline, "utcnow", lambda: NOW)


@pytest.fixture
def chat(client: FlaskClient, wechat: Any) -> Chat:
    return Chat(client, wechat)


@dataclass
class Province:
    prov: Union
    county_a: Union
    county_b: Union
    rating: Campaign  # province-wide rating, 3 brands
    vote: Campaign  # county A vote, up to 2
    county_b_rating: Campaign  # another county's campaign
    blind: Campaign
    closed: Campaign
    brands: dict[str, Brand]


def _union(session: Session, code: str, kind: UnionKind, parent: Union | None = None) -> Union:
    u = Union(code=code, name=f"{code}总工会", kind=kind, parent_id=parent.id if parent else None)
    session.add(u)
    session.flush()
    assign_path(session, u)
    return u


@pytest.fixture
def province(app: Flask) -> Province:
    with app.extensions["ghpp"].session_factory() as session, session.begin():
        prov = _union(session, "PROV", UnionKind.PROVINCE)
        a = _union(session, "CTYA", UnionKind.COUNTY, prov)
        b = _union(session, "CTYB", UnionKind.COUNTY, prov)
        brands = {
            "驿站": Brand(
                name="甲县幸福驿站",
                union=a,
                stage=Stage.CULTIVATING,
                summary="为户外劳动者提供歇脚、饮水、充电。" * 8,
            ),
            "书屋": Brand(name="甲县职工书屋", union=a, stage=Stage.REVIEWING, summary="职工阅读空间。"),
            "乐学": Brand(name="乙县工惠乐学", union=b, stage=Stage.PLANNED, summary="技能培训。"),
        }
        session.add_all(brands.values())
        session.flush()
        since, until = NOW - timedelta(days=1), NOW + timedelta(days=7)
        names = ["甲县幸福驿站", "甲县职工书屋", "乙县工惠乐学"]
        rating = create_campaign(
            session, "省级满意度测评", "rating", names, since, closes_at=until, union=prov
        )
        vote = create_campaign(
            session, "甲县品牌评选", "vote", names[:2], since, closes_at=until, union=a, max_choices=1
        )
        b_rating = create_campaign(session, "乙县测评", "rating", names[2:], since, closes_at=until, union=b)
        blind = create_campaign(
            session, "省级盲评", "vote", names, since, closes_at=until, union=prov, blind=True, max_choices=2
        )
        closed = create_campaign(
            session, "去年测评", "rating", names, since - timedelta(days=30), closes_at=since, union=prov
        )
        for openid, union in ((WORKER_A, a), (WORKER_B, b)):
            session.add(User(openid=openid, union_id=union.id, union_source="qrcode", first_seen_at=since))
        session.flush()
        out = Province(prov, a, b, rating, vote, b_rating, blind, closed, brands)
    return out


def follow_redirects_via_stub(client: FlaskClient, stub: WeChatStub, location: str) -> str:
    """Play WeChat's part: our sign-in redirects to the stub's authorize page, which redirects
    back with a code; returns our callback's path + query."""
    got = requests.get(location.replace("#wechat_redirect", ""), allow_redirects=False, timeout=5)
    assert got.status_code == 302, got.text
    back = urlparse(got.headers["Location"])
    return f"{back.path}?{back.query}"


@pytest.fixture
def sign_in(client: FlaskClient, wechat_stub: WeChatStub) -> Callable[[str, str], FlaskClient]:
    """Sign ``client`` in as ``openid`` through the whole dance; returns the client."""

    def run(openid: str, next_path: str = "/h5/") -> FlaskClient:
        wechat_stub.sign_in_as(openid)
        first = client.get(f"/h5/signin?next={next_path}", headers={"User-Agent": WECHAT_UA})
        assert first.status_code == 302, first.get_data(as_text=True)
        callback = follow_redirects_via_stub(client, wechat_stub, first.headers["Location"])
        done = client.get(callback, headers={"User-Agent": WECHAT_UA})
        assert done.status_code == 302, done.get_data(as_text=True)
        assert done.headers["Location"].endswith(next_path)
        return client

    return run


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
