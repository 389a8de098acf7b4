"""Each adapter's ``throttle_errors``: the drivers' own error objects for "too many sessions / queries" become
``SourceThrottled`` (Athena's throttle signal before spilling, a local retry after); everything else keeps its
meaning. Oracle, Snowflake and Teradata have no server here, so their drivers' real exception classes carry the
codes their servers send; PostgreSQL is tested for real in ``test_throttling_postgres``."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.sql.adapter import SqlAdapter
from connector.config import Settings
from connector.connection import ConnectionSpec, parse_connection_string
from connector.errors import AccessDenied, SourceError, SourceThrottled, SourceTimeout

# ------------------------------------------------------------------------------------------ Oracle


def _oracle() -> Any:
    pytest.importorskip("oracledb")
    from adapters.oracle.adapter import OracleAdapter

    return OracleAdapter(parse_connection_string("oracle://jdbc:oracle:thin:u/p@//127.0.0.1:1/svc", "ora"),
                         Settings(env={}))


@pytest.mark.parametrize("message", ["ORA-00018: maximum number of sessions exceeded",
                                     "ORA-00020: maximum number of processes (150) exceeded",
                                     "ORA-02391: exceeded simultaneous SESSIONS_PER_USER limit"])
def test_oracle_session_limits_are_throttling(message: str) -> None:
    import oracledb
    from oracledb import errors

    error = _oracle().translate_error(oracledb.DatabaseError(errors._Error(message)))
    assert isinstance(error, SourceThrottled)
    assert message.split(":", maxsplit=1)[0] in str(error)


@pytest.mark.parametrize("code", ["12516", "12519", "12520"])
def test_oracle_listener_without_free_handlers_is_throttling_at_connect(code: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import oracledb
    from oracledb import errors

    refused = errors._create_exception(errors.ERR_LISTENER_REFUSED_CONNECTION, error_code=code)

    def connect(**_: Any) -> Any:
        raise refused

    monkeypatch.setattr(oracledb, "connect", connect)
    adapter = _oracle()
    with pytest.raises(SourceThrottled, match=f"ORA-{code}"), adapter.connection():
        pass


def test_oracle_other_errors_keep_their_meaning() -> None:
    import oracledb
    from oracledb import errors

    error = _oracle().translate_error(oracledb.DatabaseError(errors._Error("ORA-00942: table or view does not exist")))
    assert isinstance(error, AccessDenied)


# ------------------------------------------------------------------------------------------ Snowflake


def _snowflake() -> Any:
    pytest.importorskip("snowflake.connector")
    from adapters.snowflake.adapter import SnowflakeAdapter

    spec = parse_connection_string("snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?user=u&password=p&"
                                   "warehouse=w&db=d")
    return SnowflakeAdapter(spec, Settings.from_env({}))


def test_snowflake_lock_waiter_limit_is_throttling_and_timeouts_stay_timeouts() -> None:
    from snowflake.connector.errors import ProgrammingError

    adapter = _snowflake()
    waiters = ProgrammingError(msg="Statement 'x' has locked table 'T' ... aborted because the number of waiters for "
                                   "this lock exceeds the 20 statements limit.", errno=625, sqlstate="57014")
    assert isinstance(adapter.translate_error(waiters), SourceThrottled)
    timeout = ProgrammingError(msg="Statement reached its statement or warehouse timeout of 10 second(s) and was "
                                   "canceled.", errno=630, sqlstate="57014")
    error = adapter.translate_error(timeout)
    assert isinstance(error, SourceTimeout) and not isinstance(error, SourceThrottled)


# ------------------------------------------------------------------------------------------ Teradata


def _teradata_error(code: int, text: str) -> Exception:
    teradatasql = pytest.importorskip("teradatasql")
    error: Exception = teradatasql.OperationalError(
        f"[Version 20.0.0.72] [Session 0] [Teradata Database] [Error {code}] {text}\n"
        f" at gosqldriver/teradatasql.formatError ErrorUtil.go:84")
    return error


@pytest.mark.parametrize(("code", "text"), [(2631, "Transaction ABORTed due to deadlock."),
                                             (2639, "Too many simultaneous transactions."),
                                             (3130, "Response limit exceeded.")])
def test_teradata_resubmit_codes_are_throttling(code: int, text: str) -> None:
    from adapters.teradata.adapter import TeradataAdapter

    adapter = TeradataAdapter(parse_connection_string("teradata://jdbc:teradata://db.example/USER=u,PASSWORD=p"),
                              Settings(env={}))
    error = adapter.translate_error(_teradata_error(code, text))
    assert isinstance(error, SourceThrottled)
    assert f"{code}" in str(error)
    assert isinstance(adapter.translate_error(_teradata_error(8017, "The UserId, Password or Account is invalid.")),
                      AccessDenied)


# ------------------------------------------------------------------------------------------ the mechanism


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class _Declared(SqlAdapter):
    """An adapter that only declares its throttle codes: the base's ``translate_error`` does the rest."""

    source_type = "declared"
    throttle_errors = frozenset({"TOO_BUSY"})

    def connect(self) -> Any:
        try:
            raise _DriverError("server busy", "TOO_BUSY")
        except _DriverError as e:
            raise SourceError(f"cannot connect: {e}") from None


def test_declaring_throttle_errors_is_enough_for_any_adapter() -> None:
    adapter = _Declared(ConnectionSpec("declared", "x"), Settings())
    wrapped = _DriverError("outer", "OTHER")
    wrapped.__cause__ = _DriverError("inner", "TOO_BUSY")
    assert isinstance(adapter.translate_error(wrapped), SourceThrottled)  # codes are found through causes
    assert type(adapter.translate_error(_DriverError("syntax", "42000"))) is SourceError
    with pytest.raises(SourceThrottled, match="cannot connect: server busy"), adapter.connection():
        pass
