"""Whatever a user types, the router answers with a well-formed Intent and never raises."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp import INTENTS, Router

ALPHABET = st.sampled_from(
    list(
        "投票给工惠乐学查保促1138工程七种模式建议投诉不了号分星满意"
        "一二三四五十０１２３ＪＹjy-— ，。！？★👍😂[微笑]"
    )
)
TICKET = re.compile(r"^JY\d{8}-\d{4}$")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=60), st.text(ALPHABET, max_size=40)))
def test_any_text_routes(router: Router, text: str) -> None:
    intent = router.route(text)
    assert intent.name in INTENTS
    assert intent.brand is None or intent.brand in {b.name for b in router.brands}
    assert intent.score is None or 1 <= intent.score <= 5
    assert intent.ticket is None or TICKET.match(intent.ticket)
    assert 0 < intent.confidence <= 1
    if intent.name == "unknown":
        assert intent.suggestions
    if intent.name != "suggest":
        assert intent.anonymous is False
