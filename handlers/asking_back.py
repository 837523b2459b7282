"""Asking back: numbered choices (or a yes/no confirmation) before anything is recorded.

``ask_back`` offers the choices and starts the ``ask_back`` conversation; the answer resumes
exactly the chosen action with the original message's arguments (``resume``), or returns to the
flow the worker was in. The vocabulary (policy, reading the message, ``option``) is
``understanding``; when to ask is ``intent_gates``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from config import texts
from handlers.anonymity import seal, unseal
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.registry import Routes
from handlers.understanding import (
    CANCEL,
    CONTINUE,
    FLOW,
    FLOW_PROMPTS,
    FLOW_TTL,
    is_bare_number,
    looks_like_command,
    normalise,
    option,
    unknown_text,
)
from models import Conversation
from nlp import Intent

routes = Routes()

# --- options and their labels ---------------------------------------------------------------------


def _number_label(ctx: Context, number: int, campaign_id: int | None = None) -> str:
    from handlers.recognition.campaign_scope import entry_by_number, open_campaigns_for

    campaigns = open_campaigns_for(ctx.session, ctx.user, ctx.now)
    if campaign_id is not None:
        campaigns = [c for c in campaigns if c.id == campaign_id]
    entry = entry_by_number(campaigns[0], number) if campaigns else None
    return f"{number}号「{entry.brand.name}」" if entry is not None else f"{number}号"


def label(ctx: Context, opt: dict[str, Any]) -> str:
    text = _label(ctx, opt)
    if opt.get("campaign") is not None:
        from models.recognition import Campaign

        campaign = ctx.session.get(Campaign, opt["campaign"])
        text = texts.LABEL_IN_CAMPAIGN.format(campaign=campaign.name if campaign else "", what=text)
    return texts.LEAVE_AND.format(flow=opt["leave"], what=text) if opt.get("leave") else text


def _label(ctx: Context, opt: dict[str, Any]) -> str:
    name = opt["intent"]
    brand, number, score = opt.get("brand"), opt.get("number"), opt.get("score")
    if name == CONTINUE:
        return texts.ASK_CONTINUE.format(flow=opt.get("flow_label", ""))
    if name == "vote":
        in_campaign = opt.get("campaign")
        target = (
            f"「{brand}」"
            if brand
            else (_number_label(ctx, number, in_campaign) if number is not None else "")
        )
        if not target:
            return texts.LABEL_VOTE_LIST
        if score is not None:
            return texts.LABEL_RATE.format(target=target, score=score)
        return texts.LABEL_VOTE.format(target=target)
    if name == "status":
        if opt.get("ticket"):
            return texts.LABEL_STATUS_TICKET.format(ticket=opt["ticket"])
        if brand:
            return texts.LABEL_STATUS_BRAND.format(brand=brand)
        return texts.LABEL_MY_SUGGESTIONS
    if name == "suggest":
        return texts.LABEL_SUGGEST_TEXT if opt.get("text") else texts.LABEL_SUGGEST
    if name == "progress" and brand:
        return texts.LABEL_PROGRESS_BRAND.format(brand=brand)
    return texts.OPTION_LABELS.get(name, texts.OPTION_LABELS["help"])


def options_for(ctx: Context, inbound: Inbound, intent: Intent) -> list[dict[str, Any]]:
    """The intent first, then its alternatives, each with the arguments the message gave."""
    names = [intent.name, *intent.alternatives]
    if not intent.alternatives:
        names += [s for s in intent.suggestions if s != intent.name]
    out: list[dict[str, Any]] = []
    for name in names:
        if name in ("unknown", "cancel") or name not in ctx.registry.intents:
            continue
        opt = option_for(name, inbound, intent)
        if opt not in out:
            out.append(opt)
    return out[:4]


def option_for(name: str, inbound: Inbound, intent: Intent) -> dict[str, Any]:
    if name == "vote":
        return option("vote", brand=intent.brand, number=intent.number, score=intent.score)
    if name == "status":
        return option("status", brand=intent.brand, ticket=intent.ticket)
    if name == "suggest":
        return option("suggest", text=intent.text or inbound.text, anonymous=intent.anonymous)
    if name == "progress":
        return option("progress", brand=intent.brand, text=intent.text)
    if name == "bind":
        return option("bind", text=intent.text)
    return option(name)


# --- asking back -----------------------------------------------------------------------------------


def ask_back(
    ctx: Context,
    inbound: Inbound,
    options: list[dict[str, Any]],
    *,
    confirm: bool = False,
    lead: str | None = None,
    return_to: dict[str, Any] | None = None,
    cancelled: str | None = None,
) -> Reply:
    """Offer numbered choices; nothing is recorded until the worker picks one.

    ``cancelled``: what to say when the worker declines (default: nothing was recorded)."""
    if not options:
        return Reply(unknown_text())
    data = {
        "options": options,
        "text": inbound.text,
        "confirm": confirm,
        "redact": ctx.redact_inbound,
        "return_to": return_to,
        "cancelled": cancelled,
    }
    # Sealed: an anonymous suggestion asked back would otherwise sit in clear beside the user id.
    # Always sealed, so an anonymous ask-back looks like any other.
    ctx.start_flow(FLOW, {"sealed": seal(data)}, FLOW_TTL)
    return Reply(render(ctx, options, confirm, lead))


def render(ctx: Context, options: list[dict[str, Any]], confirm: bool, lead: str | None = None) -> str:
    if confirm:
        what = label(ctx, options[0])
        head = lead or texts.CONFIRM_LEAD.format(what=what)
        return f"{head}\n{texts.CONFIRM_CHOICES.format(what=what)}"
    lines = [lead or texts.ASK_LEAD]
    lines += [f"{i}. {label(ctx, o)}" for i, o in enumerate(options, 1)]
    lines.append(texts.ASK_TAIL)
    return "\n".join(lines)


_YES = ("确认", "确定", "是", "是的", "好", "好的", "对", "嗯", "可以", "要")
_NO = ("否", "不", "不是", "不要", "不用", "不对", "错了", "没有")


def _pick(ctx: Context, data: dict[str, Any], answer: str) -> dict[str, Any] | None:
    options: list[dict[str, Any]] = list(data.get("options", []))
    confirm = bool(data.get("confirm"))
    if answer.isdigit():
        n = int(answer)
        if 1 <= n <= len(options):
            return options[n - 1]
        if confirm and n == 2:
            return {"intent": CANCEL}
        return None
    if confirm:
        if answer in _YES:
            return options[0]
        if answer in _NO:
            return {"intent": CANCEL}
    if len(answer) >= 2:
        hits = [o for o in options if answer in label(ctx, o)]
        if len(hits) == 1:
            return hits[0]
    return None


@routes.flow(FLOW)
def ask_back_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    token = conv.data.get("sealed")
    data = (unseal(token) or {}) if isinstance(token, str) else dict(conv.data)
    if not data.get("options"):
        ctx.end_flow()  # unreadable (another key): drop it rather than trap the user
        return None
    if data.get("redact"):
        ctx.redact_inbound = True
    answer = normalise(inbound.text)
    chosen = _pick(ctx, data, answer) if answer else None
    if chosen is None:
        if answer and (len(answer) > 4 or looks_like_command(answer)) and not is_bare_number(answer):
            ctx.end_flow()  # a new message of its own: routed as usual
            return None
        return Reply(f"{texts.ASK_AGAIN}\n{render(ctx, data['options'], bool(data.get('confirm')))}")
    ctx.end_flow()
    ctx.intent_name = f"ask_back:{chosen['intent']}"
    if chosen["intent"] == CANCEL:
        return Reply(str(data.get("cancelled") or texts.ASK_CANCELLED))
    if chosen["intent"] == CONTINUE:
        return _resume_flow(ctx, dict(data.get("return_to") or {}))
    return resume(ctx, inbound, chosen, str(data.get("text") or ""))


def resume(ctx: Context, inbound: Inbound, chosen: dict[str, Any], original: str) -> Reply:
    """Run the chosen action on the original message, as if it had been clear."""
    args = {
        k: v for k, v in chosen.items() if k in ("brand", "number", "score", "ticket", "text", "anonymous")
    }
    intent = Intent(name=chosen["intent"], confidence=1.0, **args)
    ctx.chosen = dict(chosen)
    handler = ctx.registry.intents.get(intent.name)
    if handler is None:
        return Reply(texts.FEATURE_NOT_OPEN)
    kind = inbound.kind if inbound.kind in ("text", "voice") else "text"
    return handler(ctx, replace(inbound, kind=kind, content=original), intent)


def _resume_flow(ctx: Context, saved: dict[str, Any]) -> Reply:
    flow = saved.get("flow")
    if not flow:
        return Reply(texts.CANCELLED)
    expires = datetime.fromisoformat(str(saved["expires_at"]))
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    ttl = max(expires - ctx.now, timedelta(minutes=10))
    conv = ctx.start_flow(str(flow), dict(saved.get("data") or {}), ttl)
    prompt = FLOW_PROMPTS.get(str(flow))
    return Reply(prompt(ctx, conv) if prompt else texts.FLOW_CONTINUE)
