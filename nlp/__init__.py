"""The message router: text → Intent.

Only this package imports jieba. It depends on nothing of ours except ``config`` (keyword
tables as data in config/router/); no database, no Flask. It takes the brand catalogue as input.
Modules: normalize (text clean-up), segment (jieba, loaded once per process), brands (brand
resolution), lexicon (the tables), model (the intent classifier's features and parameters, numpy
only), train (``python -m nlp train``, scikit-learn, never imported at runtime), corpus (the
generated part of the training corpus), router (Router), cli (``python -m nlp route|eval|train``).
What each Intent field holds per intent: docs/zh/router.md.
"""

from nlp.intent import INTENTS, MY_SUGGESTIONS, BrandEntry, Intent
from nlp.router import Router

__all__ = ["INTENTS", "MY_SUGGESTIONS", "BrandEntry", "Intent", "Router"]
