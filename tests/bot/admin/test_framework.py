"""The dashboard's frame: panels registered once, the write boundary, no import circle."""

from __future__ import annotations

import grimp
import pytest
from flask import Flask, get_flashed_messages
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import overview, web
from bot.admin.audit_log import record
from handlers import glossary
from handlers.errors import OperationError
from handlers.glossary import merge
from models.admin import AuditEntry
from tests.import_graph import cycles


def test_a_panel_key_registered_twice_is_an_error_at_start_up() -> None:
    app = Flask("panels")
    overview.register_panel(app, "participation", "参与情况", lambda session, sc: None)
    with pytest.raises(overview.PanelRegisteredTwice, match="participation"):
        overview.register_panel(app, "participation", "参与情况", lambda session, sc: None)


def test_a_domain_initialised_twice_stops_the_start_up(app: Flask) -> None:
    """create_app adds each domain once; a second ``init_admin`` (or a copied panel) is refused."""
    from bot.admin import suggestions

    with pytest.raises(overview.PanelRegisteredTwice, match="overdue_suggestions"):
        suggestions.views.register_panels(app)


def test_each_panel_has_one_provider_and_the_overview_keeps_its_order(app: Flask) -> None:
    with app.app_context():
        keys = [p.key for p in overview.panels()]
    registered = app.extensions["admin_panels"]
    assert keys[:3] == ["campaigns", "participation", "photos"]
    assert set(keys) == {
        "campaigns",
        "participation",
        "photos",
        "overdue_reviews",
        "quiet",
        "overdue_suggestions",
    }
    assert registered["participation"].provider.__module__ == "bot.admin.recognition.panels"
    assert registered["participation"].title == "参与情况（问卷答卷与活动参与 / 会员数）"


def test_loading_every_page_module_changes_no_label() -> None:
    """Labels live in handlers.glossary; a page module that still adds some must add the same texts."""
    expected = merge(
        glossary.ACCOUNT_ACTIONS,
        glossary.PROGRAMME_ACTIONS,
        glossary.RECOGNITION_ACTIONS,
        glossary.SUGGESTION_ACTIONS,
        glossary.SURVEY_ACTIONS,
        glossary.LEARNING_ACTIONS,
    )
    import bot.admin  # noqa: F401

    assert expected == glossary.ACTION_LABELS


def _entries(app: Flask) -> list[AuditEntry]:
    with app.extensions["ghpp"].session_factory() as session:
        return list(session.scalars(select(AuditEntry)))


def test_perform_commits_the_operation_with_its_audit_entry(app: Flask) -> None:
    with app.test_request_context("/admin/x", method="POST"):
        response = web.perform(
            lambda: 7,
            audit=lambda n: web.Audit("demo.write", "demo", n, None, {"n": n}),
            success=lambda n: f"已保存 {n}。",
            redirect_to=lambda n: f"/admin/x/{n}",
        )
        assert response.status_code == 302 and response.headers["Location"] == "/admin/x/7"
        assert get_flashed_messages(with_categories=True) == [("success", "已保存 7。")]
    [entry] = _entries(app)
    assert (entry.action, entry.target_id, entry.after) == ("demo.write", "7", {"n": 7})


def test_perform_rolls_back_a_refused_operation_and_says_why(app: Flask) -> None:
    def refuse() -> None:
        session: Session = web.db()
        record(session, "half.done", "demo", 1, None, None)  # written, then refused: nothing is kept
        session.flush()
        raise OperationError("名称不能为空。")

    with app.test_request_context("/admin/x", method="POST"):
        response = web.perform(refuse, audit=web.Audit("demo.write", "demo", 1), redirect_to="/admin/x")
        assert response.status_code == 302 and response.headers["Location"] == "/admin/x"
        assert get_flashed_messages(with_categories=True) == [("error", "名称不能为空。")]
    assert _entries(app) == []


def test_perform_can_answer_a_refusal_with_the_form_again(app: Flask) -> None:
    class Other(ValueError):
        pass

    def refuse() -> None:
        raise Other("格式不对。")

    with app.test_request_context("/admin/x", method="POST"):
        answer = web.perform(refuse, errors=(Other,), refused=lambda exc: (f"表单：{exc}", 400))
        assert answer == ("表单：格式不对。", 400)
        assert get_flashed_messages() == []
        empty: dict[str, str] = {}
        with pytest.raises(KeyError):  # anything else is a bug: it is not caught
            web.perform(lambda: empty["x"], redirect_to="/admin/x")


def test_the_dashboard_has_no_import_circle() -> None:
    graph = grimp.build_graph("bot", include_external_packages=False, cache_dir=None)
    assert cycles(graph, "bot.admin") == []
