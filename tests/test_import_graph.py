"""No import circle anywhere in the service's own packages (outside the ORM models' relationships).

Imports inside functions count (a lazy import hides a circle, it does not remove it); imports under
``if TYPE_CHECKING`` do not, since they never run.
"""

from __future__ import annotations

import grimp
import pytest

from tests.import_graph import cycles

PACKAGES = ("bot", "handlers", "models", "nlp", "config")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        *PACKAGES, include_external_packages=False, exclude_type_checking_imports=True, cache_dir=None
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle(graph: grimp.ImportGraph, package: str) -> None:
    assert cycles(graph, package) == []


def test_the_check_sees_a_circle(tmp_path, monkeypatch) -> None:
    """The check itself: two modules importing each other (one lazily) are one circle."""
    pkg = tmp_path / "circ"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from circ import b\n")
    (pkg / "b.py").write_text("def f():\n    from circ import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = cycles(grimp.build_graph("circ", cache_dir=None), "circ")
    assert found == [["circ.a", "circ.b"]]
