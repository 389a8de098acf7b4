"""boto3 clients (S3, KMS, Secrets Manager, Athena), built lazily and shared by every request of the process.

boto3 costs ~100 ms to import and a client ~50 ms to build, so neither happens until a request really spills
or asks KMS for a key. Endpoints come from boto3's standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``
variables (boto3 reads them itself). Clients are keyed on the environment they were built from, so a process
whose environment changes (tests, the local Athena) never talks to a stale endpoint.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
             "AWS_DEFAULT_REGION")

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def environment_key(service: str) -> tuple[str | None, ...]:
    """The environment values a client for ``service`` depends on (never the secret key itself)."""
    own = f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}"
    return tuple(os.environ.get(name) for name in (own, *_ENV_KEYS))


def endpoint_of(client: Any) -> str:
    return str(getattr(client.meta, "endpoint_url", "") or "")


def client(service: str, *, variant: tuple[Any, ...] = (), configure: Callable[[Any], None] | None = None,
           **config: Any) -> Any:
    """A cached boto3 client for ``service``; ``variant`` keys clients that ``configure`` sets up differently."""
    key = (service, environment_key(service), variant, repr(sorted(config.items())))
    with _lock:
        found = _clients.get(key)
        if found is not None:
            return found
        import boto3
        from botocore.config import Config

        # Sessions are not thread-safe; one per client keeps concurrent first uses apart.
        session: Any = boto3.session.Session()
        made = session.client(service, config=Config(**config) if config else None)
        from connector.logs import protect

        protect()  # botocore's loggers exist now: drop their DEBUG payload records at the source
        if configure is not None:
            configure(made)
        _clients[key] = made
        return made


def clear() -> None:
    """Forget every client (tests that restart servers on the same environment)."""
    with _lock:
        _clients.clear()
