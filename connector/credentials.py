"""Credentials for a connection string: ``${secret}`` placeholders resolved from AWS Secrets Manager.

A secret holds JSON with ``username`` and ``password`` (keys matched case-insensitively) plus adapter extras
(Snowflake's ``pem_private_key``...). Secrets are cached per process with a TTL, so warm invocations do not
call Secrets Manager every time, and rotation is picked up within ``SECRET_CACHE_SECONDS``.

Nothing here ever puts a secret value in a log line, an exception message or a ``repr``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.connection import ConnectionSpec
from connector.errors import SecretError
from connector.redact import register_secret

SECRET_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Credentials:
    """User and password (and extras) for one connection. ``repr`` shows only which keys are present."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    extras: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        keys = sorted(self.extras)
        return f"Credentials(username={self.username!r}, password={'***' if self.password else None}, extras={keys})"

    def extra(self, *names: str) -> str | None:
        """An extra value by any of its names, case-insensitively."""
        lowered = {k.lower(): v for k, v in self.extras.items()}
        for name in names:
            value = lowered.get(name.lower())
            if value not in (None, ""):
                return value
        return None


class SecretCache:
    """Secret JSON by name, fetched from Secrets Manager at most once per TTL."""

    def __init__(self, ttl_seconds: float = SECRET_CACHE_SECONDS, client: Any = None) -> None:
        self.ttl = ttl_seconds
        self._client = client
        self._entries: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def client(self) -> Any:
        if self._client is not None:
            return self._client
        from connector.aws import caller_access, client  # boto3 loads only when a connection string names a secret

        return client("secretsmanager", caller=caller_access())  # managed mode: the caller's, as the Java SDK

    def get(self, name: str) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(name)
            if entry and now - entry[0] < self.ttl:
                return entry[1]
        value = self._fetch(name)
        with self._lock:
            self._entries[name] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fetch(self, name: str) -> dict[str, str]:
        try:
            response = self.client().get_secret_value(SecretId=name)
        except Exception as e:
            if _denied(e):
                raise SecretError(f"cannot read secret {name!r} from Secrets Manager: access denied "
                                  f"({_aws_error(e)}); grant the Lambda's role secretsmanager:GetSecretValue on it "
                                  f"(and kms:Decrypt on its KMS key if it has one)") from None
            raise SecretError(f"cannot read secret {name!r} from Secrets Manager: {_aws_error(e)}") from None
        text = response.get("SecretString")
        if text is None:
            raise SecretError(f"secret {name!r} has no SecretString; store the credentials as JSON text")
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise SecretError(f"secret {name!r} is not JSON; it must look like "
                              '{"username": "...", "password": "..."}') from None
        if not isinstance(data, dict):
            raise SecretError(f"secret {name!r} must be a JSON object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}


def _denied(error: Exception) -> bool:
    """Access denied, however the service says it (AccessDeniedException, or a bare HTTP 403)."""
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code") or "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return "AccessDenied" in code or status == 403 or code == "403"


def _aws_error(error: Exception) -> str:
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
    if code:
        return str(code)
    return type(error).__name__


secrets = SecretCache()


def credentials_for(spec: ConnectionSpec, cache: SecretCache | None = None) -> Credentials | None:
    """The credentials named by the connection string's ``${secret}``, or None when it names none."""
    name = spec.secret_name
    if name is None:
        return None
    data = (cache or secrets).get(name)
    for key, value in data.items():
        if key.lower() not in ("username", "user", "sfuser", "host", "port", "engine", "dbname"):
            register_secret(value)  # passwords, private keys, passphrases: never printable from here on
    lowered = {k.lower(): v for k, v in data.items()}
    username = lowered.get("username") or lowered.get("user") or lowered.get("sfuser")
    password = lowered.get("password")
    extras = {k: v for k, v in data.items() if k.lower() not in ("username", "user", "password")}
    return Credentials(username or None, password or None, extras)
