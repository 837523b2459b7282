"""Importing brands: names, unions and aliases, and a stage only a superior union's admin may set."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.programme.brands import BrandError, upsert_brand
from handlers.programme.gates import STAGE_ORDER, LifecycleError, path_problem
from handlers.programme.imports.files import ImportFailed, ImportResult, Row
from handlers.programme.operations import advance, parse_stage, record_transition
from models import Brand, BrandAlias, Stage, Union
from models.admin import AdminAccount, AdminRole

BRAND_COLUMNS = ("name", "org_code")
# Who a brand's first timeline entry names when the importer does not say.
IMPORT = Actor.system("导入")


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
    actor: Actor = IMPORT,
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
