"""Sorted runs on local disk for an ORDER BY the framework applies, when the rows do not fit its memory cap.

A run is a file of Arrow record batch messages, each AES-GCM encrypted under a key that only this process holds
(a fresh nonce per chunk), so the rows of a query never rest readable on disk - Lambda's ``/tmp`` outlives one
invocation in a warm container. Runs live in one private temporary directory per sort, removed when it ends.

Disk is a bound too: before each chunk is written the free space is checked, and a sort that would fill the disk
stops with an error saying how much room it needs (on Lambda: raise the function's ephemeral storage).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import field
from typing import TYPE_CHECKING

import pyarrow as pa

from connector.errors import ResultTooLarge, SpillError
from connector.lazy_dataclass import lazy_dataclass

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: Free space left on the disk after every chunk written (the process, the local spill stand-in and the runtime
#: need some too).
DISK_RESERVE_BYTES = 64 << 20


@lazy_dataclass(frozen=False)
class Run:
    """One sorted run: where it is, and each chunk's (offset, length, nonce)."""

    path: str
    schema: pa.Schema
    chunks: list[tuple[int, int, int]] = field(default_factory=list)
    rows: int = 0
    bytes: int = 0


class RunStore:
    """The private directory of one sort's runs; ``close`` removes it with every run left in it."""

    def __init__(self, root: str | None = None, *, reserve_bytes: int = DISK_RESERVE_BYTES) -> None:
        self._root = root
        self._reserve = reserve_bytes
        self._directory: str | None = None
        self._cipher: AESGCM | None = None
        self._nonce = 0
        self._count = 0
        self.bytes_written = 0

    def _open(self) -> str:
        if self._directory is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._directory = tempfile.mkdtemp(prefix="afq-sort-", dir=self._root)
            self._cipher = AESGCM(AESGCM.generate_key(bit_length=256))
        return self._directory

    def write(self, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Run:
        """Store ``batches`` (already in order) as a new run, one encrypted chunk per batch."""
        directory = self._open()
        assert self._cipher is not None
        self._count += 1
        run = Run(os.path.join(directory, f"run-{self._count}"), schema)
        offset = 0
        try:
            with open(run.path, "wb") as out:
                for batch in batches:
                    if not batch.num_rows:
                        continue
                    message = batch.serialize()
                    self._check_room(directory, offset + message.size)
                    self._nonce += 1
                    chunk = self._cipher.encrypt(self._nonce.to_bytes(12, "big"), memoryview(message).cast("B"), None)
                    out.write(chunk)
                    run.chunks.append((offset, len(chunk), self._nonce))
                    offset += len(chunk)
                    run.rows += batch.num_rows
        except BaseException:
            self.delete(run)
            raise
        run.bytes = offset
        self.bytes_written += offset
        return run

    def read(self, run: Run) -> Iterator[pa.RecordBatch]:
        """The run's batches in order, one chunk in memory at a time."""
        assert self._cipher is not None
        from cryptography.exceptions import InvalidTag

        with open(run.path, "rb") as source:
            for offset, length, nonce in run.chunks:
                source.seek(offset)
                data = source.read(length)
                try:
                    plaintext = self._cipher.decrypt(nonce.to_bytes(12, "big"), data, None)
                except InvalidTag:
                    raise SpillError(f"the sorted run {run.path} failed AES-GCM authentication: it was modified "
                                     f"while the query ran") from None
                yield pa.ipc.read_record_batch(pa.py_buffer(plaintext), run.schema)

    def delete(self, run: Run) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(run.path)

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
            self._cipher = None

    def _check_room(self, directory: str, run_bytes: int) -> None:
        """Room for the current run to reach ``run_bytes`` with the reserve left free."""
        free = shutil.disk_usage(directory).free
        if free - run_bytes < self._reserve:
            raise ResultTooLarge(
                f"sorting rows the source cannot sort needs more local disk than is free in {directory} "
                f"({self.bytes_written + run_bytes:,} bytes of sorted runs so far, {free:,} bytes "
                f"free); lower the LIMIT, sort on a column the source can sort, or give the function more "
                f"ephemeral storage (/tmp)")
