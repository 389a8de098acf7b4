"""Forward-access tokens: sealed by the real AWS Encryption SDK under a KMS key (moto's), opened by connector.esdk.

The SDK is the oracle for the message format: every algorithm suite, framed and unframed bodies, several frame
sizes. Any altered byte is refused, never opened into something else.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import AccessDenied, InvalidRequest


@pytest.fixture(scope="module")
def sealing(moto_server: str) -> Iterator[Any]:
    """(seal(plaintext, suite, frame_length) -> bytes, key ARN, kms_decrypt) against the moto server."""
    import aws_encryption_sdk
    import boto3
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    patch = pytest.MonkeyPatch()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_KMS": moto_server}.items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)
    try:
        kms = boto3.session.Session().client("kms")
        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[key_arn])

        def seal(plaintext: bytes, suite: Any, frame_length: int) -> bytes:
            policy = (CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT if suite.is_committing()
                      else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT)
            sdk = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy)
            sealed, _ = sdk.encrypt(source=plaintext, key_provider=provider, algorithm=suite,
                                    frame_length=frame_length)
            return bytes(sealed)

        def kms_decrypt(blob: bytes, context: Mapping[str, str], arn: str) -> bytes:
            return bytes(kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(context), KeyId=arn)["Plaintext"])

        yield seal, key_arn, kms_decrypt
    finally:
        patch.undo()


def _suites() -> list[Any]:
    from aws_encryption_sdk.identifiers import Algorithm

    return list(Algorithm)


@pytest.mark.parametrize("suite", _suites(), ids=lambda a: a.name)
@pytest.mark.parametrize("frame_length", [0, 128, 4096])
def test_every_suite_and_framing_opens(sealing: Any, suite: Any, frame_length: int) -> None:
    from connector.esdk import decrypt_message

    seal, key_arn, kms_decrypt = sealing
    plaintext = json.dumps({"accessToken": "AKIA" + "x" * 16, "secretToken": "s" * 40,
                            "securityToken": "t" * 700}).encode()
    assert decrypt_message(seal(plaintext, suite, frame_length), key_arn, kms_decrypt) == plaintext
    assert decrypt_message(seal(b"", suite, frame_length), key_arn, kms_decrypt) == b""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_altered_byte_is_refused(sealing: Any, data: st.DataObject) -> None:
    from aws_encryption_sdk.identifiers import Algorithm

    from connector.esdk import SealedMessageError, decrypt_message

    seal, key_arn, kms_decrypt = sealing
    suite = data.draw(st.sampled_from([Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
                                       Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
                                       Algorithm.AES_128_GCM_IV12_TAG16_HKDF_SHA256]))
    message = bytearray(seal(b'{"accessToken":"a","secretToken":"b","securityToken":"c"}', suite, 128))
    position = data.draw(st.integers(0, len(message) - 1))
    message[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(SealedMessageError):
        decrypt_message(bytes(message), key_arn, kms_decrypt)
    with pytest.raises(SealedMessageError):
        decrypt_message(bytes(message[: data.draw(st.integers(0, len(message) - 1))]), key_arn, kms_decrypt)


def test_only_the_named_key_is_tried(sealing: Any) -> None:
    from aws_encryption_sdk.identifiers import Algorithm

    from connector.esdk import SealedMessageError, decrypt_message

    seal, key_arn, kms_decrypt = sealing
    sealed = seal(b"x", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, 4096)
    calls: list[str] = []

    def spy(blob: bytes, context: Mapping[str, str], arn: str) -> bytes:
        calls.append(arn)
        return bytes(kms_decrypt(blob, context, arn))

    other = key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(SealedMessageError, match="no data key"):
        decrypt_message(sealed, other, spy)
    assert calls == []


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"fas_token": "abc"}, InvalidRequest, "no service_kms_key_id"),
    ({"fas_token": "abc", "service_kms_key_id": "alias/x"}, InvalidRequest, "must be a KMS key ARN"),
    ({"fas_token": "a" * 200_000, "service_kms_key_id": "arn:aws:kms:us-east-1:1:key/k"}, InvalidRequest,
     "at most"),
])
def test_malformed_options_are_refused(options: dict[str, str], error: type[Exception], match: str) -> None:
    from connector.forward_access import ForwardAccess

    with pytest.raises(error, match=match):
        ForwardAccess.from_config_options(options)


def test_no_token_means_no_forward_access() -> None:
    from connector.forward_access import ForwardAccess

    assert ForwardAccess.from_config_options({}) is None
    assert ForwardAccess.from_config_options({"fas_token": " ", "spill_bucket": "b"}) is None


def test_opened_credentials_never_reach_a_message(aws_env: str, sealing: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_encryption_sdk.identifiers import Algorithm

    from connector.forward_access import ForwardAccess
    from connector.redact import scrub

    seal, key_arn, _ = sealing
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = base64.b64encode(seal(json.dumps({"accessToken": "AKIAEXAMPLE", "secretToken": secret,
                                              "securityToken": "FwoGZXIvYXdzEXAMPLE"}).encode(),
                                  Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, 4096)).decode()
    access = ForwardAccess.from_config_options({"fas_token": token, "service_kms_key_id": key_arn})
    assert access is not None and token not in repr(access)
    credentials = access.credentials()
    assert credentials.secret_access_key == secret and secret not in repr(credentials)
    assert secret not in scrub(f"boto said {secret} and {credentials.session_token} and {token}")
    assert "FwoGZXIvYXdzEXAMPLE" not in scrub(f"x {credentials.session_token}")
    broken: Callable[[], Any] = ForwardAccess(token[:-8] + "AAAAAAA=", key_arn).credentials
    with pytest.raises(AccessDenied, match="cannot be opened"):
        broken()
