"""No secret, password, private key or spill key in any log line, ``--trace`` file or error message.

Every logger of the process is at DEBUG - botocore's included, whose DEBUG records print whole response bodies
(a Secrets Manager secret, a KMS data key's plaintext) - with a root handler standing for the Lambda runtime's
and the connector's JSON handler, as deployed. Then every path that handles secrets runs for real: secrets that
are missing or malformed, a wrong and a right PostgreSQL password from Secrets Manager, KMS spill keys and
random spill keys in splits spilled to S3, an encrypted key-pair PEM with a right and a wrong passphrase,
inline passwords in each engine's connection string, and ``afq query --trace``. Every captured byte of text
is searched for every secret in the forms it could be printed in.

The connector's policy (``connector.logs``): DEBUG records of botocore, boto3, s3transfer and urllib3 are
dropped at the loggers and at every handler we guard (they carry payloads), and every record that passes is
scrubbed of registered secrets and password-, key- and PEM-shaped text.
"""

from __future__ import annotations

import base64
import gc
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from connector import handler, logs
from connector.errors import ConnectorError
from connector.protocol import (
    Constraints,
    EncryptionKey,
    GetSplitsRequest,
    GetTableLayoutRequest,
    GetTableRequest,
    Identity,
    ReadRecordsRequest,
    RemoteReadRecordsResponse,
    TableName,
    parse_response,
)
from tests.servers.ports import free_port
from tests.servers.postgres import PASSWORD, PASSWORD_USER, PostgresServer
from tests.servers.s3 import SeaweedFS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

Env = Callable[..., None]
RUN = uuid.uuid4().hex[:8]
WRONG_PASSWORD = f"Wr0ng-Pa55-{RUN}-x"
NOT_JSON_TEXT = f"password=NotJson-{RUN}-secret"
INLINE = {engine: f"Inl1ne-{engine}-{RUN}" for engine in ("postgres", "h2", "oracle", "teradata", "snowflake")}
PASSPHRASE = f"pass-phrase-{RUN}"


class Capture:
    """Everything printed: log records (root handler and the JSON handler), errors, trace files."""

    def __init__(self) -> None:
        self.root = io.StringIO()
        self.json = io.StringIO()
        self.errors: list[str] = []
        self.spill_keys: list[EncryptionKey] = []
        self.files: list[Path] = []

    def expect_error(self, call: Callable[[], Any], kind: type[BaseException] = ConnectorError) -> str:
        with pytest.raises(kind) as raised:
            call()
        text = f"{type(raised.value).__name__}: {raised.value}"
        self.errors.append(text)
        return text

    def text(self) -> str:
        files = "\n".join(p.read_text(errors="replace") for p in self.files)
        return "\n".join([self.root.getvalue(), self.json.getvalue(), *self.errors, files])


def printable_forms(secret: bytes | str) -> list[str]:
    """The ways a value could show up in text: itself, base64, hex, Python's repr of the bytes."""
    raw = secret.encode() if isinstance(secret, str) else secret
    forms = [base64.b64encode(raw).decode(), raw.hex(), repr(raw)[2:-1]]
    if isinstance(secret, str):
        forms += [secret, json.dumps(secret)[1:-1]]
    return [f for f in forms if len(f) >= 8]


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Capture]:
    """``capture.start()``: every logger at DEBUG, a root handler (the Lambda runtime's stand-in, there before the
    connector's first invocation) and the connector's JSON handler. The test's own set-up calls come before."""
    found = Capture()
    root, afq = logging.getLogger(), logging.getLogger("afq")
    runtime_handler = logging.StreamHandler(found.root)
    runtime_handler.setLevel(logging.DEBUG)
    runtime_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    json_handler = logs.json_handler(found.json)
    levels: dict[str, int] = {}

    def start() -> None:
        import botocore  # noqa: F401  (its loggers exist: they are set to DEBUG below like every other)

        root.addHandler(runtime_handler)
        afq.addHandler(json_handler)
        names = dict.fromkeys(["", "afq", "botocore", "boto3", "urllib3", "s3transfer", "snowflake",
                               "snowflake.connector", "jpype", "teradatasql", "oracledb",
                               *logging.root.manager.loggerDict])
        levels.update({n: logging.getLogger(n).level for n in names})  # all of them before any changes
        for n in names:
            logging.getLogger(n).setLevel(logging.DEBUG)
        handler.reset()  # the next invocation is a cold start, as with a new Lambda instance

    found.start = start  # type: ignore[attr-defined]
    # Record the keys GetSplits hands out (KMS or random), to look for them afterwards.
    import connector.service as service_module

    real = service_module.new_encryption_key

    def recording(settings: Any) -> Any:
        key = real(settings)
        if key is not None:
            found.spill_keys.append(key)
        return key

    monkeypatch.setattr(service_module, "new_encryption_key", recording)
    try:
        yield found
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
        for n in set(logging.root.manager.loggerDict) - set(levels):  # made during the test: back to inheriting
            logger = logging.root.manager.loggerDict[n]
            if isinstance(logger, logging.Logger):
                logger.setLevel(logging.NOTSET)
        root.removeHandler(runtime_handler)
        afq.removeHandler(json_handler)


@pytest.fixture(scope="module")
def logs_db(postgres_server: PostgresServer) -> Iterator[str]:
    database = postgres_server.create_database("afq_logs")
    postgres_server.psql(f"""
        CREATE SCHEMA s;
        CREATE TABLE s.t AS SELECT n::bigint AS n, repeat('z', 300) AS pad FROM generate_series(1, 30000) AS n;
        GRANT USAGE ON SCHEMA s TO {PASSWORD_USER};
        GRANT SELECT ON ALL TABLES IN SCHEMA s TO {PASSWORD_USER};
    """, database)
    yield database
    postgres_server.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _secret(name: str, **kwargs: Any) -> str:
    boto3.client("secretsmanager").create_secret(Name=name, **kwargs)
    return name


def _call(request: Any) -> Any:
    return parse_response(handler.lambda_handler(json.loads(json.dumps(request.to_wire()))))


def _read_everything(table: TableName) -> Any:
    identity = Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/x")
    definition = _call(GetTableRequest(identity, "q-logs", "cat", table))
    layout = _call(GetTableLayoutRequest(identity, "q-logs", "cat", table, Constraints(), definition.schema, ()))
    splits = _call(GetSplitsRequest(identity, "q-logs", "cat", table, layout.partitions, (), Constraints(), None))
    (split,) = splits.splits
    return _call(ReadRecordsRequest(identity, "q-logs", "cat", table, definition.schema, split, Constraints(),
                                    400_000, 10_000))


def _pem() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(PASSPHRASE.encode())).decode()
    body_line = pem.splitlines()[5]  # a line of the (encrypted) key material
    return pem, body_line


def test_no_secret_reaches_any_log_line_trace_or_error(
        capture: Capture, aws_env: str, s3_env: SeaweedFS, postgres_server: PostgresServer, logs_db: str,
        lambda_env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("jpype")
    from connector.credentials import secrets

    secrets.clear()
    pg = postgres_server.url(logs_db)
    table = TableName("s", "t")
    bucket = s3_env.new_bucket()
    kms_key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
    good = _secret(f"afq/logs-good-{RUN}", SecretString=json.dumps({"username": PASSWORD_USER, "password": PASSWORD}))
    wrong = _secret(f"afq/logs-wrong-{RUN}", SecretString=json.dumps({"username": PASSWORD_USER,
                                                                      "password": WRONG_PASSWORD}))
    not_json = _secret(f"afq/logs-text-{RUN}", SecretString=NOT_JSON_TEXT)
    pem, pem_line = _pem()
    pem_secret = _secret(f"afq/logs-pem-{RUN}", SecretString=json.dumps(
        {"username": "loguser", "pem_private_key": pem, "pem_private_key_passphrase": PASSPHRASE}))
    bad_phrase = _secret(f"afq/logs-pem-bad-{RUN}", SecretString=json.dumps(
        {"username": "loguser", "pem_private_key": pem, "pem_private_key_passphrase": PASSPHRASE + "-no"}))
    h2_dir = tmp_path / "h2"
    _create_h2(f"jdbc:h2:{h2_dir}/db;USER=sa;PASSWORD=the-right-one")  # so a wrong password is really refused
    capture.start()  # type: ignore[attr-defined]

    # 1. The right password from Secrets Manager, KMS spill keys, blocks spilled to S3: all of it at DEBUG.
    lambda_env(default=f"jdbc://{pg}?${{{good}}}", spill_bucket=bucket, kms_key_id=kms_key)
    response = _read_everything(table)
    assert isinstance(response, RemoteReadRecordsResponse) and len(response.remote_blocks) > 1
    # 2. Random (non-KMS) spill keys in splits.
    lambda_env(default=f"jdbc://{pg}?${{{good}}}", spill_bucket=bucket)
    assert isinstance(_read_everything(table), RemoteReadRecordsResponse)
    # 3. A wrong password from Secrets Manager: the server refuses it.
    lambda_env(default=f"jdbc://{pg}?${{{wrong}}}")
    assert "password authentication failed" in capture.expect_error(lambda: _read_everything(table))
    # 4. Secrets that are missing or not JSON.
    for name in (f"afq/logs-missing-{RUN}", not_json):
        lambda_env(default=f"jdbc://{pg}?${{{name}}}")
        capture.expect_error(lambda: _read_everything(table))
    # 5. Inline passwords, one engine after another (wrong ones where a server checks them, else nothing listens).
    closed = free_port()
    inline = {
        "postgres": f"jdbc://{pg}?user={PASSWORD_USER}&password={INLINE['postgres']}",
        "h2": f"jdbc://jdbc:h2:{h2_dir}/db;USER=sa;PASSWORD={INLINE['h2']};IFEXISTS=TRUE",
        "oracle": f"oracle://jdbc:oracle:thin:scott/{INLINE['oracle']}@//127.0.0.1:{closed}/svc",
        "teradata": f"teradata://jdbc:teradata://127.0.0.1/DBS_PORT={closed},USER=u,PASSWORD={INLINE['teradata']}",
        "snowflake": f"snowflake://jdbc:snowflake://127.0.0.1:{closed}/?account=acct&ssl=off&db=d&loginTimeout=2&"
                     f"user=u&password={INLINE['snowflake']}",
    }
    for engine, url in inline.items():
        if engine in ("oracle", "teradata", "snowflake") and not _importable(engine):
            continue
        lambda_env(default=url)
        capture.expect_error(lambda: _call(GetTableRequest(Identity(), "q", "cat", table)))
    # 6. Key-pair PEMs: a right passphrase (nothing listens), a wrong one.
    if _importable("snowflake"):
        for name in (pem_secret, bad_phrase):
            lambda_env(default=f"snowflake://jdbc:snowflake://127.0.0.1:{closed}/?account=acct&ssl=off&db=d&"
                               f"loginTimeout=2&${{{name}}}")
            capture.expect_error(lambda: _call(GetTableRequest(Identity(), "q", "cat", table)))
    gc.collect()  # the snowflake driver's half-built sessions are finalized here, not during a later test
    # 7. afq query --trace, with the password from Secrets Manager and random spill keys.
    from connector.cli import main

    trace = tmp_path / "trace.jsonl"
    capture.files.append(trace)
    lambda_env(default=f"jdbc://{pg}?${{{good}}}")
    assert main(["query", "--quiet", "--trace", str(trace), "--format", "csv", "SELECT count(*) FROM cat.s.t"]) == 0
    out, err = capsys.readouterr()
    assert "30000" in out
    capture.errors += [out, err]

    # What must never appear, in any form it could be printed in.
    forbidden: dict[str, list[str]] = {
        "postgres password": printable_forms(PASSWORD), "wrong password": printable_forms(WRONG_PASSWORD),
        "non-JSON secret": printable_forms(NOT_JSON_TEXT), "PEM key material": [pem_line],
        "PEM passphrase": printable_forms(PASSPHRASE),
        **{f"inline {e} password": printable_forms(p) for e, p in INLINE.items()},
    }
    assert capture.spill_keys, "no split carried a spill key: the test would prove nothing about them"
    for i, key in enumerate(capture.spill_keys):
        forbidden[f"spill key {i}"] = printable_forms(key.key)
        forbidden[f"spill nonce {i}"] = printable_forms(key.nonce)
    text = capture.text()
    leaks = {what: [f for f in forms if f in text] for what, forms in forbidden.items()}
    context = [text[max(0, text.index(f) - 200): text.index(f) + 50] for forms in leaks.values() for f in forms[:1]]
    assert not any(leaks.values()), ({k: v for k, v in leaks.items() if v}, context)
    # ...and the capture really saw the DEBUG traffic it had to survive.
    root_lines = capture.root.getvalue()
    payload_logger = logging.getLogger("botocore.parsers")  # prints response bodies at DEBUG
    assert payload_logger.isEnabledFor(logging.DEBUG), "botocore's DEBUG logging was not on"
    assert any(isinstance(f, logs.PayloadFilter) for f in payload_logger.filters)
    assert "INFO botocore" in root_lines and "Response body" not in root_lines
    assert "ReadRecordsRequest answered" in capture.json.getvalue()
    assert "password authentication failed" in text and trace.read_text().count("\n") > 3


def _create_h2(url: str) -> None:
    from adapters.jdbc.adapter import JdbcAdapter
    from connector.config import Settings
    from connector.connection import parse_connection_string

    JdbcAdapter(parse_connection_string(f"jdbc://{url}"), Settings.from_env({})).connect().close()


def _importable(engine: str) -> bool:
    import importlib.util

    module = {"oracle": "oracledb", "teradata": "teradatasql", "snowflake": "snowflake.connector"}[engine]
    return importlib.util.find_spec(module.split(".")[0]) is not None
