"""The suggestion categories, deadlines and limits (config/suggestions.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_FILE = Path(__file__).resolve().parent / "suggestions.yaml"


@dataclass(frozen=True)
class SuggestionConfig:
    categories: dict[str, dict[str, float]]
    accept_working_days: int
    answer_working_days: int
    min_chars: int
    max_chars: int
    per_day: int
    confirm_over_chars: int


def load_config(path: Path = CONFIG_FILE) -> SuggestionConfig:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return SuggestionConfig(
        categories={k: dict(v or {}) for k, v in data["categories"].items()},
        accept_working_days=int(data["deadlines"]["accept_working_days"]),
        answer_working_days=int(data["deadlines"]["answer_working_days"]),
        min_chars=int(data["limits"]["min_chars"]),
        max_chars=int(data["limits"]["max_chars"]),
        per_day=int(data["limits"]["per_day"]),
        confirm_over_chars=int(data["limits"]["confirm_over_chars"]),
    )


@lru_cache(maxsize=1)
def default_config() -> SuggestionConfig:
    return load_config()
