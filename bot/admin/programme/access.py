"""Who may do what on a brand's page, and how a dashboard account is named as the actor."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.actor import Actor
from models import Brand
from models.admin import AdminAccount, AdminRole


def admin_actor(account: AdminAccount) -> Actor:
    """The account as the actor of a write: shown as "username（union）" in the brand's timeline."""
    return Actor.admin(account.username, account.union.name)


def is_ancestor_admin(account: AdminAccount, brand: Brand) -> bool:
    return (
        account.role is AdminRole.ADMIN
        and brand.union_id != account.union_id
        and brand.union.path.startswith(account.union.path)
    )


def is_own_union(account: AdminAccount, brand: Brand) -> bool:
    return account.role in (AdminRole.ADMIN, AdminRole.CADRE) and brand.union_id == account.union_id


@dataclass(frozen=True)
class Permissions:
    review: bool
    own: bool  # plan and self-evaluation
    advance: bool

    @classmethod
    def of(cls, account: AdminAccount, brand: Brand) -> Permissions:
        ancestor, own = is_ancestor_admin(account, brand), is_own_union(account, brand)
        return cls(review=ancestor, own=own, advance=ancestor or own)
