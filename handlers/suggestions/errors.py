"""The one refusal the suggestion operations give."""

from __future__ import annotations

from handlers.errors import OperationError


class SuggestionError(OperationError):
    """An operation that cannot be done as asked; the message is Chinese, for the person acting."""
