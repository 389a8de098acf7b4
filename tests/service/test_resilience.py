"""Throttling, Lambda's deadline, Athena's query status and request logging, through the real service."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connector.adapter import Adapter, RequestContext, Scan, TableDefinition, TablePage
from connector.config import Settings
from connector.errors import FederationThrottleException, SourceError, SourceThrottled, SourceTimeout
from connector.protocol import (
    Constraints,
    Identity,
    ReadRecordsRequest,
    SchemaMessage,
    Split,
    TableName,
    parse_response,
)
from connector.service import FederationService
from spill.locations import new_spill_location

SCHEMA = pa.schema([("n", pa.int64()), ("pad", pa.string())])
TABLE = TableName("s", "t")


class Numbers(Adapter):
    """``batches`` batches of ``rows`` rows; raises ``SourceThrottled`` at batch ``throttle_at`` for the first
    ``throttle_times`` reads; ``gate`` (if set) must open before the second batch."""

    source_type = "numbers"

    def __init__(self, batches: int, rows: int = 1000, throttle_at: int | None = None, throttle_times: int = 0,
                 gate: threading.Event | None = None) -> None:
        self.batches, self.rows, self.throttle_at, self.throttle_times, self.gate = (
            batches, rows, throttle_at, throttle_times, gate)
        self.reads = 0

    def list_schemas(self, ctx: RequestContext) -> Sequence[str]:
        return ["s"]

    def list_tables(self, ctx: RequestContext, schema: str, next_token: str | None, page_size: int) -> TablePage:
        return TablePage([TABLE])

    def get_table(self, ctx: RequestContext, table: TableName) -> TableDefinition:
        return TableDefinition(SCHEMA)

    def read_split(self, ctx: RequestContext, table: TableName, schema: pa.Schema, split: Split,
                   constraints: Constraints) -> Scan:
        self.reads += 1
        attempt = self.reads

        def batches() -> Iterator[pa.RecordBatch]:
            for i in range(self.batches):
                if i == 1 and self.gate is not None:
                    assert self.gate.wait(30), "the query status poll never answered"
                if i == self.throttle_at and attempt <= self.throttle_times:
                    raise SourceThrottled("too many sessions (ORA-00018)")
                start = i * self.rows
                yield pa.record_batch({"n": pa.array(range(start, start + self.rows), pa.int64()),
                                       "pad": pa.array(["x" * 200] * self.rows)})

        return Scan(batches())


def read(service: FederationService, settings: Settings, context: Any = None) -> Any:
    location = new_spill_location(settings, "query-1")
    request = ReadRecordsRequest(Identity(), "query-1", "cat", TABLE, SchemaMessage.of_logical(SCHEMA),
                                 Split(location, None, {}), Constraints(), 1_000_000, 100_000)
    return parse_response(service.handle(request.to_wire(), context))


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"AFQ_LOCAL_SPILL_DIR": str(tmp_path), **env})


def rows_of_response(response: Any, settings: Settings) -> int:
    if type(response).__name__ == "ReadRecordsResponse":
        return int(response.records.logical_batch().num_rows)
    from spill.reader import read_remote_blocks

    return sum(b.num_rows for b in read_remote_blocks(response, settings))


def test_throttle_before_anything_spilled_is_athenas_throttle_signal(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    adapter = Numbers(batches=5, throttle_at=0, throttle_times=1)
    with pytest.raises(FederationThrottleException, match="numbers asked to slow down: too many sessions"):
        read(FederationService(settings, adapters=lambda _: adapter), settings)
    assert adapter.reads == 1  # Athena retries the split, not us


def test_throttle_after_spilling_is_retried_here_and_the_answer_is_complete(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    adapter = Numbers(batches=40, throttle_at=30, throttle_times=2)
    response = read(FederationService(settings, adapters=lambda _: adapter), settings)
    assert type(response).__name__ == "RemoteReadRecordsResponse"
    assert adapter.reads == 3
    assert rows_of_response(response, settings) == 40_000  # every row exactly once, no block of a failed try


def test_throttling_that_never_ends_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import connector.service as service_module

    monkeypatch.setattr(service_module, "THROTTLE_FIRST_DELAY", 0.001)
    settings = settings_for(tmp_path)
    adapter = Numbers(batches=40, throttle_at=30, throttle_times=100)
    with pytest.raises(SourceError, match=r"kept throttling reads of s\.t after 5 attempts"):
        read(FederationService(settings, adapters=lambda _: adapter), settings)


class _Context:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_reads_stop_before_the_lambda_timeout(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    service = FederationService(settings, adapters=lambda _: Numbers(batches=3))
    with pytest.raises(SourceTimeout, match=r"stopped reading s\.t after 0 rows .* before the Lambda timeout"):
        read(service, settings, _Context(millis=100))  # less than the margin is left
    assert rows_of_response(read(service, settings, _Context(millis=600_000)), settings) == 3000


def test_reads_stop_early_once_athena_reports_the_query_finished(tmp_path: Path, aws_env: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    import connector.service as service_module
    from connector.query_status import QueryStatusChecker

    athena = boto3.client("athena")
    query_id = athena.start_query_execution(QueryString="SELECT 1", ResultConfiguration={
        "OutputLocation": "s3://results/x"})["QueryExecutionId"]  # moto finishes it at once: SUCCEEDED
    answered = threading.Event()

    class Signalling(QueryStatusChecker):
        def _poll(self) -> None:
            super()._poll()
            answered.set()

    monkeypatch.setattr(service_module, "QueryStatusChecker", Signalling)
    settings = settings_for(tmp_path, AWS_LAMBDA_FUNCTION_NAME="fn")
    adapter = Numbers(batches=50, gate=answered)
    location = new_spill_location(settings_for(tmp_path), query_id)
    request = ReadRecordsRequest(Identity(), query_id, "cat", TABLE, SchemaMessage.of_logical(SCHEMA),
                                 Split(location, None, {}), Constraints(), 1_000_000, 1_000_000_000)
    response = parse_response(FederationService(settings, adapters=lambda _: adapter).handle(request.to_wire()))
    assert response.records.logical_batch().num_rows == 1000  # only the batch read before the answer came


def test_each_request_logs_one_summary_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(tmp_path)
    service = FederationService(settings, adapters=lambda _: Numbers(batches=2, rows=10))
    with caplog.at_level(logging.INFO, logger="afq"):
        read(service, settings)
    (record,) = [r for r in caplog.records if r.getMessage() == "ReadRecordsRequest answered"]
    assert record.afq["rows"] == 20 and record.afq["ms"] >= 0  # type: ignore[attr-defined]
