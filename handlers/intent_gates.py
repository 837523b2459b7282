"""When to act, when to ask back (the policy in config/router/policy.yaml), and flows that obey.

``gate`` runs after routing and before a recording intent's handler: a bare number, an unsure
router, a question, a negation, several targets or a mix of requests get guidance or a question
back (``asking_back``) instead of a record. ``interruption`` spots a clearly different request
inside a flow and asks before leaving it, so it is never stored as an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from config import texts
from handlers.asking_back import ask_back, option_for, options_for
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.understanding import (
    CONTINUE,
    TICKET,
    brand_names,
    clear_score,
    flow_label,
    is_bare_number,
    is_question,
    looks_like_command,
    numbers_and_brands,
    option,
    policy,
    strip_brands,
    unknown_text,
)
from models import Conversation
from nlp import Intent
from nlp.normalize import to_simplified

# 投 but not 投诉.
_VOTE_VERB = re.compile(r"投(?!诉)|打分|打\s*[1-5一二三四五]\s*分|评分|选|支持|点.?赞")
_NEGATION = re.compile(r"不是|不投|别投|不要投|不想投|不选|不对|错了|改投|改成|改为|而是|换成|不给")
# Command words of each intent, for spotting one message that asks for several things.
_FAMILIES = (
    ("vote", re.compile(r"投票|投\s*\d|打分|[1-5]\s*分")),
    ("status", re.compile(r"查询|查一下|进展|JY\d", re.IGNORECASE)),
    ("suggest", re.compile(r"建议|投诉|意见|反映")),
    ("survey", re.compile(r"问卷|调查")),
    ("bind", re.compile(r"绑定")),
    ("progress", re.compile(r"上报|汇报")),
)
_SUGGEST_START = re.compile(
    r"^\s*(?:我要|我想|我)?(?:匿名|实名)?(?:提出|提|说|给工会提)?(?:个|一个|一条|条)?(?:建议|意见|投诉|反映)"
)


# --- the policy ------------------------------------------------------------------------------------


def gate(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    """None: act on ``intent``. A reply: guidance or a question back; nothing was recorded."""
    text = inbound.text
    if is_bare_number(text):
        # A number means something only inside a flow that just offered numbered choices.
        return Reply(texts.BARE_NUMBER)
    p = policy()
    if intent.name not in p.recording_intents:
        return None
    if intent.confidence < p.ask:
        return Reply(unknown_text(intent))
    specific = _GATES.get(intent.name)
    if specific is not None:
        reply = specific(ctx, inbound, intent)
        if reply is not None:
            return reply
    if intent.confidence < p.act:
        return ask_back(ctx, inbound, options_for(ctx, inbound, intent))
    return None


def _mixed(text: str, own: str) -> list[str]:
    """Other intents whose command words appear beside ``own``'s."""
    return [name for name, rx in _FAMILIES if name != own and rx.search(text)]


def _mixed_options(ctx: Context, inbound: Inbound, intent: Intent, others: list[str]) -> list[dict[str, Any]]:
    text = inbound.text
    ticket = TICKET.search(text)
    opts = options_for(ctx, inbound, intent)
    for name in others:
        if name == "status" and ticket:
            opt = option("status", ticket=re.sub(r"\s", "", ticket.group(0)).upper())
        else:
            opt = option_for(name, inbound, intent)
        if opt not in opts:
            opts.append(opt)
    return opts[:4]


def _vote_gate(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    text = to_simplified(inbound.text)  # 投票給工惠樂學 names 工惠乐学 literally
    others = _mixed(text, "vote")
    if len(others) >= 1 and not (others == ["suggest"] and intent.score is not None):
        return ask_back(ctx, inbound, _mixed_options(ctx, inbound, intent, others), lead=texts.ASK_LEAD_MIXED)
    targets = numbers_and_brands(ctx, text, intent)
    score = clear_score(ctx, text, intent.score) if intent.score is not None else None
    if intent.score is not None and score is None:
        # A satisfaction word inside a longer message: a complaint, not a score.
        opts = [option("suggest", text=text)]
        if len(targets) == 1:
            kind, value = targets[0][1], targets[0][2]
            opts.append(option("vote", score=intent.score, **{kind: value}))
        return ask_back(ctx, inbound, opts, lead=texts.ASK_LEAD_COMPLAINT)
    if _NEGATION.search(text) or len(targets) > 1:
        if not targets:
            return Reply(texts.NEGATION_NO_TARGET)
        # The last target named is most often the one meant ("不是3号，我要投8号").
        opts = [option("vote", score=score, **{kind: value}) for _pos, kind, value in reversed(targets)]
        return ask_back(ctx, inbound, opts[:4], lead=texts.ASK_LEAD_WHICH)
    if is_question(text):
        opts = []
        if intent.brand:
            opts.append(option("status", brand=intent.brand))
        if targets:
            kind, value = targets[0][1], targets[0][2]
            opts.append(option("vote", score=score, **{kind: value}))
        opts.append(option("list"))
        return ask_back(ctx, inbound, opts, lead=texts.ASK_LEAD_QUESTION)
    if not targets:
        return None  # nothing to record: the handler asks which brand
    kind, value = targets[0][1], targets[0][2]
    literal = kind == "number" or any(
        name in text for name, canonical in brand_names(ctx) if canonical == value
    )
    explicit = bool(_VOTE_VERB.search(text)) or score is not None
    if not (explicit and literal):
        opt = option("vote", score=score, **{kind: value})
        return ask_back(ctx, inbound, [opt], confirm=True)
    return None  # explicit: acted on when the router is sure, else asked back with alternatives


def _suggest_gate(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    text = inbound.text
    if _SUGGEST_START.match(text):
        return None  # "建议：…", "我要匿名投诉": plainly a suggestion (or its start)
    others = _mixed(text, "suggest")
    if others:
        return ask_back(ctx, inbound, _mixed_options(ctx, inbound, intent, others), lead=texts.ASK_LEAD_MIXED)
    return None


def _progress_gate(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    if is_question(inbound.text):
        return Reply(texts.PROGRESS_HOW)
    return None


def _bind_gate(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    if is_question(inbound.text):
        return Reply(texts.BIND_HOW)
    return None


_GATES: dict[str, Callable[[Context, Inbound, Intent], Reply | None]] = {
    "vote": _vote_gate,
    "suggest": _suggest_gate,
    "progress": _progress_gate,
    "bind": _bind_gate,
}


# --- flows that obey --------------------------------------------------------------------------------

# Flows that take free answers; the others decline what is not theirs and it is routed anyway.
_OWN_INTENT = {
    "suggest": "suggest",
    "survey": "survey",
    "photo_brand": "progress",
    "progress_brand": "progress",
    "progress_text": "progress",
    "recognition_score": "vote",
    "bind": "bind",
}


def flow_help(ctx: Context, conv: Conversation) -> Reply:
    return Reply(f"{texts.HELP}\n\n{texts.FLOW_HELP_TAIL.format(flow=flow_label(conv.flow))}")


def interruption(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    """A clearly different request inside a flow: ask before leaving, never store it as an answer."""
    own = _OWN_INTENT.get(conv.flow)
    text = inbound.text
    if own is None or not text:
        return None
    # "查保促" is a brand (an answer to "which brand?"), not 查 + something.
    rest = strip_brands(ctx, text)
    command = looks_like_command(rest) if rest.strip() else False
    if not command and (not is_question(text) or conv.flow == "suggest"):
        return None  # a suggestion may well be a question ("活动为什么总是取消？")
    intent = ctx.router.route(text)
    if intent.name == own or intent.name in ("unknown", "cancel"):
        return None
    if not command and not (intent.name in ("status", "vote", "list") and intent.brand):
        return None  # a question that is an answer ("为什么不能多选？" in a text question)
    name = "status" if intent.name == "vote" and not command else intent.name
    opt = option_for(name, inbound, intent)
    ticket = TICKET.search(text)
    if name == "status" and ticket:
        opt = option("status", ticket=re.sub(r"\s", "", ticket.group(0)).upper())
    flow = flow_label(conv.flow)
    opt["leave"] = flow
    saved = {"flow": conv.flow, "data": dict(conv.data), "expires_at": conv.expires_at.isoformat()}
    options = [opt, option(CONTINUE, flow_label=flow)]
    return ask_back(ctx, inbound, options, lead=texts.FLOW_INTERRUPT.format(flow=flow), return_to=saved)
