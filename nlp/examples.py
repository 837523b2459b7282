"""The router's labelled files: brand catalogues and evaluation/training examples (read, not generated).

Read by the operators' commands (``nlp.cli``) and by training (``nlp.train``); both import them
from here, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nlp.intent import INTENTS, BrandEntry


class InputError(ValueError):
    """A brands or evaluation file the operator must fix (Chinese message)."""


def read_brands(path: Path) -> list[BrandEntry]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"无法读取品牌文件 {path}：{exc}") from exc
    brands: list[BrandEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, *aliases = (part.strip() for part in line.split("|"))
        if not name:
            raise InputError(f"品牌文件 {path} 第 {number} 行：品牌名为空。")
        if name in seen:
            raise InputError(f"品牌文件 {path} 第 {number} 行：品牌「{name}」重复。")
        seen.add(name)
        brands.append(BrandEntry(name, tuple(a for a in aliases if a)))
    return brands


@dataclass(frozen=True)
class Example:
    line: int
    intent: str
    brand: str | None
    number: int | None
    score: int | None
    ticket: str | None
    anonymous: bool
    text: str | None  # checked only when given
    message: str
    source: str = ""  # file name, when several files are evaluated together


def read_examples(path: Path) -> tuple[list[Example], Path | None]:
    """``intent | brand | args | message``; args ``number=3;score=5;ticket=…;anon;text=…``.

    A line ``@brands FILE`` names the catalogue (relative to the evaluation file).
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"无法读取评测文件 {path}：{exc}") from exc
    examples: list[Example] = []
    brands_path: Path | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@brands"):
            brands_path = path.parent / line.removeprefix("@brands").strip()
            continue
        parts = [p.strip() for p in raw.split("|", 3)]
        if len(parts) != 4 or parts[0] not in INTENTS:
            raise InputError(f"评测文件 {path} 第 {number} 行格式错误：应为「意图 | 品牌 | 参数 | 消息」。")
        fields: dict[str, str] = {}
        for item in filter(None, (a.strip() for a in parts[2].split(";"))):
            key, _, value = item.partition("=")
            fields[key.strip()] = value.strip()
        unknown = set(fields) - {"number", "score", "ticket", "anon", "text"}
        if unknown:
            raise InputError(f"评测文件 {path} 第 {number} 行：未知参数 {'、'.join(sorted(unknown))}。")
        try:
            examples.append(
                Example(
                    line=number,
                    intent=parts[0],
                    brand=parts[1] or None,
                    number=int(fields["number"]) if "number" in fields else None,
                    score=int(fields["score"]) if "score" in fields else None,
                    ticket=fields.get("ticket"),
                    anonymous="anon" in fields,
                    text=fields.get("text"),
                    message=parts[3],
                    source=path.name,
                )
            )
        except ValueError as exc:
            raise InputError(f"评测文件 {path} 第 {number} 行：参数应为整数（{exc}）。") from exc
    return examples, brands_path
