"""Exports opened back cell by cell; the figures match the CLI report and the database."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import UTC, datetime, timedelta

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.statistics import t_ppf
from handlers.suggestions import operations as sg
from handlers.suggestions.operations import user_actor
from handlers.surveys.reports import DK_CODE
from handlers.surveys.results import survey_results
from models import Brand, Role, SurveyResponse, Union, UnionKind, User
from models.union import assign_path

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _seed(engine):
    """Six workers and two government respondents with known answers, and two suggestions."""
    with Session(engine) as session, session.begin():
        top = Union(code="TOP", name="省总工会", kind=UnionKind.PROVINCE)
        session.add(top)
        session.flush()
        assign_path(session, top)
        brand = Brand(name="工惠乐学", union_id=top.id)
        session.add(brand)
        session.flush()
        roster = [{"id": brand.id, "name": "工惠乐学"}, {"id": None, "name": "劳模连心桥"}]
        scores = [5, 4, 4, 3, 5, 2]
        for i, score in enumerate(scores):
            user = User(openid=f"o-resp-{i}")
            session.add(user)
            session.flush()
            answers = {
                "aware": [1] if i < 4 else [],
                "union_service": score,
                "joined": 1 if i % 2 == 0 else 2,
                "channel": 1 + i % 3,
                "comment": "希望多开展技能培训" if i < 3 else None,
            }
            if i % 2 == 0:
                answers["activity"] = [1, 2] if i == 0 else [2]
            rated = [{"id": brand.id, "name": "工惠乐学"}] if i < 4 else []
            if i < 4:
                answers[f"q1:{brand.id}"] = 5 if i < 3 else "dk"
                answers[f"q2:{brand.id}"] = 4
                answers[f"q3:{brand.id}"] = 8
            session.add(
                SurveyResponse(
                    survey_key="brand_recognition",
                    user_id=user.id,
                    respondent_code=f"R{i:04d}",
                    respondent_group="W",
                    status="complete",
                    answers=answers,
                    plan={"roster": roster, "rated": rated, "history": []},
                    started_at=T0,
                    updated_at=T0,
                    submitted_at=T0 + timedelta(minutes=i),
                )
            )
        for i in range(2):
            user = User(openid=f"o-gov-{i}")
            session.add(user)
            session.flush()
            session.add(
                SurveyResponse(
                    survey_key="brand_recognition",
                    user_id=user.id,
                    respondent_code=f"G{i:04d}",
                    respondent_group="G",
                    status="complete",
                    answers={"aware": [], "union_service": 1, "joined": 2, "channel": 2, "comment": None},
                    plan={"roster": roster, "rated": [], "history": []},
                    started_at=T0,
                    updated_at=T0,
                    submitted_at=T0,
                )
            )
        # An unfinished response is not counted.
        user = User(openid="o-unfinished")
        session.add(user)
        session.flush()
        unfinished = SurveyResponse(
            survey_key="brand_recognition",
            user_id=user.id,
            respondent_code="X0000",
            answers={"union_service": 1},
            plan={},
            started_at=T0,
            updated_at=T0,
        )
        session.add(unfinished)
        worker = User(openid="o-sugg", union_id=top.id)
        admin = User(openid="o-admin", role=Role.ADMIN)
        session.add_all([worker, admin])
        session.flush()
        s1 = sg.submit(session, worker, "=HYPERLINK(食堂)", T0)
        sg.submit(session, worker, "匿名：安全帽不够用", T0, anonymous=True)
        sg.accept(session, s1, user_actor(admin), T0)
        sg.answer(session, s1, user_actor(admin), "已处理", T0)
        return brand.id


def test_survey_export_matches_report_and_db(app, clean_db, tmp_path) -> None:
    brand_id = _seed(clean_db)
    runner = app.test_cli_runner()
    report = runner.invoke(args=["survey", "results", "brand_recognition"])
    assert report.exit_code == 0, report.output
    out = report.output
    scores = [5, 4, 4, 3, 5, 2, 1, 1]
    mean = statistics.fmean(scores)
    half = t_ppf(0.975, 7) * statistics.stdev(scores) / len(scores) ** 0.5
    assert "有效答卷 8 份" in out
    assert f"平均分 {mean:.2f}（n=8，95% 置信区间 {mean - half:.2f}～{mean + half:.2f}）" in out
    assert "党委政府：样本不足 5 份" in out
    assert "技能培训：1 人，33.3%" in out and "文体活动：3 人，100.0%" in out  # per option, of 3
    assert "工惠乐学：4 人，50.0%" in out and "（干扰项）：0 人，0.0%" in out
    assert "说不清 1 人" in out and "关键词：" in out and "技能(3)" in out

    with Session(clean_db) as session:
        results = survey_results(session, "brand_recognition")
        db_scores = [
            r.answers["union_service"]
            for r in session.scalars(select(SurveyResponse).where(SurveyResponse.status == "complete"))
        ]
    assert sorted(db_scores) == sorted(scores)
    q = next(q for q in results["questions"] if q["key"] == "union_service")
    assert q["n"] == 8 and abs(q["mean"] - mean) < 1e-9

    xlsx = tmp_path / "surveys.xlsx"
    res = runner.invoke(args=["export", "surveys", "--format", "xlsx", "-o", str(xlsx)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["数据", "代码本"]
    rows = list(wb["数据"].iter_rows(values_only=True))
    header = list(rows[0])
    b = brand_id
    assert header == [
        "respondent", "group", "channel", "started_at", "submitted_at",
        f"aware_b{b}", "aware_foil", f"q1_b{b}", f"q2_b{b}", f"q3_b{b}",
        "union_service", "joined", "activity_1", "activity_2", "activity_3", "activity_4", "activity_5",
        "channel", "comment",
    ]  # fmt: skip
    assert len(rows) == 9
    first = dict(zip(header, rows[1], strict=False))
    assert first["respondent"] == "R0000" and first["group"] == "W"
    assert first["submitted_at"] == "2026-11-23 10:00"
    assert (first[f"aware_b{b}"], first["aware_foil"]) == (1, 0)
    assert (first[f"q1_b{b}"], first[f"q2_b{b}"], first[f"q3_b{b}"]) == (5, 4, 8)
    assert [first[f"activity_{i}"] for i in range(1, 6)] == [1, 1, 0, 0, 0]
    assert first["comment"] == "希望多开展技能培训"
    fourth = dict(zip(header, rows[4], strict=False))
    assert fourth[f"q1_b{b}"] == DK_CODE and fourth["activity_1"] is None  # hidden question: blank
    fifth = dict(zip(header, rows[5], strict=False))
    assert fifth[f"aware_b{b}"] == 0 and fifth[f"q1_b{b}"] is None
    gov = dict(zip(header, rows[7], strict=False))
    assert gov["group"] == "G" and gov["respondent"] == "G0000"
    # The export's figures agree with the report.
    col = header.index("union_service")
    assert statistics.fmean(r[col] for r in rows[1:]) == mean
    col = header.index("activity_2")
    assert sum(r[col] or 0 for r in rows[1:]) == 3
    book = list(wb["代码本"].iter_rows(values_only=True))
    assert book[0] == ("列名", "题目/含义", "类型", "取值说明")
    assert [r[0] for r in book[1:]] == header
    assert "99=说不清" in dict((r[0], r[3]) for r in book[1:])[f"q1_b{b}"]
    everything = repr(rows) + repr(book)
    assert "o-resp" not in everything and "o-gov" not in everything

    csv_file = tmp_path / "surveys.csv"
    runner.invoke(args=["export", "surveys", "--format", "csv", "-o", str(csv_file)])
    data = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
    assert data[0] == header and len(data) == 9
    assert data[1][header.index("union_service")] == "5" and data[4][header.index("activity_1")] == ""


def test_suggestion_export_cell_by_cell(app, clean_db, tmp_path) -> None:
    _seed(clean_db)
    runner = app.test_cli_runner()
    xlsx = tmp_path / "s.xlsx"
    res = runner.invoke(args=["export", "suggestions", "--format", "xlsx", "--union", "TOP",
                              "--since", "2026-11-23", "-o", str(xlsx)])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = list(openpyxl.load_workbook(xlsx)["数据"].iter_rows(values_only=True))
    assert rows[0][:8] == (
        "ticket",
        "created_at",
        "category",
        "brand",
        "union_code",
        "union",
        "state",
        "anonymous",
    )
    assert rows[1][0] == "JY20261123-0001" and rows[1][1] == "2026-11-23 10:00"
    assert rows[1][6] == "已答复" and rows[1][7] == 0
    assert rows[1][8] == "'=HYPERLINK(食堂)"  # no formula injection
    assert rows[1][10] == "已处理"
    assert rows[2][0] == "JY20261123-0002" and rows[2][7] == 1 and rows[2][2] == "安全生产"
    res = runner.invoke(args=["export", "suggestions", "--format", "csv", "--since", "2026-11-24",
                              "-o", str(tmp_path / "s.csv")])  # fmt: skip
    assert "已导出 0 行" in res.output
    res = runner.invoke(args=["export", "suggestions", "--union", "NOPE", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code != 0 and "不存在" in res.output
