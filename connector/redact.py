"""Keep secrets out of logs and error messages, whatever code path tries to print them.

Secret values (passwords, private keys, spill keys, forward-access credentials) are registered here the moment
they are read; ``scrub`` replaces any registered value - and every credential form a connection string or a
driver message can carry - with ``***``. It is the one redaction path: the log filter and JSON formatter, the
error message returned to Athena (``connector.service`` and the Lambda handler), ``--trace`` files (after
``redact_message`` hid the protocol's own keys), ``ConnectionSpec.redacted`` and the adapters' error
translation (``SqlAdapter.translate_error``) all go through it. The first line of defence is not to format
secrets at all; this is the second.

Forms covered: ``key=value`` / ``key: value`` / ``"key": "value"`` for every key naming a password, secret,
token (``accessToken``, ``securityToken``, ``fas_token``...), private key (``privateKey``, ``OAuthPvtKey``...),
passphrase, passcode, API or secret access key, Teradata ``LOGDATA`` or credential, with the value bare,
quoted (escaped quotes included) or in ODBC braces (``PWD={a;b}``, ``}}`` inside), also URL-encoded
(``password%3D...``); URL user info (``scheme://user:password@host``); Oracle's ``thin:user/password@``;
``Bearer``/``Basic`` authorization values; PEM private keys; protocol encryption keys.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any, TypeVar

_MIN_LENGTH = 4  # shorter values would redact ordinary words
_MAX_SECRETS = 256  # a warm Lambda re-reads rotated secrets; keep the newest few hundred
_secrets: dict[str, None] = {}
_lock = threading.Lock()
E = TypeVar("E", bound=BaseException)
_SECRET_KEY = (r"(?:password|passwd|pwd|secret|token|private_?key|pvt_?key|passphrase|passcode|api_?key"
               r"|access_?key|credentials?|auth_?key|logdata)")
#: A quoted value (backslash escapes kept inside) and a value as drivers and connection strings write it: in ODBC
#: braces (``}}`` is a literal ``}``), quoted, or bare up to a separator.
_QUOTED = r'"(?:[^"\\]|\\.)*"' + "|" + r"'(?:[^'\\]|\\.)*'"
_VALUE = r"\{(?:[^}]|\}\})*\}|" + _QUOTED + r"""|[^\s,;&)'"]+"""
_PATTERNS = (
    # key=value and key: value, also URL-encoded (%3D); the key may sit inside a longer name - accessToken,
    # OAuthPvtKey, aws_secret_access_key - but paging tokens (nextToken, continuationToken) are not secrets.
    re.compile(rf"""(?i)((?<!next)(?<!continuation){_SECRET_KEY}\s*(?:[=:]|%3D)\s*)({_VALUE})"""),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
    # An encryption key as the protocol writes it ("key"/"nonce" holding base64), in JSON or a dict's repr.
    re.compile(r"""(["'](?:key|nonce|Plaintext)["']\s*:\s*)(?:b?["'][A-Za-z0-9+/]{16,}={0,2}["'])"""),
    # URL user info: scheme://user:password@host (the password may itself hold '@' or ':').
    re.compile(r"""(?i)([a-z][a-z0-9+.-]*://[^\s/:@"']*:)([^\s/"']+)(@)"""),
    # Oracle: thin:user/password@... (password possibly quoted).
    re.compile(r'(?i)(thin:[^\s/@"]+/)("[^"]*"|[^\s@]+)(@)'),
    # JSON or a dict's repr: "key": "value" (string values only: null, numbers and objects stay as they are).
    re.compile(rf"""(?i)((?<!next)(?<!continuation){_SECRET_KEY}["']\s*:\s*)({_QUOTED})"""),
    # An HTTP authorization value: Bearer <token>, Basic <base64>.
    re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/-]{8,}=*"),
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


def scrub(text: str, also: Iterable[str | None] = ()) -> str:
    """``text`` without any registered secret, any of ``also`` (secrets known only to the caller) or any
    credential form listed in the module docstring."""
    with _lock:
        known = list(_secrets)
    extra = [a for a in also if isinstance(a, str) and len(a) >= 3]  # a private key's bytes cannot be in text
    for secret in sorted({*known, *extra}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    text = _PATTERNS[1].sub("***PRIVATE KEY***", text)
    text = _PATTERNS[0].sub(lambda m: m.group(1) + _masked(m.group(2)), text)
    text = _PATTERNS[2].sub(lambda m: m.group(1) + '"***"', text)
    text = _PATTERNS[3].sub(lambda m: m.group(1) + "***" + m.group(3), text)
    text = _PATTERNS[4].sub(lambda m: m.group(1) + "***" + m.group(3), text)
    text = _PATTERNS[5].sub(lambda m: m.group(1) + _masked(m.group(2)), text)
    return _PATTERNS[6].sub(lambda m: m.group(1) + m.group(2) + "***", text)


def _masked(value: str) -> str:
    """``***`` in the value's own quotes or braces, so scrubbed JSON stays JSON."""
    return {'"': '"***"', "'": "'***'", "{": "{***}"}.get(value[:1], "***")


def scrub_exception(error: E, also: Iterable[str | None] = ()) -> E:
    """``error`` with its message scrubbed in place (its class and traceback kept): what Lambda reports to
    Athena as ``errorMessage`` is ``str(error)``."""
    if error.args:
        cleaned = tuple(scrub(a, also) if isinstance(a, str) else a for a in error.args)
        if any(isinstance(a, str) for a in error.args) and cleaned != error.args:
            error.args = cleaned
        elif not any(isinstance(a, str) for a in error.args):
            text = str(error)
            if scrub(text, also) != text:
                error.args = (scrub(text, also),)
    return error


REDACTED = "<redacted>"
_KEPT_CONFIG_OPTIONS = frozenset({"spill_bucket", "spill_prefix"})


def redact_message(value: Any, parent_key: str = "") -> Any:
    """A copy of a protocol message (its JSON object) with encryption keys, spill object keys and identity config
    values (forward-access tokens among them) hidden, and every string scrubbed: what ``--trace`` files keep.
    ``scrub`` cannot tell those keys from ordinary values, so they are hidden by where they stand; strings are
    scrubbed one by one because JSON text inside a string (an error message) is escaped once written."""
    if isinstance(value, dict):
        if parent_key == "encryptionKey":
            return dict.fromkeys(value, REDACTED)
        if value.get("@type") == "S3SpillLocation":
            return {k: (REDACTED if k == "key" else v) for k, v in value.items()}
        if parent_key == "configOptions":
            return {k: (v if k in _KEPT_CONFIG_OPTIONS else REDACTED) for k, v in value.items()}
        return {k: redact_message(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_message(v, parent_key) for v in value]
    return scrub(value) if isinstance(value, str) else value


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
