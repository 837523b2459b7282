"""CLI commands, run with Flask's CLI runner."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Brand, Union


def test_seed_demo_loads_tree_and_brands_idempotently(app) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert "演示数据已载入" in result.output
    with app.extensions["ghpp"].session_factory() as s:
        assert s.scalar(select(func.count(Brand.id))) >= 10
        names = set(s.scalars(select(Brand.name)))
        assert {"工惠乐学", "查保促", "幸福驿站", "爱心妈妈小屋"} <= names
        chem = s.scalar(select(Union).where(Union.code == "BZ-BC-001"))
        assert chem is not None and [u.code for u in chem.ancestors()] == ["BZ-BC-SZ", "BZ-BC", "BZ", "SD"]


def test_chat_simulator_in_process(app) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    lines = (
        "\n".join(["/subscribe union:BZ-BC-001", "帮助", "/voice ", "/click MENU_HELP", "/bogus", "/quit"])
        + "\n"
    )
    result = runner.invoke(args=["chat", "--openid", "sim-user"], input=lines)
    assert result.exit_code == 0, result.output
    assert "安全模式" in result.output
    assert "已为您关联到「滨州化工厂工会」" in result.output
    assert result.output.count("使用说明：") == 2
    assert "没有听清" in result.output
    assert "未知命令" in result.output


def test_db_upgrade_command(app) -> None:
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "数据库已升级" in result.output


def test_worker_needs_redis(app) -> None:
    if app.extensions["ghpp"].settings.redis_url:
        return  # with Redis configured the worker would start and block
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_menu_create_publishes_the_menu(app, wechat_stub) -> None:
    result = app.test_cli_runner().invoke(args=["menu", "create"])
    assert result.exit_code == 0, result.output
    body = wechat_stub.calls_to("menu/create")[0].body
    assert [b["name"] for b in body["button"]] == ["品牌投票", "职工心声", "帮助"]
    # No PUBLIC_BASE_URL in the test settings: the H5 button is left out, and the operator told.
    assert "品牌展示" not in str(body) and "PUBLIC_BASE_URL" in result.output


def test_menu_create_links_the_h5_pages_under_the_public_base_url(app, wechat_stub, monkeypatch) -> None:
    import dataclasses

    rt = app.extensions["ghpp"]
    monkeypatch.setattr(
        rt, "settings", dataclasses.replace(rt.settings, public_base_url="https://ghpp.example.cn")
    )
    result = app.test_cli_runner().invoke(args=["menu", "create"])
    assert result.exit_code == 0, result.output
    first = wechat_stub.calls_to("menu/create")[0].body["button"][0]
    view = [b for b in first["sub_button"] if b["type"] == "view"]
    assert view == [{"type": "view", "name": "品牌展示", "url": "https://ghpp.example.cn/h5/"}]


def test_inbound_export_feeds_the_router_evaluation(app, client, wechat, tmp_path) -> None:
    from nlp.cli import main as nlp_main
    from tests.wechat_chat import Chat

    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    chat = Chat(client, wechat)
    chat.say("o-export", "帮助")
    chat.say("o-export", "查询 工惠乐学")
    chat.say("o-export", "匿名建议 车间太吵\n没人管")
    out = tmp_path / "logged.txt"
    result = runner.invoke(args=["inbound", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = out.read_text(encoding="utf-8")
    assert "help | | | 帮助" in body and "status | | | 查询 工惠乐学" in body
    assert "车间太吵" not in body and "o-export" not in body  # anonymous and openids never exported
    assert "工惠乐学|乐学" in (tmp_path / "logged.txt.brands.txt").read_text(encoding="utf-8")
    assert nlp_main(["eval", str(out)]) == 0
