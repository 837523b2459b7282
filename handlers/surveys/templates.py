"""Survey templates (问卷模板): the YAML files in config/surveys, parsed and checked once.

A template is a key, a title and its questions; a ``Step`` is one question as a respondent is
asked it (a brand-rating item is asked once per brand the respondent rates).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from handlers.errors import OperationError

SURVEY_DIR = Path(__file__).resolve().parents[2] / "config" / "surveys"
QUESTION_TYPES = ("single", "multiple", "scale", "yesno", "text", "roster", "brand_ratings")
GROUPS = ("W", "G", "S")
DONT_KNOW = "dk"
YESNO = ("是", "否")


class TemplateError(OperationError):
    """A survey template that cannot be used (message names the file and question)."""


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    options: tuple[str, ...] = ()
    max: int | None = None  # multiple: most options; scale: top of the scale
    min: int = 1
    optional: bool = False
    dont_know: bool = False
    max_chars: int = 200
    show_if: tuple[str, tuple[str, ...]] | None = None
    brand: str | None = None
    measure: str | None = None
    none_option: str | None = None
    # brand_ratings only (how many brands a ballot rates: rating_followups_per_ballot in recognition.yaml)
    source: str | None = None
    items: tuple[Question, ...] = ()


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    questions: tuple[Question, ...]
    default: bool = False
    active: bool = True


@dataclass(frozen=True)
class Step:
    """One question as asked: a template question, maybe bound to a brand."""

    key: str
    question: Question
    brand_id: int | None = None
    brand_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        name = self.brand_name or self.question.brand or ""
        return self.question.text.replace("{brand}", name)


def _question(raw: dict[str, Any], where: str, seen: set[str]) -> Question:
    qid = str(raw.get("id", ""))
    qtype = str(raw.get("type", ""))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", qid) or qid in seen:
        raise TemplateError(f"{where}: 题目 id「{qid}」无效或重复（小写字母、数字、下划线）")
    seen.add(qid)
    if qtype not in QUESTION_TYPES:
        raise TemplateError(f"{where}/{qid}: 题型「{qtype}」无效，可用：{', '.join(QUESTION_TYPES)}")
    options = tuple(str(o) for o in raw.get("options", []))
    if qtype == "yesno":
        options = YESNO
    if qtype in ("single", "multiple") and len(options) < 2:
        raise TemplateError(f"{where}/{qid}: 选择题至少需要 2 个选项")
    show_if = None
    if "show_if" in raw:
        cond = raw["show_if"]
        values = cond.get("in", cond.get("equals"))
        values = values if isinstance(values, list) else [values]
        show_if = (str(cond["question"]), tuple(str(v) for v in values))
        if show_if[0] not in seen:
            raise TemplateError(f"{where}/{qid}: show_if 只能引用前面的题目")
    items: tuple[Question, ...] = ()
    if qtype == "brand_ratings":
        items = tuple(_question(i, f"{where}/{qid}", seen) for i in raw.get("items", []))
        if not items or any(i.type != "scale" for i in items):
            raise TemplateError(f"{where}/{qid}: 品牌评分题的 items 必须是量表题")
        if "max_brands" in raw:  # one source: the index's parameters are frozen per round
            raise TemplateError(
                f"{where}/{qid}: 每张答卷评价几个品牌由 config/recognition.yaml 的 "
                "rating_followups_per_ballot 决定，问卷模板不能另设 max_brands"
            )
    scale_max = 5 if qtype == "scale" else None
    return Question(
        id=qid,
        type=qtype,
        text=str(raw.get("text", "")),
        options=options,
        max=int(raw["max"]) if "max" in raw else (scale_max if qtype == "scale" else None),
        min=int(raw.get("min", 1)),
        optional=bool(raw.get("optional", False)),
        dont_know=bool(raw.get("dont_know", False)),
        max_chars=int(raw.get("max_chars", 200)),
        show_if=show_if,
        brand=raw.get("brand"),
        measure=raw.get("measure"),
        none_option=raw.get("none_option"),
        source=raw.get("from"),
        items=items,
    )


def parse_template(data: dict[str, Any], where: str = "template") -> Template:
    seen: set[str] = set()
    questions = tuple(_question(q, where, seen) for q in data.get("questions", []))
    if not questions:
        raise TemplateError(f"{where}: 问卷没有题目")
    return Template(
        key=str(data["key"]),
        title=str(data["title"]),
        questions=questions,
        default=bool(data.get("default", False)),
        active=bool(data.get("active", True)),
    )


@functools.cache
def templates() -> dict[str, Template]:
    found: dict[str, Template] = {}
    for path in sorted(SURVEY_DIR.glob("*.yaml")):
        tpl = parse_template(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
        if tpl.key in found:
            raise TemplateError(f"{path.name}: 问卷 key「{tpl.key}」重复")
        found[tpl.key] = tpl
    return found


def default_template() -> Template | None:
    active = [t for t in templates().values() if t.active]
    for tpl in active:
        if tpl.default:
            return tpl
    return active[0] if active else None


def question_count(tpl: Template) -> int:
    """How many questions the template asks at most once each (a brand-rating item counts once)."""
    return sum(len(q.items) if q.type == "brand_ratings" else 1 for q in tpl.questions)
