"""Dashboard accounts and API tokens from the command line (``flask --app bot admin …``)."""

from __future__ import annotations

import secrets
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.admin.accounts import AccountError, account_snapshot, create_account, create_api_token
from bot.admin.audit_log import record
from bot.admin.security import PasswordError, check_new_password, hash_password
from bot.runtime import Runtime
from handlers.tables import display
from models import Union, utcnow
from models.admin import AdminAccount, AdminRole, ApiToken
from models.migrate import upgrade

CLI_ACTOR = "命令行"

# Demo accounts (username, union code, role) created by `admin seed-demo` in demo mode only.
DEMO_ACCOUNTS = (
    ("admin", "SD", AdminRole.ADMIN),
    ("binzhou", "BZ", AdminRole.VIEWER),
    ("bincheng", "BZ-BC", AdminRole.ADMIN),
)


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


@click.group("admin", help="管理后台：账号与接口令牌。")
def admin_group() -> None:
    pass


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    return password


@admin_group.command("create", help="创建后台账号（密码交互输入，或用 --password-stdin 从标准输入读取）。")
@click.option("--org", "org", required=True, help="所属工会代码，如 BZ-BC")
@click.option("--username", required=True, help="登录用户名")
@click.option(
    "--role",
    type=click.Choice([r.value for r in AdminRole]),
    default=AdminRole.ADMIN.value,
    show_default=True,
    help="admin 管理员 / viewer 查看员 / cadre 工会干部 / auditor 审计员（只读，可查看操作日志）",
)
@click.option("--password-stdin", is_flag=True, help="从标准输入读取一行作为密码")
@with_appcontext
def create(org: str, username: str, role: str, password_stdin: bool) -> None:
    rt = _runtime()
    with rt.session_factory() as session, session.begin():
        union = session.scalar(select(Union).where(Union.code == org))
        if union is None:
            raise click.ClickException(f"工会代码 {org} 不存在。")
        if session.scalar(select(AdminAccount).where(AdminAccount.username == username)):
            raise click.ClickException(f"用户名 {username} 已被使用。")
        password = _read_password(password_stdin)
        try:
            account = create_account(
                session, union, username, AdminRole(role), password, actor_name=CLI_ACTOR, union_id=union.id
            )
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"已创建账号 {account.username}（{account.role.label}，{union.name}）。")


@admin_group.command("token", help="为账号生成 /api/v1 接口令牌（只显示一次，请妥善保存）。")
@click.option("--username", required=True, help="令牌所属账号的用户名")
@click.option("--name", default="大屏接口", show_default=True, help="令牌用途说明")
@with_appcontext
def token(username: str, name: str) -> None:
    rt = _runtime()
    with rt.session_factory() as session, session.begin():
        account = session.scalar(select(AdminAccount).where(AdminAccount.username == username))
        if account is None or not account.active:
            raise click.ClickException(f"账号 {username} 不存在或已停用。")
        value = create_api_token(session, account, name, actor_name=CLI_ACTOR, union_id=account.union_id)
    click.echo(f"已为 {username} 生成接口令牌（只显示这一次）：")
    click.echo(value)
    click.echo("调用方式：Authorization: Bearer <令牌>")


@admin_group.command("password", help="重置账号密码（忘记密码或被停用时由运维使用），并重新启用账号。")
@click.option("--username", required=True, help="用户名")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取一行作为新密码")
@with_appcontext
def reset_password(username: str, password_stdin: bool) -> None:
    rt = _runtime()
    with rt.session_factory() as session, session.begin():
        account = session.scalar(select(AdminAccount).where(AdminAccount.username == username))
        if account is None:
            raise click.ClickException(f"账号 {username} 不存在。")
        password = _read_password(password_stdin)
        try:
            check_new_password(password, username)
        except PasswordError as exc:
            raise click.ClickException(str(exc)) from None
        before = account_snapshot(account)
        account.password_hash = hash_password(password)
        account.active = True
        account.session_epoch += 1  # every session of the account ends
        record(
            session,
            "account.reset_password",
            "admin_account",
            account.id,
            before,
            account_snapshot(account),
            actor_name=CLI_ACTOR,
            union_id=account.union_id,
        )
    click.echo(f"账号 {username} 的密码已重置，原有登录已失效。")


@admin_group.command("revoke-token", help="作废接口令牌（按令牌开头的字符，即 admin tokens 列出的前缀）。")
@click.option("--prefix", required=True, help="令牌前 12 个字符，如 ghpp_AbCdEfG")
@with_appcontext
def revoke_token(prefix: str) -> None:
    rt = _runtime()
    with rt.session_factory() as session, session.begin():
        rows = list(
            session.scalars(select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.revoked_at.is_(None)))
        )
        if len(rows) != 1:
            raise click.ClickException(
                f"没有找到前缀为 {prefix} 的有效令牌。"
                if not rows
                else f"前缀 {prefix} 对应多个令牌，请联系开发人员。"
            )
        row = rows[0]
        row.revoked_at = utcnow()
        record(
            session,
            "token.revoke",
            "api_token",
            row.id,
            {"prefix": row.prefix, "revoked": False},
            {"prefix": row.prefix, "revoked": True},
            actor_name=CLI_ACTOR,
            union_id=row.account.union_id,
        )
    click.echo(f"令牌 {prefix}… 已作废。")


@admin_group.command("tokens", help="列出接口令牌（只显示前缀，不显示令牌本身）。")
@with_appcontext
def list_tokens() -> None:
    rt = _runtime()
    with rt.session_factory() as session:
        rows = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
        if not rows:
            click.echo("暂无接口令牌。")
        for row in rows:
            state = "已作废" if row.revoked_at else "有效"
            used = display(row.last_used_at) or "从未使用"
            click.echo(f"{row.prefix}…  {row.account.username:<12} {row.name}  {state}  最近使用：{used}")


@admin_group.command("seed-demo", help="演示模式下创建演示账号并打印随机密码（每次运行重置密码）。")
@with_appcontext
def seed_demo() -> None:
    rt = _runtime()
    # Never a known password outside the demo: this command refuses unless demo mode is on.
    if rt.settings.extra.get("GHPP_SIMULATE_WECHAT") != "1":
        raise click.ClickException(
            "仅在演示模式（GHPP_SIMULATE_WECHAT=1）下可用；正式环境请用 admin create 创建账号。"
        )
    upgrade(rt.engine)
    lines = []
    with rt.session_factory() as session, session.begin():
        for username, code, role in DEMO_ACCOUNTS:
            union = session.scalar(select(Union).where(Union.code == code))
            if union is None:
                raise click.ClickException(f"工会代码 {code} 不存在，请先运行 flask --app bot seed-demo。")
            password = secrets.token_urlsafe(9)
            account = session.scalar(select(AdminAccount).where(AdminAccount.username == username))
            if account is None:
                account = create_account(
                    session, union, username, role, password, actor_name=CLI_ACTOR, union_id=union.id
                )
            else:
                before = account_snapshot(account)
                account.password_hash = hash_password(password)
                account.active, account.union, account.role = True, union, role
                record(
                    session,
                    "account.reset_password",
                    "admin_account",
                    account.id,
                    before,
                    account_snapshot(account),
                    actor_name=CLI_ACTOR,
                    union_id=union.id,
                )
            lines.append(f"  {username:<10} 密码 {password}   {role.label} · {union.name}")
    click.echo("演示账号（密码每次运行 seed-demo 时重新生成）：")
    for line in lines:
        click.echo(line)


commands = [admin_group]
