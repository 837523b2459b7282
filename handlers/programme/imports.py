"""Importing the union tree, brands and member lists from CSV or XLSX.

Every row is checked before anything is written; any bad row fails the whole import with
its line number (the header is line 1), so nothing is ever half-imported. Re-importing the
same codes updates the rows in place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.programme.binding import hash_card, normalise_card
from handlers.programme.brands import BrandError, upsert_brand
from handlers.programme.gates import STAGE_ORDER, LifecycleError, path_problem
from handlers.programme.operations import advance, parse_stage, record_transition
from handlers.programme.union_tree import OrgError, upsert_union
from models import Brand, BrandAlias, Stage, Union, UnionKind
from models.admin import AdminAccount, AdminRole
from models.programme import MemberCard

Row = dict[str, str]


class ImportFailed(ValueError):
    """The whole import was refused; ``errors`` are Chinese lines, each naming its row."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    notes: list[str] = field(default_factory=list)


def read_rows(path: Path, required: Sequence[str]) -> list[tuple[int, Row]]:
    """(line number, row) pairs from a CSV (UTF-8, with or without BOM) or XLSX file."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        raw = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFailed(
                ["文件不是 UTF-8 编码。请在 Excel 中“另存为 CSV UTF-8”，或直接导入 .xlsx 文件。"]
            ) from None
        raw = list(csv.reader(io.StringIO(text)))
    else:
        raise ImportFailed([f"不支持的文件类型 {suffix or '（无扩展名）'}：请使用 .csv 或 .xlsx"])
    if not raw:
        raise ImportFailed(["文件为空"])
    header = [h.strip().lower() for h in raw[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed([f"第1行（表头）缺少列：{'、'.join(missing)}；应包含：{','.join(required)}"])
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines are common at the end of spreadsheets
        row = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header) if h}
        rows.append((number, row))
    return rows


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise ImportFailed([f"无法读取 Excel 文件：{exc}"]) from exc
    sheet = book.worksheets[0]
    rows = [["" if v is None else _cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 12 as 12.0
    return str(value)


# --- unions ---------------------------------------------------------------------------------

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


# --- brands ---------------------------------------------------------------------------------

BRAND_COLUMNS = ("name", "org_code")


def stage_authority_problem(account: AdminAccount | None, unions: Iterable[Union]) -> str | None:
    """Why ``account`` may not set the stage of a brand of ``unions`` by import, or None.

    Only an admin of a union strictly above the brand's may: the brand's own union must not
    promote its own brand past the gates by file.
    """
    if account is None:
        return "导入时设定品牌阶段须由上级工会的管理员账号操作"
    if account.role is not AdminRole.ADMIN:
        return "导入时设定品牌阶段须由上级工会的管理员操作，当前账号不是管理员"
    for union in unions:
        if union.id == account.union_id or not union.path.startswith(account.union.path):
            return f"只有「{union.name}」的上级工会管理员才能在导入时设定其品牌的阶段"
    return None


def import_brands(
    session: Session,
    rows: Iterable[tuple[int, Row]],
    now: datetime,
    actor: str = "导入",
    account: AdminAccount | None = None,
) -> ImportResult:
    """Brands from a file. New brands start at 品牌提出; a stage column may carry a brand further
    only when every step's gate is met by evidence already recorded, and only for an admin of a
    superior union (``account``). Each step is a timeline entry naming the importer."""
    rows = list(rows)
    errors: list[str] = []
    codes = set(session.scalars(select(Union.code)))
    db_names = {b.name: b.id for b in session.scalars(select(Brand))}
    db_aliases = {a.alias: a.brand.name for a in session.scalars(select(BrandAlias))}
    names_in_file: dict[str, int] = {}
    parsed: list[tuple[int, Row, list[str], Stage | None]] = []
    for line, row in rows:
        name, code = row.get("name", ""), row.get("org_code", "")
        aliases = [a.strip() for a in row.get("aliases", "").replace("；", ";").split(";") if a.strip()]
        problems = []
        if not name:
            problems.append("品牌名称（name）为空")
        elif len(name) > 100:
            problems.append("品牌名称超过 100 个字符")
        elif name in names_in_file:
            problems.append(f"品牌名称「{name}」与第{names_in_file[name]}行重复")
        if not code:
            problems.append("所属工会代码（org_code）为空")
        elif code not in codes:
            problems.append(f"所属工会代码 {code} 不存在，请先导入工会组织")
        stage = None
        if row.get("stage"):
            try:
                stage = parse_stage(row["stage"])
            except LifecycleError as exc:
                problems.append(str(exc))
        if stage is not None and not problems:
            problems.extend(_stage_problems(session, name, code, stage, account))
        if problems:
            errors.append(f"第{line}行：{'；'.join(problems)}")
            continue
        names_in_file[name] = line
        parsed.append((line, row, aliases, stage))
    # Aliases against every brand name and alias: those in the database, except the aliases of
    # brands this file re-imports (the file's list replaces theirs), and those in the file.
    file_brands = set(names_in_file)
    all_names = set(db_names) | file_brands
    owner_of = {a: owner for a, owner in db_aliases.items() if owner not in file_brands}
    owner_line: dict[str, int] = {}
    for line, row, aliases, _ in parsed:
        for alias in aliases:
            if alias == row["name"]:
                continue
            owner = owner_of.get(alias)
            if alias in all_names:
                errors.append(f"第{line}行：别名「{alias}」与品牌「{alias}」的名称相同")
            elif owner is not None and owner != row["name"]:
                where = f"第{owner_line[alias]}行的" if alias in owner_line else ""
                errors.append(f"第{line}行：别名「{alias}」已属于{where}品牌「{owner}」")
            else:
                owner_of[alias], owner_line[alias] = row["name"], line
    for line, row, _, _ in parsed:
        owner = owner_of.get(row["name"])
        if owner is not None and owner != row["name"]:
            errors.append(f"第{line}行：品牌名称「{row['name']}」已是品牌「{owner}」的别名")
    if errors:
        raise ImportFailed(errors)

    result = ImportResult()
    # Aliases move between brands in one file only after every old owner has let go of them.
    for _, row, _, _ in parsed:
        brand = session.scalar(select(Brand).where(Brand.name == row["name"]))
        if brand is not None:
            brand.aliases = []
    session.flush()
    for line, row, aliases, stage in parsed:
        before = session.scalar(select(Brand).where(Brand.name == row["name"]))
        old_stage = before.stage if before is not None else None
        try:
            brand = upsert_brand(session, row["name"], row["org_code"], aliases, None)
        except BrandError as exc:
            raise ImportFailed([f"第{line}行：{exc}"]) from exc
        if before is None:
            result.created += 1
            record_transition(session, brand, Stage.PROPOSED, actor, "导入品牌", now)
        else:
            result.updated += 1
        if stage is not None and stage != (old_stage or Stage.PROPOSED):
            assert account is not None  # checked with every row above
            reason = f"导入（{account.union.name}管理员 {account.username}），各步条件已核验"
            try:
                for step in STAGE_ORDER[STAGE_ORDER.index(brand.stage) + 1 : STAGE_ORDER.index(stage) + 1]:
                    advance(session, brand, step, actor, reason, now)
            except LifecycleError as exc:
                raise ImportFailed([f"第{line}行：{exc}"]) from exc
    return result


def _stage_problems(
    session: Session, name: str, code: str, stage: Stage, account: AdminAccount | None
) -> list[str]:
    """Why a row may not put its brand at ``stage`` (empty when it may, or it is no change)."""
    brand = session.scalar(select(Brand).where(Brand.name == name))
    if stage == (brand.stage if brand is not None else Stage.PROPOSED):
        return []
    union = session.scalar(select(Union).where(Union.code == code))
    assert union is not None  # the row's code was checked first
    unions = [union] if brand is None or brand.union_id == union.id else [brand.union, union]
    problems = []
    authority = stage_authority_problem(account, unions)
    if authority is not None:
        problems.append(authority)
    gate = path_problem(session, brand, stage)
    if gate is not None:
        problems.append(f"不能直接导入为「{stage.label}」：{gate}")
    return problems


# --- member list ----------------------------------------------------------------------------

MEMBER_COLUMNS = ("org_code", "card_no")


def import_members(session: Session, rows: Iterable[tuple[int, Row]], salt: bytes) -> ImportResult:
    errors: list[str] = []
    unions = {u.code: u.id for u in session.scalars(select(Union))}
    seen: dict[str, int] = {}
    clean: list[tuple[str, int]] = []
    for line, row in rows:
        code, card = row.get("org_code", ""), normalise_card(row.get("card_no", ""))
        problems = []
        if code not in unions:
            problems.append(f"工会代码 {code or '（空）'} 不存在")
        if not card:
            problems.append("会员卡号（card_no）为空")
        elif len(card) > 64:
            problems.append("会员卡号过长")
        elif card in seen:
            problems.append(f"会员卡号与第{seen[card]}行重复")
        if problems:
            errors.append(f"第{line}行：{'；'.join(problems)}")
            continue
        seen[card] = line
        clean.append((hash_card(card, salt), unions[code]))
    if errors:
        raise ImportFailed(errors)
    existing = {m.card_hash: m for m in session.scalars(select(MemberCard))}
    result = ImportResult()
    for card_hash, union_id in clean:
        member = existing.get(card_hash)
        if member is None:
            session.add(MemberCard(card_hash=card_hash, union_id=union_id))
            result.created += 1
        else:
            member.union_id = union_id
            result.updated += 1
    session.flush()
    return result


__all__ = [
    "BRAND_COLUMNS",
    "MEMBER_COLUMNS",
    "ORG_COLUMNS",
    "ImportFailed",
    "ImportResult",
    "import_brands",
    "import_members",
    "import_orgs",
    "read_rows",
    "stage_authority_problem",
]
