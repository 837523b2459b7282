"""The brand programme from the command line: imports, invitations, coverage, brand lifecycle.

``flask --app bot import orgs|brands|members FILE``, ``flask --app bot invite --org CODE``,
``flask --app bot report coverage``, ``flask --app bot brand plan|self-evaluate|review|advance|show``.
Each command is one transaction: on any error nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from handlers.actor import Actor, ActorKind
from handlers.clock import show_time
from handlers.programme import coverage as cov
from handlers.programme import operations as ops
from handlers.programme.binding import BindingError, create_invitation, member_card_salt
from handlers.programme.brands import find_brand_by_name
from handlers.programme.evidence import timeline
from handlers.programme.gates import LifecycleError
from handlers.programme.imports.brands import BRAND_COLUMNS, import_brands
from handlers.programme.imports.files import ImportFailed, ImportResult, read_rows
from handlers.programme.imports.members import MEMBER_COLUMNS, import_members
from handlers.programme.imports.unions import ORG_COLUMNS, import_orgs
from handlers.programme.queries import score_gap
from models import Brand, Role, Union, utcnow
from models.admin import AdminAccount
from models.programme import STANDARD_LABELS

DEFAULT_ACTOR = "管理员"


def _operator(label: str) -> Actor:
    """The person at the command line, as named by ``--by`` (an administrator without an account)."""
    return Actor(ActorKind.ADMIN, label)


class CommandError(click.ClickException):
    """A refused command, shown to the operator in Chinese (click's own prefix is English)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


# --- imports ----------------------------------------------------------------------------------


def _run_import(
    path: Path, columns: tuple[str, ...], fn: Callable[[Session, Any], ImportResult], what: str
) -> None:
    rt = _runtime()
    try:
        rows = read_rows(path, columns)
        with rt.session_factory() as session, session.begin():
            result = fn(session, rows)
    except ImportFailed as exc:
        click.echo(f"导入失败，未写入任何数据。共 {len(exc.errors)} 处问题：", err=True)
        for line in exc.errors:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{what}导入完成：新增 {result.created} 条，更新 {result.updated} 条。")


@click.group("import", help="从 CSV 或 XLSX 文件导入数据（全部成功才写入）。")
def import_group() -> None:
    pass


@import_group.command("orgs", help="导入工会组织树。列：code,name,parent_code,kind[,members]")
@click.argument("path", type=FILE)
@with_appcontext
def import_orgs_cmd(path: Path) -> None:
    _run_import(path, ORG_COLUMNS, import_orgs, "工会组织")


@import_group.command(
    "brands",
    help="导入工作品牌。列：name,org_code,aliases(用;分隔),stage。新品牌从「品牌提出」开始；"
    "stage 要求更后的阶段时，须由上级工会管理员（--account）导入，且每一步的条件已有材料满足。",
)
@click.argument("path", type=FILE)
@click.option("--by", "actor", default=DEFAULT_ACTOR, show_default=True, help="记入阶段时间线的操作人")
@click.option("--account", "username", default=None, help="以该管理员账号的身份导入（设定阶段时必填）")
@with_appcontext
def import_brands_cmd(path: Path, actor: str, username: str | None) -> None:
    def run(session: Session, rows: Any) -> ImportResult:
        account = None
        if username is not None:
            account = session.scalar(select(AdminAccount).where(AdminAccount.username == username))
            if account is None or not account.active:
                raise ImportFailed([f"管理员账号 {username} 不存在或已停用"])
        who = _operator(actor)
        if account is not None and actor == DEFAULT_ACTOR:
            who = Actor.admin(account.username, account.union.name)
        return import_brands(session, rows, utcnow(), who, account)

    _run_import(path, BRAND_COLUMNS, run, "工作品牌")


@import_group.command("members", help="导入会员名单（只保存卡号的加盐摘要）。列：org_code,card_no")
@click.argument("path", type=FILE)
@with_appcontext
def import_members_cmd(path: Path) -> None:
    salt = member_card_salt(_runtime().settings.secret_key)
    _run_import(path, MEMBER_COLUMNS, lambda s, rows: import_members(s, rows, salt), "会员名单")


# --- invitations --------------------------------------------------------------------------------


@click.command("invite", help="为工会生成一次性邀请码（7 天内有效），干部在公众号回复「绑定 邀请码」。")
@click.option("--org", "org_code", required=True, help="工会代码")
@click.option("--role", type=click.Choice(["cadre"]), default="cadre", show_default=True)
@click.option("--by", "actor", default=DEFAULT_ACTOR, show_default=True, help="签发人")
@with_appcontext
def invite(org_code: str, role: str, actor: str) -> None:
    rt = _runtime()
    try:
        with rt.session_factory() as session, session.begin():
            invitation, code = create_invitation(session, org_code, utcnow(), Role(role), _operator(actor))
            union_name = invitation.union.name
            expires = show_time(invitation.expires_at)
    except BindingError as exc:
        raise CommandError(str(exc)) from None
    click.echo(f"邀请码：{code}")
    click.echo(f"工会：{union_name}；身份：工会干部；有效期至 {expires}（北京时间）；仅可使用一次。")
    click.echo(f"请干部关注公众号后回复：绑定 {code}")


# --- coverage ---------------------------------------------------------------------------------


@click.group("report", help="督导报表。")
def report_group() -> None:
    pass


@report_group.command("coverage", help="品牌创建覆盖情况：未创建品牌的单位、60 天未上报、评议逾期。")
@click.option("--org", "org_code", default=None, help="只看该工会及其下级")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@with_appcontext
def report_coverage(org_code: str | None, fmt: str) -> None:
    rt = _runtime()
    with rt.session_factory() as session:
        root = None
        if org_code:
            root = session.scalar(select(Union).where(Union.code == org_code))
            if root is None:
                raise CommandError(f"工会代码 {org_code} 不存在")
        report = cov.coverage(session, utcnow(), root)
    render = {"table": cov.as_table, "csv": cov.as_csv, "json": cov.as_json}[fmt]
    click.echo(render(report), nl=fmt != "csv")


# --- brand lifecycle ----------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise CommandError(f"文件 {path.name} 格式错误：{exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"文件 {path.name} 应为键值表（YAML 映射或 JSON 对象）")
    return data


def _brand(session: Session, data: dict[str, Any]) -> Brand:
    name = str(data.get("brand") or "").strip()
    if not name:
        raise CommandError("文件缺少 brand（品牌名称）")
    brand = find_brand_by_name(session, name)
    if brand is None:
        raise CommandError(f"品牌「{name}」不存在")
    return brand


def _actor(data: dict[str, Any], default: str | None) -> Actor:
    return _operator(str(data.get("by") or default or DEFAULT_ACTOR).strip()[:64])


def _with_brand(
    path: Path, actor: str | None, fn: Callable[[Session, Brand, dict[str, Any], Actor], str]
) -> None:
    data = _load(path)
    rt = _runtime()
    try:
        with rt.session_factory() as session, session.begin():
            message = fn(session, _brand(session, data), data, _actor(data, actor))
    except LifecycleError as exc:
        raise CommandError(str(exc)) from None
    click.echo(message)


@click.group("brand", help="品牌创建五个步骤：方案、自评、评议、阶段变更。")
def brand_group() -> None:
    pass


BY = click.option("--by", "actor", default=None, help="操作人（也可在文件中写 by）")


@brand_group.command("plan", help="提交创建方案。文件键：brand, goals, measures, long_term, this_year[, by]")
@click.argument("path", type=FILE)
@BY
@with_appcontext
def brand_plan(path: Path, actor: str | None) -> None:
    def run(session: Session, brand: Brand, data: dict[str, Any], who: Actor) -> str:
        plan = ops.save_plan(session, brand, data, who, utcnow())
        return f"已保存品牌「{brand.name}」的创建方案（编号 {plan.id}）。"

    _with_brand(path, actor, run)


@brand_group.command(
    "self-evaluate",
    help="对照“五个有”自评。文件键：brand, scores（每项 score 0–100、evidence、reports、photos）"
    "[, comments, by]",
)
@click.argument("path", type=FILE)
@BY
@with_appcontext
def brand_self_evaluate(path: Path, actor: str | None) -> None:
    def run(session: Session, brand: Brand, data: dict[str, Any], who: Actor) -> str:
        a = ops.self_evaluate(session, brand, data.get("scores"), who, utcnow(), data.get("comments"))
        scores = "，".join(f"{STANDARD_LABELS[s.standard]} {s.score:g}" for s in a.scores)
        return f"已保存品牌「{brand.name}」的自评（编号 {a.id}）：{scores}。"

    _with_brand(path, actor, run)


@brand_group.command(
    "review",
    help="上级评议。文件键：brand, decision（推广/继续培育/不予通过）, comments, "
    "scores（四项，社会认可度由指数自动填入）[, by]",
)
@click.argument("path", type=FILE)
@BY
@with_appcontext
def brand_review(path: Path, actor: str | None) -> None:
    def run(session: Session, brand: Brand, data: dict[str, Any], who: Actor) -> str:
        decision = ops.parse_decision(str(data.get("decision") or ""))
        _, move = ops.review(
            session,
            brand,
            decision,
            str(data.get("comments") or ""),
            data.get("scores"),
            who,
            utcnow(),
            recognition=current_app.extensions["ghpp"].registry.recognition,
        )
        lines = [
            f"已记录对品牌「{brand.name}」的评议：{decision.label}；"
            f"阶段「{move.from_stage.label if move.from_stage else ''}」→「{move.to_stage.label}」。",
            _gap_table(session, brand),
        ]
        return "\n".join(lines)

    _with_brand(path, actor, run)


@brand_group.command("advance", help="变更品牌阶段（须满足该阶段的条件）。文件键：brand, to, reason[, by]")
@click.argument("path", type=FILE)
@BY
@with_appcontext
def brand_advance(path: Path, actor: str | None) -> None:
    def run(session: Session, brand: Brand, data: dict[str, Any], who: Actor) -> str:
        to = ops.parse_stage(str(data.get("to") or ""))
        move = ops.advance(session, brand, to, who, str(data.get("reason") or ""), utcnow())
        source = move.from_stage.label if move.from_stage else ""
        return f"品牌「{brand.name}」已从「{source}」进入「{to.label}」。"

    _with_brand(path, actor, run)


def _gap_table(session: Session, brand: Brand) -> str:
    def fmt(value: float | None) -> str:
        return "暂无" if value is None else f"{value:g}"

    # One line per standard rather than columns: CJK widths break column alignment in terminals.
    lines = ["自评与上级评议对比（差距 = 自评 − 上级）："]
    for row in score_gap(session, brand):
        gap = "—" if row.gap is None else f"{row.gap:+g}"
        lines.append(
            f"  {row.standard.label}：自评 {fmt(row.self_score)}，上级 {fmt(row.review_score)}，差距 {gap}"
        )
    return "\n".join(lines)


@brand_group.command("show", help="查看品牌的阶段时间线和自评与上级评议的分差。")
@click.argument("name")
@with_appcontext
def brand_show(name: str) -> None:
    rt = _runtime()
    with rt.session_factory() as session:
        brand = find_brand_by_name(session, name)
        if brand is None:
            raise CommandError(f"品牌「{name}」不存在")
        click.echo(f"【{brand.name}】{brand.union.name}  当前阶段：{brand.stage.label}")
        click.echo("时间线：")
        for t in timeline(session, brand):
            when = show_time(t.at)
            source = t.from_stage.label if t.from_stage else "—"
            click.echo(f"  {when}  {source} → {t.to_stage.label}  {t.actor}：{t.reason}")
        click.echo(_gap_table(session, brand))


commands = [import_group, invite, report_group, brand_group]
