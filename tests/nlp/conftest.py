"""Router fixtures: the evaluation catalogue (demo brands plus a few others), built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp import Router
from nlp.examples import read_brands

DATA = Path(__file__).resolve().parent.parent / "data"
BRANDS_FILE = DATA / "router_brands.txt"


@pytest.fixture(scope="session")
def router() -> Router:
    return Router(read_brands(BRANDS_FILE))
