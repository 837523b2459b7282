"""Factories for the brand programme's tests; they flush, never commit."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.gates import ALLOWED
from handlers.programme.recognition_hook import RecognitionProvider
from handlers.registry import Registry
from models import Brand, Role, Union, UnionKind, User, utcnow
from models.programme import Assessment, AssessmentScore, Decision, ProgressReport, Standard
from tests.factories import make_user, standard_registry


def png_bytes(seed: int = 0, padding: int = 0) -> bytes:
    """A valid 1×1 PNG; ``seed`` changes its colour (and hash), ``padding`` its size."""
    raw = b"\x00" + (seed & 0xFFFFFF).to_bytes(3, "big")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)))
    out.write(chunk(b"IDAT", zlib.compress(raw)))
    if padding:
        out.write(chunk(b"tEXt", b"pad\x00" + b"x" * padding))
    out.write(chunk(b"IEND", b""))
    return out.getvalue()


def jpeg_bytes(seed: int = 0) -> bytes:
    return b"\xff\xd8\xff\xe0" + b"JFIF\x00" + seed.to_bytes(4, "big") + b"\xff\xd9"


def make_cadre(session: Session, union: Union, **overrides: Any) -> User:
    return make_user(session, role=Role.CADRE, union_id=union.id, union_source="invite", **overrides)


def make_report(
    session: Session, brand: Brand, text: str = "开展培训12场", at: datetime | None = None
) -> ProgressReport:
    report = ProgressReport(brand_id=brand.id, text=text, created_at=at or utcnow())
    session.add(report)
    session.flush()
    return report


PLAN = {
    "goals": "覆盖全市职工",
    "measures": ["建学习点", "送课下基层"],
    "long_term": "三年规划",
    "this_year": "年度计划",
}


def five_scores(score: float = 80, reports: tuple[int, ...] = ()) -> dict[str, Any]:
    """Self-evaluation scores; ``reports`` are cited under 有丰富载体 (a round needs one)."""
    scores: dict[str, Any] = {s.value: {"score": score, "evidence": f"{s.label}的证明材料"} for s in Standard}
    scores[Standard.CARRIERS.value]["reports"] = list(reports)
    return scores


def four_scores(score: float = 70, reports: tuple[int, ...] = ()) -> dict[str, Any]:
    scores: dict[str, Any] = {s.value: {"score": score} for s in Standard if s != Standard.RECOGNITION}
    scores[Standard.CARRIERS.value]["reports"] = list(reports)
    return scores


def add_review(session: Session, brand: Brand, decision: Decision, at: datetime | None = None) -> Assessment:
    """A review row without the transition review() makes, to test the gate by itself."""
    a = Assessment(
        brand_id=brand.id,
        kind="review",
        author="上级",
        decision=decision,
        comments="意见",
        created_at=at or utcnow(),
    )
    a.scores = [AssessmentScore(standard=s, score=70, report_ids=[], photo_ids=[]) for s in Standard]
    session.add(a)
    session.flush()
    return a


def satisfy_gate(session: Session, brand: Brand, to: Any) -> None:
    """Provide whatever evidence moving ``brand`` to ``to`` asks for."""
    gate = ALLOWED.get((brand.stage, to))
    now = utcnow()
    if gate == "plan":
        ops.save_plan(session, brand, PLAN, Actor.admin("张三"), now)
    elif gate == "progress_and_self_evaluation":
        report = make_report(session, brand)
        ops.self_evaluate(session, brand, five_scores(reports=(report.id,)), Actor.admin("张三"), now)
    elif gate in {d.value for d in Decision}:
        add_review(session, brand, Decision(gate), now)


@contextmanager
def recognition_provider(provider: RecognitionProvider, registry: Registry | None = None) -> Iterator[None]:
    """Put ``provider`` in ``registry`` (default: the handler tests' registry) for one block."""
    target = registry or standard_registry()
    previous = target.recognition
    target.recognition = provider
    try:
        yield
    finally:
        target.recognition = previous


def add_province(session: Session) -> Union:
    """The root of a generated union tree (fast bulk trees for coverage tests and benches)."""
    province = Union(code="P", name="省总工会", kind=UnionKind.PROVINCE)
    session.add(province)
    session.flush()
    province.path = f"/{province.id}/"
    return province


def add_union_level(
    session: Session, kind: UnionKind, parents: list[Union], per_parent: int, prefix: str
) -> list[Union]:
    """``per_parent`` children of ``kind`` under each parent, paths set in one flush per level."""
    made = [
        Union(code=f"{prefix}{p.id}-{i}", name=f"{kind.label}{p.id}-{i}", kind=kind, parent_id=p.id)
        for p in parents
        for i in range(per_parent)
    ]
    session.add_all(made)
    session.flush()
    paths = {p.id: p.path for p in parents}
    for u in made:
        assert u.parent_id is not None
        u.path = f"{paths[u.parent_id]}{u.id}/"
    return made
