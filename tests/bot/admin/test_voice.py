"""Surveys in the dashboard: scoped results with charts and suppression, exports against the CLI's
and the API, opening and closing. The suggestions pages: tests/bot/admin/suggestions/."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.accounts import create_api_token
from models import SurveyResponse, utcnow
from models.admin import AdminAccount, AuditEntry
from tests.bot.admin.conftest import World, csrf
from tests.factories import make_user

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@dataclass(frozen=True)
class Ids:
    grassroots: int
    sibling: int
    other_county: int


@pytest.fixture
def ids(world: World, db: Session) -> Ids:
    out = Ids(world.grassroots.id, world.sibling.id, world.other_county.id)
    db.rollback()
    return out


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def _cells(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book}


# --- surveys ------------------------------------------------------------------------------------


def _responses(db: Session, world: World, n: int, union_id: int, prefix: str) -> None:
    now = utcnow()
    for i in range(n):
        user = make_user(db, openid=f"o-{prefix}-{i}", union_id=union_id)
        answers = {
            "aware": [],
            "union_service": [5, 4, 4, 3, 5, 2][i % 6],
            "joined": 1 if i % 2 == 0 else 2,
            "channel": 1 + i % 3,
            "comment": XSS if i == 0 else ("希望多开展技能培训" if i < 3 else None),
        }
        if i % 2 == 0:
            answers["activity"] = [1, 2] if i == 0 else [2]
        db.add(
            SurveyResponse(
                survey_key="brand_recognition",
                user_id=user.id,
                respondent_code=f"{prefix.upper()}{i:04d}",
                respondent_group="W",
                status="complete",
                answers=answers,
                plan={"roster": [], "rated": [], "history": []},
                started_at=now,
                updated_at=now,
                submitted_at=now,
            )
        )
    db.commit()


def test_survey_results_scoped_with_charts_and_suppression(
    as_user, world: World, ids: Ids, db: Session
) -> None:
    _responses(db, world, 6, ids.grassroots, "bc")
    _responses(db, world, 3, ids.other_county, "zp")
    county = as_user("county")
    listing = page(county, "/admin/surveys/")
    assert "品牌社会认可度调查" in listing
    html = page(county, "/admin/surveys/brand_recognition")
    assert 'id="survey-n">6<' in html
    assert "3.83（95% 置信区间" in html  # mean of 5,4,4,3,5,2
    assert "<script>alert" not in html and "<img src=x" not in html
    spec = json.loads(re.search(r'id="q\d+-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert spec["type"] == "hbar"
    assert "技能培训" in html  # a multiple-choice option counted per option
    other = page(as_user("other"), "/admin/surveys/brand_recognition")
    assert 'id="survey-n">3<' in other and 'id="suppressed"' in other and "置信区间" not in other
    province = page(as_user("province"), "/admin/surveys/brand_recognition")
    assert 'id="survey-n">9<' in province
    assert page(county, "/admin/surveys/nope", 404)
    assert page(county, "/admin/surveys/brand_recognition?since=yesterday", 400)
    overview = page(as_user("county"), "/admin/")
    panel = overview.split('id="panel-participation"')[1].split("</section>")[0]
    assert "86000" in panel and "0.01%" in panel  # 6 of 86,000 members


def test_survey_export_equals_cli_and_api_results(
    as_user, world: World, ids: Ids, db: Session, app: Flask, tmp_path: Path
) -> None:
    _responses(db, world, 6, ids.grassroots, "bc")
    out = tmp_path / "cli.xlsx"
    assert (
        app.test_cli_runner().invoke(args=["export", "surveys", "--format", "xlsx", "-o", str(out)]).exit_code
        == 0
    )
    web = as_user("province").get("/admin/surveys/brand_recognition?format=xlsx")
    assert web.status_code == 200
    cli_cells, web_cells = _cells(out.read_bytes()), _cells(web.data)
    assert cli_cells.keys() == web_cells.keys()
    for sheet, rows in cli_cells.items():
        assert len(rows) == len(web_cells[sheet])
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                assert web_cells[sheet][r][c] == value, (sheet, r, c)
    assert "o-bc-" not in json.dumps(web_cells, default=str)
    account = db.scalar(select(AdminAccount).where(AdminAccount.username == "other"))
    assert account is not None
    token = create_api_token(db, account, "t", actor_name="测试")
    db.commit()
    data = (
        as_user("province")
        .get("/api/v1/surveys/brand_recognition/results", headers={"Authorization": f"Bearer {token}"})
        .json
    )
    assert data["n"] == 0 and data["suppressed"] is True and data["questions"] == []  # type: ignore[index]
    county_token = create_api_token(
        db,
        db.scalar(select(AdminAccount).where(AdminAccount.username == "county")),
        "t",
        actor_name="测试",  # type: ignore[arg-type]
    )
    db.commit()
    client = as_user("county")
    data = client.get(
        "/api/v1/surveys/brand_recognition/results", headers={"Authorization": f"Bearer {county_token}"}
    ).json
    assert data["n"] == 6 and data["suppressed"] is False  # type: ignore[index]
    service = next(q for q in data["questions"] if q["key"] == "union_service")  # type: ignore[index]
    assert service["mean"] == pytest.approx(23 / 6) and len(service["ci"]) == 2
    joined = next(q for q in data["questions"] if q["key"] == "joined")  # type: ignore[index]
    assert joined["options"][0] == {"option": "是", "count": 3, "percent": 50.0, "base": 6}
    assert (
        client.get(
            "/api/v1/surveys/nope/results", headers={"Authorization": f"Bearer {county_token}"}
        ).status_code
        == 404
    )
    assert client.get("/api/v1/surveys/brand_recognition/results").status_code == 401


def test_open_and_close_surveys_top_union_admins_only(as_user, db: Session) -> None:
    for username in ("county", "viewer", "cadre"):
        client = as_user(username)
        listing = page(client, "/admin/surveys/")
        assert 'id="schedule"' not in listing
        token = csrf(client, "/admin/surveys/")
        response = client.post("/admin/surveys/brand_recognition/close", data={"csrf_token": token})
        assert response.status_code == 403, username
    client = as_user("province")
    assert client.post("/admin/surveys/brand_recognition/close").status_code == 400  # no CSRF token
    token = csrf(client, "/admin/surveys/")
    assert client.post("/admin/surveys/nope/close", data={"csrf_token": token}).status_code == 404
    response = client.post("/admin/surveys/brand_recognition/close", data={"csrf_token": token})
    assert response.status_code == 302
    listing = page(client, "/admin/surveys/")
    assert "已关闭" in listing and "不再接受新的回答" in listing
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "survey.close"))
    assert entry is not None and entry.before == {"open": True} and entry.after == {"open": False}
    db.rollback()
    assert client.post("/admin/surveys/brand_recognition/open", data={"csrf_token": token}).status_code == 302
    assert "进行中" in page(client, "/admin/surveys/")
    assert "开启问卷" in page(client, "/admin/audit/")
