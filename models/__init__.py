"""Persistence: SQLAlchemy 2.0 typed models, the engine and session factory.

May import config. Must not import bot, handlers or nlp. Alembic migrations live in
``models/migrations``. Importing this package registers every model on ``Base.metadata``.
"""

from models import admin as _admin  # noqa: F401  (registers the dashboard models)
from models import delivery as _delivery  # noqa: F401  (answer deliveries, subscription grants)
from models import recognition_scan as _recognition_scan  # noqa: F401  (fraud scan state)
from models import recognition_web as _recognition_web  # noqa: F401  (H5 pages' risk signals)
from models import survey_admin as _survey_admin  # noqa: F401  (survey open/closed state)
from models.base import Base, utcnow
from models.brand import Brand, BrandAlias, Stage
from models.conversation import Conversation
from models.inbound import InboundLabel, InboundMessage
from models.outbox import OutboxJob
from models.programme import Standard as Standard
from models.recognition import Campaign, CampaignBrand, CampaignKind, RecognitionEvent  # noqa: F401
from models.union import Union, UnionKind
from models.user import Role, User
from models.voice import Suggestion, SuggestionEvent, SuggestionState, SurveyResponse

__all__ = [
    "Base",
    "Brand",
    "BrandAlias",
    "Conversation",
    "InboundLabel",
    "InboundMessage",
    "OutboxJob",
    "Role",
    "Stage",
    "Suggestion",
    "SuggestionEvent",
    "SuggestionState",
    "SurveyResponse",
    "Union",
    "UnionKind",
    "User",
    "utcnow",
]
