"""Progress of a query on stderr: splits answered, rows and bytes read, rows written, elapsed time.

On a terminal one line is redrawn in place, twice a second, from the first second on - also while a single
large split is still being read and while the output is written - and left as a summary at the end. Elsewhere
(a log, a pipe) progress is off unless asked for (``--progress``); then a line every few seconds and the
summary once. Thread-safe: splits finish on worker threads, the engine reads on its own.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

MB = 1_000_000


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _counts(line: str) -> str:
    return line.rsplit(" (", 1)[0]


class Progress:
    """``enabled``: None = only when the stream is a terminal; True = always (also the summary of quick queries)."""

    def __init__(self, stream: IO[str] | None = None, *, delay: float = 1.0, interval: float | None = None,
                 enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self._is_tty()
        self.forced = enabled is True
        self.enabled = self.tty if enabled is None else enabled
        self.delay = delay
        self.interval = interval if interval is not None else (0.5 if self.tty else 5.0)
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._splits = self._answered = self._done = self._rows = self._bytes = self._spilled = 0
        self._written: int | None = None
        self._shown = False
        self._last_line = ""
        self._width = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _is_tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False

    # ------------------------------------------------------------------------------------------ events

    def add_splits(self, count: int) -> None:
        with self._lock:
            self._splits += count
        self._start_ticker()

    def split_answered(self, spilled_blocks: int = 0) -> None:
        """ReadRecords returned for one split (its rows may still be on their way: spilled blocks)."""
        with self._lock:
            self._answered += 1
            self._spilled += spilled_blocks

    def rows_read(self, rows: int, nbytes: int = 0) -> None:
        with self._lock:
            self._rows += rows
            self._bytes += nbytes

    def split_done(self, rows: int = 0, spilled_blocks: int = 0, nbytes: int = 0) -> None:
        """A split completely read; ``rows``/``nbytes`` if they were not reported with ``rows_read``."""
        with self._lock:
            if self._answered <= self._done:
                self._answered += 1
                self._spilled += spilled_blocks
            self._done += 1
            self._rows += rows
            self._bytes += nbytes
        self._tick()

    def rows_written(self, rows: int) -> None:
        with self._lock:
            self._written = (self._written or 0) + rows
        self._start_ticker()

    # ------------------------------------------------------------------------------------------ display

    def line(self) -> str:
        with self._lock:
            parts = [f"{self._done}/{self._splits} splits read" if self._splits else "no splits",
                     f"{_plural(self._rows, 'row')} ({self._bytes / MB:,.1f} MB)"]
            if self._answered > self._done:
                parts[0] += f" ({self._answered - self._done} answered, being read)"
            if self._spilled:
                parts.append(_plural(self._spilled, "spilled block"))
            if self._written is not None:
                parts.append(f"{_plural(self._written, 'row')} written")
            return f"afq: {', '.join(parts)} ({time.monotonic() - self._start:.1f} s)"

    def _start_ticker(self) -> None:
        if not self.enabled or self._ticker is not None or self._stop.is_set():
            return
        with self._lock:
            if self._ticker is not None:
                return
            self._ticker = threading.Thread(target=self._run, name="afq-progress", daemon=True)
        self._ticker.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._tick()

    def _tick(self) -> None:
        if not self.enabled or time.monotonic() - self._start < self.delay:
            return
        self._show(self.line())

    def _show(self, text: str, final: bool = False) -> None:
        with self._lock:
            if self.tty:
                pad = " " * max(0, self._width - len(text))
                self.stream.write("\r" + text + pad + ("\n" if final else ""))
                self._width = 0 if final else len(text)
            elif text != self._last_line:
                self.stream.write(text + "\n")
            self._last_line = text
            self._shown = True
            self.stream.flush()

    def finish(self) -> None:
        """Stop updating; leave the summary (printed once) if anything was shown or progress was asked for."""
        if self._stop.is_set():
            return
        self._stop.set()
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join()
        if not self.enabled:
            return
        if self._shown or self.forced:
            text = self.line()
            # Off a terminal, the summary is not repeated when the last line already said the same.
            if self.tty or _counts(text) != _counts(self._last_line):
                self._show(text, final=True)
        self._shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
