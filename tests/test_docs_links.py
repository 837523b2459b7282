"""README.md's links resolve inside the repository (the docs/ pages themselves are checked by
``mkdocs build --strict`` in CI, anchors included)."""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import PROJECT_ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)|src=\"([^\"]+)\"")


def _slug(heading: str) -> str:
    # Python-Markdown's slugify_unicode (mkdocs.yml) and GitHub agree on these headings.
    value = re.sub(r"[^\w\s-]", "", heading).strip().lower()
    return re.sub(r"\s+", "-", value)


def _anchors(path: Path) -> set[str]:
    out, code = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            code = not code
        elif not code and re.match(r"#{1,6} ", line):
            out.add(_slug(line.lstrip("#").strip()))
    return out


def test_every_readme_link_points_at_a_file_and_heading_that_exist() -> None:
    readme = PROJECT_ROOT / "README.md"
    broken = []
    for m in LINK.finditer(readme.read_text(encoding="utf-8")):
        target = m.group(1) or m.group(2)
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = readme if not path else PROJECT_ROOT / path
        if not file.exists() or (anchor and anchor not in _anchors(file)):
            broken.append(target)
    assert broken == []


def test_the_readme_stays_a_few_pages() -> None:
    assert (PROJECT_ROOT / "README.md").stat().st_size < 25 * 1024
