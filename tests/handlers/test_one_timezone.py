"""Asia/Shanghai is defined once, in handlers/clock.py; every other module imports it from there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = re.compile(r"ZoneInfo\(|timezone\(\s*timedelta\(\s*hours\s*=\s*8")


def test_no_module_defines_its_own_shanghai_zone() -> None:
    sources = [
        p
        for package in ("bot", "handlers", "models", "config", "nlp")
        for p in (ROOT / package).rglob("*.py")
    ]
    defining = sorted(
        str(p.relative_to(ROOT)) for p in sources if DEFINITION.search(p.read_text(encoding="utf-8"))
    )
    assert defining == ["handlers/clock.py"]
