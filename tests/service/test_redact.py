"""Registered secrets and password-looking fragments never survive into logs or messages."""

from __future__ import annotations

import logging

import pytest

from connector.redact import RedactingFilter, register_secret, scrub


def test_registered_values_and_patterns_are_scrubbed() -> None:
    register_secret("s3cr3t-Passw0rd")
    text = scrub("login failed for user bob with s3cr3t-Passw0rd; url=...;PASSWORD=hunter22,TMODE=ANSI pwd: 'abc def'")
    assert "s3cr3t-Passw0rd" not in text and "hunter22" not in text and "abc def" not in text
    assert "user bob" in text and "TMODE=ANSI" in text
    key = "-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----"
    assert "MIIEv" not in scrub(f"bad key {key}")


def test_the_log_filter_scrubs_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("tracebacksecret")
    logger = logging.getLogger("afq.test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="afq.test.redact"):
        logger.info("connecting with %s", "tracebacksecret")
        try:
            raise RuntimeError("driver said tracebacksecret is wrong")
        except RuntimeError:
            logger.exception("failed")
    assert "tracebacksecret" not in caplog.text
    assert caplog.text.count("***") >= 2
