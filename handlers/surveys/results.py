"""Survey results: per question the counts and percentages (each with its base), scale means
with 95% t intervals, text keywords, and the breakdown by respondent group (W, G, S)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from handlers.glossary import SURVEY_GROUP_LABELS
from handlers.statistics import mean, mean_interval
from handlers.surveys.queries import Respondents, completed
from handlers.surveys.templates import DONT_KNOW, GROUPS, Question, Template, templates
from models import SurveyResponse
from nlp.keywords import top_keywords

MIN_GROUP_N = 5  # smaller groups are suppressed in breakdowns
GROUP_LABELS = SURVEY_GROUP_LABELS  # the glossary's names of the survey groups
# Rosters differ by area, so a brand's share is of those shown it, not of all who answered.
ROSTER_BASE_NOTE = "各品牌的百分比以看到该品牌的人数为底数"
ROSTER_BASE_EACH = "（看到该品牌的 {n} 人中）"


def _scale_stats(values: Sequence[int]) -> dict[str, Any]:
    # Exact Student-t quantile at every df (the one statistics module the index uses too).
    return {"n": len(values), "mean": mean(values), "ci": mean_interval(values)}


def _question_rows(tpl: Template, responses: list[SurveyResponse]) -> list[tuple[str, Question, str]]:
    """(answer key, question, display title) for every question incl. per-brand ratings."""
    brand_ids = sorted({b["id"] for r in responses for b in r.plan.get("rated", [])})
    out: list[tuple[str, Question, str]] = []
    for q in tpl.questions:
        if q.type == "brand_ratings":
            names = {b["id"]: b["name"] for r in responses for b in r.plan.get("rated", [])}
            for bid in brand_ids:
                for item in q.items:
                    out.append((f"{item.id}:{bid}", item, item.text.replace("{brand}", names[bid])))
        else:
            out.append((q.id, q, q.text))
    return out


def _summarise(key: str, q: Question, responses: list[SurveyResponse]) -> dict[str, Any]:
    answered = [r.answers[key] for r in responses if r.answers.get(key) is not None]
    result: dict[str, Any] = {"key": key, "type": q.type, "n": len(answered)}
    if q.type in ("single", "yesno", "multiple"):
        counts = [0] * len(q.options)
        for value in answered:
            for code in value if isinstance(value, list) else [value]:
                counts[int(code) - 1] += 1
        result["options"] = [
            (opt, c, (100.0 * c / len(answered)) if answered else 0.0)
            for opt, c in zip(q.options, counts, strict=True)
        ]
        result["bases"] = [len(answered)] * len(q.options)  # every percentage is of those who answered
    elif q.type == "scale":
        result["dont_know"] = sum(1 for v in answered if v == DONT_KNOW)
        result.update(_scale_stats([v for v in answered if isinstance(v, int)]))
    elif q.type == "text":
        result["keywords"] = top_keywords([str(v) for v in answered], 10)
    return result


def _roster_summary(q: Question, responses: list[SurveyResponse], session: Session) -> dict[str, Any]:
    """Each brand's share of those who were shown it (rosters differ by area), among those who
    answered the question; ``bases`` holds those denominators, stated beside each percentage."""
    answered = [r for r in responses if q.id in r.answers]
    shown: dict[str, int] = {}
    ticked: dict[str, int] = {}
    for r in answered:
        roster = r.plan.get("roster", [])
        for item in roster:
            name = item["name"] if item["id"] is not None else "（干扰项）"
            shown[name] = shown.get(name, 0) + 1
        for code in r.answers.get(q.id) or []:
            item = roster[code - 1]
            name = item["name"] if item["id"] is not None else "（干扰项）"
            ticked[name] = ticked.get(name, 0) + 1
    rows = sorted((name, ticked.get(name, 0), n) for name, n in shown.items())
    return {
        "key": q.id,
        "type": "roster",
        "n": len(answered),
        "options": [(name, count, 100.0 * count / n) for name, count, n in rows],
        "bases": [n for _name, _count, n in rows],
    }


def survey_results(
    session: Session, key: str, since: date | None = None, within: Respondents | None = None
) -> dict[str, Any]:
    tpl = templates()[key]
    responses = completed(session, key, since, within)
    by_group = {g: [r for r in responses if r.respondent_group == g] for g in GROUPS}
    questions = []
    for akey, q, title in _question_rows(tpl, responses):
        if q.type == "roster":
            overall = _roster_summary(q, responses, session)
        else:
            overall = _summarise(akey, q, responses)
        overall["title"] = title
        groups: dict[str, Any] = {}
        if q.type in ("scale", "single", "yesno", "multiple"):
            for g, rows in by_group.items():
                if not rows:
                    continue
                groups[g] = None if len(rows) < MIN_GROUP_N else _summarise(akey, q, rows)
        overall["groups"] = groups
        questions.append(overall)
    return {
        "key": key,
        "title": tpl.title,
        "n": len(responses),
        "groups": {g: len(rows) for g, rows in by_group.items()},
        "questions": questions,
    }


def scoped_results(session: Session, key: str, since: date | None, within: Respondents) -> dict[str, Any]:
    """``survey_results`` for a dashboard scope: below ``MIN_GROUP_N`` respondents in the scope no
    answer is shown at all (a county with three respondents would otherwise show each one's
    answers); breakdowns by group are suppressed per group by ``survey_results`` itself."""
    results = survey_results(session, key, since, within)
    results["suppressed"] = results["n"] < MIN_GROUP_N
    if results["suppressed"]:
        results["questions"] = []  # too few respondents in this scope to show answers
    return results
