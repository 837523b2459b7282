"""One inbound message → one reply: conversation first, then events, then the router."""

from __future__ import annotations

import re

from config import texts
from handlers.context import EMPTY, Context, Reply
from handlers.inbound import Inbound
from handlers.intent_gates import flow_help, gate, interruption
from handlers.understanding import flow_label, is_help

# Inside a conversation only a message that IS a request to stop breaks out: "希望取消加班"
# is an answer to a survey question, "取消" / "我要退出" / "不填了" are not.
_BREAK_OUT = re.compile(
    r"^(请|我(要|想)|帮我)?(取消|退出|结束|停止|算了|不(投|答|填|做|弄|要|想)了)"
    r"(问卷|调查|投票|操作|上报|吧|啦|了)*[\s。.!！~～]*$"
)


def is_break_out(text: str) -> bool:
    return bool(_BREAK_OUT.match(text.strip()))


def handle(ctx: Context, inbound: Inbound) -> Reply:
    if inbound.kind == "event":
        return _handle_event(ctx, inbound)
    reply = _handle_message(ctx, inbound)
    for after in ctx.registry.reply_hooks:
        reply = after(ctx, inbound, reply)
    return reply


def _handle_message(ctx: Context, inbound: Inbound) -> Reply:
    for hook in ctx.registry.message_hooks:
        hook(ctx, inbound)

    commanded = _command(ctx, inbound)
    if commanded is not None:
        return commanded

    conv = ctx.conversation()
    if conv is not None:
        # A conversation in progress outranks keyword routing; only 取消/退出 break out.
        if inbound.text and is_break_out(inbound.text):
            ctx.end_flow()
            ctx.intent_name = "cancel"
            return Reply(texts.CANCELLED)
        flow = ctx.registry.flows.get(conv.flow)
        if flow is not None and inbound.text and is_help(inbound.text):
            ctx.intent_name = f"help:{conv.flow}"
            return flow_help(ctx, conv)
        asked = interruption(ctx, inbound, conv) if flow is not None else None
        if asked is not None:
            ctx.intent_name = f"interrupt:{conv.flow}"
            return asked
        if flow is None:
            ctx.end_flow()  # a flow from an older release: drop it rather than trap the user
        else:
            ctx.intent_name = f"flow:{conv.flow}"
            reply = flow(ctx, inbound, conv)
            if reply is not None:
                return reply

    if inbound.kind in ("text", "voice"):
        if not inbound.text:
            ctx.intent_name = "unknown"
            return Reply(texts.VOICE_NOT_RECOGNISED if inbound.kind == "voice" else texts.EMPTY_TEXT)
        intent = ctx.router.route(inbound.text)
        ctx.intent_name = intent.name
        ctx.intent_confidence = intent.confidence
        if intent.anonymous:
            # Unlinkable from the first message, even when it is only asked back.
            ctx.redact_inbound = True
        # One policy decides whether a recording intent is clear enough to act on.
        held = gate(ctx, inbound, intent)
        if held is not None:
            return held
        handler = ctx.registry.intents.get(intent.name)
        if handler is None:
            return Reply(texts.FEATURE_NOT_OPEN)
        return handler(ctx, inbound, intent)

    ctx.intent_name = f"kind:{inbound.kind}"
    kind_handler = ctx.registry.messages.get(inbound.kind)
    if kind_handler is None:
        return Reply(texts.UNSUPPORTED_KIND)
    return kind_handler(ctx, inbound)


def _command(ctx: Context, inbound: Inbound) -> Reply | None:
    """An exact command (我的信息, 删除我的信息 …) leaves any flow and is answered first."""
    text = inbound.text.strip().strip("。.!！ ") if inbound.kind in ("text", "voice") else ""
    for rx, fn in ctx.registry.commands if text else ():
        m = rx.fullmatch(text)
        if m is None:
            continue
        conv = ctx.conversation()
        was = conv.flow if conv is not None else None
        if conv is not None:
            ctx.end_flow()
        ctx.intent_name = f"command:{fn.__name__}"
        reply = fn(ctx, inbound, m)
        if was is not None and reply.text:
            return Reply(f"{texts.FLOW_LEFT.format(flow=flow_label(was))}\n{reply.text}", reply.articles)
        return reply
    return None


def _handle_event(ctx: Context, inbound: Inbound) -> Reply:
    event = (inbound.event or "").lower()
    ctx.intent_name = f"event:{event}"
    if event == "click" and inbound.event_key in ctx.registry.clicks:
        # A menu click leaves any conversation in progress and answers the click.
        conv = ctx.conversation()
        was = conv.flow if conv is not None else None
        if conv is not None:
            ctx.end_flow()
        reply = ctx.registry.clicks[inbound.event_key](ctx, inbound)
        now_in = ctx.conversation()
        # Say that the flow was left, unless the click simply reopened it (满意度调查 while in the survey).
        left = flow_label(was) if was is not None and (now_in is None or now_in.flow != was) else None
        if left is not None and reply.text:
            return Reply(f"{texts.FLOW_LEFT.format(flow=left)}\n{reply.text}", reply.articles)
        return reply
    handler = ctx.registry.events.get(event)
    if handler is None:
        return EMPTY  # VIEW, TEMPLATESENDJOBFINISH …: nothing to say
    return handler(ctx, inbound)
