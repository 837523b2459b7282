"""The programme's blueprint (/admin/programme) and its menu entry.

Its audit labels are in handlers/glossary.py."""

from __future__ import annotations

from flask import Blueprint

from bot.admin import web
from models.admin import AdminRole

bp = Blueprint("admin_programme", __name__, url_prefix="/admin/programme")

nav = web.NavItem.of("admin_programme.coverage", "督导", (AdminRole.ADMIN, AdminRole.VIEWER))
