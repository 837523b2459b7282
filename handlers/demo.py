"""Loading the demo fixture (config/demo/demo.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from handlers.brands import upsert_brand
from handlers.orgs import upsert_union

DEMO_FILE = Path(__file__).resolve().parent.parent / "config" / "demo" / "demo.yaml"


def load_demo(session: Session, path: Path = DEMO_FILE) -> dict[str, int]:
    """Upsert the demo unions and brands; running it twice changes nothing."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    for row in data["unions"]:
        upsert_union(session, row["code"], row["name"], row["kind"], row.get("parent"), row.get("members"))
    for row in data["brands"]:
        upsert_brand(session, row["name"], row["union"], row.get("aliases", []), row.get("stage"))
    return {"unions": len(data["unions"]), "brands": len(data["brands"])}
