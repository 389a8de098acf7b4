"""Where the access policy comes from: a file, an S3 object or a Secrets Manager secret, cached with a TTL.

``access_policy`` names it: ``/path/policy.json`` (or ``file://...``), ``s3://bucket/key``, or
``secretsmanager:<name-or-arn>`` (a full ``arn:aws:secretsmanager:...`` works too). JSON always; YAML when
PyYAML is installed. Failing to fetch or parse the policy denies every request with an error naming the
policy's location - it never falls back to allowing.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from connector.access.policy import Policy, PolicyError
from connector.errors import first_line

DEFAULT_TTL_SECONDS = 60.0


def _read(location: str) -> str:
    if location.startswith("s3://"):
        from connector.aws import client

        bucket, _, key = location[5:].partition("/")
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return str(body.decode("utf-8"))
    if location.startswith(("secretsmanager:", "arn:aws:secretsmanager:")):
        from connector.aws import client

        name = location.split(":", 1)[1] if location.startswith("secretsmanager:") else location
        text = client("secretsmanager").get_secret_value(SecretId=name).get("SecretString")
        if text is None:
            raise PolicyError(f"access policy {location}: the secret has no SecretString")
        return str(text)
    path = location[7:] if location.startswith("file://") else location
    with open(path, encoding="utf-8") as f:
        return f.read()


def parse_text(text: str, location: str) -> Policy:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            import yaml
        except ImportError:
            raise PolicyError(f"access policy {location} is not valid JSON ({json_error.msg} at line "
                              f"{json_error.lineno}) and PyYAML is not installed to read YAML") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise PolicyError(f"access policy {location} is neither valid JSON nor valid YAML: "
                              f"{first_line(e)}") from None
    try:
        return Policy.parse(data, location)
    except PolicyError as e:
        raise PolicyError(f"access policy {location}: {e}") from None


class PolicySource:
    def __init__(self, location: str, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.location = location
        self.ttl = ttl_seconds
        self._cached: tuple[float, Policy] | None = None
        self._lock = threading.Lock()

    def get(self) -> Policy:
        now = time.monotonic()
        with self._lock:
            if self._cached and now - self._cached[0] < self.ttl:
                return self._cached[1]
        try:
            text = _read(self.location)
        except PolicyError:
            raise
        except Exception as e:  # any failure to fetch denies: fail closed
            code = getattr(e, "response", {}).get("Error", {}).get("Code") if hasattr(e, "response") else None
            raise PolicyError(f"access policy {self.location} cannot be read ({code or type(e).__name__}); "
                              f"every request is denied until it can") from None
        policy = parse_text(text, self.location)
        with self._lock:
            self._cached = (now, policy)
        return policy
