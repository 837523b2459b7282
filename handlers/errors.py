"""The one base of every refusal a domain operation gives.

An ``OperationError`` carries a message a user may read (Simplified Chinese): the boundary (chat
reply, admin view, CLI) shows it as it is and rolls back. Anything else raised is a bug. It stays a
``ValueError`` so callers written against the domain errors' old base still catch it.
"""

from __future__ import annotations


class OperationError(ValueError):
    """A domain operation refused: bad input, a rule not met, no permission. Nothing was written."""
