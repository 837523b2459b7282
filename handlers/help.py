"""Greetings, how-to, and guidance for messages the router did not understand."""

from __future__ import annotations

from config import texts
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.registry import Routes
from handlers.understanding import unknown_text
from nlp import Intent

routes = Routes()


@routes.intent("help")
def help_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    return Reply(texts.HELP)


@routes.click("MENU_HELP")
def help_click(ctx: Context, inbound: Inbound) -> Reply:
    return Reply(texts.HELP)


@routes.intent("unknown")
def unknown_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    return Reply(unknown_text(intent))


@routes.intent("cancel")
def cancel_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    # Reached only when no conversation is in progress (dispatch handles the other case).
    return Reply(texts.NOTHING_TO_CANCEL)
