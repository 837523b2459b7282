"""Persistence: SQLAlchemy 2.0 typed models, the engine and session factory.

May import config. Must not import bot, handlers or nlp. Alembic migrations live in
``models/migrations``. Importing this package registers every model on ``Base.metadata``.
"""

from models.base import Base, utcnow
from models.brand import Brand, BrandAlias, Stage
from models.conversation import Conversation
from models.inbound import InboundMessage
from models.recognition import Campaign, CampaignBrand, CampaignKind, RecognitionEvent  # noqa: F401
from models.union import Union, UnionKind
from models.user import Role, User

__all__ = [
    "Base",
    "Brand",
    "BrandAlias",
    "Conversation",
    "InboundMessage",
    "Role",
    "Stage",
    "Union",
    "UnionKind",
    "User",
    "utcnow",
]
