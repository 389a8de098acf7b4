"""The block spiller: each full block goes to ``<split key>.<n>`` as soon as it exists, while fetching goes on.

Uploads run on a couple of worker threads behind a bounded number of in-flight blocks, so fetching from the
source overlaps with writing to S3 and memory stays a small multiple of the block size whatever the result size:
at most ``workers + queue_capacity`` blocks (a worker serializes its block, then encrypts it: one message and
one ciphertext per worker) exist at once, and ``write`` blocks until one is stored.

Each object is exactly what Athena's ``S3BlockSpillReader`` expects: one Arrow IPC RecordBatch message in the
legacy framing, AES-GCM encrypted with the split's key and nonce unless the split has no key. The first failed
upload (after its retries) fails the request; ``finish`` never returns locations while a block is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent import futures

import pyarrow as pa

from connector.config import LOCAL_SPILL_BUCKET, Settings
from connector.errors import ConfigurationError, InvalidRequest, SpillError
from connector.protocol import ipc
from connector.protocol.messages import EncryptionKey, ReadRecordsRequest, SpillLocation
from spill.crypto import encrypt_parts
from spill.locations import new_spill_location
from spill.stores import Store, store_for

DEFAULT_WORKERS = 2
DEFAULT_QUEUE_CAPACITY = 2
MAX_QUEUE_CAPACITY = 16


def block_location(location: SpillLocation, index: int) -> SpillLocation:
    """Block ``index`` of a split's directory location (the naming Athena's reader may rely on)."""
    return SpillLocation(location.bucket, f"{location.key}.{index}", False)


def legacy_parts(batch: pa.RecordBatch) -> tuple[bytes, memoryview]:
    """The batch's legacy-framed IPC message as (head, body); the body stays in Arrow's buffer."""
    return ipc.legacy_parts(batch.serialize())


def seal(parts: tuple[bytes, memoryview], key: EncryptionKey | None, where: str) -> bytes | bytearray:
    """The object body: the plaintext message, or its AES-GCM ciphertext and tag if the split has a key."""
    return b"".join(parts) if key is None else encrypt_parts(key, parts, where)


def encode_block(batch: pa.RecordBatch, key: EncryptionKey | None, where: str = "a spilled block") -> bytes:
    """The object body of one block: the legacy-framed RecordBatch message, encrypted if the split has a key."""
    return bytes(seal(legacy_parts(batch), key, where))


class Spiller:
    """Writes one split's blocks (implements ``connector.records.BlockSpiller``)."""

    def __init__(self, store: Store, location: SpillLocation, key: EncryptionKey | None, *,
                 headers: Mapping[str, str] | None = None, workers: int = DEFAULT_WORKERS,
                 queue_capacity: int = DEFAULT_QUEUE_CAPACITY) -> None:
        if not location.directory:
            raise InvalidRequest(f"the split's spill location s3://{location.bucket}/{location.key} must be a "
                                 f"directory (directory: true); blocks are written under it as <key>.0, <key>.1, ...")
        self.store = store
        self.location = location
        self.key = key
        self.headers = dict(headers or {})
        self._executor = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="afq-spill")
        self._permits = threading.BoundedSemaphore(workers + queue_capacity)
        self._stop = threading.Event()
        self._futures: list[futures.Future[None]] = []
        self._error: BaseException | None = None
        self._error_lock = threading.Lock()
        self._written = 0

    @property
    def blocks_written(self) -> int:
        """Blocks stored so far (for logs and tests)."""
        return self._written

    def write(self, batch: pa.RecordBatch) -> None:
        """Queue one wire-form batch as the next block; blocks while the in-flight blocks are at capacity."""
        self._raise_if_failed()
        self._permits.acquire()
        try:
            self._raise_if_failed()
            index = len(self._futures)
            # A one-item list, so the worker can drop the batch once serialized (the executor keeps its args).
            # The worker serializes too: Arrow copies the block into its IPC message without the GIL, so the
            # fetch of the next block goes on meanwhile (bench/README.md, section 1).
            future = self._executor.submit(self._upload, index, [batch])
        except BaseException:
            self._permits.release()
            raise
        future.add_done_callback(lambda _: self._permits.release())
        self._futures.append(future)

    def finish(self) -> Sequence[SpillLocation]:
        """Wait until every block is stored; their locations in block order, or the first upload's error."""
        futures.wait(self._futures, return_when=futures.FIRST_EXCEPTION)
        self._raise_if_failed()
        futures.wait(self._futures)  # a failure may have landed between the two waits
        self._raise_if_failed()
        self._executor.shutdown(wait=True)
        if self._stop.is_set() or self._written != len(self._futures):
            raise SpillError(f"spilling to s3://{self.location.bucket}/{self.location.key}.* was stopped after "
                             f"{self._written} of {len(self._futures)} blocks; the result is incomplete")
        return [block_location(self.location, i) for i in range(len(self._futures))]

    def abort(self) -> None:
        """Stop promptly: queued blocks are dropped, uploads in flight end their current attempt only."""
        self._stop.set()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------------------------------ workers

    def _upload(self, index: int, box: list[pa.RecordBatch]) -> None:
        batch = box.pop()
        if self._stop.is_set():
            return
        target = block_location(self.location, index)
        where = self.store.describe(target.bucket, target.key)
        try:
            plaintext = legacy_parts(batch)
            del batch
            body = seal(plaintext, self.key, where)
            del plaintext
            self.store.put(target.bucket, target.key, body, self.headers, stop=self._stop)
            with self._error_lock:
                self._written += 1
        except BaseException as e:
            with self._error_lock:
                if self._error is None:
                    self._error = e
            self._stop.set()
            raise

    def _raise_if_failed(self) -> None:
        error = self._error
        if error is None:
            return
        self.abort()
        if isinstance(error, SpillError | ConfigurationError):
            raise error
        raise SpillError(f"spilling to s3://{self.location.bucket}/{self.location.key}.* failed: "
                         f"{type(error).__name__}: {error}") from error


def queue_capacity_of(settings: Settings) -> int:
    """Blocks waiting for a worker: the Java SDK's ``SPILL_QUEUE_CAPACITY`` / ``spill_queue_capacity``, else 2.

    Memory grows by one block per unit, so the value is checked rather than trusted.
    """
    for name in ("SPILL_QUEUE_CAPACITY", "spill_queue_capacity"):
        raw = (settings.env.get(name) or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_QUEUE_CAPACITY:
            raise ConfigurationError(f"{name}={raw!r} must be a whole number from 1 to {MAX_QUEUE_CAPACITY} "
                                     f"(each queued block holds up to maxBlockSize bytes of memory)")
        return int(raw)
    return DEFAULT_QUEUE_CAPACITY


class SpillerFactory:
    """Builds the spiller of each ReadRecords request that must spill, from the process settings.

    The split says where to write (its spill location, made in GetSplits) and with which key; per-request
    ``identity.configOptions`` may change the bucket and prefix, the environment gives the put headers.
    """

    def __init__(self, settings: Settings, *, workers: int = DEFAULT_WORKERS,
                 queue_capacity: int | None = None) -> None:
        self.settings = settings
        self.workers = workers
        self._queue_capacity = queue_capacity

    @property
    def queue_capacity(self) -> int:
        # Read at spill time: a bad value fails the request that spills, not every request (Ping included).
        return self._queue_capacity if self._queue_capacity is not None else queue_capacity_of(self.settings)

    def __call__(self, request: ReadRecordsRequest) -> Spiller:
        settings = self.settings.for_request(request.identity.config_options)
        location = request.split.spill_location
        if location is None:
            location = None if settings.in_lambda else new_spill_location(settings, request.query_id)
        if location is None:
            raise ConfigurationError(
                f"the result of split {dict(request.split.properties)} of {request.table_name} is too large for an "
                f"inline response and must be spilled to S3, but no spill_bucket is configured; set the "
                f"spill_bucket environment variable of the Lambda function")
        if settings.in_lambda and location.bucket == LOCAL_SPILL_BUCKET:
            raise ConfigurationError(
                f"the split points at the local spill stand-in {LOCAL_SPILL_BUCKET!r}, which Athena cannot read; "
                f"set the spill_bucket environment variable of the Lambda function")
        return Spiller(store_for(location.bucket, settings), location, request.split.encryption_key,
                       headers=settings.spill_put_request_headers, workers=self.workers,
                       queue_capacity=self.queue_capacity)
