"""Where each split may spill, and with which key - decided once, in GetSplits."""

from __future__ import annotations

import os
import uuid

from connector.config import Settings
from connector.errors import AccessDenied, ConfigurationError, SpillError
from connector.protocol.messages import EncryptionKey, SpillLocation

AES_KEY_BYTES = 32
NONCE_BYTES = 12
KMS_KEY_SPEC = "AES_128"  # what the Java SDK asks KMS for: 16-byte data keys


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
    if settings.kms_key_id:
        return kms_encryption_key(settings.kms_key_id)
    # os.urandom is what secrets.token_bytes calls; secrets itself would load OpenSSL (hmac) on every GetSplits.
    return EncryptionKey(os.urandom(AES_KEY_BYTES), os.urandom(NONCE_BYTES))


def kms_encryption_key(key_id: str) -> EncryptionKey:
    """``GenerateDataKey(AES_128)`` plaintext and ``GenerateRandom(12)``, as the Java SDK's ``KmsKeyFactory``."""
    from botocore.exceptions import BotoCoreError, ClientError

    from connector import aws

    kms = aws.client("kms", caller=aws.caller_access())  # the caller's credentials in managed mode, as Java
    try:
        key = kms.generate_data_key(KeyId=key_id, KeySpec=KMS_KEY_SPEC)["Plaintext"]
        nonce = kms.generate_random(NumberOfBytes=NONCE_BYTES)["Plaintext"]
    except ClientError as e:
        error = e.response.get("Error", {})
        code, message = error.get("Code", "error"), " ".join(str(error.get("Message", "")).split())[:300]
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if "AccessDenied" in code or status == 403:
            raise AccessDenied(f"kms_key_id {key_id!r}: KMS denied a spill data key ({code}: {message}); grant the "
                               f"Lambda's role kms:GenerateDataKey and kms:GenerateRandom on the key") from None
        raise ConfigurationError(f"kms_key_id {key_id!r}: KMS could not make a spill data key ({code}: {message})"
                                 ) from None
    except BotoCoreError as e:
        raise SpillError(f"kms_key_id {key_id!r}: KMS could not be reached to make a spill data key "
                         f"({type(e).__name__}: {str(e)[:300]})") from None
    if len(key) != 16 or len(nonce) != NONCE_BYTES:
        raise SpillError(f"kms_key_id {key_id!r}: KMS returned a {len(key)}-byte data key and a {len(nonce)}-byte "
                         f"random nonce; expected 16 and {NONCE_BYTES}")
    return EncryptionKey(bytes(key), bytes(nonce))
