"""Survey exports from the dashboard equal the CLI's cell by cell; the results API is scoped and
suppressed like the page."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.accounts import create_api_token
from models.admin import AdminAccount
from tests.bot.admin.conftest import World
from tests.bot.admin.surveys.conftest import Ids, add_responses


def _cells(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book}


def test_survey_export_equals_cli_and_api_results(
    as_user, world: World, ids: Ids, db: Session, app: Flask, tmp_path: Path
) -> None:
    add_responses(db, world, 6, ids.grassroots, "bc")
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
    assert data["n"] == 0 and data["suppressed"] is True and data["questions"] == []
    county_token = create_api_token(
        db,
        db.scalars(select(AdminAccount).where(AdminAccount.username == "county")).one(),
        "t",
        actor_name="测试",
    )
    db.commit()
    client = as_user("county")
    data = client.get(
        "/api/v1/surveys/brand_recognition/results", headers={"Authorization": f"Bearer {county_token}"}
    ).json
    assert data["n"] == 6 and data["suppressed"] is False
    service = next(q for q in data["questions"] if q["key"] == "union_service")
    assert service["mean"] == pytest.approx(23 / 6) and len(service["ci"]) == 2
    joined = next(q for q in data["questions"] if q["key"] == "joined")
    assert joined["options"][0] == {"option": "是", "count": 3, "percent": 50.0, "base": 6}
    assert (
        client.get(
            "/api/v1/surveys/nope/results", headers={"Authorization": f"Bearer {county_token}"}
        ).status_code
        == 404
    )
    assert client.get("/api/v1/surveys/brand_recognition/results").status_code == 401
