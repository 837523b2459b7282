"""The suggestion dialogues in WeChat: filing (named or anonymous, with a confirmation for long or
cut-off texts), "查询 JY…" and "我的建议", and rating an answer.

An anonymous dialogue redacts every one of its messages (``ctx.redact_inbound``), whichever
handler answers it (``anonymous_dialogue``).
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from config import voice_texts as T
from config.suggestions import default_config as config
from handlers import delivery
from handlers.anonymity import ATTEMPT_WINDOW, code_matches, show_code
from handlers.clock import show_day, show_time
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.pages import guarded, link_line
from handlers.registry import Routes
from handlers.suggestions.access import code_locked, note_wrong_code
from handlers.suggestions.errors import SuggestionError
from handlers.suggestions.flows import FLOW, FLOW_TTL, RATE_FLOW, RATE_TTL, flow_data, start_flow
from handlers.suggestions.numbering import FULLWIDTH, parse_ticket
from handlers.suggestions.operations import file_suggestion, mark_answer_read, rate, validate_content
from handlers.suggestions.queries import find_ticket, my_suggestions
from handlers.understanding import fit_echo, flow_prompt
from models import Brand, Conversation, Suggestion, SuggestionState
from nlp import Intent

routes = Routes()

S = SuggestionState
MY_PAGE = "/h5/me/suggestions"

# --- text -------------------------------------------------------------------------------------

_LEADING = re.compile(
    r"^(?:[\s,，。.:：;；、!！~～\-—]+|匿名地?|实名|"
    r"(?:我要|我想|我)?(?:匿名地?|实名)?(?:提出|提|说|给工会提)?(?:个|一个|一条|条|点)?"
    r"(?:建议|意见|投诉|反映)(?:一下|一条|一个|个)?)"
)
_CUT_OFF_ENDINGS = (
    *"，,、：:；;（(“\"‘'《—-",
    *("和", "及", "与", "的", "因为", "但是", "而且", "所以", "如果"),
)


def strip_command(text: str) -> str:
    """The suggestion itself, with leading command words (建议/投诉/匿名 …) removed.

    The router should already strip them; this makes the handler robust if it did not.
    """
    text = text.strip()
    while True:
        stripped = _LEADING.sub("", text, count=1)
        if stripped == text:
            return text.strip()
        text = stripped


def looks_cut_off(text: str) -> bool:
    return text.endswith(_CUT_OFF_ENDINGS)


def _needs_confirmation(text: str) -> bool:
    return len(text) > config().confirm_over_chars or looks_cut_off(text)


def _normalise(text: str) -> str:
    return text.strip().translate(FULLWIDTH).strip("。.!！ ")


def _snippet(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n] + "…"


def describe(s: Suggestion) -> str:
    lines = [T.STATUS_HEADER.format(ticket=s.ticket, state=s.state.label)]
    lines.append(T.STATUS_LINE_CONTENT.format(content=_snippet(s.content, 100)))
    lines.append(T.STATUS_LINE_UNION.format(union=s.union.name))
    # Anonymous suggestions keep only their day (see operations._at): show the date, not a made-up 00:00.
    shown = show_day if s.anonymous else show_time
    lines.append(T.STATUS_LINE_CREATED.format(created=shown(s.created_at)))
    if s.due_at is not None:
        due = s.due_at - timedelta(days=1) if s.anonymous else s.due_at  # end of that day
        lines.append(T.STATUS_LINE_DUE.format(due=shown(due)))
    if s.state == S.REJECTED and s.reason:
        lines.append(T.STATUS_LINE_REASON.format(reason=s.reason))
    if s.answer and s.state in (S.ANSWERED, S.RATED):
        lines.append(T.STATUS_LINE_ANSWER.format(answer=s.answer))
    if s.rating:
        lines.append(T.STATUS_LINE_RATING.format(rating=T.RATING_LABELS[s.rating]))
    if s.state == S.ANSWERED:
        lines.append(T.STATUS_RATE_PROMPT)
    return "\n".join(lines)


# --- filing -----------------------------------------------------------------------------------


def _brand_for(ctx: Context, intent: Intent | None, text: str) -> Brand | None:
    name = intent.brand if intent is not None else None
    if name is None:
        name = ctx.router.route(text).brand
    if name is None:
        return None
    return ctx.session.scalar(select(Brand).where(Brand.name == name))


def _file(ctx: Context, text: str, anonymous: bool, brand_name: str | None) -> Reply:
    brand = ctx.session.scalar(select(Brand).where(Brand.name == brand_name)) if brand_name else None
    try:
        s, code = file_suggestion(ctx.session, ctx.user, text, ctx.now, anonymous=anonymous, brand=brand)
    except SuggestionError as exc:
        return Reply(str(exc))
    ctx.end_flow()
    if anonymous:
        assert code is not None
        return Reply(T.FILED_ANONYMOUS.format(ticket=s.ticket, code=show_code(code)))
    text = T.FILED.format(
        ticket=s.ticket,
        category=s.category,
        union=s.union.name,
        accept_days=config().accept_working_days,
        how=delivery.how_answer_comes(ctx.channels),
    )
    offer = delivery.consent_offer(ctx.session, ctx.channels, ctx.user, ctx.now)
    return Reply(f"{text}\n{offer}" if offer else text)


_MY_SUGGESTIONS = re.compile(r"^\s*(?:查询|查看|查)?\s*我的(?:建议|意见|投诉)\s*$")


_ANONYMOUS = re.compile(r"^\s*(?:我要|我想|我)?匿名|^.{0,6}匿名(?:建议|投诉|意见|反映)")


def _is_anonymous(intent: Intent, raw: str) -> bool:
    return intent.anonymous or bool(_ANONYMOUS.match(raw))


@routes.intent("suggest")
def suggest_intent(ctx: Context, inbound: Inbound, intent: Intent) -> Reply:
    raw = inbound.text
    if _MY_SUGGESTIONS.match(raw):
        # The keyword stub routes "我的建议" here; it is a status query, not a suggestion.
        return _my_list(ctx)
    anonymous = _is_anonymous(intent, raw)
    if anonymous:
        ctx.redact_inbound = True
    # A router that already stripped the command words gives text != raw; don't strip twice
    # (content may itself begin with a word like 意见箱).
    given = intent.text if intent.text is not None else raw
    text = strip_command(given) if given.strip() == raw.strip() else given.strip()
    if not text:
        start_flow(ctx, FLOW, {"step": "content", "anonymous": anonymous}, FLOW_TTL)
        return Reply(T.ASK_CONTENT_ANONYMOUS if anonymous else T.ASK_CONTENT)
    return _take_content(ctx, text, anonymous, intent)


def _take_content(ctx: Context, text: str, anonymous: bool, intent: Intent | None) -> Reply:
    try:
        text = validate_content(text)
    except SuggestionError as exc:
        # Keep the dialogue open so the worker can simply type again.
        start_flow(ctx, FLOW, {"step": "content", "anonymous": anonymous}, FLOW_TTL)
        return Reply(f"{exc}{T.LEAVE_HINT}")
    brand = _brand_for(ctx, intent, text)
    brand_name = brand.name if brand else None
    if _needs_confirmation(text):
        data = {"step": "confirm", "anonymous": anonymous, "text": text, "brand": brand_name}
        start_flow(ctx, FLOW, data, FLOW_TTL)
        # The echo is shortened, never the instruction: the reply stays within 2048 bytes.
        return Reply(fit_echo(T.CONFIRM, text))
    return _file(ctx, text, anonymous, brand_name)


@routes.flow(FLOW)
def suggest_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    data = flow_data(conv)
    anonymous = bool(data.get("anonymous"))
    if anonymous:
        ctx.redact_inbound = True
    text = inbound.text
    if not text:
        return Reply(T.ASK_CONTENT_ANONYMOUS if anonymous else T.ASK_CONTENT)
    if data.get("step") == "confirm":
        answer_ = _normalise(text)
        if answer_ in ("1", "确认", "确定", "提交", "是", "好", "对"):
            return _file(ctx, str(data["text"]), anonymous, data.get("brand"))
        if answer_ in ("2", "重新输入", "重写", "修改", "否"):
            start_flow(ctx, FLOW, {"step": "content", "anonymous": anonymous}, FLOW_TTL, conv)
            return Reply(T.ASK_CONTENT)
        return Reply(T.CONFIRM_HINT)
    return _take_content(ctx, strip_command(text), anonymous, None)


@flow_prompt(FLOW)
def suggest_prompt(ctx: Context, conv: Conversation) -> str:
    data = flow_data(conv)
    if data.get("step") == "confirm":
        return fit_echo(T.CONFIRM, str(data.get("text", "")))
    return T.ASK_CONTENT_ANONYMOUS if data.get("anonymous") else T.ASK_CONTENT


@routes.click("MENU_SUGGEST")
def suggest_click(ctx: Context, inbound: Inbound) -> Reply:
    start_flow(ctx, FLOW, {"step": "content", "anonymous": False}, FLOW_TTL)
    return Reply(T.ASK_CONTENT)


@routes.click("MENU_MY_SUGGESTIONS")
def my_suggestions_click(ctx: Context, inbound: Inbound) -> Reply:
    return _my_list(ctx)


# --- status queries ---------------------------------------------------------------------------


def show_ticket(ctx: Context, ticket: str, code: str | None) -> Reply:
    s = find_ticket(ctx.session, ticket)
    if s is None:
        return Reply(T.STATUS_NOT_FOUND.format(ticket=ticket))
    if s.anonymous:
        ctx.redact_inbound = True  # the query itself must not tie the ticket to the asker
        if code is None:
            return Reply(T.STATUS_ANONYMOUS_NEED_CODE.format(ticket=s.ticket, state=s.state.label))
        if code_locked(ctx.session, ctx.user.openid, s.ticket, ctx.now):
            return Reply(T.CODE_LOCKED.format(minutes=int(ATTEMPT_WINDOW.total_seconds() // 60)))
        if not code_matches(s.ticket, code, s.access_code_hash):
            note_wrong_code(ctx.session, ctx.user.openid, s.ticket, ctx.now)
            return Reply(T.CODE_WRONG.format(ticket=s.ticket))
    elif s.user_id != ctx.user.id:
        return Reply(T.STATUS_OTHERS.format(ticket=s.ticket, state=s.state.label))
    if s.state == S.ANSWERED:
        _start_rating(ctx, s)
    mark_answer_read(ctx.session, s, ctx.now)
    return Reply(describe(s))


def _start_rating(ctx: Context, s: Suggestion) -> None:
    # An anonymous rating needs the code that opened it: only its hash, sealed, is kept here.
    ttl = FLOW_TTL if s.anonymous else RATE_TTL
    start_flow(ctx, RATE_FLOW, {"suggestion_id": s.id, "code": s.access_code_hash}, ttl)


def suggestion_status_reply(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    """The reply to "查询 JY…" or "我的建议"; None when the message asks about something else."""
    ticket, code = parse_ticket(inbound.text)
    ticket = ticket or intent.ticket
    if ticket:
        return show_ticket(ctx, ticket, code)
    if "建议" in inbound.text and not intent.brand:
        return _my_list(ctx)
    return None


def _my_list(ctx: Context) -> Reply:
    rows = my_suggestions(ctx.session, ctx.user)
    line = link_line(ctx, T.MY_PAGE_LINK, MY_PAGE)
    if not rows:
        lines = [T.MY_NONE]
    else:
        lines = [T.MY_HEADER]
        lines += [
            T.MY_LINE.format(ticket=s.ticket, state=s.state.label, snippet=_snippet(s.content, 20))
            for s in rows
        ]
        lines.append(T.MY_TAIL)
    if line is not None:
        lines.append(line)
    return guarded(ctx, Reply("\n".join(lines)), line)


# --- rating an answer -------------------------------------------------------------------------

_RATING_WORDS = (("不满意", "unsatisfied"), ("基本满意", "basic"), ("满意", "satisfied"))
_RATING_NUMBERS = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}


def parse_rating(text: str) -> str | None:
    t = _normalise(text)
    if t in _RATING_NUMBERS:
        return _RATING_NUMBERS[t]
    for word, value in _RATING_WORDS:
        if t == word or t.startswith(word):
            return value
    return None


@routes.flow(RATE_FLOW)
def rate_flow(ctx: Context, inbound: Inbound, conv: Conversation) -> Reply | None:
    rating = parse_rating(inbound.text)
    if rating is None:
        return None  # not a rating: routed as usual; the rating stays open until it expires
    data = flow_data(conv)
    s = ctx.session.get(Suggestion, data.get("suggestion_id"))
    ctx.end_flow()
    if s is None:
        return None
    if s.anonymous:
        ctx.redact_inbound = True
        if not s.access_code_hash or data.get("code") != s.access_code_hash:
            return None
    elif s.user_id != ctx.user.id:
        return None
    if s.state != S.ANSWERED:
        return Reply(T.RATE_CLOSED)
    rated = rate(ctx.session, s, rating, ctx.now)
    return Reply(T.RATED if rated.rating is not None else T.REOPENED)


@routes.before_message
def anonymous_dialogue(ctx: Context, inbound: Inbound) -> None:
    """While an anonymous dialogue is open, every message of it is redacted, whatever handles it.

    The flow handlers redact their own steps, but a 取消 that breaks out of the flow, or a reply
    the rating step declines, is handled elsewhere and would otherwise keep the sender's openid
    next to the anonymous exchange.
    """
    conv = ctx.conversation()
    if conv is None:
        return
    if conv.flow not in (FLOW, RATE_FLOW):
        return
    data = flow_data(conv)
    if (conv.flow == FLOW and data.get("anonymous")) or (
        conv.flow == RATE_FLOW and data.get("code") is not None
    ):
        ctx.redact_inbound = True
