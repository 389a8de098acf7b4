"""Keep secrets out of logs and error messages, whatever code path tries to print them.

Secret values (passwords, private keys, spill keys) are registered here the moment they are read; the log
filter and ``scrub`` replace any registered value - and obvious ``password=...`` patterns - with ``***``. The
first line of defence is not to format secrets at all; this is the second.
"""

from __future__ import annotations

import logging
import re
import threading

_MIN_LENGTH = 4  # shorter values would redact ordinary words
_MAX_SECRETS = 256  # a warm Lambda re-reads rotated secrets; keep the newest few hundred
_secrets: dict[str, None] = {}
_lock = threading.Lock()
_PATTERNS = (
    re.compile(r"(?i)((?:password|passwd|pwd|secret|token|private_key|passphrase)\s*[=:]\s*)"
               r"(\"[^\"]*\"|'[^']*'|[^\s,;&)]+)"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
    # An encryption key as the protocol writes it ("key"/"nonce" holding base64), in JSON or a dict's repr.
    re.compile(r"""(["'](?:key|nonce|Plaintext)["']\s*:\s*)(?:b?["'][A-Za-z0-9+/]{16,}={0,2}["'])"""),
)


def register_secret(value: str | bytes | None) -> None:
    if not value:
        return
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if len(text) >= _MIN_LENGTH:
        with _lock:
            _secrets.pop(text, None)
            _secrets[text] = None
            while len(_secrets) > _MAX_SECRETS:
                del _secrets[next(iter(_secrets))]


def scrub(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, "***")
    text = _PATTERNS[0].sub(lambda m: m.group(1) + "***", text)
    text = _PATTERNS[2].sub(lambda m: m.group(1) + '"***"', text)
    return _PATTERNS[1].sub("***PRIVATE KEY***", text)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs every record's final message (args included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
