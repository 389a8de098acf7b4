"""Is Athena still waiting for this query? A background poll of ``athena:GetQueryExecution``.

Once a query has finished - a LIMIT satisfied elsewhere, a failure, a cancellation - Athena throws away what a
split is still reading. Reading on wastes the source's time and the Lambda's money, so ReadRecords stops early
when this says the query is over. Polling backs off (1, 1, 2, 3, 5, 8, ... 55 s) and never fails a request: if
Athena cannot be asked (no permission, throttled), the query is assumed to be running.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("afq.query_status")

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
_DELAYS = (1, 1, 2, 3, 5, 8, 13, 21, 34, 55)


class QueryStatusChecker:
    def __init__(self, query_id: str, client: Any = None, delays: tuple[float, ...] = _DELAYS) -> None:
        self.query_id = query_id
        self._client = client
        self._delays = delays
        self._running = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.state: str | None = None
        from connector.aws import caller_access

        self._caller = caller_access()  # read on the request's thread: the poll thread does not see it

    def is_running(self) -> bool:
        """False once Athena reports a terminal state. Starts the poll on first use."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="afq-query-status", daemon=True)
                self._thread.start()
        return self._running

    def close(self) -> None:
        self._stop.set()

    def _athena(self) -> Any:
        if self._client is None:
            from connector.aws import client

            self._client = client("athena", caller=self._caller)
        return self._client

    def _poll(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                response = self._athena().get_query_execution(QueryExecutionId=self.query_id)
                self.state = response["QueryExecution"]["Status"]["State"]
                if self.state in TERMINAL_STATES:
                    self._running = False
                    log.info("query %s is %s: stopping reads early", self.query_id, self.state)
                    return
            except Exception as e:  # any failure: keep reading; this check only ever saves work
                code = getattr(e, "response", {}).get("Error", {}).get("Code", type(e).__name__)
                if code in ("InvalidRequestException", "AccessDeniedException"):
                    log.info("query status checks stopped for %s: %s", self.query_id, code)
                    return
                log.debug("query status check failed (%s); assuming the query runs", code)
            delay = self._delays[min(attempt, len(self._delays) - 1)]
            attempt += 1
            self._stop.wait(delay)
