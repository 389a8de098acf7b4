"""AES-GCM of spilled blocks, byte-compatible with the Java SDK's ``AesGcmBlockCrypto``.

The split's key (16 bytes from KMS, 32 from the local CSPRNG) and its 12-byte nonce encrypt every block of that
split, with no additional authenticated data; the 16-byte tag is appended to the ciphertext (the JCE layout).
Reusing the nonce across a split's blocks is the protocol's design: the response carries one key and nonce.
Error messages name the object, never the key or nonce.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from connector.errors import SpillError
from connector.protocol.messages import EncryptionKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_SIZES = (16, 24, 32)


def _cipher(key: EncryptionKey, where: str) -> AESGCM:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(key.key) not in KEY_SIZES:
        raise SpillError(f"the encryption key for {where} is {len(key.key)} bytes; AES-GCM needs 16, 24 or 32")
    if len(key.nonce) != NONCE_BYTES:
        raise SpillError(f"the encryption nonce for {where} is {len(key.nonce)} bytes; Athena needs exactly "
                         f"{NONCE_BYTES}")
    return AESGCM(key.key)


def encrypt(key: EncryptionKey, plaintext: bytes | memoryview, where: str = "a spilled block") -> bytes:
    """``ciphertext || tag`` of ``plaintext`` under the split's key and nonce."""
    return bytes(_cipher(key, where).encrypt(key.nonce, plaintext, None))


def encrypt_parts(key: EncryptionKey, parts: Sequence[bytes | memoryview],
                  where: str = "a spilled block") -> bytearray:
    """``encrypt(key, b"".join(parts))`` without joining: the ciphertext is written straight into its buffer.

    A spilled block is a small legacy header plus Arrow's serialized body; encrypting the pieces in place saves
    a block-sized copy per block (memory is bounded by a few blocks, so each copy counts).
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    _cipher(key, where)  # validates key and nonce sizes with the same messages
    encryptor = Cipher(algorithms.AES(key.key), modes.GCM(key.nonce)).encryptor()
    total = sum(len(p) for p in parts)
    out = bytearray(total + TAG_BYTES)  # GCM's update_into needs len(piece) + 15 bytes of room: the tag gives it
    view = memoryview(out)
    offset = 0
    for part in parts:
        offset += encryptor.update_into(part, view[offset:])
    encryptor.finalize()
    view[offset:] = encryptor.tag
    return out


def decrypt(key: EncryptionKey, data: bytes | memoryview, where: str = "a spilled block") -> bytes:
    """The plaintext of ``data``; a wrong key, nonce or a modified object is a ``SpillError`` naming ``where``."""
    from cryptography.exceptions import InvalidTag

    if len(data) < TAG_BYTES:
        raise SpillError(f"{where} is {len(data)} bytes, too short to be AES-GCM encrypted (the tag alone is "
                         f"{TAG_BYTES} bytes)")
    try:
        return bytes(_cipher(key, where).decrypt(key.nonce, data, None))
    except InvalidTag:
        raise SpillError(f"{where} failed AES-GCM authentication: it was encrypted with a different key or nonce "
                         f"than the response's encryptionKey, or it was modified after it was written") from None
