"""Database faults through the real handler, on real PostgreSQL servers: each gives an error the Athena user can
act on, and a partial result is never returned as complete.

* nothing listens on the port / the server was stopped between two invocations: ``SourceError`` naming where;
* the reading backend is terminated (``pg_terminate_backend``) mid-stream, while blocks are being spilled:
  ``SourceError``, and the next request on the same warm service works;
* ``statement_timeout`` fires: ``SourceTimeout`` saying what to change;
* the pooled connection is killed server-side between two invocations: validation notices, the second
  invocation reconnects and succeeds.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connector.config import Settings
from connector.errors import SourceError, SourceTimeout
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
from connector.response_limits import MIN_BLOCK_BYTES
from connector.service import FederationService
from spill.locations import new_encryption_key, new_spill_location
from spill.reader import read_remote_blocks
from tests.servers.ports import free_port
from tests.servers.postgres import PostgresServer, start_postgres, stop_postgres

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120),
              pytest.mark.skipif(importlib.util.find_spec("jpype") is None, reason="JPype is not installed")]

ROWS = 60_000
SCHEMA = pa.schema([("n", pa.int64()), ("pad", pa.string())])
LOCK = 4242


@pytest.fixture(scope="module")
def faults_db(postgres_server: PostgresServer) -> Iterator[str]:
    database = postgres_server.create_database("afq_faults")
    postgres_server.psql(f"""
        CREATE SCHEMA s;
        CREATE TABLE s.t AS SELECT n::bigint AS n, repeat('y', 200) AS pad FROM generate_series(1, {ROWS}) AS n;
        -- At row 50000 the read waits for advisory lock {LOCK}: the test holds it to catch the read mid-stream.
        CREATE FUNCTION s.pause(n bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            IF n = 50000 THEN
                PERFORM pg_advisory_lock_shared({LOCK});
                PERFORM pg_advisory_unlock_shared({LOCK});
            END IF;
            RETURN true;
        END $$;
        CREATE VIEW s.paused AS SELECT n, pad FROM s.t WHERE s.pause(n);
        CREATE FUNCTION s.sleepy(n bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_sleep(0.3);
            RETURN true;
        END $$;
        CREATE VIEW s.slow AS SELECT n, pad FROM s.t WHERE n <= 50 AND s.sleepy(n);
        DROP ROLE IF EXISTS afq_impatient;
        CREATE ROLE afq_impatient LOGIN;
        ALTER ROLE afq_impatient SET statement_timeout = '200ms';
        GRANT USAGE ON SCHEMA s TO afq_impatient;
        GRANT SELECT ON ALL TABLES IN SCHEMA s TO afq_impatient;
    """, database)
    yield database
    postgres_server.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    postgres_server.psql("DROP ROLE IF EXISTS afq_impatient")


def _service(url: str, tmp_path: Path) -> tuple[FederationService, Settings]:
    settings = Settings.from_env({"default": f"jdbc://{url}", "AFQ_LOCAL_SPILL_DIR": str(tmp_path / "spill")})
    return FederationService(settings), settings


def _read(service: FederationService, settings: Settings, table: str, max_inline: int = 1_000_000,
          max_block: int = 1_000_000) -> Any:
    query_id = f"q-{uuid.uuid4()}"
    split = Split(new_spill_location(settings, query_id), new_encryption_key(settings), {})
    request = ReadRecordsRequest(Identity(), query_id, "cat", TableName("s", table), SchemaMessage.of_logical(SCHEMA),
                                 split, Constraints(), max_block, max_inline)
    return parse_response(service.handle(request.to_wire()))


def _rows(response: Any, settings: Settings) -> int:
    if isinstance(response, RemoteReadRecordsResponse):
        return sum(b.num_rows for b in read_remote_blocks(response, settings))
    return int(response.records.logical_batch().num_rows)


def test_nothing_listening_is_a_clear_error_naming_where(tmp_path: Path) -> None:
    port = free_port()  # closed: nothing listens there
    service, _ = _service(f"jdbc:postgresql://127.0.0.1:{port}/db?user=postgres", tmp_path)
    with pytest.raises(SourceError, match=rf"cannot connect to jdbc:postgresql://127\.0\.0\.1:{port}/db.*refused"):
        service.handle(GetTableRequest(Identity(), "q", "cat", TableName("s", "t")).to_wire())


def test_a_stopped_server_between_invocations_is_a_clear_error(tmp_path: Path) -> None:
    server, process = start_postgres()
    try:
        server.psql("CREATE TABLE public.t AS SELECT 1::bigint AS n, 'x'::text AS pad")
        service, _ = _service(f"{server.url()}?user=postgres", tmp_path)
        table = TableName("public", "t")
        request = ReadRecordsRequest(Identity(), "q", "cat", table, SchemaMessage.of_logical(SCHEMA),
                                     Split(None, None, {}), Constraints(), 1_000_000, 1_000_000)
        assert parse_response(service.handle(request.to_wire())).records.logical_batch().num_rows == 1
        stop_postgres(process, None)  # the warm Lambda's pooled connection now points at nothing
        with pytest.raises(SourceError, match=rf"cannot connect to jdbc:postgresql://127\.0\.0\.1:{server.port}/"):
            service.handle(request.to_wire())
    finally:
        stop_postgres(process, server.directory)


def _holder(server: PostgresServer, database: str) -> Any:
    from adapters.jdbc.adapter import JdbcAdapter
    from connector.connection import parse_connection_string

    spec = parse_connection_string(f"jdbc://{server.url(database)}?user=postgres")
    connection = JdbcAdapter(spec, Settings.from_env({})).connect()
    cursor = connection.cursor()
    cursor.execute(f"SELECT pg_advisory_lock({LOCK})")
    cursor.fetchall()
    cursor.close()
    return connection


def _wait_for(condition: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_connection_terminated_mid_stream_while_spilling_fails_the_request(
        postgres_server: PostgresServer, faults_db: str, tmp_path: Path) -> None:
    service, settings = _service(f"{postgres_server.url(faults_db)}?user=postgres", tmp_path)
    spill_dir = tmp_path / "spill"
    holder = _holder(postgres_server, faults_db)
    outcome: dict[str, Any] = {}

    def read() -> None:
        try:
            # The smallest blocks accepted: the first rows are spilled long before row 50000 is reached.
            outcome["response"] = _read(service, settings, "paused", max_inline=10_000, max_block=MIN_BLOCK_BYTES)
        except BaseException as e:
            outcome["error"] = e

    reader = threading.Thread(target=read)
    reader.start()
    try:
        waiting = _wait_for(lambda: postgres_server.psql(
            f"SELECT pid FROM pg_stat_activity WHERE datname = '{faults_db}' AND wait_event_type = 'Lock' "
            f"AND wait_event = 'advisory'"), "the read to reach row 50000")
        assert list(spill_dir.rglob("*.0")), "blocks were being spilled when the connection dropped"
        assert postgres_server.psql(f"SELECT pg_terminate_backend({int(waiting)})") == "t"
    finally:
        holder.close()
        reader.join(60)
    assert "response" not in outcome, "a read whose connection dropped must not answer"
    error = outcome["error"]
    assert isinstance(error, SourceError), repr(error)
    assert "terminating connection due to administrator command" in str(error)
    # The warm service recovers: the broken connection was not pooled.
    assert _rows(_read(service, settings, "t"), settings) == ROWS
    service.pool.close()


def test_statement_timeout_is_a_timeout_error_saying_what_to_change(
        postgres_server: PostgresServer, faults_db: str, tmp_path: Path) -> None:
    service, settings = _service(f"{postgres_server.url(faults_db)}?user=afq_impatient", tmp_path)
    with pytest.raises(SourceTimeout, match=r"canceling statement due to statement timeout.*57014.*statement timeout"):
        _read(service, settings, "slow")
    service.pool.close()


def test_a_pooled_connection_killed_between_invocations_is_replaced(
        postgres_server: PostgresServer, faults_db: str, tmp_path: Path) -> None:
    def idle() -> set[str]:
        return set(postgres_server.psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{faults_db}' AND "
                                        f"state = 'idle' AND application_name = 'PostgreSQL JDBC Driver'").split())

    before = idle()
    service, settings = _service(f"{postgres_server.url(faults_db)}?user=postgres", tmp_path)
    assert _rows(_read(service, settings, "t"), settings) == ROWS
    pooled = idle() - before
    assert len(pooled) == 1, f"one pooled connection expected, found {pooled!r}"
    (pid,) = pooled
    assert postgres_server.psql(f"SELECT pg_terminate_backend({pid})") == "t"
    _wait_for(lambda: not postgres_server.psql(f"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"),
              "the pooled backend to exit")
    assert _rows(_read(service, settings, "t"), settings) == ROWS  # the warm invocation reconnects by itself
    replaced = idle() - before
    assert len(replaced) == 1 and pid not in replaced
    service.pool.close()
