"""Act only on clear intent: one policy for every message that would record something.

A vote, a rating, a suggestion, a binding or a progress report is recorded only when the
router is sure enough (``act`` in config/router/policy.yaml), the arguments it needs are there
and single, and the message is not a question. This module holds the policy and the reading of
a message (bare numbers, questions, scores, the targets it names), options and flow prompts.
``intent_gates`` decides when to act; otherwise ``asking_back`` asks with numbered choices (an
``ask_back`` conversation) and the answer resumes exactly the chosen action with the original
arguments. Flows use the same modules to recognise help, menu clicks and a clearly different
request instead of storing them as answers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from config import texts
from handlers.context import Context
from models import Brand, Conversation
from nlp import Intent, Router
from nlp.lexicon import load_lexicon

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
# A score written as a number of points or stars.
_POINTS = re.compile(r"(?<!\d)([1-5]|[一二三四五])\s*颗?\s*[分星]")
_NUMBER_TARGET = re.compile(r"(?<![\dJjYy-])(\d{1,3})\s*号|第\s*(\d{1,3})\s*[个名位号]")
_HELP = re.compile(r"^(帮助|help|菜单|使用说明|怎么用|说明|功能)$", re.IGNORECASE)
TICKET = re.compile(r"JY\s*\d{8}\s*-?\s*\d{4}", re.IGNORECASE)
# A message that starts like a request of its own (inside a flow: not an answer).
_COMMAND_START = re.compile(
    r"^(查询|查一下|查看|查|我的建议|我的意见|我的投诉|候选|名单|排名|投票|投\s*\d|问卷|满意度调查|"
    r"绑定|上报|汇报|我要(提)?(建议|投诉|意见|投票)|建议[:：]|投诉[:：]|意见[:：])"
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
    return bool(_COMMAND_START.match(t) or TICKET.search(t))


_names_of: tuple[Router, list[tuple[str, str]]] | None = None


def brand_names(ctx: Context) -> list[tuple[str, str]]:
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


def strip_brands(ctx: Context, text: str) -> str:
    for name, _canonical in brand_names(ctx):
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
    if 1 <= stars <= 5 and not _FILLER.sub("", strip_brands(ctx, t.replace("★", ""))):
        return stars
    found = _word_score(t)
    score = found[0] if found is not None else hint
    if score is None:
        return None
    rest = strip_brands(ctx, t.replace(found[1], "") if found is not None else t)
    rest = _SCORE_WORDS.sub("", _FILLER.sub("", rest))
    # A few words beside the score ("十分", "不太") are still a rating; a sentence is a comment.
    return score if len(rest) <= 2 else None


def numbers_and_brands(ctx: Context, text: str, intent: Intent) -> list[tuple[int, str, Any]]:
    """Every target the message names, as (position, kind, value): numbers and brands."""
    t = text.translate(_FULLWIDTH)
    found: list[tuple[int, str, Any]] = []
    for m in _NUMBER_TARGET.finditer(t):
        found.append((m.start(), "number", int(m.group(1) or m.group(2))))
    taken: list[tuple[int, int]] = []
    for name, canonical in brand_names(ctx):
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


# --- options, flow prompts, fallback text ----------------------------------------------------------


def option(name: str, **args: Any) -> dict[str, Any]:
    keep = {k: v for k, v in args.items() if v is not None and v is not False}
    return {"intent": name, **keep}


# Flows register how to ask their pending question again (after "继续" or 帮助).
FlowPrompt = Callable[[Context, Conversation], str]
FLOW_PROMPTS: dict[str, FlowPrompt] = {}


def flow_prompt(flow: str) -> Callable[[FlowPrompt], FlowPrompt]:
    def decorator(fn: FlowPrompt) -> FlowPrompt:
        FLOW_PROMPTS[flow] = fn
        return fn

    return decorator


def flow_label(flow: str) -> str:
    return texts.FLOW_LABELS.get(flow, texts.FLOW_LABELS["default"])


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
