"""Act only on clear intent: one policy for every message that would record something.

A vote, a rating, a suggestion, a binding or a progress report is recorded only when the
router is sure enough (``act`` in config/router/policy.yaml), the arguments it needs are there
and single, and the message is not a question. Otherwise the bot asks back with numbered
choices (an ``ask_back`` conversation); the answer resumes exactly the chosen action with the
original arguments. Flows use the same module to recognise help, menu clicks and a clearly
different request instead of storing them as answers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from config import texts
from handlers.anonymity import seal, unseal
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.registry import INTENT_HANDLERS, on_flow
from models import Brand, Conversation
from nlp import Intent, Router
from nlp.lexicon import load_lexicon
from nlp.normalize import to_simplified

POLICY_FILE = Path(__file__).resolve().parent.parent / "config" / "router" / "policy.yaml"
FLOW = "ask_back"
FLOW_TTL = timedelta(minutes=10)
# WeChat cuts passive text replies above 2048 bytes (UTF-8).
REPLY_LIMIT_BYTES = 2048
CONTINUE = "__continue__"
CANCEL = "__cancel__"


@dataclass(frozen=True)
class Policy:
    act: float
    ask: float
    recording_intents: frozenset[str]


@functools.cache
def policy() -> Policy:
    data: dict[str, Any] = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    act, ask = float(data["act"]), float(data["ask"])
    if not 0.0 <= ask <= act <= 1.0:
        raise ValueError(f"{POLICY_FILE.name}: 需要 0 ≤ ask ≤ act ≤ 1（现在 ask={ask}, act={act}）")
    return Policy(act=act, ask=ask, recording_intents=frozenset(data["recording_intents"]))


# --- reading the message ------------------------------------------------------------------------

_FULLWIDTH = str.maketrans("０１２３４５６７８９？！，：", "0123456789?!,:")
_BARE_NUMBER = re.compile(r"^\s*[#＃]?\s*\d{1,6}\s*[.。!！]*\s*$")
_QUESTION = re.compile(
    r"[?]|吗|呢|么样|怎样|如何|多少|第几|几名|几票|什么|哪个|哪些|哪里|哪一|是否|是不是|有没有|"
    r"能不能|可不可以|行不行|好不好|会不会|怎么"
)
# 投 but not 投诉; a score written as a number of points or stars.
_VOTE_VERB = re.compile(r"投(?!诉)|打分|打\s*[1-5一二三四五]\s*分|评分|选|支持|点.?赞")
_POINTS = re.compile(r"(?<!\d)([1-5]|[一二三四五])\s*颗?\s*[分星]")
_NUMBER_TARGET = re.compile(r"(?<![\dJjYy-])(\d{1,3})\s*号|第\s*(\d{1,3})\s*[个名位号]")
_NEGATION = re.compile(r"不是|不投|别投|不要投|不想投|不选|不对|错了|改投|改成|改为|而是|换成|不给")
_HELP = re.compile(r"^(帮助|help|菜单|使用说明|怎么用|说明|功能)$", re.IGNORECASE)
_TICKET = re.compile(r"JY\s*\d{8}\s*-?\s*\d{4}", re.IGNORECASE)
# A message that starts like a request of its own (inside a flow: not an answer).
_COMMAND_START = re.compile(
    r"^(查询|查一下|查看|查|我的建议|我的意见|我的投诉|候选|名单|排名|投票|投\s*\d|问卷|满意度调查|"
    r"绑定|上报|汇报|我要(提)?(建议|投诉|意见|投票)|建议[:：]|投诉[:：]|意见[:：])"
)
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
_SCORE_WORDS = re.compile(r"满意|满分|十分|不太|一般|般|颗|星|★|☆|很|非常|特别|超级|真|太")
_DIGIT_SCORE = re.compile(r"^\s*([1-5])\s*分?\s*$")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
# What may stand beside a score word in a pure rating ("对幸福驿站非常满意！").
_FILLER = re.compile(
    r"[\s,，。.!！~～、:：]|对|给|我|觉得|感觉|还是|挺|比较|的|了|呀|啊|吧|哦|号|投票|投|打分|评分|评价|分|星|\d"
)


def normalise(text: str) -> str:
    return text.strip().translate(_FULLWIDTH).strip("。.!！ ")


def is_bare_number(text: str) -> bool:
    return bool(_BARE_NUMBER.match(text.translate(_FULLWIDTH)))


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text.translate(_FULLWIDTH)))


def is_help(text: str) -> bool:
    return bool(_HELP.match(normalise(text)))


def looks_like_command(text: str) -> bool:
    t = normalise(text)
    return bool(_COMMAND_START.match(t) or _TICKET.search(t))


_names_of: tuple[Router, list[tuple[str, str]]] | None = None


def _brand_names(ctx: Context) -> list[tuple[str, str]]:
    """(name or alias, canonical name) of every brand, longest first.

    From the router's catalogue (kept current by the pipeline), not a query per message; worked
    out once per router."""
    global _names_of
    cached = _names_of
    if cached is not None and cached[0] is ctx.router:
        return cached[1]
    catalogue = getattr(ctx.router, "brands", None)  # test doubles of the router have none
    if catalogue is None:
        brands = ctx.session.scalars(select(Brand).options(selectinload(Brand.aliases)))
        return sorted(
            [(n, b.name) for b in brands for n in (b.name, *b.alias_names) if n],
            key=lambda p: len(p[0]),
            reverse=True,
        )
    pairs = [(n, b.name) for b in catalogue for n in (b.name, *b.aliases) if n]
    pairs.sort(key=lambda p: len(p[0]), reverse=True)
    _names_of = (ctx.router, pairs)
    return pairs


def _strip_brands(ctx: Context, text: str) -> str:
    for name, _canonical in _brand_names(ctx):
        text = text.replace(name, "")
    return text


@functools.cache
def _score_words() -> tuple[tuple[str, int], ...]:
    # The router's own table (config/router/lexicon.yaml), longest first: 不太满意 must not read as 满意.
    return load_lexicon().scores


def _word_score(text: str) -> tuple[int, str] | None:
    for word, score in _score_words():
        if word in text:
            return score, word
    return None


def clear_score(ctx: Context, text: str, hint: int | None = None) -> int | None:
    """The 1–5 score the message gives, only when it is plainly a rating.

    "4", "4分", "投3号 4分", "工惠乐学★★★★★", "对幸福驿站非常满意" are ratings; "对食堂很不满意，
    菜里有头发" is a complaint that happens to contain 不满意 and gives no score. ``hint`` is
    the router's reading of a score word it knows (满分, 十分满意 …).
    """
    t = text.translate(_FULLWIDTH)
    m = _DIGIT_SCORE.match(t)
    if m:
        return int(m.group(1))
    m = _POINTS.search(t)
    if m:
        value = m.group(1)
        return int(value) if value.isdigit() else _CN_DIGITS[value]
    stars = t.count("★")
    if 1 <= stars <= 5 and not _FILLER.sub("", _strip_brands(ctx, t.replace("★", ""))):
        return stars
    found = _word_score(t)
    score = found[0] if found is not None else hint
    if score is None:
        return None
    rest = _strip_brands(ctx, t.replace(found[1], "") if found is not None else t)
    rest = _SCORE_WORDS.sub("", _FILLER.sub("", rest))
    # A few words beside the score ("十分", "不太") are still a rating; a sentence is a comment.
    return score if len(rest) <= 2 else None


def _numbers_and_brands(ctx: Context, text: str, intent: Intent) -> list[tuple[int, str, Any]]:
    """Every target the message names, as (position, kind, value): numbers and brands."""
    t = text.translate(_FULLWIDTH)
    found: list[tuple[int, str, Any]] = []
    for m in _NUMBER_TARGET.finditer(t):
        found.append((m.start(), "number", int(m.group(1) or m.group(2))))
    taken: list[tuple[int, int]] = []
    for name, canonical in _brand_names(ctx):
        start = t.find(name)
        while start >= 0:
            end = start + len(name)
            if not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                found.append((start, "brand", canonical))
            start = t.find(name, end)
    if not found and intent.brand:
        found.append((0, "brand", intent.brand))
    if not found and intent.number is not None:
        found.append((0, "number", intent.number))
    distinct: dict[tuple[str, Any], tuple[int, str, Any]] = {}
    for pos, kind, value in sorted(found):
        distinct.setdefault((kind, value), (pos, kind, value))
    return sorted(distinct.values())


# --- options and their labels ---------------------------------------------------------------------


def option(name: str, **args: Any) -> dict[str, Any]:
    keep = {k: v for k, v in args.items() if v is not None and v is not False}
    return {"intent": name, **keep}


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


def _options_for(ctx: Context, inbound: Inbound, intent: Intent) -> list[dict[str, Any]]:
    """The intent first, then its alternatives, each with the arguments the message gave."""
    names = [intent.name, *intent.alternatives]
    if not intent.alternatives:
        names += [s for s in intent.suggestions if s != intent.name]
    out: list[dict[str, Any]] = []
    for name in names:
        if name in ("unknown", "cancel") or name not in INTENT_HANDLERS:
            continue
        opt = _option_for(name, inbound, intent)
        if opt not in out:
            out.append(opt)
    return out[:4]


def _option_for(name: str, inbound: Inbound, intent: Intent) -> dict[str, Any]:
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


@on_flow(FLOW)
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
    handler = INTENT_HANDLERS.get(intent.name)
    if handler is None:
        return Reply(texts.FEATURE_NOT_OPEN)
    kind = inbound.kind if inbound.kind in ("text", "voice") else "text"
    return handler(ctx, replace(inbound, kind=kind, content=original), intent)


# Flows register how to ask their pending question again (after "继续" or 帮助).
FlowPrompt = Callable[[Context, Conversation], str]
FLOW_PROMPTS: dict[str, FlowPrompt] = {}


def flow_prompt(flow: str) -> Callable[[FlowPrompt], FlowPrompt]:
    def decorator(fn: FlowPrompt) -> FlowPrompt:
        FLOW_PROMPTS[flow] = fn
        return fn

    return decorator


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


def flow_label(flow: str) -> str:
    return texts.FLOW_LABELS.get(flow, texts.FLOW_LABELS["default"])


# --- the policy ------------------------------------------------------------------------------------


def unknown_text(intent: Intent | None = None) -> str:
    lines = [texts.UNKNOWN]
    guesses = [
        texts.INTENT_LABELS[s] for s in (intent.suggestions if intent else ()) if s in texts.INTENT_LABELS
    ]
    if guesses:
        lines.append(texts.DID_YOU_MEAN)
        lines.extend(f"· {g}" for g in guesses[:3])
    else:
        lines.append(texts.CAN_DO)
    lines.append(texts.UNKNOWN_TAIL)
    return "\n".join(lines)


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
        return ask_back(ctx, inbound, _options_for(ctx, inbound, intent))
    return None


def _mixed(text: str, own: str) -> list[str]:
    """Other intents whose command words appear beside ``own``'s."""
    return [name for name, rx in _FAMILIES if name != own and rx.search(text)]


def _mixed_options(ctx: Context, inbound: Inbound, intent: Intent, others: list[str]) -> list[dict[str, Any]]:
    text = inbound.text
    ticket = _TICKET.search(text)
    opts = _options_for(ctx, inbound, intent)
    for name in others:
        if name == "status" and ticket:
            opt = option("status", ticket=re.sub(r"\s", "", ticket.group(0)).upper())
        else:
            opt = _option_for(name, inbound, intent)
        if opt not in opts:
            opts.append(opt)
    return opts[:4]


def _vote_gate(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    text = to_simplified(inbound.text)  # 投票給工惠樂學 names 工惠乐学 literally
    others = _mixed(text, "vote")
    if len(others) >= 1 and not (others == ["suggest"] and intent.score is not None):
        return ask_back(ctx, inbound, _mixed_options(ctx, inbound, intent, others), lead=texts.ASK_LEAD_MIXED)
    targets = _numbers_and_brands(ctx, text, intent)
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
        name in text for name, canonical in _brand_names(ctx) if canonical == value
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


# --- replies that echo the worker's text ---------------------------------------------------------------


def fit_echo(template: str, text: str, limit: int = REPLY_LIMIT_BYTES) -> str:
    """``template`` with ``{text}`` filled, the echo shortened so the whole reply fits ``limit``
    bytes: what the worker must reply (回复1确认…) is never the part that is cut."""
    full = template.format(text=text)
    if len(full.encode()) <= limit:
        return full
    room = limit - len(template.format(text="").encode())
    tail = texts.ECHO_CUT.format(n=len(text))
    room -= len(tail.encode())
    cut = text.encode()[: max(room, 0)].decode("utf-8", errors="ignore")
    return template.format(text=cut + tail)


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
    rest = _strip_brands(ctx, text)
    command = looks_like_command(rest) if rest.strip() else False
    if not command and (not is_question(text) or conv.flow == "suggest"):
        return None  # a suggestion may well be a question ("活动为什么总是取消？")
    intent = ctx.router.route(text)
    if intent.name == own or intent.name in ("unknown", "cancel"):
        return None
    if not command and not (intent.name in ("status", "vote", "list") and intent.brand):
        return None  # a question that is an answer ("为什么不能多选？" in a text question)
    name = "status" if intent.name == "vote" and not command else intent.name
    opt = _option_for(name, inbound, intent)
    ticket = _TICKET.search(text)
    if name == "status" and ticket:
        opt = option("status", ticket=re.sub(r"\s", "", ticket.group(0)).upper())
    flow = flow_label(conv.flow)
    opt["leave"] = flow
    saved = {"flow": conv.flow, "data": dict(conv.data), "expires_at": conv.expires_at.isoformat()}
    options = [opt, option(CONTINUE, flow_label=flow)]
    return ask_back(ctx, inbound, options, lead=texts.FLOW_INTERRUPT.format(flow=flow), return_to=saved)
