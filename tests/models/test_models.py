from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from models import Brand, BrandAlias, InboundMessage
from models.union import subtree_ids
from tests.factories import make_brand, make_union, make_user


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    shanghai = timezone(timedelta(hours=8))
    user = make_user(session, subscribed_at=datetime(2026, 11, 21, 9, 0, tzinfo=shanghai))
    session.expire_all()
    loaded = session.get(type(user), user.id)
    assert loaded is not None and loaded.subscribed_at == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    assert loaded.subscribed_at.tzinfo is not None


def test_naive_datetimes_are_refused(session: Session) -> None:
    with pytest.raises(StatementError, match="naive"):
        make_user(session, subscribed_at=datetime(2026, 1, 1))
    session.rollback()


def test_subtree_by_materialised_path(session: Session) -> None:
    city = make_union(session)
    county = make_union(session, parent=city)
    shop = make_union(session, parent=county)
    other = make_union(session)
    assert set(subtree_ids(session, city)) == {city.id, county.id, shop.id}
    assert shop.is_within(city) and not other.is_within(city)


def test_alias_is_unique_across_brands(session: Session) -> None:
    make_brand(session, aliases=("乐学",))
    with pytest.raises(IntegrityError):
        make_brand(session, aliases=("乐学",))
    session.rollback()


def test_inbound_redaction_cuts_the_tie(session: Session) -> None:
    msg = InboundMessage(dedupe_key="k1", openid="o-secret", msg_type="text", msg_id="1", content="匿名建议")
    session.add(msg)
    session.flush()
    msg.redact()
    session.flush()
    row = session.scalar(select(InboundMessage).where(InboundMessage.id == msg.id))
    assert row is not None and row.openid is None and row.content is None and row.msg_id is None
    assert row.redacted and row.dedupe_key == "k1"  # the duplicate guard survives redaction


def test_brand_has_stage_and_aliases(session: Session) -> None:
    brand = make_brand(session, name="工惠乐学", aliases=("乐学", "工惠学堂"))
    session.expire_all()
    loaded = session.scalar(select(Brand).where(Brand.name == "工惠乐学"))
    assert (
        loaded is not None and loaded.alias_names == ["乐学", "工惠学堂"] and loaded.stage.label == "培育创建"
    )
    assert session.scalar(select(BrandAlias.brand_id).where(BrandAlias.alias == "乐学")) == brand.id
