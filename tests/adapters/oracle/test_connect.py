"""Oracle connection strings -> python-oracledb thin-mode parameters, and connection failures that explain
themselves quickly without ever showing a password.

The failure tests use real sockets on loopback (a closed port, a listener that hangs up, a listener that never
answers) and the real driver. A login refused by Oracle (ORA-01017) cannot be produced without an Oracle
server, so that mapping is checked on the driver's own error object.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator

import boto3
import oracledb
import pytest
from oracledb import errors as oracle_errors

from adapters.oracle.adapter import OracleAdapter
from adapters.oracle.connect import connect_params, connection_error, parse_oracle_url
from connector.config import Settings
from connector.connection import parse_connection_string
from connector.credentials import secrets
from connector.errors import AccessDenied, ConfigurationError, SecretError, SourceError, SourceTimeout
from connector.registry import adapter_class
from tests.servers.ports import free_port

PASSWORD = "s3cr/et@pa\"ss"  # a test value with the characters that break naive parsing


def adapter(url: str, **env: str) -> OracleAdapter:
    spec = parse_connection_string(f"oracle://{url}", "ora")
    return OracleAdapter(spec, Settings(env=env))


# ------------------------------------------------------------------------------------------ parsing

@pytest.mark.parametrize(("url", "host", "port", "service", "sid", "protocol"), [
    ("jdbc:oracle:thin:${ora-secret}@//db.example.com:1521/ORCLPDB1", "db.example.com", 1521, "ORCLPDB1", None, "tcp"),
    ("jdbc:oracle:thin:${ora-secret}@db.example.com:1522/sales.example", "db.example.com", 1522, "sales.example",
     None, "tcp"),
    ("jdbc:oracle:thin:${ora-secret}@db.example.com:1521:ORCL", "db.example.com", 1521, None, "ORCL", "tcp"),
    ("jdbc:oracle:thin:${ora-secret}@tcps://db.example.com:2484/svc", "db.example.com", 2484, "svc", None, "tcps"),
    ("jdbc:oracle:thin:${ora-secret}@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCPS)(HOST=h.example)(PORT=2484))"
     "(CONNECT_DATA=(SERVICE_NAME=svc)))", "h.example", 2484, "svc", None, "tcps"),
    ("jdbc:oracle:thin:${rds!cluster-abc}@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=h)(PORT=1521))"
     "(CONNECT_DATA=(SID=XE)))", "h", 1521, None, "XE", "tcp"),
    ("jdbc:oracle:thin:scott/tiger@//h:1521/svc", "h", 1521, "svc", None, "tcp"),
])
def test_connection_string_forms(url: str, host: str, port: int, service: str | None, sid: str | None,
                                 protocol: str) -> None:
    parsed = parse_oracle_url(url)
    params = connect_params(parsed, 10.0)
    assert (params.host, params.port, params.service_name, params.sid, params.protocol) == (
        host, port, service, sid, protocol)
    assert parsed.uses_tls is (protocol == "tcps")
    if protocol == "tcps":
        assert params.ssl_server_dn_match is True
    assert params.retry_count == 0 and params.tcp_connect_timeout == 10.0


def test_secret_and_inline_credentials() -> None:
    with_secret = parse_oracle_url("jdbc:oracle:thin:${ora-secret}@//h:1521/svc")
    assert (with_secret.secret, with_secret.user, with_secret.password) == ("ora-secret", None, None)
    inline = parse_oracle_url("jdbc:oracle:thin:scott/tiger@//h:1521/svc")
    assert (inline.user, inline.password, inline.target) == ("scott", "tiger", "//h:1521/svc")
    quoted = parse_oracle_url('jdbc:oracle:thin:scott/"p@ss/w:rd"@//h:1521/svc')
    assert (quoted.user, quoted.password, quoted.target) == ("scott", "p@ss/w:rd", "//h:1521/svc")


@pytest.mark.parametrize(("url", "message"), [
    ("jdbc:postgresql://h/db", "looks like oracle://jdbc:oracle:thin:"),
    ("jdbc:oracle:thin:${ora-secret}//h:1521/svc", "${secret-name}@"),
    ("jdbc:oracle:thin:${ora-secret}@", "names no database"),
    ('jdbc:oracle:thin:scott/"unterminated@//h/svc', "quoted password must be closed"),
    ("jdbc:oracle:thin:scott/tiger//h/svc", "no '@'"),
    ("jdbc:oracle:thin:${s}@(DESCRIPTION=(ADDRESS=(HOST=h)", "unbalanced"),
    ("jdbc:oracle:thin:${s}@h o s t:1521/svc", "cannot read the Oracle address"),
])
def test_malformed_connection_strings_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("$", r"\$").replace("{", r"\{")):
        connect_params(parse_oracle_url(url), 10.0)


def test_a_connection_string_without_credentials_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="names no credentials"):
        adapter("jdbc:oracle:thin:@//h:1521/svc")


def test_settings_are_validated() -> None:
    for env in ({"oracle_connect_timeout": "soon"}, {"default_scale": "39"}, {"oracle_splits": "0"},
                {"oracle_limit_style": "top"}, {"oracle_limit_style": "rownum"},
                {"oracle_unconstrained_number": "float"}):
        with pytest.raises(ConfigurationError):
            adapter("jdbc:oracle:thin:u/p@//h:1521/svc", **env)


def test_passwords_never_appear_in_repr_or_redacted_strings() -> None:
    url = f'jdbc:oracle:thin:scott/"{PASSWORD.replace(chr(34), "")}"@//h:1521/svc'
    parsed = parse_oracle_url(url)
    assert parsed.password and parsed.password not in repr(parsed)
    assert parsed.password not in parse_connection_string(f"oracle://{url}").redacted()
    assert parsed.password not in parsed.describe()


def test_the_engine_resolves_to_this_adapter_without_connecting() -> None:
    cls = adapter_class("oracle")
    assert cls is OracleAdapter and cls.source_type == "oracle"
    built = adapter("jdbc:oracle:thin:u/p@//127.0.0.1:1/svc")  # nothing listens on port 1: no connect yet
    assert built.casing.value == "upper"


# ------------------------------------------------------------------------------------------ failures

@pytest.fixture
def listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """A loopback TCP listener that accepts and keeps connections open, saying nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(2)
        for s in accepted:
            s.close()
        server.close()


def test_unreachable_database_fails_fast_with_a_clear_message() -> None:
    port = free_port()
    ora = adapter(f'jdbc:oracle:thin:scott/"{PASSWORD.replace(chr(34), "")}"@//127.0.0.1:{port}/svc')
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        ora.connect()
    assert time.monotonic() - started < 2.0
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "DPY-6005" in message and "refused" in message.lower()
    assert "'scott'" in message and "p@ss" not in message and "s3cr" not in message


def test_a_listener_that_hangs_up_fails_fast(listener: tuple[int, list[socket.socket]]) -> None:
    port, accepted = listener

    def hang_up() -> None:
        deadline = time.monotonic() + 5
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.01)
        for s in accepted:
            s.close()

    threading.Thread(target=hang_up, daemon=True).start()
    with pytest.raises(SourceError, match="cannot connect to Oracle at"):
        adapter(f"jdbc:oracle:thin:u/p@//127.0.0.1:{port}/svc").connect()


def test_a_silent_listener_times_out_instead_of_hanging(listener: tuple[int, list[socket.socket]]) -> None:
    port, _ = listener
    ora = adapter(f"jdbc:oracle:thin:u/p@//127.0.0.1:{port}/svc", oracle_connect_timeout="0.5")
    started = time.monotonic()
    with pytest.raises(SourceTimeout, match=r"did not complete the login within 0\.5 s"):
        ora.connect()
    assert time.monotonic() - started < 3.0


def test_an_11g_listener_is_named_as_an_unsupported_version() -> None:
    """Item 7. An Oracle 11g listener accepts the connect packet with TNS protocol version 314 (12.1 is 315);
    the real driver then refuses the server (DPY-3010, inside DPY-6005), which must say so - not 'cannot
    connect'."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def accept_as_11g() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)  # the driver's CONNECT packet
            body = struct.pack(">HHH", 314, 0, 0) + bytes(24)  # ACCEPT: version, options, ...
            connection.sendall(struct.pack(">HHBBH", 8 + len(body), 0, 2, 0, 0) + body)  # type 2 = ACCEPT
            connection.recv(16)

    thread = threading.Thread(target=accept_as_11g, daemon=True)
    thread.start()
    try:
        ora = adapter(f"jdbc:oracle:thin:u/p@//127.0.0.1:{server.getsockname()[1]}/svc")
        with pytest.raises(ConfigurationError, match=r"Oracle Database 12\.1 and later only \(DPY-3010\)"):
            ora.connect()
    finally:
        thread.join(5)
        server.close()


@pytest.mark.parametrize(("code", "kind", "text"), [
    (1017, AccessDenied, "refused the login as 'scott': ORA-01017 invalid username or password"),
    (28000, AccessDenied, "account is locked"),
    (12514, ConfigurationError, "does not know the service name"),
])
def test_login_refusals_are_named(code: int, kind: type[Exception], text: str) -> None:
    url = parse_oracle_url("jdbc:oracle:thin:scott/tiger@//db.example.com:1521/svc")
    error = oracledb.DatabaseError(oracle_errors._Error(f"ORA-{code:05d}: refused", code=code))
    mapped = connection_error(error, url, "scott")
    assert isinstance(mapped, kind)
    assert text in str(mapped) and "db.example.com:1521/svc" in str(mapped) and "tiger" not in str(mapped)


# ------------------------------------------------------------------------------------------ secrets

def test_credentials_come_from_secrets_manager(aws_env: str) -> None:
    name = f"oracle-{uuid.uuid4().hex[:8]}"
    client = boto3.client("secretsmanager")
    client.create_secret(Name=name, SecretString=json.dumps({"username": "app_reader", "password": PASSWORD}))
    secrets.clear()
    port = free_port()
    ora = adapter(f"jdbc:oracle:thin:${{{name}}}@//127.0.0.1:{port}/svc")
    with pytest.raises(SourceError) as info:
        ora.connect()  # the secret resolved: the failure is the closed port, reported for the secret's user
    assert "'app_reader'" in str(info.value) and PASSWORD not in str(info.value)

    incomplete = f"oracle-{uuid.uuid4().hex[:8]}"
    client.create_secret(Name=incomplete, SecretString=json.dumps({"username": "app_reader"}))
    with pytest.raises(SecretError, match="must hold username and password"):
        adapter(f"jdbc:oracle:thin:${{{incomplete}}}@//127.0.0.1:{port}/svc").connect()
    secrets.clear()
