"""Snowflake connection strings, secrets and key-pair keys (no server needed)."""

from __future__ import annotations

import base64
import json
import string

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st

from adapters.snowflake.connect import connect_arguments, load_private_key, parse_snowflake_url
from connector.connection import parse_connection_string
from connector.credentials import SecretCache
from connector.errors import ConfigurationError, SecretError

HOST = "xy12345.eu-west-1.snowflakecomputing.com"


def test_reference_form_with_secret() -> None:
    spec = parse_connection_string(
        f"snowflake://jdbc:snowflake://{HOST}/?warehouse=WH&db=SALES&schema=PUBLIC&role=ANALYST&${{snowflake/athena}}")
    url = parse_snowflake_url(spec.url)
    assert (url.host, url.port, url.protocol, url.account) == (HOST, 443, "https", "xy12345")
    assert (url.warehouse, url.database, url.schema, url.role) == ("WH", "SALES", "PUBLIC", "ANALYST")
    assert spec.secret_name == "snowflake/athena"


def test_parameters_are_case_insensitive_url_decoded_and_quoted_values_kept() -> None:
    url = parse_snowflake_url(f'jdbc:snowflake://{HOST}:8443?DB=%22MyDb%22&Warehouse=w%20h&SCHEMA=s&loginTimeout=7')
    assert (url.database, url.warehouse, url.schema, url.port, url.login_timeout) == ('"MyDb"', "w h", "s", 8443, 7)


def test_inline_credentials_never_shown() -> None:
    url = parse_snowflake_url(f"jdbc:snowflake://{HOST}/?db=D&user=bob&password=s%26cr%3Dt")
    assert (url.user, url.password) == ("bob", "s&cr=t")
    assert "s&cr=t" not in repr(url)
    arguments = connect_arguments(parse_connection_string(f"snowflake://jdbc:snowflake://{HOST}/?db=D&user=bob&"
                                                          "password=pw"), parse_snowflake_url(
        f"jdbc:snowflake://{HOST}/?db=D&user=bob&password=pw"))
    assert arguments["user"] == "bob" and arguments["password"] == "pw"
    assert arguments["paramstyle"] == "qmark"


def test_blog_form_with_run_in_form_field_is_tolerated() -> None:
    # The 2021 blog's example: a form field name pasted after the secret placeholder.
    spec = parse_connection_string(f"snowflake://jdbc:snowflake://{HOST}/?warehouse=W&db=D&schema=S"
                                   "&${trianz-snowflake-athena}DisableSpillEncyption - False")
    assert spec.secret_name == "trianz-snowflake-athena"
    assert parse_snowflake_url(spec.url).database == "D"


def test_secret_equals_placeholder_mistake_is_accepted() -> None:
    spec = parse_connection_string(f"snowflake://jdbc:snowflake://{HOST}/?db=D&secret=${{my-secret}}")
    assert spec.secret_name == "my-secret"
    assert parse_snowflake_url(spec.url).database == "D"


@pytest.mark.parametrize(("url", "message"), [
    (f"jdbc:snowflake://{HOST}/?db=D&warehous=W", "unknown Snowflake connection parameter 'warehous'"),
    (f"jdbc:snowflake://{HOST}/?db=D&justtext", "parameter #2 is not of the form name=value"),
    (f"jdbc:snowflake://{HOST}/?db=D&db=E", "given twice"),
    (f"jdbc:snowflake://{HOST}/?db=D&loginTimeout=soon", "loginTimeout='soon' must be a whole number"),
    (f"jdbc:snowflake://{HOST}/?authenticator=externalbrowser", "authenticator 'externalbrowser' is not supported"),
    ("jdbc:snowflake://localhost:8080/?db=D", "add account=<account>"),
    (f"jdbc:oracle:thin:@//{HOST}", "looks like snowflake://jdbc:snowflake://"),
    (f"jdbc:snowflake://{HOST}/extra/?db=D", "path after the host"),
])
def test_bad_urls_name_the_problem(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_snowflake_url(url)


def test_unknown_parameter_error_does_not_echo_values() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_snowflake_url(f"jdbc:snowflake://{HOST}/?db=D&pasword=hunter2")
    assert "hunter2" not in str(info.value)


def test_emulator_form() -> None:
    url = parse_snowflake_url("jdbc:snowflake://127.0.0.1:9999/?account=fakesnow&ssl=off&db=D")
    assert (url.host, url.port, url.protocol, url.account) == ("127.0.0.1", 9999, "http", "fakesnow")


_names = st.sampled_from(["warehouse", "db", "schema", "role"])


@given(st.dictionaries(_names, st.text(string.ascii_letters + string.digits + "_$ %&=\"", min_size=1, max_size=12),
                       min_size=1), st.booleans(), st.randoms())
def test_parameter_round_trip(values: dict[str, str], upper: bool, rng: object) -> None:
    """Any order, any case, percent-encoded values: each parameter comes back exactly."""
    from urllib.parse import quote

    items = list(values.items())
    rng.shuffle(items)  # type: ignore[attr-defined]
    query = "&".join(f"{k.upper() if upper else k}={quote(v, safe='')}" for k, v in items)
    url = parse_snowflake_url(f"jdbc:snowflake://{HOST}/?{query}&${{s}}")
    fields = {"warehouse": url.warehouse, "db": url.database, "schema": url.schema, "role": url.role}
    assert {k: fields[k] for k in values} == values


# ------------------------------------------------------------------------------------------ keys


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
         passphrase: bytes | None = None) -> str:
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def test_key_forms_all_load(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = _pem(rsa_key)
    body = "".join(pem.strip().splitlines()[1:-1])
    forms = {
        "pkcs8 pem": (pem, None),
        "no headers": (body, None),
        "escaped newlines": (pem.replace("\n", "\\n"), None),
        "newlines as spaces": (pem.replace("\n", " "), None),
        "pkcs1": (_pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL), None),
        "encrypted pkcs8": (_pem(rsa_key, passphrase=b"open sesame"), "open sesame"),
        "encrypted, no headers": ("".join(_pem(rsa_key, passphrase=b"pw").strip().splitlines()[1:-1]), "pw"),
        "encrypted pkcs1": (_pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL, b"pw1"), "pw1"),
        "passphrase for a plain key": (pem, "unused"),
    }
    for name, (text, passphrase) in forms.items():
        assert load_private_key(text, passphrase) == _der(rsa_key), name


def test_key_errors_are_clear_and_leak_nothing(rsa_key: rsa.RSAPrivateKey) -> None:
    encrypted = _pem(rsa_key, passphrase=b"right")
    cases = [
        (encrypted, None, "is encrypted: add pem_private_key_passphrase"),
        (encrypted, "wrong", "could not be decrypted with pem_private_key_passphrase"),
        ("not a key at all!", None, "neither a PEM key nor base64"),
        (base64.b64encode(b"garbage bytes").decode(), None, "not a PKCS#8 or PKCS#1 private key"),
    ]
    for text, passphrase, message in cases:
        with pytest.raises(SecretError, match=message) as info:
            load_private_key(text, passphrase)
        assert "right" not in str(info.value) and "wrong" not in str(info.value).replace("(wrong passphrase?)", "")
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(SecretError, match="not an RSA key"):
        load_private_key(ec_key, None)


# ------------------------------------------------------------------------------------------ secrets


def _secret(name: str, value: dict[str, str]) -> None:
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(value))


def test_secret_kinds(aws_env: str, rsa_key: rsa.RSAPrivateKey) -> None:
    _secret("sf-cfg/password", {"username": "alice", "password": "p@ss word"})
    _secret("sf-cfg/sfuser-key", {"sfUser": "bob", "pem_private_key": _pem(rsa_key, passphrase=b"k"),
                                  "pem_private_key_passphrase": "k"})
    _secret("sf-cfg/no-password", {"username": "carol"})
    _secret("sf-cfg/no-user", {"password": "x"})
    cache = SecretCache()

    def arguments(secret: str, extra: str = "") -> dict[str, object]:
        text = f"jdbc:snowflake://{HOST}/?db=D{extra}&${{{secret}}}"
        return connect_arguments(parse_connection_string("snowflake://" + text), parse_snowflake_url(text), cache)

    password = arguments("sf-cfg/password")
    assert (password["user"], password["password"]) == ("alice", "p@ss word")
    key_pair = arguments("sf-cfg/sfuser-key")
    assert (key_pair["user"], key_pair["authenticator"], key_pair["private_key"]) == ("bob", "SNOWFLAKE_JWT",
                                                                                     _der(rsa_key))
    assert "password" not in key_pair
    with pytest.raises(SecretError, match="has neither password nor pem_private_key"):
        arguments("sf-cfg/no-password")
    with pytest.raises(SecretError, match="has no username or sfUser"):
        arguments("sf-cfg/no-user")
    with pytest.raises(SecretError, match="no pem_private_key"):
        arguments("sf-cfg/password", "&authenticator=snowflake_jwt")
    with pytest.raises(SecretError, match="cannot read secret 'sf-cfg/missing'"):
        arguments("sf-cfg/missing")
