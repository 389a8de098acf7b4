"""boto3 clients (S3, KMS, Secrets Manager, Athena), built lazily and shared by every request of the process.

boto3 costs ~100 ms to import and a client ~50 ms to build, so neither happens until a request really spills
or asks KMS for a key. Endpoints come from boto3's standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``
variables (boto3 reads them itself). Clients are keyed on the environment they were built from, so a process
whose environment changes (tests, the local Athena) never talks to a stale endpoint.

Managed mode: when Athena forwards the caller's credentials (``identity.configOptions.fas_token``), the Java SDK
makes that request's spill (S3, KMS), query-status (Athena) and Secrets Manager calls with them. The service
marks the request with ``acting_for``; those call sites ask for ``caller_access()`` *on the request's thread*
(worker threads do not inherit it) and pass it as ``caller=``. Everything else - the policy source, the Glue
connection, the KMS call that opens the token - uses the function's own role.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.forward_access import ForwardAccess

_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
             "AWS_DEFAULT_REGION")
#: Clients signed with forwarded credentials live as long as their query; a warm Lambda keeps only the newest.
CALLER_CLIENTS = 32

_clients: dict[tuple[Any, ...], Any] = {}
_caller_clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()
_acting_for: contextvars.ContextVar[ForwardAccess | None] = contextvars.ContextVar("afq_forward_access",
                                                                                     default=None)


@contextmanager
def acting_for(access: ForwardAccess | None) -> Iterator[None]:
    """Within this block, ``caller_access()`` is the request's forwarded credentials (or None)."""
    token = _acting_for.set(access)
    try:
        yield
    finally:
        _acting_for.reset(token)


def caller_access() -> ForwardAccess | None:
    """The forwarded credentials of the request being answered on this thread, if Athena sent any."""
    return _acting_for.get()


def environment_key(service: str) -> tuple[str | None, ...]:
    """The environment values a client for ``service`` depends on (never the secret key itself)."""
    own = f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}"
    return tuple(os.environ.get(name) for name in (own, *_ENV_KEYS))


def endpoint_of(client: Any) -> str:
    return str(getattr(client.meta, "endpoint_url", "") or "")


def client(service: str, *, caller: ForwardAccess | None = None, variant: tuple[Any, ...] = (),
           configure: Callable[[Any], None] | None = None, **config: Any) -> Any:
    """A cached boto3 client for ``service``; ``variant`` keys clients that ``configure`` sets up differently.

    ``caller``: sign with the caller's forwarded credentials instead of the function's role.
    """
    key = (service, environment_key(service), variant, repr(sorted(config.items())),
           caller.digest if caller is not None else None)
    cache = _caller_clients if caller is not None else _clients
    with _lock:
        found = cache.get(key)
        if found is not None:
            if caller is not None:
                _caller_clients.move_to_end(key)
            return found
    # Opening forwarded credentials may call KMS (through this module): not under the lock.
    session = caller.session() if caller is not None else None
    with _lock:
        found = cache.get(key)
        if found is not None:
            return found
        import boto3
        from botocore.config import Config

        # Sessions are not thread-safe; one per client keeps concurrent first uses apart.
        maker: Any = session or boto3.session.Session()
        made = maker.client(service, config=Config(**config) if config else None)
        from connector.logs import protect

        protect()  # botocore's loggers exist now: drop their DEBUG payload records at the source
        if configure is not None:
            configure(made)
        cache[key] = made
        while len(_caller_clients) > CALLER_CLIENTS:
            _caller_clients.popitem(last=False)
        return made


def clear() -> None:
    """Forget every client (tests that restart servers on the same environment)."""
    with _lock:
        _clients.clear()
        _caller_clients.clear()
