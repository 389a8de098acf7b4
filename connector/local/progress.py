"""Progress of long scans on stderr: quiet for quick queries, one updating line on a terminal, sparse lines
otherwise (logs). Thread-safe: splits finish on worker threads."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO


class Progress:
    def __init__(self, stream: IO[str] | None = None, *, delay: float = 1.0, interval: float = 0.5,
                 enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.interval = interval if self._is_tty() else max(interval, 5.0)
        self.enabled = enabled
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last = 0.0
        self._splits = self._done = self._rows = self._spilled = 0
        self._shown = False

    def _is_tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def add_splits(self, count: int) -> None:
        with self._lock:
            self._splits += count

    def split_done(self, rows: int, spilled_blocks: int = 0) -> None:
        with self._lock:
            self._done += 1
            self._rows += rows
            self._spilled += spilled_blocks
            self._maybe_show()

    def _line(self) -> str:
        spilled = f", {self._spilled} spilled blocks" if self._spilled else ""
        return (f"afq: {self._done}/{self._splits} splits read, {self._rows:,} rows{spilled} "
                f"({time.monotonic() - self._start:.1f} s)")

    def _maybe_show(self) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._start < self.delay or now - self._last < self.interval:
            return
        self._last = now
        self._shown = True
        if self._is_tty():
            self.stream.write("\r" + self._line())
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write(("\r" if self._is_tty() else "") + self._line() + "\n")
                self.stream.flush()
                self._shown = False
