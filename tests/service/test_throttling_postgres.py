"""Source throttling for real, through the handler: PostgreSQL refusing connections (SQLSTATE 53300).

A role with ``CONNECTION LIMIT 1`` whose only slot is taken makes the server answer "too many connections for
role" on connect: before anything is spilled that must reach Athena as its throttle signal
(``FederationThrottleException``), for metadata requests as for reads. A view whose function raises 53300
once, mid-stream, after blocks have been spilled, shows the other half: the connector retries the split
itself and the answer is complete - every row exactly once.
"""

from __future__ import annotations

import importlib.util
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connector.config import Settings
from connector.connection import parse_connection_string
from connector.errors import FederationThrottleException
from connector.protocol import (
    Constraints,
    GetTableRequest,
    Identity,
    ReadRecordsRequest,
    RemoteReadRecordsResponse,
    SchemaMessage,
    Split,
    TableName,
    parse_response,
)
from connector.service import FederationService
from spill.locations import new_encryption_key, new_spill_location
from spill.reader import read_remote_blocks
from tests.servers.postgres import PostgresServer

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(importlib.util.find_spec("jpype") is None, reason="JPype is not installed")]

ROWS = 60_000
LIMITED_ROLE = "afq_limited"
SCHEMA = pa.schema([("n", pa.int64()), ("pad", pa.string())])


@pytest.fixture(scope="module")
def throttle_db(postgres_server: PostgresServer) -> Iterator[str]:
    database = postgres_server.create_database("afq_throttle")
    postgres_server.psql(f"""
        DROP ROLE IF EXISTS {LIMITED_ROLE};
        CREATE ROLE {LIMITED_ROLE} LOGIN CONNECTION LIMIT 1;
        CREATE SCHEMA s;
        CREATE TABLE s.t AS SELECT n::bigint AS n, repeat('x', 200) AS pad FROM generate_series(1, {ROWS}) AS n;
        CREATE SEQUENCE s.attempts;
        -- Raises too_many_connections the first time row 40000 is read, never again (sequences ignore rollback).
        CREATE FUNCTION s.gate(n bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            IF n = 40000 AND nextval('s.attempts') = 1 THEN
                RAISE EXCEPTION 'sorry, too many clients already' USING ERRCODE = '53300';
            END IF;
            RETURN true;
        END $$;
        CREATE VIEW s.flaky AS SELECT n, pad FROM s.t WHERE s.gate(n);
        GRANT USAGE ON SCHEMA s TO {LIMITED_ROLE};
        GRANT SELECT ON ALL TABLES IN SCHEMA s TO {LIMITED_ROLE};
    """, database)
    yield database
    postgres_server.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    postgres_server.psql(f"DROP ROLE IF EXISTS {LIMITED_ROLE}")


def _service(server: PostgresServer, database: str, user: str, tmp_path: Path) -> tuple[FederationService, Settings]:
    settings = Settings.from_env({"default": f"jdbc://{server.url(database)}?user={user}",
                                  "AFQ_LOCAL_SPILL_DIR": str(tmp_path / "spill")})
    return FederationService(settings), settings


def _read(service: FederationService, settings: Settings, table: str, max_inline: int = 1_000_000) -> Any:
    query_id = f"q-{uuid.uuid4()}"
    split = Split(new_spill_location(settings, query_id), new_encryption_key(settings), {})
    request = ReadRecordsRequest(Identity(), query_id, "cat", TableName("s", table), SchemaMessage.of_logical(SCHEMA),
                                 split, Constraints(), 1_000_000, max_inline)
    return parse_response(service.handle(request.to_wire()))


def _hold_the_only_slot(server: PostgresServer, database: str) -> Any:
    from adapters.jdbc.adapter import JdbcAdapter

    spec = parse_connection_string(f"jdbc://{server.url(database)}?user={LIMITED_ROLE}")
    connection = JdbcAdapter(spec, Settings.from_env({})).connect()
    held = server.psql(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{LIMITED_ROLE}'")
    assert held == "1", held
    return connection


def _wait_until_released(server: PostgresServer, database: str, timeout: float = 30.0) -> None:
    """The backend of a closed connection exits a moment after the client closes it; until then the role's
    only slot is still taken. Poll the server's own view of it (not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    query = f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{LIMITED_ROLE}'"
    while server.psql(query, database) != "0":
        assert time.monotonic() < deadline, f"{LIMITED_ROLE}'s connection was still open {timeout} s after closing"
        time.sleep(0.05)


def test_too_many_connections_before_any_spill_is_athenas_throttle_signal(
        postgres_server: PostgresServer, throttle_db: str, tmp_path: Path) -> None:
    holder = _hold_the_only_slot(postgres_server, throttle_db)
    try:
        service, settings = _service(postgres_server, throttle_db, LIMITED_ROLE, tmp_path)
        with pytest.raises(FederationThrottleException, match=r"53300") as raised:
            _read(service, settings, "t")
        assert "too many connections for role" in str(raised.value)
        get_table = GetTableRequest(Identity(), "q-meta", "cat", TableName("s", "t"))
        with pytest.raises(FederationThrottleException, match="asked to slow down"):
            service.handle(get_table.to_wire())
    finally:
        holder.close()
        _wait_until_released(postgres_server, throttle_db)
    # The slot is free again: the same service now answers completely.
    response = _read(service, settings, "t")
    assert isinstance(response, RemoteReadRecordsResponse)  # 12 MB of rows: spilled
    assert sum(b.num_rows for b in read_remote_blocks(response, settings)) == ROWS


def test_throttled_after_spilling_is_retried_here_and_the_answer_is_complete(
        postgres_server: PostgresServer, throttle_db: str, tmp_path: Path) -> None:
    service, settings = _service(postgres_server, throttle_db, "postgres", tmp_path)
    response = _read(service, settings, "flaky", max_inline=10_000)  # spills from the first batch on
    assert isinstance(response, RemoteReadRecordsResponse)
    assert postgres_server.psql("SELECT last_value FROM s.attempts", throttle_db) == "2"  # failed once, then read
    numbers = pa.concat_arrays([b.column("n") for b in read_remote_blocks(response, settings)]).to_pylist()
    assert sorted(numbers) == list(range(1, ROWS + 1))  # every row exactly once: no block of the failed try
