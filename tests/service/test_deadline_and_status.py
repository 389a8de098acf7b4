"""Stopping before Lambda's timeout, and polling Athena for the query's state (moto's Athena server)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from connector.deadline import Deadline
from connector.errors import SourceTimeout
from connector.query_status import QueryStatusChecker


class _Context:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_deadline_raises_a_clear_error_inside_the_margin() -> None:
    Deadline.from_context(_Context(60_000)).check("reading split 1")  # plenty left: no error
    with pytest.raises(SourceTimeout, match=r"stopped reading split 1 .* before the Lambda timeout"):
        Deadline(1.0, margin_seconds=5.0).check("reading split 1")
    assert Deadline.from_context(object()).remaining() is None  # off Lambda: unlimited


class _Athena:
    """Answers like athena:GetQueryExecution; counts calls and releases a waiter on the terminal state."""

    def __init__(self, states: list[str]) -> None:
        self.states, self.calls, self.done = states, 0, threading.Event()

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        state = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            self.done.set()
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, "Status": {"State": state}}}


def test_status_checker_stops_once_the_query_is_over() -> None:
    athena = _Athena(["RUNNING", "RUNNING", "CANCELLED"])
    checker = QueryStatusChecker("q-1", client=athena, delays=(0.01,))
    assert checker.is_running()
    assert athena.done.wait(5)
    checker.close()
    # the flag flips right after the terminal answer; wait for the poll thread to record it
    checker._thread.join(5)  # type: ignore[union-attr]
    assert not checker.is_running() and checker.state == "CANCELLED" and athena.calls == 3


def test_status_checker_reads_athena_over_http(aws_env: str) -> None:
    """moto's Athena finishes a started query at once: the checker must see SUCCEEDED through boto3."""
    import boto3

    athena = boto3.client("athena")
    query_id = athena.start_query_execution(QueryString="SELECT 1",
                                            ResultConfiguration={"OutputLocation": "s3://results/x"})["QueryExecutionId"]
    checker = QueryStatusChecker(query_id, delays=(0.01,))
    checker.is_running()
    checker._thread.join(10)  # type: ignore[union-attr]
    assert checker.state == "SUCCEEDED" and not checker.is_running()


def test_status_checker_keeps_reading_when_athena_fails() -> None:
    class Broken:
        calls = 0

        def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
            Broken.calls += 1
            raise ConnectionError("no route to athena")

    checker = QueryStatusChecker("q", client=Broken(), delays=(0.001,))
    assert checker.is_running()
    deadline = threading.Event()
    while Broken.calls < 3 and not deadline.wait(0.01):
        pass
    assert checker.is_running() and Broken.calls >= 3
    checker.close()
