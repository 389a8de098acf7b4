"""S3 throttling and server errors while spilling, through a fault-injecting proxy in front of SeaweedFS.

The first PutObjects answered 503 SlowDown are retried with backoff and the answer is complete; PutObjects
that keep failing (500 InternalError) fail the request with an error naming the object and the attempts -
never a response that lists fewer blocks than were read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connector.config import Settings
from connector.errors import SpillError
from connector.protocol.messages import RemoteReadRecordsResponse
from spill import stores
from spill.reader import read_remote_blocks
from spill.stores import RetryPolicy
from tests.servers.s3 import SeaweedFS
from tests.servers.s3_faults import FaultProxy
from tests.support.spill_data import TABLE, create_events_db, events_athena

pytestmark = pytest.mark.integration
ROWS = 40_000
Env = Callable[..., None]
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def events_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_events_db(tmp_path_factory.mktemp("events") / "events.db", ROWS)


@pytest.fixture
def through_proxy(s3_fault_proxy: FaultProxy, aws_env: str, seaweedfs: SeaweedFS,
                  monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    from connector import aws

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_fault_proxy.endpoint)
    aws.clear()
    stores.forget_checked_buckets()
    return s3_fault_proxy


def test_slow_down_answers_are_retried_and_the_answer_is_complete(through_proxy: FaultProxy, seaweedfs: SeaweedFS,
                                                                  lambda_env: Env, invoke: Invoke,
                                                                  events_db: Path) -> None:
    bucket = seaweedfs.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket)
    athena = events_athena(invoke)
    _, definition = athena.get_table(TABLE.schema, TABLE.table)
    (split,) = athena.splits(TABLE, definition)
    through_proxy.fail_puts(3, 503, "SlowDown")
    response = athena.read(TABLE, definition, split, max_block_size=400_000)
    assert isinstance(response, RemoteReadRecordsResponse)
    assert through_proxy.failed_puts == 3
    assert through_proxy.passed_puts == len(response.remote_blocks) > 3
    rows = sum(b.num_rows for b in read_remote_blocks(response, Settings.from_env()))
    assert rows == ROWS


@pytest.mark.parametrize(("status", "code"), [(500, "InternalError"), (503, "SlowDown")])
def test_puts_that_keep_failing_fail_the_request_naming_the_block(status: int, code: str, through_proxy: FaultProxy,
                                                                  seaweedfs: SeaweedFS, lambda_env: Env,
                                                                  invoke: Invoke, events_db: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stores, "DEFAULT_RETRY", RetryPolicy(attempts=4, first_delay=0.01, max_delay=0.05))
    bucket = seaweedfs.new_bucket()
    lambda_env(default=f"sqlite://jdbc:sqlite:{events_db}", spill_bucket=bucket)
    athena = events_athena(invoke)
    _, definition = athena.get_table(TABLE.schema, TABLE.table)
    (split,) = athena.splits(TABLE, definition)
    through_proxy.fail_puts(None, status, code)
    with pytest.raises(SpillError, match=rf"could not write spilled block s3://{bucket}/.*\.\d+ .*after 4 attempts: "
                                         rf"ClientError: .*\({code}\)"):
        athena.read(TABLE, definition, split, max_block_size=400_000)
    assert through_proxy.failed_puts >= 4 and through_proxy.passed_puts == 0
    listed = seaweedfs.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    assert listed == []  # nothing half-written is left that a reader could mistake for a result
