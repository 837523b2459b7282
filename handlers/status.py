""" "查询 …": one intent, two domains — suggestion tickets first, then brands."""

from __future__ import annotations

from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.programme.status import brand_status_reply
from handlers.registry import Routes
from handlers.suggestions.chat import suggestion_status_reply
from nlp import Intent

routes = Routes()


@routes.intent("status")
def status_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    suggestion = suggestion_status_reply(ctx, inbound, intent)
    if suggestion is not None:
        return suggestion
    brand = brand_status_reply(ctx, inbound, intent)
    assert brand is not None  # only None for a ticket, which the suggestions side answered
    return brand
