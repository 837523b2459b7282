"""Who did something: recorded with every domain event (state change, review, decision, import).

Four kinds act on the data: a worker (职工) in WeChat or on an H5 page, a union cadre (工会干部) bound
to a union, a dashboard account (admin), and the service itself (system: scheduled jobs, automatic
scans). ``label`` is the text stored in the event's "by" column and shown in timelines and exports;
each domain keeps the label its records have always had, so old and new rows read alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    WORKER = "worker"
    CADRE = "cadre"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    # What the event records as its author ("by"), at most 64 characters.
    label: str
    # The WeChat user behind a worker or cadre; None for dashboard accounts and the system.
    user_id: int | None = None
    # The dashboard account's username; None otherwise.
    username: str | None = None

    @classmethod
    def worker(cls, user_id: int, label: str = "职工") -> Actor:
        return cls(ActorKind.WORKER, label[:64], user_id=user_id)

    @classmethod
    def cadre(cls, user_id: int, label: str) -> Actor:
        return cls(ActorKind.CADRE, label[:64], user_id=user_id)

    @classmethod
    def admin(cls, username: str, union_name: str | None = None) -> Actor:
        label = f"{username}（{union_name}）" if union_name else username
        return cls(ActorKind.ADMIN, label[:64], username=username)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, label[:64])

    @property
    def is_system(self) -> bool:
        return self.kind is ActorKind.SYSTEM


SYSTEM = Actor.system()
