"""Open an AWS Encryption SDK message sealed under one KMS key (Athena's forward-access token is one).

Athena seals the caller's forward-access credentials with the AWS Encryption SDK (Java) under
``service_kms_key_id``; the Java connectors open it with a *strict* KMS keyring on that key. This is the same
decryption, written against the published message format (v1 and v2 headers, every algorithm suite, framed and
unframed bodies, header authentication, key commitment and the ECDSA footer) with ``cryptography`` - so the
Lambda bundle does not carry the SDK and its dependencies. tests/access/test_forward_access.py seals tokens with
the real SDK (against moto's KMS) and opens them here.

Only the encrypted data keys of the named KMS key are tried (strict keyring); anything malformed, unknown or
unauthenticated is a ``SealedMessageError`` that names what was wrong, never the content.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Largest message accepted (a token is a few KB; anything bigger is hostile input, not credentials).
MAX_MESSAGE_BYTES = 64 * 1024
_MAX_DATA_KEYS = 16
_PUBLIC_KEY_CONTEXT = "aws-crypto-public-key"
_FRAME = b"AWSKMSEncryptionClient Frame"
_FINAL_FRAME = b"AWSKMSEncryptionClient Final Frame"
_SINGLE_BLOCK = b"AWSKMSEncryptionClient Single Block"
_FINAL_SEQUENCE_MARKER = 0xFFFFFFFF

#: KMS Decrypt: (ciphertext blob, encryption context, key ARN) -> plaintext data key.
KmsDecrypt = Callable[[bytes, Mapping[str, str], str], bytes]


class SealedMessageError(ValueError):
    """The message is not a valid AWS Encryption SDK message for this key."""


@dataclass(frozen=True)
class _Suite:
    version: int
    key_bytes: int
    kdf_hash: str | None  # "sha256", "sha384", "sha512" or None (the data key is the content key)
    signature_hash: str | None  # ECDSA hash ("sha256" on P-256, "sha384" on P-384) or None
    committing: bool = False


_SUITES = {
    0x0014: _Suite(1, 16, None, None), 0x0046: _Suite(1, 24, None, None), 0x0078: _Suite(1, 32, None, None),
    0x0114: _Suite(1, 16, "sha256", None), 0x0146: _Suite(1, 24, "sha256", None),
    0x0178: _Suite(1, 32, "sha256", None),
    0x0214: _Suite(1, 16, "sha256", "sha256"), 0x0346: _Suite(1, 24, "sha384", "sha384"),
    0x0378: _Suite(1, 32, "sha384", "sha384"),
    0x0478: _Suite(2, 32, "sha512", None, committing=True),
    0x0578: _Suite(2, 32, "sha512", "sha384", committing=True),
}


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise SealedMessageError(f"the message ends inside its {what}")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "big")

    def short_bytes(self, what: str) -> bytes:
        return self.take(self.uint(2, what), what)


@dataclass(frozen=True)
class _Header:
    suite_id: int
    suite: _Suite
    message_id: bytes
    context: dict[str, str]
    data_keys: tuple[tuple[str, str, bytes], ...]
    framed: bool
    frame_length: int
    commitment: bytes
    header_iv: bytes
    header_tag: bytes
    raw: bytes  # the bytes the header tag authenticates


def decrypt_message(message: bytes, key_arn: str, kms_decrypt: KmsDecrypt) -> bytes:
    """The plaintext of ``message``, whose data key is wrapped by the KMS key ``key_arn``."""
    if len(message) > MAX_MESSAGE_BYTES:
        raise SealedMessageError(f"the message is {len(message)} bytes; at most {MAX_MESSAGE_BYTES} are accepted")
    reader = _Reader(message)
    header = _read_header(reader)
    data_key = _unwrap(header, key_arn, kms_decrypt)
    content_key = _content_key(header, data_key)
    _check_tag(content_key, header.header_iv, b"", header.header_tag, header.raw, "header")
    plaintext = _read_body(reader, header, content_key)
    signed_end = reader.at
    if header.suite.signature_hash is not None:
        _verify_footer(reader, header, message[:signed_end])
    if reader.at != len(message):
        raise SealedMessageError("the message has bytes after its end")
    return plaintext


def _read_header(reader: _Reader) -> _Header:
    version = reader.uint(1, "version")
    if version == 1:
        if reader.uint(1, "type") != 0x80:
            raise SealedMessageError("the message type is not 'customer authenticated encrypted data'")
    elif version != 2:
        raise SealedMessageError(f"unknown message format version {version}")
    suite_id = reader.uint(2, "algorithm suite")
    suite = _SUITES.get(suite_id)
    if suite is None or suite.version != version:
        raise SealedMessageError(f"algorithm suite 0x{suite_id:04x} is unknown for message version {version}")
    message_id = reader.take(16 if version == 1 else 32, "message id")
    context = _read_context(_Reader(reader.short_bytes("encryption context")))
    count = reader.uint(2, "encrypted data key count")
    if not 0 < count <= _MAX_DATA_KEYS:
        raise SealedMessageError(f"the message has {count} encrypted data keys (1 to {_MAX_DATA_KEYS} accepted)")
    keys = []
    for _ in range(count):
        provider = reader.short_bytes("key provider id").decode("utf-8", "replace")
        info = reader.short_bytes("key provider info").decode("utf-8", "replace")
        keys.append((provider, info, reader.short_bytes("encrypted data key")))
    content_type = reader.uint(1, "content type")
    if content_type not in (1, 2):
        raise SealedMessageError(f"unknown content type {content_type}")
    framed = content_type == 2
    commitment = b""
    if version == 1:
        if reader.uint(4, "reserved field") != 0:
            raise SealedMessageError("the header's reserved field is not zero")
        if reader.uint(1, "IV length") != 12:
            raise SealedMessageError("the header's IV length is not 12")
        frame_length = reader.uint(4, "frame length")
    else:
        frame_length = reader.uint(4, "frame length")
        commitment = reader.take(32 if suite.committing else 0, "key commitment")
    if framed != (frame_length > 0):
        raise SealedMessageError("the frame length does not match the content type")
    raw = reader.data[: reader.at]
    iv = reader.take(12, "header IV") if version == 1 else b"\x00" * 12
    tag = reader.take(16, "header tag")
    return _Header(suite_id, suite, message_id, context, tuple(keys), framed, frame_length, commitment, iv, tag,
                   raw)


def _read_context(reader: _Reader) -> dict[str, str]:
    if not reader.data:
        return {}
    context: dict[str, str] = {}
    for _ in range(reader.uint(2, "encryption context count")):
        key = reader.short_bytes("encryption context key").decode("utf-8", "replace")
        context[key] = reader.short_bytes("encryption context value").decode("utf-8", "replace")
    if reader.at != len(reader.data):
        raise SealedMessageError("the encryption context has trailing bytes")
    return context


def _unwrap(header: _Header, key_arn: str, kms_decrypt: KmsDecrypt) -> bytes:
    candidates = [blob for provider, info, blob in header.data_keys if provider == "aws-kms" and info == key_arn]
    if not candidates:
        raise SealedMessageError("no data key of the message is wrapped by the expected KMS key")
    failure: Exception | None = None
    for blob in candidates:
        try:
            data_key = kms_decrypt(blob, header.context, key_arn)
        except Exception as e:  # a key KMS will not open for us: try the next one, then fail
            failure = e
            continue
        if len(data_key) != header.suite.key_bytes:
            raise SealedMessageError("the unwrapped data key has the wrong length for the algorithm suite")
        return data_key
    code = _aws_code(failure)
    raise SealedMessageError(f"KMS did not unwrap the message's data key ({code})")


def _aws_code(error: Exception | None) -> str:
    response: Any = getattr(error, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


def _hash(name: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]


def _content_key(header: _Header, data_key: bytes) -> bytes:
    suite = header.suite
    if suite.kdf_hash is None:
        return data_key
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    suite_bytes = struct.pack(">H", header.suite_id)
    if not suite.committing:
        return HKDF(_hash(suite.kdf_hash), suite.key_bytes, None, suite_bytes + header.message_id).derive(data_key)
    commitment = HKDF(_hash(suite.kdf_hash), 32, header.message_id, b"COMMITKEY").derive(data_key)
    import hmac

    if not hmac.compare_digest(commitment, header.commitment):
        raise SealedMessageError("the key commitment does not match the data key")
    return HKDF(_hash(suite.kdf_hash), suite.key_bytes, header.message_id, suite_bytes + b"DERIVEKEY").derive(
        data_key)


def _check_tag(key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes, what: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, aad)
    except InvalidTag:
        raise SealedMessageError(f"the {what} does not authenticate (altered, or sealed with another key)") from None


def _body_aad(header: _Header, label: bytes, sequence: int, length: int) -> bytes:
    return header.message_id + label + struct.pack(">IQ", sequence, length)


def _read_body(reader: _Reader, header: _Header, key: bytes) -> bytes:
    if not header.framed:
        iv = reader.take(12, "body IV")
        length = reader.uint(8, "body length")
        if length > MAX_MESSAGE_BYTES:
            raise SealedMessageError("the body is longer than the message")
        ciphertext = reader.take(length, "body")
        tag = reader.take(16, "body tag")
        return _check_tag(key, iv, ciphertext, tag, _body_aad(header, _SINGLE_BLOCK, 1, length), "body")
    out = bytearray()
    expected = 1
    while True:
        sequence = reader.uint(4, "frame sequence number")
        final = sequence == _FINAL_SEQUENCE_MARKER
        if final:
            sequence = reader.uint(4, "final frame sequence number")
        if sequence != expected:
            raise SealedMessageError(f"frame {sequence} arrives where frame {expected} was expected")
        iv = reader.take(12, "frame IV")
        length = reader.uint(4, "final frame length") if final else header.frame_length
        if length > header.frame_length:
            raise SealedMessageError("the final frame is longer than the frame length")
        ciphertext = reader.take(length, "frame")
        tag = reader.take(16, "frame tag")
        label = _FINAL_FRAME if final else _FRAME
        out += _check_tag(key, iv, ciphertext, tag, _body_aad(header, label, sequence, length), "body")
        if final:
            return bytes(out)
        expected += 1


def _verify_footer(reader: _Reader, header: _Header, signed: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    encoded = header.context.get(_PUBLIC_KEY_CONTEXT)
    if not encoded:
        raise SealedMessageError("a signed algorithm suite without the signing public key in the context")
    signature_hash = header.suite.signature_hash or "sha384"
    curve: ec.EllipticCurve = ec.SECP256R1() if signature_hash == "sha256" else ec.SECP384R1()
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(curve, base64.b64decode(encoded, validate=True))
    except ValueError:
        raise SealedMessageError("the signing public key in the encryption context is malformed") from None
    signature = reader.short_bytes("signature")
    try:
        public_key.verify(signature, signed, ec.ECDSA(_hash(signature_hash)))
    except InvalidSignature:
        raise SealedMessageError("the message signature does not verify") from None
