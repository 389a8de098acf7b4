"""AES-GCM of spilled blocks: the Java SDK's byte layout, and clear failures that never show key material."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import SpillError
from connector.protocol.messages import EncryptionKey
from spill.crypto import decrypt, encrypt, encrypt_parts


def _jce_layout(key: EncryptionKey, plaintext: bytes) -> bytes:
    """``AES/GCM/NoPadding`` as JCE emits it: ciphertext then the 128-bit tag (built with the streaming API)."""
    encryptor = Cipher(algorithms.AES(key.key), modes.GCM(key.nonce)).encryptor()
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


@given(plaintext=st.binary(max_size=4096), key_size=st.sampled_from([16, 32]))
def test_ciphertext_is_jce_layout_and_round_trips(plaintext: bytes, key_size: int) -> None:
    key = EncryptionKey(secrets.token_bytes(key_size), secrets.token_bytes(12))
    sealed = encrypt(key, plaintext)
    assert sealed == _jce_layout(key, plaintext)
    assert len(sealed) == len(plaintext) + 16
    assert decrypt(key, sealed) == plaintext


def test_wrong_key_is_a_clear_error_without_key_material() -> None:
    right = EncryptionKey(secrets.token_bytes(32), secrets.token_bytes(12))
    wrong = EncryptionKey(secrets.token_bytes(32), right.nonce)
    sealed = encrypt(right, b"one arrow record batch")
    with pytest.raises(SpillError, match=r"s3://b/k\.0 failed AES-GCM authentication") as caught:
        decrypt(wrong, sealed, "s3://b/k.0")
    message = str(caught.value)
    for material in (right.key, wrong.key, right.nonce):
        assert base64.b64encode(material).decode() not in message
        assert material.hex() not in message


def test_modified_object_fails_authentication() -> None:
    key = EncryptionKey(secrets.token_bytes(16), secrets.token_bytes(12))
    sealed = bytearray(encrypt(key, b"payload"))
    sealed[0] ^= 1
    with pytest.raises(SpillError, match="failed AES-GCM authentication"):
        decrypt(key, bytes(sealed))


def test_nonce_must_be_twelve_bytes() -> None:
    with pytest.raises(SpillError, match=r"nonce .* is 16 bytes; Athena needs exactly 12"):
        encrypt(EncryptionKey(secrets.token_bytes(32), secrets.token_bytes(16)), b"x")


def test_truncated_object_is_named() -> None:
    with pytest.raises(SpillError, match=r"s3://b/k\.3 is 5 bytes, too short"):
        decrypt(EncryptionKey(secrets.token_bytes(32), secrets.token_bytes(12)), b"short", "s3://b/k.3")


@given(parts=st.lists(st.binary(max_size=300), max_size=5), key_size=st.sampled_from([16, 32]))
def test_encrypting_pieces_equals_encrypting_the_whole(parts: list[bytes], key_size: int) -> None:
    key = EncryptionKey(secrets.token_bytes(key_size), secrets.token_bytes(12))
    assert bytes(encrypt_parts(key, [memoryview(p) for p in parts])) == encrypt(key, b"".join(parts))
