"""Snowflake connection strings and credentials -> snowflake-connector-python ``connect()`` arguments.

Accepted (the Java connector's grammar, anchored)::

    snowflake://jdbc:snowflake://<account>.snowflakecomputing.com[:443]/?warehouse=WH&db=DB&schema=S&role=R&${secret}
    snowflake://jdbc:snowflake://<account>...snowflakecomputing.com/?db=DB&user=U&password=P   (inline; not advised)

Parameter names are case-insensitive, values are URL-decoded, ``"Quoted"`` values keep their case (Snowflake
identifiers). ``${secret}`` may stand anywhere, also as ``secret=${name}`` (a common mistake). The 2021 blog's
run-in form field (``...&${name}DisableSpillEncyption - False``) is ignored with a warning; any other unknown
parameter is an error naming it. Hosts outside ``snowflakecomputing.com``/``.cn`` (a proxy, an emulator) need
``account=``; ``ssl=off`` talks plain HTTP (emulators only).

Secrets hold ``username`` or ``sfUser``, plus ``password`` or ``pem_private_key`` (PKCS#8 or PKCS#1, with or
without the PEM header lines, encrypted with ``pem_private_key_passphrase`` or not) for key-pair (JWT) login.
No value from a secret or an inline password ever appears in a message or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from connector.connection import SECRET_PLACEHOLDER, ConnectionSpec
from connector.credentials import SecretCache, credentials_for
from connector.errors import ConfigurationError, SecretError

log = logging.getLogger("afq.snowflake")

PREFIX = "jdbc:snowflake://"
SNOWFLAKE_DOMAINS = (".snowflakecomputing.com", ".snowflakecomputing.cn")
DEFAULT_LOGIN_TIMEOUT = 30

_PARAMETERS = {  # accepted name (lower case) -> canonical
    "warehouse": "warehouse", "db": "database", "database": "database", "schema": "schema", "role": "role",
    "user": "user", "password": "password", "account": "account", "authenticator": "authenticator",
    "ssl": "ssl", "logintimeout": "login_timeout", "login_timeout": "login_timeout",
    "networktimeout": "network_timeout", "network_timeout": "network_timeout",
    "querytimeout": "query_timeout", "query_timeout": "query_timeout", "application": "application",
    "secret": "secret",
}
# JDBC-driver-only switches that have no meaning here; accepted so existing strings keep working.
_IGNORED = {"tracing", "client_result_column_case_insensitive", "jdbc_query_result_format", "databaseterm",
            "client_session_keep_alive", "client_metadata_request_use_connection_ctx"}
_BLOG_FIELD = re.compile(r"^\s*disable\s*spill\s*encr?y?p?tion\b", re.IGNORECASE)
_AUTHENTICATORS = {"snowflake": "SNOWFLAKE", "snowflake_jwt": "SNOWFLAKE_JWT"}


@dataclass(frozen=True)
class SnowflakeUrl:
    """What a ``jdbc:snowflake://`` URL says; ``repr`` never shows the inline password."""

    host: str
    port: int
    protocol: str
    account: str
    database: str | None = None
    schema: str | None = None
    warehouse: str | None = None
    role: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    authenticator: str | None = None
    login_timeout: int = DEFAULT_LOGIN_TIMEOUT
    network_timeout: int | None = None
    query_timeout: int | None = None
    application: str | None = None


def _int(name: str, value: str) -> int:
    if not value.isdigit():
        raise ConfigurationError(f"Snowflake connection parameter {name}={value!r} must be a whole number of seconds")
    return int(value)


def parse_snowflake_url(url: str) -> SnowflakeUrl:
    text = url.strip()
    if not text.lower().startswith(PREFIX):
        raise ConfigurationError(
            "a Snowflake connection string looks like snowflake://jdbc:snowflake://<account>.snowflakecomputing.com/"
            "?warehouse=..&db=..&schema=..&${secret}")
    rest = SECRET_PLACEHOLDER.sub("", text[len(PREFIX):])
    authority, _, query = rest.partition("?")
    authority = authority.rstrip("/")
    if "/" in authority:
        raise ConfigurationError("the Snowflake URL has a path after the host; parameters go after '/?'")
    host, _, port_text = authority.partition(":")
    host = host.strip().lower()
    if not re.fullmatch(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?", host):
        raise ConfigurationError("the Snowflake URL needs a host such as <account>.snowflakecomputing.com")
    if port_text and not port_text.isdigit():
        raise ConfigurationError(f"the Snowflake port {port_text!r} is not a number")

    values: dict[str, str] = {}
    for position, segment in enumerate(query.split("&"), 1):
        if not segment.strip():
            continue  # "&&" and the "&" a removed ${secret} leaves behind
        if "=" not in segment:
            if _BLOG_FIELD.match(segment):
                log.warning("ignoring text run into the Snowflake connection string after the secret "
                            "(a form field name pasted from a blog post); remove it")
                continue
            raise ConfigurationError(f"Snowflake connection parameter #{position} is not of the form name=value")
        name, _, value = segment.partition("=")
        key = name.strip().lower()
        if key in _IGNORED:
            log.info("ignoring JDBC-only Snowflake parameter %s", name.strip())
            continue
        canonical = _PARAMETERS.get(key)
        if canonical is None:
            raise ConfigurationError(
                f"unknown Snowflake connection parameter {name.strip()!r}; accepted: "
                f"{', '.join(sorted(set(_PARAMETERS) - {'secret'}))}")
        if canonical == "secret":
            continue  # "secret=${name}": the placeholder (already removed) names the secret
        if canonical in values:
            raise ConfigurationError(f"Snowflake connection parameter {name.strip()!r} is given twice")
        values[canonical] = unquote(value.strip())

    account = values.get("account")
    if account is None:
        if not host.endswith(SNOWFLAKE_DOMAINS):
            raise ConfigurationError(f"cannot tell the Snowflake account from host {host!r}; add account=<account>")
        account = host.split(".")[0]
    ssl = values.get("ssl", "on").lower()
    if ssl not in ("on", "off", "true", "false"):
        raise ConfigurationError(f"Snowflake connection parameter ssl={ssl!r} must be on or off")
    protocol = "http" if ssl in ("off", "false") else "https"
    authenticator = values.get("authenticator")
    if authenticator is not None:
        if authenticator.lower() not in _AUTHENTICATORS:
            raise ConfigurationError(f"Snowflake authenticator {authenticator!r} is not supported here; use "
                                     f"snowflake (password) or snowflake_jwt (key pair from the secret)")
        authenticator = _AUTHENTICATORS[authenticator.lower()]
    return SnowflakeUrl(
        host=host, port=int(port_text) if port_text else (443 if protocol == "https" else 80), protocol=protocol,
        account=account, database=values.get("database"), schema=values.get("schema"),
        warehouse=values.get("warehouse"), role=values.get("role"), user=values.get("user"),
        password=values.get("password"), authenticator=authenticator,
        login_timeout=_int("loginTimeout", values["login_timeout"]) if "login_timeout" in values
        else DEFAULT_LOGIN_TIMEOUT,
        network_timeout=_int("networkTimeout", values["network_timeout"]) if "network_timeout" in values else None,
        query_timeout=_int("queryTimeout", values["query_timeout"]) if "query_timeout" in values else None,
        application=values.get("application"))


# ------------------------------------------------------------------------------------------ key pairs

_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.DOTALL)


def load_private_key(text: str, passphrase: str | None) -> bytes:
    """A secret's ``pem_private_key`` -> unencrypted PKCS#8 DER, as the connector takes it.

    Tolerates what secrets consoles do to keys: literal ``\\n`` sequences, newlines turned into spaces,
    missing header lines. Only RSA keys are accepted (Snowflake's key-pair auth is RSA only).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    cleaned = text.strip().replace("\\n", "\n").replace("\\r", "")
    password = passphrase.encode() if passphrase else None
    match = _PEM.search(cleaned)
    if match and "Proc-Type" in match.group(2):
        # Traditional OpenSSL encryption keeps its header lines: load the block as written.
        pem = match.group(0).encode()
        key = _load(lambda pw: serialization.load_pem_private_key(pem, pw), password)
    elif match:
        # Rebuild the block: consoles turn newlines into spaces or drop them.
        body = re.sub(r"\s+", "", match.group(2))
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        pem = f"-----BEGIN {match.group(1)}-----\n{lines}\n-----END {match.group(1)}-----\n".encode()
        key = _load(lambda pw: serialization.load_pem_private_key(pem, pw), password)
    else:
        try:
            der = base64.b64decode(re.sub(r"\s+", "", cleaned), validate=True)
        except (binascii.Error, ValueError):
            raise SecretError("pem_private_key is neither a PEM key nor base64 text") from None
        key = _load(lambda pw: serialization.load_der_private_key(der, pw), password)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SecretError("pem_private_key is not an RSA key; Snowflake key-pair authentication needs RSA")
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load(loader: Any, password: bytes | None) -> Any:
    try:
        return loader(password)
    except TypeError as e:
        if password is None:
            raise SecretError("pem_private_key is encrypted: add pem_private_key_passphrase to the secret") from None
        if "not encrypted" in str(e):
            return _load(loader, None)  # a passphrase for an unencrypted key is harmless
        raise SecretError("pem_private_key could not be read") from None
    except ValueError:
        if password is not None:
            raise SecretError("pem_private_key could not be decrypted with pem_private_key_passphrase (wrong "
                              "passphrase?) or is not a PKCS#8/PKCS#1 private key") from None
        raise SecretError("pem_private_key is not a PKCS#8 or PKCS#1 private key") from None
    except Exception:  # unsupported algorithms and the like: never echo the key material
        raise SecretError("pem_private_key could not be read") from None


# ------------------------------------------------------------------------------------------ connect()


#: Session parameters pinned on every connection, because an account, user or role may set them otherwise and
#: each would change answers (a session parameter overrides the account's and the user's):
SESSION_PARAMETERS: dict[str, Any] = {
    # TIMESTAMP_LTZ values and wall-clock bindings are read and compared in UTC, as Athena's are.
    "TIMEZONE": "UTC",
    # 0 = no limit. Any other value cuts every result short without an error.
    "ROWS_PER_RESULTSET": 0,
    # Quoted names are case-sensitive, so "Id" and "ID" stay two columns and a quoted name means that exact one.
    "QUOTED_IDENTIFIERS_IGNORE_CASE": False,
    # NULLs sort as the largest value (Snowflake's default). Pushed ORDER BY keys also spell NULLS FIRST/LAST out.
    "DEFAULT_NULL_ORDERING": "LAST",
}


def connect_arguments(spec: ConnectionSpec, url: SnowflakeUrl, cache: SecretCache | None = None) -> dict[str, Any]:
    """Keyword arguments for ``snowflake.connector.connect`` (credentials resolved now, not cached here)."""
    arguments: dict[str, Any] = {
        "account": url.account, "host": url.host, "port": url.port, "protocol": url.protocol,
        "paramstyle": "qmark",  # server-side binding: values never pass through SQL text
        "login_timeout": url.login_timeout,
        "application": url.application or "athena-federation-py",
        "client_session_keep_alive": False,
        "enable_server_session_keep_alive_auto_detection": False,
        # NUMBER(p, s > 0) arrives as scaled integers; without this the driver divides them into float64
        # (NUMBER(18,2) 1234567890123456.78 would read as ...456.75). With it: decimal128(38, s), exact.
        "arrow_number_to_decimal": True,
        "session_parameters": {**SESSION_PARAMETERS, **({"STATEMENT_TIMEOUT_IN_SECONDS": url.query_timeout}
                                                       if url.query_timeout is not None else {})},
    }
    if url.network_timeout is not None:
        arguments["network_timeout"] = url.network_timeout
    for name in ("database", "schema", "warehouse", "role"):
        value = getattr(url, name)
        if value:
            arguments[name] = value
    arguments.update(_credentials(spec, url, cache))
    return arguments


def _credentials(spec: ConnectionSpec, url: SnowflakeUrl, cache: SecretCache | None) -> dict[str, Any]:
    secret = spec.secret_name
    if secret is None:
        if not url.user:
            raise ConfigurationError("the Snowflake connection string names no credentials: add ${secret-name} "
                                     "(a Secrets Manager secret with username and password or pem_private_key)")
        if url.authenticator == "SNOWFLAKE_JWT":
            raise ConfigurationError("authenticator=snowflake_jwt needs a ${secret} holding pem_private_key")
        if not url.password:
            raise ConfigurationError("the Snowflake connection string has user= but no password=; use a ${secret}")
        return {"user": url.user, "password": url.password}
    credentials = credentials_for(spec, cache)
    assert credentials is not None
    user = credentials.username or credentials.extra("sfUser") or url.user
    if not user:
        raise SecretError(f"secret {secret!r} has no username or sfUser")
    pem = credentials.extra("pem_private_key")
    if pem:
        key = load_private_key(pem, credentials.extra("pem_private_key_passphrase"))
        return {"user": user, "private_key": key, "authenticator": "SNOWFLAKE_JWT"}
    if url.authenticator == "SNOWFLAKE_JWT":
        raise SecretError(f"authenticator=snowflake_jwt but secret {secret!r} has no pem_private_key")
    if not credentials.password:
        raise SecretError(f"secret {secret!r} has neither password nor pem_private_key")
    return {"user": user, "password": credentials.password}
