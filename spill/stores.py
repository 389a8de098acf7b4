"""Where spilled blocks live: S3 (through boto3), or a local directory standing in for a bucket off Lambda.

Both stores put and get whole objects and check a bucket before splits point at it. S3 calls retry with
exponential backoff on throttling, 5xx answers and connection errors; when the attempts run out the error names
the bucket and key, so a failed spill fails its request clearly instead of answering with missing blocks.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

from connector import aws
from connector.config import LOCAL_SPILL_BUCKET, Settings
from connector.errors import AccessDenied, ConfigurationError, SpillError, first_line
from connector.lazy_dataclass import lazy_dataclass

T = TypeVar("T")

#: Headers boto3 computes itself; a user-supplied value would break the signature or the upload.
RESERVED_HEADERS = frozenset({"authorization", "host", "content-length", "content-md5", "x-amz-date",
                              "x-amz-content-sha256", "x-amz-security-token", "expect", "transfer-encoding"})

_THROTTLING_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestThrottled",
                               "RequestLimitExceeded", "TooManyRequestsException", "RequestTimeout",
                               "InternalError", "ServiceUnavailable"})


class Store(Protocol):
    """Whole-object storage of spilled blocks."""

    def put(self, bucket: str, key: str, body: bytes | bytearray, headers: Mapping[str, str] | None = None,
            stop: threading.Event | None = None) -> None:
        """Store ``body`` at ``bucket``/``key``, sending ``headers`` with the upload; ``stop`` cuts retries short."""

    def get(self, bucket: str, key: str) -> bytes:
        """The bytes of ``bucket``/``key``."""

    def head_bucket(self, bucket: str) -> None:
        """Fail with a clear error if ``bucket`` does not exist or is not reachable."""

    def describe(self, bucket: str, key: str) -> str:
        """How error messages name an object."""


@lazy_dataclass
class RetryPolicy:
    """Exponential backoff with jitter: ``attempts`` tries, waits growing from ``first_delay`` to ``max_delay``."""

    attempts: int = 6
    first_delay: float = 0.2
    max_delay: float = 5.0

    def delays(self) -> Iterator[float]:
        import random  # jitter, not cryptography; only a retried request needs it

        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield random.uniform(delay / 2, delay)
            delay = min(delay * 2, self.max_delay)


DEFAULT_RETRY = RetryPolicy()


def _error_text(error: BaseException) -> str:
    name, text = type(error).__name__, first_line(error, 300)
    return name if text == name else f"{name}: {text}"


def _status(error: BaseException) -> tuple[int, str]:
    response: Mapping[str, Any] = getattr(error, "response", None) or {}
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status, str(response.get("Error", {}).get("Code") or "")


def _retryable(error: BaseException) -> bool:
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(error, ClientError):
        status, code = _status(error)
        return status >= 500 or status == 429 or code in _THROTTLING_CODES
    return isinstance(error, BotoConnectionError | HTTPClientError)


def _attempt(call: Callable[[], T], retry: RetryPolicy, stop: threading.Event | None,
             fail: Callable[[BaseException, int], Exception]) -> T:
    """``call()`` until it succeeds, retrying retryable errors; ``fail(error, attempts)`` makes the final error."""
    from botocore.exceptions import BotoCoreError, ClientError

    delays = retry.delays()
    attempts = 0
    while True:
        attempts += 1
        try:
            return call()
        except (ClientError, BotoCoreError) as e:
            delay = next(delays, None) if _retryable(e) else None
            if delay is None:
                raise fail(e, attempts) from None
            if stop is None:
                time.sleep(delay)
            elif stop.wait(delay):  # aborted while backing off
                raise fail(e, attempts) from None


class S3Store:
    """S3 over boto3; ``spill_put_request_headers`` are added to each PutObject before it is signed.

    Built on the request's thread, it signs with the caller's forwarded credentials when Athena sent them
    (managed mode, ``connector.aws``) - also from the upload threads, which do not see the request's context.
    """

    def __init__(self, retry: RetryPolicy | None = None) -> None:
        self.retry = retry or DEFAULT_RETRY
        self.caller = aws.caller_access()

    def client(self, headers: Mapping[str, str] | None = None) -> Any:
        extra = tuple(sorted((headers or {}).items()))
        bad = [h for h, _ in extra if h.lower() in RESERVED_HEADERS]
        if bad:
            raise ConfigurationError(f"spill_put_request_headers may not set {bad}: the S3 client computes them")

        def configure(client: Any) -> None:
            if not extra:
                return

            def add_headers(request: Any, **_: Any) -> None:
                for name, value in extra:
                    del request.headers[name]
                    request.headers[name] = value

            client.meta.events.register("before-sign.s3.PutObject", add_headers)

        # Retries are ours (below) so errors can name the object and aborts can cut the backoff short.
        return aws.client("s3", caller=self.caller, variant=("put-headers", extra), configure=configure,
                          retries={"mode": "standard", "total_max_attempts": 1},
                          connect_timeout=5, read_timeout=60, max_pool_connections=16)

    def describe(self, bucket: str, key: str) -> str:
        return f"s3://{bucket}/{key}"

    def _where(self, client: Any, bucket: str, key: str | None = None) -> str:
        target = self.describe(bucket, key) if key is not None else f"bucket {bucket!r}"
        endpoint = aws.endpoint_of(client)
        return f"{target} (endpoint {endpoint})" if endpoint else target

    def put(self, bucket: str, key: str, body: bytes | bytearray, headers: Mapping[str, str] | None = None,
            stop: threading.Event | None = None) -> None:
        client = self.client(headers)

        def fail(error: BaseException, attempts: int) -> Exception:
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            return SpillError(f"could not write spilled block {self._where(client, bucket, key)}{tries}: "
                              f"{_error_text(error)}")

        _attempt(lambda: client.put_object(Bucket=bucket, Key=key, Body=body), self.retry, stop, fail)

    def get(self, bucket: str, key: str) -> bytes:
        client = self.client()

        def fail(error: BaseException, attempts: int) -> Exception:
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            return SpillError(f"could not read spilled block {self._where(client, bucket, key)}{tries}: "
                              f"{_error_text(error)}")

        def call() -> bytes:
            return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())

        return _attempt(call, self.retry, None, fail)

    def head_bucket(self, bucket: str) -> None:
        client = self.client()

        def fail(error: BaseException, attempts: int) -> Exception:
            status, code = _status(error)
            if status in (403, 404) or code in ("NoSuchBucket", "AccessDenied", "Forbidden"):
                kind = AccessDenied if status == 403 else ConfigurationError
                return kind(f'spill_bucket "{bucket}" not found under your account or not accessible '
                            f"(HeadBucket answered HTTP {status}{' ' + code if code else ''} at "
                            f"{aws.endpoint_of(client) or 'S3'}); create the bucket or grant the Lambda role "
                            f"s3:ListBucket, s3:GetObject and s3:PutObject on it")
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            return SpillError(f"could not check spill_bucket {self._where(client, bucket)}{tries}: "
                              f"{_error_text(error)}")

        _attempt(lambda: client.head_bucket(Bucket=bucket), self.retry, None, fail)


class LocalStore:
    """A directory standing in for the spill bucket in local runs (``afq query``, tests without S3)."""

    def __init__(self, directory: str) -> None:
        self.directory = os.path.realpath(directory)

    def path(self, key: str) -> str:
        path = os.path.realpath(os.path.join(self.directory, key))
        if os.path.commonpath([path, self.directory]) != self.directory or path == self.directory:
            raise SpillError(f"spill key {key!r} points outside the local spill directory {self.directory}")
        return path

    def describe(self, bucket: str, key: str) -> str:
        return f"s3://{bucket}/{key} (local file {os.path.join(self.directory, key)})"

    def put(self, bucket: str, key: str, body: bytes | bytearray, headers: Mapping[str, str] | None = None,
            stop: threading.Event | None = None) -> None:
        path = self.path(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # Write then rename, so a reader never sees half a block.
            import tempfile  # only a local store writes files (and tempfile loads shutil, bz2, lzma)

            fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".partial-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(body)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as e:
            raise SpillError(f"could not write spilled block {self.describe(bucket, key)}: {_error_text(e)}") from None

    def get(self, bucket: str, key: str) -> bytes:
        try:
            with open(self.path(key), "rb") as f:
                return f.read()
        except OSError as e:
            raise SpillError(f"could not read spilled block {self.describe(bucket, key)}: {_error_text(e)}") from None

    def head_bucket(self, bucket: str) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as e:
            raise ConfigurationError(f"the local spill directory {self.directory} cannot be created: "
                                     f"{_error_text(e)}; set AFQ_LOCAL_SPILL_DIR") from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise ConfigurationError(f"the local spill directory {self.directory} is not writable; "
                                     f"set AFQ_LOCAL_SPILL_DIR")


def store_for(bucket: str, settings: Settings) -> Store:
    """The local stand-in directory for ``LOCAL_SPILL_BUCKET``, S3 for every real bucket."""
    if bucket == LOCAL_SPILL_BUCKET:
        return LocalStore(settings.spill_directory)
    return S3Store()


_checked: set[tuple[Any, ...]] = set()
_checked_lock = threading.Lock()


def check_spill_bucket(settings: Settings) -> None:
    """HeadBucket the bucket splits will point at, once per bucket and endpoint per process (GetSplits)."""
    bucket = settings.effective_spill_bucket
    if bucket is None:
        return  # on Lambda without a bucket: a result that must spill fails then, clearly
    key = (bucket, settings.spill_directory if bucket == LOCAL_SPILL_BUCKET else aws.environment_key("s3"))
    with _checked_lock:
        if key in _checked:
            return
    store_for(bucket, settings).head_bucket(bucket)
    with _checked_lock:
        _checked.add(key)


def forget_checked_buckets() -> None:
    with _checked_lock:
        _checked.clear()
