"""Where each split may spill, and with which key - decided once, in GetSplits."""

from __future__ import annotations

import secrets
import uuid

from connector.config import Settings
from connector.protocol.messages import EncryptionKey, SpillLocation

AES_KEY_BYTES = 32
NONCE_BYTES = 12


def new_spill_location(settings: Settings, query_id: str) -> SpillLocation | None:
    """A fresh directory location per split: ``<prefix>/<queryId>/<uuid>`` (the prefix may hold the id)."""
    bucket = settings.effective_spill_bucket
    if bucket is None:
        return None
    prefix = settings.spill_prefix
    base = prefix if query_id and query_id in prefix.split("/") else f"{prefix}/{query_id}"
    return SpillLocation(bucket, f"{base}/{uuid.uuid4()}", True)


def new_encryption_key(settings: Settings) -> EncryptionKey | None:
    """A split's AES-GCM key: 256-bit random (or a KMS data key), plus a 12-byte nonce."""
    if settings.disable_spill_encryption:
        return None
    return EncryptionKey(secrets.token_bytes(AES_KEY_BYTES), secrets.token_bytes(NONCE_BYTES))
