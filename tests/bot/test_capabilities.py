"""What each kind of account may send, the start-up lines that say what is off, and the port
handlers read (a feature that is off never reaches them)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.capabilities import capabilities
from config.settings import Settings, SettingsError

BASE = Settings(
    wechat_token="tok",
    wechat_appid="wx1",
    wechat_secret="s",
    secret_key="k" * 32,
    template_answer_id="TPL",
    subscribe_template_id="ONCE",
    public_base_url="https://ghpp.example.cn",
)


@pytest.mark.parametrize(
    ("account_type", "verified", "customer_service", "template", "subscribe"),
    [
        ("service", True, True, True, True),
        ("service", False, False, False, False),
        ("subscription", True, True, False, True),
        ("subscription", False, False, False, False),
    ],
)
def test_the_account_matrix(account_type, verified, customer_service, template, subscribe) -> None:
    caps = capabilities(replace(BASE, account_type=account_type, account_verified=verified))
    assert (caps.customer_service, caps.template, caps.subscribe_message) == (
        customer_service,
        template,
        subscribe,
    )
    ch = caps.channels()
    assert (ch.customer_service, ch.template, ch.subscribe_message) == (customer_service, template, subscribe)
    assert ch.template_id == ("TPL" if template else None)
    assert ch.subscribe_template_id == ("ONCE" if subscribe else None)
    lines = caps.startup_lines()
    assert any("不能发送模板消息" in line for line in lines) == (not template)
    assert any("不能发送客服消息" in line for line in lines) == (not customer_service)
    if not subscribe:
        assert any("一次性订阅消息" in line for line in lines)


def test_missing_ids_and_origin_switch_channels_off_with_a_line() -> None:
    caps = capabilities(replace(BASE, template_answer_id=None, public_base_url=None))
    assert not caps.template and not caps.subscribe_message
    lines = caps.startup_lines()
    assert "未配置 WECHAT_TEMPLATE_ANSWER_ID：模板消息已关闭。" in lines
    assert any(line.startswith("未配置 PUBLIC_BASE_URL") for line in lines)
    assert caps.channels(consent=object()).consent is None  # type: ignore[arg-type]  # any links: dropped when off


def test_template_fields_come_from_the_setting() -> None:
    spec = {"GHPP_TEMPLATE_ANSWER_FIELDS": "keyword1:ticket,keyword2:answer,keyword3:time"}
    caps = capabilities(replace(BASE, extra=spec))
    assert caps.channels().template_fields == (
        ("keyword1", "ticket"),
        ("keyword2", "answer"),
        ("keyword3", "time"),
    )
    with pytest.raises(SettingsError, match="GHPP_TEMPLATE_ANSWER_FIELDS"):
        capabilities(replace(BASE, extra={"GHPP_TEMPLATE_ANSWER_FIELDS": "keyword1:openid"}))
