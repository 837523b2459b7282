from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.binding import hash_card, member_card_salt
from handlers.programme.evidence import timeline
from handlers.programme.imports.brands import BRAND_COLUMNS, import_brands
from handlers.programme.imports.files import ImportFailed, read_rows
from handlers.programme.imports.members import MEMBER_COLUMNS, import_members
from handlers.programme.imports.unions import ORG_COLUMNS, import_orgs
from models import Brand, Stage, Union, UnionKind, utcnow
from models.admin import AdminAccount, AdminRole
from models.programme import MemberCard
from tests.factories_programme import PLAN

SALT = member_card_salt("test-secret-key-0123456789")

TREE = """code,name,parent_code,kind,members
P,省总工会,,province,
C1,甲市总工会,P,city,52000
D1,省总宣教部,P,province_dept,
K1,甲市A区总工会,C1,county,8000
G1,甲市A区某厂工会,K1,grassroots,300
"""


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return path


def load_orgs(session, tmp_path: Path, text: str = TREE):
    return import_orgs(session, read_rows(write(tmp_path, text), ORG_COLUMNS))


def test_import_orgs_builds_the_tree(session, tmp_path: Path) -> None:
    result = load_orgs(session, tmp_path)
    assert (result.created, result.updated) == (5, 0)
    g1 = session.scalar(select(Union).where(Union.code == "G1"))
    assert [u.code for u in g1.ancestors()] == ["K1", "C1", "P"]
    p = session.scalar(select(Union).where(Union.code == "P"))
    assert g1.is_within(p) and g1.path.startswith(p.path)
    assert session.scalar(select(Union.members).where(Union.code == "C1")) == 52000


def test_children_may_come_before_parents(session, tmp_path: Path) -> None:
    text = "code,name,parent_code,kind\nG9,某厂工会,C9,grassroots\nC9,乙市总工会,,city\n"
    load_orgs(session, tmp_path, text)
    g9 = session.scalar(select(Union).where(Union.code == "G9"))
    assert g9.parent is not None and g9.parent.code == "C9"


def test_reimport_updates_in_place_and_moves_subtrees(session, tmp_path: Path) -> None:
    load_orgs(session, tmp_path)
    ids = dict(session.execute(select(Union.code, Union.id)).all())
    moved = TREE.replace("K1,甲市A区总工会,C1,county,8000", "K1,甲市A区总工会（新）,D1,county,8100")
    result = load_orgs(session, tmp_path, moved)
    assert (result.created, result.updated) == (0, 5)
    assert dict(session.execute(select(Union.code, Union.id)).all()) == ids
    k1 = session.scalar(select(Union).where(Union.code == "K1"))
    g1 = session.scalar(select(Union).where(Union.code == "G1"))
    assert k1.name == "甲市A区总工会（新）" and k1.parent.code == "D1"
    assert g1.path == f"{k1.path}{g1.id}/"  # the grandchild followed its parent


def test_bad_rows_are_all_reported_with_line_numbers_and_nothing_is_written(session, tmp_path: Path) -> None:
    text = (
        "code,name,parent_code,kind,members\n"
        "P,省总工会,,province,\n"
        ",无代码工会,P,city,\n"  # line 3
        "C2,,P,city,\n"  # line 4
        "C3,丙市总工会,P,town,\n"  # line 5
        "C4,丁市总工会,NOPE,city,\n"  # line 6
        "P,重复的省总,,province,\n"  # line 7
        "C5,戊市总工会,P,city,很多\n"  # line 8
    )
    with pytest.raises(ImportFailed) as info:
        load_orgs(session, tmp_path, text)
    errors = info.value.errors
    assert [e.split("：")[0] for e in errors] == ["第3行", "第4行", "第5行", "第7行", "第8行", "第6行"]
    assert "工会代码（code）为空" in errors[0]
    assert "工会名称（name）为空" in errors[1]
    assert "town" in errors[2]
    assert "与第2行重复" in errors[3]
    assert "非负整数" in errors[4]
    assert "NOPE 不存在" in errors[5]
    assert session.scalar(select(func.count(Union.id))) == 0


def test_cycles_are_refused(session, tmp_path: Path) -> None:
    load_orgs(session, tmp_path)
    with pytest.raises(ImportFailed, match="循环"):
        load_orgs(session, tmp_path, "code,name,parent_code,kind\nC1,甲市总工会,G1,city\n")
    assert session.scalar(select(Union).where(Union.code == "C1")).parent.code == "P"


def test_missing_columns_and_wrong_files(session, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="第1行（表头）缺少列：kind"):
        read_rows(write(tmp_path, "code,name,parent_code\nP,省总,\n"), ORG_COLUMNS)
    with pytest.raises(ImportFailed, match="不支持的文件类型"):
        read_rows(write(tmp_path, "x", "f.doc"), ORG_COLUMNS)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("code,name,parent_code,kind\nP,省总工会,,province\n".encode("gbk"))
    with pytest.raises(ImportFailed, match="UTF-8"):
        read_rows(gbk, ORG_COLUMNS)


def test_xlsx_with_chinese_kind_labels(session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "parent_code", "kind", "members"])
    sheet.append(["P", "省总工会", None, "省总工会", None])
    sheet.append(["I1", "省教科文卫工会", "P", "产业工会", 12000])
    path = tmp_path / "tree.xlsx"
    book.save(path)
    import_orgs(session, read_rows(path, ORG_COLUMNS))
    i1 = session.scalar(select(Union).where(Union.code == "I1"))
    assert i1.kind == UnionKind.INDUSTRY and i1.members == 12000


BRANDS = """name,org_code,aliases,stage
工惠乐学,C1,乐学;工惠学堂,planned
查保促,K1,,
"""


def province_admin(session) -> AdminAccount:
    """An admin of the province union: superior to every brand of the test tree."""
    found: AdminAccount | None = session.scalar(
        select(AdminAccount).where(AdminAccount.username == "province")
    )
    if found is None:
        province = session.scalar(select(Union).where(Union.code == "P"))
        found = AdminAccount(username="province", password_hash="x", union=province, role=AdminRole.ADMIN)
        session.add(found)
        session.flush()
    return found


def load_brands(session, tmp_path: Path, text: str = BRANDS):
    rows = read_rows(write(tmp_path, text, "b.csv"), BRAND_COLUMNS)
    return import_brands(session, rows, utcnow(), Actor.admin("测试"), province_admin(session))


def test_import_brands_with_aliases_stage_and_timeline(session, tmp_path: Path) -> None:
    load_orgs(session, tmp_path)
    result = load_brands(session, tmp_path)
    assert (result.created, result.updated) == (2, 0)
    brand = session.scalar(select(Brand).where(Brand.name == "工惠乐学"))
    assert brand.alias_names == ["乐学", "工惠学堂"] and brand.stage == Stage.PLANNED
    other = session.scalar(select(Brand).where(Brand.name == "查保促"))
    assert other.stage == Stage.PROPOSED
    created, moved = timeline(session, brand)
    assert (created.from_stage, created.to_stage, created.actor) == (None, Stage.PROPOSED, "测试")
    assert (moved.from_stage, moved.to_stage, moved.actor) == (Stage.PROPOSED, Stage.PLANNED, "测试")
    # Re-import: aliases replaced; a stage the evidence does not reach is refused, nothing written.
    with pytest.raises(ImportFailed, match="第2行：不能直接导入为「评议推广」"):
        load_brands(session, tmp_path, "name,org_code,aliases,stage\n工惠乐学,C1,乐学,评议推广\n")
    ops.save_plan(session, brand, PLAN, Actor.admin("张三"), utcnow())
    result = load_brands(session, tmp_path, "name,org_code,aliases,stage\n工惠乐学,C1,乐学,培育创建\n")
    assert (result.created, result.updated) == (0, 1)
    assert brand.alias_names == ["乐学"] and brand.stage == Stage.CULTIVATING
    assert [t.to_stage for t in timeline(session, brand)] == [
        Stage.PROPOSED,
        Stage.PLANNED,
        Stage.CULTIVATING,
    ]


def test_brand_bad_rows(session, tmp_path: Path) -> None:
    load_orgs(session, tmp_path)
    load_brands(session, tmp_path)
    text = (
        "name,org_code,aliases,stage\n"
        "新品牌甲,C1,乐学,\n"  # 2: alias of 工惠乐学
        "新品牌乙,NOPE,,\n"  # 3: unknown union
        "新品牌丙,C1,查保促,\n"  # 4: alias equals a brand name
        "新品牌丁,C1,,finished\n"  # 5: bad stage
        "新品牌甲,C1,,\n"  # 6: duplicate name
        "新品牌戊,C1,共用名,\n"  # 7
        "新品牌己,C1,共用名,\n"  # 8: alias already used on line 7
        "工惠学堂,C1,,\n"  # 9: name is another brand's alias
    )
    with pytest.raises(ImportFailed) as info:
        load_brands(session, tmp_path, text)
    errors = "\n".join(info.value.errors)
    assert "第3行：所属工会代码 NOPE 不存在" in errors
    assert "第5行：阶段 'finished' 无效" in errors
    assert "第6行：品牌名称「新品牌甲」与第2行重复" in errors
    assert "第2行：别名「乐学」已属于品牌「工惠乐学」" in errors
    assert "第4行：别名「查保促」与品牌「查保促」的名称相同" in errors
    assert "第8行：别名「共用名」已属于第7行的品牌「新品牌戊」" in errors
    assert "第9行：品牌名称「工惠学堂」已是品牌「工惠乐学」的别名" in errors
    assert session.scalar(select(func.count(Brand.id))) == 2


def test_an_alias_can_move_between_brands_in_one_file(session, tmp_path: Path) -> None:
    load_orgs(session, tmp_path)
    load_brands(session, tmp_path)
    load_brands(session, tmp_path, "name,org_code,aliases,stage\n工惠乐学,C1,,\n查保促,K1,乐学,\n")
    assert session.scalar(select(Brand).where(Brand.name == "查保促")).alias_names == ["乐学"]


def test_import_members_keeps_only_hashes(session, tmp_path: Path) -> None:
    load_orgs(session, tmp_path)
    rows = read_rows(
        write(tmp_path, "org_code,card_no\nG1,6222 0001\nG1,62220002\n", "m.csv"), MEMBER_COLUMNS
    )
    result = import_members(session, rows, SALT)
    assert result.created == 2
    hashes = set(session.scalars(select(MemberCard.card_hash)))
    assert hash_card("62220001", SALT) in hashes
    assert all("6222" not in h for h in hashes)
    # Re-import moves a card to another union in place.
    rows = read_rows(write(tmp_path, "org_code,card_no\nK1,62220001\n", "m.csv"), MEMBER_COLUMNS)
    assert import_members(session, rows, SALT).updated == 1
    assert session.scalar(select(func.count(MemberCard.id))) == 2


def test_member_bad_rows(session, tmp_path: Path) -> None:
    load_orgs(session, tmp_path)
    text = "org_code,card_no\nG1,1001\nXX,1002\nG1,\nG1,10 01\n"
    with pytest.raises(ImportFailed) as info:
        import_members(session, read_rows(write(tmp_path, text, "m.csv"), MEMBER_COLUMNS), SALT)
    assert info.value.errors == [
        "第3行：工会代码 XX 不存在",
        "第4行：会员卡号（card_no）为空",
        "第5行：会员卡号与第2行重复",
    ]
    assert session.scalar(select(func.count(MemberCard.id))) == 0
