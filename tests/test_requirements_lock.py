"""requirements.lock was regenerated (`make lock`) after the last edit of requirements*.txt."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for file in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / file).read_text(encoding="utf-8").splitlines():
            match = PIN.match(line)
            if match:
                pins[normalized(match[1])] = match[2]
    return pins


def locked() -> tuple[dict[str, str], set[str]]:
    """The lock's versions, and the packages it says come straight from requirements*.txt."""
    versions: dict[str, str] = {}
    direct: set[str] = set()
    current = ""
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = normalized(match[1])
            versions[current] = match[2]
        elif re.search(r"-r requirements(-dev)?\.txt", line):
            direct.add(current)
    return versions, direct


def test_every_direct_pin_is_locked_at_its_version() -> None:
    versions, _ = locked()
    stale = {name: (version, versions.get(name)) for name, version in direct_pins().items()}
    assert {name: pair for name, pair in stale.items() if pair[0] != pair[1]} == {}


def test_lock_lists_no_direct_dependency_that_was_removed() -> None:
    _, direct = locked()
    assert direct - set(direct_pins()) == set()
    assert len(direct) == len(direct_pins())
