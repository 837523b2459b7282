"""Importing the union tree: codes, names, kinds, parents (checked for cycles) and member counts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.programme.imports.files import ImportFailed, ImportResult, Row
from handlers.programme.union_tree import OrgError, upsert_union
from models import Union, UnionKind

ORG_COLUMNS = ("code", "name", "parent_code", "kind")


def import_orgs(session: Session, rows: Iterable[tuple[int, Row]]) -> ImportResult:
    rows = list(rows)
    errors: list[str] = []
    label_to_kind = {k.label: k.value for k in UnionKind}
    kinds = {k.value for k in UnionKind} | set(label_to_kind)
    existing = {u.code: u for u in session.scalars(select(Union))}
    seen: dict[str, int] = {}
    parent_of: dict[str, str | None] = {
        code: (u.parent.code if u.parent else None) for code, u in existing.items()
    }
    clean: list[tuple[int, Row]] = []
    for line, row in rows:
        code, name, kind = row.get("code", ""), row.get("name", ""), row.get("kind", "")
        problems = []
        if not code:
            problems.append("工会代码（code）为空")
        elif len(code) > 64:
            problems.append("工会代码超过 64 个字符")
        elif code in seen:
            problems.append(f"工会代码 {code} 与第{seen[code]}行重复")
        if not name:
            problems.append("工会名称（name）为空")
        if kind not in kinds:
            problems.append(f"工会类型 {kind!r} 无效，应为：{'、'.join(k.value for k in UnionKind)}")
        members = row.get("members", "")
        if members and (not members.isdigit()):
            problems.append(f"会员人数 {members!r} 应为非负整数")
        if row.get("parent_code") == code and code:
            problems.append("上级工会不能是自己")
        if problems:
            errors.append(f"第{line}行：{'；'.join(problems)}")
            continue
        seen[code] = line
        row["kind"] = label_to_kind.get(kind, kind)
        parent_of[code] = row.get("parent_code") or None
        clean.append((line, row))
    for line, row in clean:
        parent = row.get("parent_code")
        if parent and parent not in parent_of:
            errors.append(f"第{line}行：上级工会代码 {parent} 不存在（文件和数据库中都没有）")
    if not errors:
        errors.extend(_cycles(clean, parent_of))
    if errors:
        raise ImportFailed(errors)

    result = ImportResult()
    for line, row in _parents_first(clean, existing):
        try:
            upsert_union(
                session,
                row["code"],
                row["name"],
                row["kind"],
                row.get("parent_code") or None,
                int(row["members"]) if row.get("members") else None,
            )
        except OrgError as exc:
            raise ImportFailed([f"第{line}行：{exc}"]) from exc
        if row["code"] in existing:
            result.updated += 1
        else:
            result.created += 1
    if result.updated:
        _repath(session)  # a moved union carries its whole subtree
    return result


def _cycles(clean: list[tuple[int, Row]], parent_of: dict[str, str | None]) -> list[str]:
    errors = []
    for line, row in clean:
        node: str | None = row["code"]
        steps = 0
        while node is not None and steps <= len(parent_of):
            node = parent_of.get(node)
            steps += 1
            if node == row["code"]:
                errors.append(f"第{line}行：上级关系形成循环（{row['code']} 最终成为自己的下级）")
                break
    return errors


def _parents_first(clean: list[tuple[int, Row]], existing: dict[str, Union]) -> list[tuple[int, Row]]:
    by_code = {row["code"]: (line, row) for line, row in clean}
    done: set[str] = set()
    ordered: list[tuple[int, Row]] = []

    def visit(code: str) -> None:
        if code in done or code not in by_code:
            return
        done.add(code)
        parent = by_code[code][1].get("parent_code")
        if parent:
            visit(parent)
        ordered.append(by_code[code])

    for _, row in clean:
        visit(row["code"])
    return ordered


def _repath(session: Session) -> None:
    unions = list(session.scalars(select(Union).order_by(Union.id)))
    children: dict[int | None, list[Union]] = {}
    for union in unions:
        children.setdefault(union.parent_id, []).append(union)
    stack = [(u, "/") for u in children.get(None, [])]
    while stack:
        union, prefix = stack.pop()
        union.path = f"{prefix}{union.id}/"
        stack.extend((c, union.path) for c in children.get(union.id, []))
    session.flush()
