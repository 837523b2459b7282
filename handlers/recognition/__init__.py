"""Votes, ratings and the 社会认可度 index (method: docs/method/).

``estimators`` is the pure maths (its quantiles from ``handlers.statistics``); ``loader`` reads
events; ``campaigns`` records them; ``chat`` and ``sink`` are the entry points from WeChat and
from the survey engine; ``fraud`` flags suspicious responses; ``report`` and ``queries`` serve the results.
"""

from handlers.recognition import chat as chat
from handlers.recognition import links as links
from handlers.recognition import roster as roster
from handlers.recognition import sink as sink
