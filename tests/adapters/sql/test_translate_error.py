"""``SqlAdapter.translate_error``: the one translation of driver errors, which every SQL adapter declares as data
(``error_rules``, ``throttle_errors``, ``timeout_errors``) plus at most an ``error_fields`` hook where its driver
puts codes or text somewhere of its own. The wording of every built-in adapter's errors is pinned here as it was
before the translation was shared (each adapter had its own ``source_error``); the drivers' own exception
classes carry what their servers send, since no Oracle, Snowflake or Teradata server runs here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.adapter import ANY_CODE, ErrorRule, SqlAdapter
from connector.config import Settings
from connector.connection import ConnectionSpec, parse_connection_string
from connector.errors import (
    AccessDenied,
    ConfigurationError,
    ConnectorError,
    SourceError,
    SourceThrottled,
    SourceTimeout,
)
from connector.redact import register_secret


def _sqlite(tmp_path: Path) -> Any:
    from adapters.sqlite.adapter import SqliteAdapter

    return SqliteAdapter(parse_connection_string(f"sqlite://jdbc:sqlite:{tmp_path / 'x.db'}"), Settings(env={}))


def _jdbc(tmp_path: Path) -> Any:
    from adapters.jdbc.adapter import JdbcAdapter

    return JdbcAdapter(parse_connection_string("jdbc://jdbc:postgresql://127.0.0.1:1/db"), Settings(env={}))


def _oracle(tmp_path: Path) -> Any:
    pytest.importorskip("oracledb")
    from adapters.oracle.adapter import OracleAdapter

    return OracleAdapter(parse_connection_string("oracle://jdbc:oracle:thin:u/p@//127.0.0.1:1/svc"), Settings(env={}))


def _snowflake(tmp_path: Path) -> Any:
    pytest.importorskip("snowflake.connector")
    from adapters.snowflake.adapter import SnowflakeAdapter

    return SnowflakeAdapter(parse_connection_string("snowflake://jdbc:snowflake://acct.snowflakecomputing.com/?user=u&"
                                                    "password=p&warehouse=w&db=d"), Settings.from_env({}))


def _teradata(tmp_path: Path) -> Any:
    pytest.importorskip("teradatasql")
    from adapters.teradata.adapter import TeradataAdapter

    return TeradataAdapter(parse_connection_string("teradata://jdbc:teradata://db.example/USER=u,PASSWORD=p"),
                           Settings(env={}))


def _ora(message: str) -> Exception:
    import oracledb
    from oracledb import errors

    error: Exception = oracledb.DatabaseError(errors._Error(message))
    return error


def _snow(message: str, errno: int, sqlstate: str = "42000") -> Exception:
    from snowflake.connector.errors import ProgrammingError

    return ProgrammingError(msg=message, errno=errno, sqlstate=sqlstate)


def _td(code: int, text: str, cause: str = "") -> Exception:
    import teradatasql

    caused = f"\nCaused by {cause}" if cause else ""
    error: Exception = teradatasql.OperationalError(
        f"[Version 20.0.0.72] [Session 0] [Teradata Database] [Error {code}] {text}\n"
        f" at gosqldriver/teradatasql.formatError ErrorUtil.go:84{caused}")
    return error


#: (engine, the driver's error, the class Athena gets, its message) - as each adapter worded it on its own.
CASES: list[tuple[str, Callable[[], Exception], type[ConnectorError], str]] = [
    ("sqlite", lambda: sqlite3.OperationalError("no such table: t\nmore"), SourceError,
     "sqlite error: no such table: t"),
    ("sqlite", lambda: sqlite3.OperationalError(""), SourceError, "sqlite error: OperationalError"),
    ("jdbc", lambda: RuntimeError("ERROR: relation \"t\" does not exist\n  Position: 15"), SourceError,
     'postgresql error: ERROR: relation "t" does not exist'),
    ("oracle", lambda: _ora("ORA-00942: table or view does not exist"), AccessDenied,
     "oracle error: ORA-00942: table or view does not exist (the connector's user needs SELECT on the table and the "
     "ALL_ dictionary views)"),
    ("oracle", lambda: _ora("ORA-03113: end-of-file on communication channel"), SourceError,
     "oracle connection lost: ORA-03113: end-of-file on communication channel"),
    ("oracle", lambda: _ora("ORA-00904: \"X\": invalid identifier"), SourceError,
     'oracle error: ORA-00904: "X": invalid identifier'),
    ("oracle", lambda: _ora("ORA-00018: maximum number of sessions exceeded"), SourceThrottled,
     "oracle error: ORA-00018: maximum number of sessions exceeded (code ORA-00018: the source is refusing work for "
     "now)"),
    ("snowflake", lambda: _snow("Statement reached its statement or warehouse timeout of 10 second(s) and was "
                                "canceled.", 630, "57014"), SourceTimeout,
     "snowflake: the statement timed out: 000630 (57014): Statement reached its statement or warehouse timeout of 10 "
     "second(s) and was canceled."),
    ("snowflake", lambda: _snow("Network timeout while reading", 250003, "08001"), SourceTimeout,
     "snowflake: the statement timed out: 250003 (08001): Network timeout while reading"),
    ("snowflake", lambda: _snow("SQL compilation error: Object 'T' does not exist", 2003), SourceError,
     "snowflake error: 002003 (42000): SQL compilation error: Object 'T' does not exist"),
    ("teradata", lambda: _td(8017, "The UserId, Password or Account is invalid."), AccessDenied,
     "Teradata at db.example:1025 rejected the logon (error 8017: The UserId, Password or Account is invalid.); check "
     "the user name and password (or the secret holding them) and LOGMECH"),
    ("teradata", lambda: _td(444, "Failed to connect to db.example", "dial tcp 10.0.0.1:1025: connection refused"),
     SourceError, "cannot connect to Teradata at db.example:1025 (driver error 444: Failed to connect to db.example; "
     "dial tcp 10.0.0.1:1025: connection refused); check the host and DBS_PORT in the connection string and that the "
     "Lambda's network (VPC, security groups) reaches the database"),
    ("teradata", lambda: _td(176, "Invalid LOGMECH"), ConfigurationError,
     "teradatasql rejected the connection parameters (error 176: Invalid LOGMECH)"),
    ("teradata", lambda: _td(3523, "The user does not have SELECT access to Sales.T."), AccessDenied,
     "Teradata denied access (error 3523: The user does not have SELECT access to Sales.T.)"),
    ("teradata", lambda: _td(2646, "No more spool space."), SourceTimeout,
     "Teradata request timed out or was aborted (error 2646: No more spool space.)"),
    ("teradata", lambda: _td(3807, "Object 'Sales.Nope' does not exist."), SourceError,
     "Teradata error 3807: Object 'Sales.Nope' does not exist."),
    ("teradata", lambda: _td(2631, "Transaction ABORTed due to deadlock."), SourceThrottled,
     "Teradata error 2631: Transaction ABORTed due to deadlock. (code 2631: the source is refusing work for now)"),
    ("teradata", lambda: RuntimeError("not a driver error"), SourceError, "teradata error: not a driver error"),
]
ADAPTERS = {"sqlite": _sqlite, "jdbc": _jdbc, "oracle": _oracle, "snowflake": _snowflake, "teradata": _teradata}


@pytest.mark.parametrize(("engine", "error", "kind", "message"), CASES,
                         ids=[f"{c[0]}-{c[3][:40]}" for c in CASES])
def test_each_adapters_errors_keep_their_kind_and_wording(engine: str, error: Callable[[], Exception],
                                                          kind: type[ConnectorError], message: str,
                                                          tmp_path: Path) -> None:
    translated = ADAPTERS[engine](tmp_path).translate_error(error())
    assert type(translated) is kind and str(translated) == message


# ------------------------------------------------------------------------------------------ the mechanism

class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str = "", errno: int | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.errno = errno


class _Declared(SqlAdapter):
    """An adapter that only declares what its driver's codes mean."""

    source_type = "declared"
    throttle_errors = frozenset({"53300"})
    timeout_errors = frozenset({"57014"})
    error_rules = (
        ErrorRule(frozenset({"42501"}), AccessDenied, "{source} refused: {text} ({code}){missing}"),
        ErrorRule(frozenset({"08006"}), SourceError, "{source} connection lost: {text}", phrases=("broken pipe",)),
        ErrorRule(ANY_CODE, SourceError, "{source} error {code}: {detail}"),
    )


def _declared() -> _Declared:
    return _Declared(ConnectionSpec("declared", "x"), Settings())


def test_rules_match_the_drivers_code_first_match_wins() -> None:
    adapter = _declared()
    denied = adapter.translate_error(_DriverError("permission denied for table t\nDETAIL: ...", "42501"))
    assert type(denied) is AccessDenied and str(denied) == "declared refused: permission denied for table t (42501)"
    lost = adapter.translate_error(_DriverError("could not send data: Broken pipe"))
    assert type(lost) is SourceError and str(lost) == "declared connection lost: could not send data: Broken pipe"
    other = adapter.translate_error(_DriverError("syntax error", errno=1064))
    assert str(other) == "declared error 1064: syntax error"
    uncoded = adapter.translate_error(_DriverError("something else"))
    assert type(uncoded) is SourceError and str(uncoded) == "declared error: something else"


def test_throttle_and_timeout_codes_apply_after_the_rules_through_causes() -> None:
    adapter = _declared()
    busy = _DriverError("outer")
    busy.__cause__ = _DriverError("too many connections", "53300")
    assert isinstance(adapter.translate_error(busy), SourceThrottled)
    timeout = adapter.translate_error(_DriverError("canceling statement due to statement timeout", "57014"))
    assert type(timeout) is SourceTimeout and "code 57014" in str(timeout)


def test_errors_of_the_adapters_own_code_pass_through_scrubbed() -> None:
    register_secret("own-code-secret-5")
    mine = SourceError("column 'x' cannot be read with own-code-secret-5")
    translated = _declared().translate_error(mine)
    assert translated is mine and "own-code-secret-5" not in str(translated)


def test_the_adapters_known_secrets_and_long_text_are_cut_after_scrubbing() -> None:
    adapter = _declared()
    adapter._secret_values = ("only-this-adapter-knows",)
    text = "x" * 490 + " only-this-adapter-knows " + "y" * 600
    translated = str(adapter.translate_error(_DriverError(text)))
    assert "only-this-adapter" not in translated and "only-" not in translated
    assert len(translated) <= len("declared error: ") + 500
