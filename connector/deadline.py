"""Lambda's remaining time: stop with a clear error before the runtime kills the function.

A killed Lambda gives Athena an unhelpful "Task timed out"; stopping a little earlier lets the user read what
happened and what to change (a longer LambdaTimeout, more splits, a narrower query).
"""

from __future__ import annotations

import time
from typing import Any

from connector.errors import SourceTimeout

DEFAULT_MARGIN_SECONDS = 8.0


class Deadline:
    """Seconds left in this invocation (from the Lambda context, or unlimited off Lambda)."""

    def __init__(self, remaining_seconds: float | None, margin_seconds: float = DEFAULT_MARGIN_SECONDS) -> None:
        self._end = None if remaining_seconds is None else time.monotonic() + remaining_seconds
        self.margin = margin_seconds

    @classmethod
    def from_context(cls, context: Any, margin_seconds: float = DEFAULT_MARGIN_SECONDS) -> Deadline:
        getter = getattr(context, "get_remaining_time_in_millis", None)
        if getter is None:
            return cls(None, margin_seconds)
        try:
            remaining = float(getter()) / 1000.0
        except (TypeError, ValueError):
            return cls(None, margin_seconds)
        # Short invocations keep a proportionate margin rather than failing at once.
        return cls(remaining, min(margin_seconds, max(0.5, remaining * 0.1)))

    @classmethod
    def unlimited(cls) -> Deadline:
        return cls(None)

    def remaining(self) -> float | None:
        return None if self._end is None else self._end - time.monotonic()

    def check(self, doing: str) -> None:
        """Raise if less than the margin is left; ``doing`` says what was interrupted (rows so far...)."""
        left = self.remaining()
        if left is not None and left < self.margin:
            raise SourceTimeout(
                f"stopped {doing} {max(left, 0):.1f} s before the Lambda timeout so that this error reaches you; "
                f"raise the function's timeout (up to 900 s), split the table into more splits, or narrow the query")
