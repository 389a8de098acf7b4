"""Athena's forward-access session (FAS): the caller's own short-lived AWS credentials, sealed in the request.

In managed mode Athena puts ``fas_token`` (base64 of an AWS Encryption SDK message) and ``service_kms_key_id``
(the KMS key that seals it) into ``identity.configOptions``. Opened, the token is JSON
``{"accessToken", "secretToken", "securityToken"}``: session credentials *of the person running the query*.
The Java SDK uses them for S3, KMS, Athena and Secrets Manager calls of that request; the access policy uses
them to prove who the caller is (``connector.access.identity``).

This module is the one place that reads those options::

    access = ForwardAccess.from_config_options(request.identity.config_options)   # None: no FAS in the request
    if access is not None:
        credentials = access.credentials()          # opened once per token (KMS Decrypt), then cached
        s3 = access.client("s3")                    # a boto3 client signed with the caller's credentials

Every credential read here is registered with ``connector.redact`` the moment it exists, so no log line, error
or trace can print it.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from connector.errors import AccessDenied, InvalidRequest
from connector.lazy_dataclass import lazy_dataclass
from connector.redact import register_secret

FAS_TOKEN = "fas_token"
SERVICE_KMS_KEY = "service_kms_key_id"
#: Opened tokens kept per warm Lambda (a token lives about as long as its query).
_CACHE_ENTRIES = 256
_CACHE_SECONDS = 15 * 60
_MAX_TOKEN_CHARS = 96 * 1024


@lazy_dataclass
class SessionCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


@lazy_dataclass
class ForwardAccess:
    """The sealed FAS token of one request and the KMS key that opens it."""

    token: str = field(repr=False)
    kms_key_id: str

    @classmethod
    def from_config_options(cls, options: Mapping[str, str]) -> ForwardAccess | None:
        """The request's FAS token, or None when it carries none. A token without its key is refused."""
        token = (options.get(FAS_TOKEN) or "").strip()
        if not token:
            return None
        register_secret(token)
        key = (options.get(SERVICE_KMS_KEY) or "").strip()
        if not key:
            raise InvalidRequest(f"identity.configOptions has {FAS_TOKEN} but no {SERVICE_KMS_KEY} to open it with")
        if len(token) > _MAX_TOKEN_CHARS:
            raise InvalidRequest(f"identity.configOptions.{FAS_TOKEN} is {len(token)} characters; at most "
                                 f"{_MAX_TOKEN_CHARS} are accepted")
        if not key.startswith("arn:") or key.count(":") < 5:
            raise InvalidRequest(f"identity.configOptions.{SERVICE_KMS_KEY} must be a KMS key ARN, got {key[:80]!r}")
        return cls(token, key)

    @property
    def digest(self) -> str:
        """A stable, non-secret name for this token (cache keys, logs)."""
        import hashlib  # loads OpenSSL: not on the path of requests without a forward access token

        return hashlib.sha256(self.token.encode()).hexdigest()[:32]

    @property
    def region(self) -> str:
        return self.kms_key_id.split(":")[3]

    def credentials(self) -> SessionCredentials:
        """The caller's session credentials (KMS Decrypt once per token; cached while the query runs)."""
        cached = _cache.get(self.digest)
        if cached is not None:
            return cached
        credentials = _open(self)
        _cache.put(self.digest, credentials)
        return credentials

    def session(self) -> Any:
        """A boto3 session with the caller's credentials, in the key's region (opens the token if needed)."""
        import boto3

        credentials = self.credentials()
        return boto3.session.Session(aws_access_key_id=credentials.access_key_id,
                                     aws_secret_access_key=credentials.secret_access_key,
                                     aws_session_token=credentials.session_token or None,
                                     region_name=self.region)

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for ``service`` signed with the caller's credentials (endpoints as ``aws.client``)."""
        from connector.aws import client

        return client(service, caller=self, region_name=region) if region else client(service, caller=self)


def _open(access: ForwardAccess) -> SessionCredentials:
    from connector.aws import client
    from connector.esdk import SealedMessageError, decrypt_message

    try:
        message = base64.b64decode(access.token, validate=True)
    except (binascii.Error, ValueError):
        raise AccessDenied(f"identity.configOptions.{FAS_TOKEN} is not base64") from None
    kms = client("kms", region_name=access.region)

    def kms_decrypt(blob: bytes, context: Mapping[str, str], key_arn: str) -> bytes:
        answer = kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(context), KeyId=key_arn)
        return bytes(answer["Plaintext"])

    try:
        plaintext = decrypt_message(message, access.kms_key_id, kms_decrypt)
    except SealedMessageError as e:
        raise AccessDenied(f"the forward-access token cannot be opened with {access.kms_key_id}: {e}") from None
    try:
        data = json.loads(plaintext)
        values = [data[k] for k in ("accessToken", "secretToken", "securityToken")]
    except (ValueError, KeyError, TypeError):
        raise AccessDenied("the forward-access token does not hold accessToken, secretToken and securityToken") \
            from None
    if not all(isinstance(v, str) for v in values) or not values[0] or not values[1]:
        raise AccessDenied("the forward-access token holds empty or non-text credentials")
    for value in values[1:]:
        register_secret(value)
    return SessionCredentials(*values)


class _TtlCache:
    def __init__(self, entries: int, seconds: float) -> None:
        self.entries, self.seconds = entries, seconds
        self._items: OrderedDict[str, tuple[float, SessionCredentials]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> SessionCredentials | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or time.monotonic() - item[0] > self.seconds:
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, value: SessionCredentials) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _TtlCache(_CACHE_ENTRIES, _CACHE_SECONDS)
