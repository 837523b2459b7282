"""The programme's blueprint (/admin/programme), its menu entry and the audit labels of its writes."""

from __future__ import annotations

from flask import Blueprint

from bot.admin import web
from bot.admin.audit import ACTION_LABELS
from models.admin import AdminRole

bp = Blueprint("admin_programme", __name__, url_prefix="/admin/programme")

ACTION_LABELS.update(
    {
        "brand.review": "上级评议",
        "brand.plan": "提交创建方案",
        "brand.self_evaluate": "提交自评",
        "brand.advance": "变更品牌阶段",
        "import.orgs": "导入工会组织",
        "import.brands": "导入工作品牌",
        "invitation.create": "生成干部邀请码",
    }
)

nav = web.NavItem.of("admin_programme.coverage", "督导", (AdminRole.ADMIN, AdminRole.VIEWER))
