"""The registry: built in one place, every key claimed once, nothing wired by importing a module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from handlers.context import Reply
from handlers.registry import RegistrationError, Registry, Routes
from handlers.wiring import build_registry


def test_a_key_claimed_twice_is_an_error_when_the_registry_is_built() -> None:
    first, second = Routes(), Routes()

    @first.intent("vote")
    def one(ctx: object, inbound: object, intent: object) -> Reply:
        return Reply("一")

    @second.intent("vote")
    def two(ctx: object, inbound: object, intent: object) -> Reply:
        return Reply("二")

    registry = Registry()
    registry.include(first)
    with pytest.raises(RegistrationError, match="intent 'vote' registered twice"):
        registry.include(second)


@pytest.mark.parametrize("kind", ["flow", "event", "click", "job", "scene", "command", "code"])
def test_every_kind_of_key_is_claimed_once(kind: str) -> None:
    routes = Routes()
    declare = getattr(routes, kind)
    declare("k")(lambda *a: None)
    declare("k")(lambda *a: None)
    with pytest.raises(RegistrationError):
        Registry().include(routes)


def test_routes_do_nothing_until_included() -> None:
    routes = Routes()
    routes.intent("help")(lambda *a: Reply("x"))
    assert Registry().intents == {}


def test_the_service_registry_has_every_domain_and_hooks_in_their_order() -> None:
    registry = build_registry()

    def name(fn: object) -> str:
        return str(getattr(fn, "__qualname__", ""))

    # The same handlers the service had before the wiring moved into one list.
    assert sorted(registry.intents) == [
        "bind", "cancel", "help", "list", "progress", "rights_delete", "rights_withdraw", "status",
        "suggest", "survey", "unknown", "vote",
    ]  # fmt: skip
    assert sorted(registry.flows) == [
        "ask_back", "bind", "photo_brand", "progress_brand", "progress_photos", "progress_text",
        "recognition_score", "suggest", "suggestion_rate", "survey",
    ]  # fmt: skip
    assert sorted(registry.clicks) == [
        "MENU_HELP", "MENU_LIST", "MENU_MY_SUGGESTIONS", "MENU_PROGRESS", "MENU_SUGGEST", "MENU_SURVEY",
        "MENU_VOTE",
    ]  # fmt: skip
    assert sorted(registry.jobs) == [
        "download_photo", "recognition_live_refresh", "recognition_live_refresh_open", "recognition_scan",
        "retention.purge", "send_text", "suggestion_answer",
    ]  # fmt: skip
    assert sorted(registry.events) == ["scan", "subscribe", "templatesendjobfinish", "unsubscribe"]
    assert sorted(registry.messages) == ["image"]
    assert [name(h) for h in registry.message_hooks] == ["anonymous_dialogue"]
    assert [name(h) for h in registry.reply_hooks] == ["owed_answers"]
    # Exact commands: 「页面」 first, then the data-rights commands (export, delete, withdraw).
    assert [name(fn) for _, fn in registry.commands] == [
        "pages_command",
        "rights_export",
        "rights_delete_ask",
        "rights_withdraw_ask",
    ]
    assert sorted(registry.scenes) == ["brand", "review", "survey"]
    assert [p.pattern for p, _ in registry.codes] == [r"PY[0-9A-F]{8}"]
    assert [name(s) for s in registry.measure_sinks] == ["record_measured_response"]
    assert name(registry.roster) == "campaign_roster"
    assert name(registry.recognition) == "recognition_info"


def test_two_builds_are_independent() -> None:
    a, b = build_registry(), build_registry()
    a.intents.clear()
    assert b.intents


def test_importing_a_handlers_module_wires_nothing() -> None:
    code = (
        "import sys, handlers.clock, handlers.context; "
        "print(sorted(m for m in sys.modules if m.startswith('handlers.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "handlers.suggestions" not in out and "handlers.recognition" not in out, out


def test_hooks_of_two_modules_may_share_a_name_but_one_hook_is_added_once() -> None:
    def hook(ctx: object, inbound: object) -> None:
        return None

    def other_module_hook(ctx: object, inbound: object) -> None:
        return None

    other_module_hook.__qualname__ = hook.__qualname__
    other_module_hook.__module__ = "handlers.elsewhere"
    first, second = Routes(), Routes()
    first.before_message(hook)
    second.before_message(other_module_hook)
    registry = Registry()
    registry.include(first, second)
    assert registry.message_hooks == [hook, other_module_hook]
    again = Routes()
    again.before_message(hook)
    with pytest.raises(RegistrationError, match="before_message"):
        registry.include(again)
