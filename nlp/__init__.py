"""The message router: text → Intent.

Only this package imports jieba. It depends on nothing of ours except ``config`` (keyword
tables as data); no database, no Flask. It takes the brand catalogue as input.
"""

from nlp.intent import INTENTS, BrandEntry, Intent
from nlp.router import Router

__all__ = ["INTENTS", "BrandEntry", "Intent", "Router"]
