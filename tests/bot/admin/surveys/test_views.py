"""The survey pages of the dashboard: the list, results scoped with charts and suppression, the
overview's participation panel, opening and closing (top-union admins only)."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.admin import AuditEntry
from models.survey_admin import SurveySchedule
from tests.bot.admin.conftest import World, csrf
from tests.bot.admin.surveys.conftest import Ids, add_responses


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def test_survey_results_scoped_with_charts_and_suppression(
    as_user, world: World, ids: Ids, db: Session
) -> None:
    add_responses(db, world, 6, ids.grassroots, "bc")
    add_responses(db, world, 3, ids.other_county, "zp")
    county = as_user("county")
    listing = page(county, "/admin/surveys/")
    assert "品牌社会认可度调查" in listing
    html = page(county, "/admin/surveys/brand_recognition")
    assert 'id="survey-n">6<' in html
    assert "3.83（95% 置信区间" in html  # mean of 5,4,4,3,5,2
    assert "<script>alert" not in html and "<img src=x" not in html
    found = re.search(r'id="q\d+-data">(.*?)</script>', html, re.S)
    assert found is not None
    spec = json.loads(found.group(1))
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
    schedule = db.get(SurveySchedule, "brand_recognition")
    assert schedule is not None and schedule.changed_by == "province"  # the admin's username, as before
    db.rollback()
    assert client.post("/admin/surveys/brand_recognition/open", data={"csrf_token": token}).status_code == 302
    assert "进行中" in page(client, "/admin/surveys/")
    assert "开启问卷" in page(client, "/admin/audit/")
