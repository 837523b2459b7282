"""The programme's overview panels: overdue reviews, quiet brands, the latest photos."""

from __future__ import annotations

from flask import Flask, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.admin import overview
from bot.admin.programme.coverage import coverage_report
from bot.admin.scoping import Scope
from handlers.programme.photos import flag_label
from handlers.tables import Column, Table
from models.programme import Photo, PhotoStatus

LATEST_PHOTOS = 8


def latest_photos_panel(session: Session, sc: Scope) -> Table | None:
    stmt = (
        sc.where_brand(select(Photo), Photo.brand_id)
        .where(Photo.status == PhotoStatus.STORED)
        .options(selectinload(Photo.brand))
        .order_by(Photo.captured_at.desc(), Photo.id.desc())
        .limit(LATEST_PHOTOS)
    )
    photos = list(session.scalars(stmt))
    if not photos:
        return None
    table = Table(
        "最新活动照片",
        [
            Column("captured_at", "时间"),
            Column("brand", "品牌", link=lambda r: url_for("admin_brands.detail", brand_id=r["brand_id"])),
            Column("activity", "活动"),
            Column("flag", "标记"),
            Column("view", "照片", link=lambda r: url_for("admin_programme.photo", photo_id=r["id"])),
        ],
    )
    for p in photos:
        assert p.brand is not None
        table.add(
            id=p.id,
            brand_id=p.brand_id,
            captured_at=p.captured_at,
            brand=p.brand.name,
            activity=p.activity or "",
            flag=flag_label(p) or "",
            view="查看",
        )
    return table


def overdue_reviews_panel(session: Session, sc: Scope) -> Table | None:
    report = coverage_report(session, sc)
    if not report.overdue:
        return None
    table = Table(
        "评议逾期",
        [
            Column("brand", "品牌"),
            Column("union", "工会"),
            Column("since", "进入评议推广"),
            Column("days", "天数"),
        ],
    )
    for o in report.overdue[:10]:
        table.add(brand=o.brand, union=o.union, since=o.reviewing_since, days=o.days)
    return table


def quiet_brands_panel(session: Session, sc: Scope) -> Table | None:
    report = coverage_report(session, sc)
    if not report.quiet:
        return None
    table = Table(
        "超过60天未上报",
        [
            Column("brand", "品牌"),
            Column("union", "工会"),
            Column("last", "最近上报"),
            Column("days", "天数"),
        ],
    )
    for q in report.quiet[:10]:
        table.add(brand=q.brand, union=q.union, last=q.last_report or "从未上报", days=q.days)
    return table


def register_panels(app: Flask) -> None:
    overview.register_panel(
        app, "overdue_reviews", "逾期的评议（进入评议推广超过 30 天）", overdue_reviews_panel
    )
    overview.register_panel(app, "quiet", "超过 60 天未上报进度的品牌", quiet_brands_panel)
    overview.register_panel(app, "photos", "最新活动照片", latest_photos_panel)
