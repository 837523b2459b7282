"""Importing the member list: card numbers are kept only as salted hashes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.programme.binding import hash_card, normalise_card
from handlers.programme.imports.files import ImportFailed, ImportResult, Row
from models import Union
from models.programme import MemberCard

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
