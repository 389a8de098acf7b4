"""Errors raised while reading or writing wire messages."""

from __future__ import annotations

from connector.errors import InvalidRequest


class ProtocolError(InvalidRequest):
    """A message does not match the federation wire protocol.

    ``path`` is a JSON-path-like location (``constraints.summary.col1.ranges[0].low``) so the reader of the
    message can find the offending value without a debugger.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)
