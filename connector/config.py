"""Settings from the Lambda environment, with the Java connectors' variable names.

Read once per process (environment variables do not change in a warm Lambda); ``identity.configOptions``
may override the spill bucket and prefix per request, as Athena's managed connectors do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import field, replace
from functools import cached_property

from connector.engines import Setting
from connector.errors import ConfigurationError
from connector.lazy_dataclass import lazy_dataclass

DEFAULT_SPILL_PREFIX = "athena-federation-spill"
LOCAL_SPILL_BUCKET = "afq-local-spill"  # stands for the local spill directory when no bucket is configured


def int_setting(env: Mapping[str, str], name: str, default: int, low: int = 1, high: int | None = None) -> int:
    """A framework's whole-number setting (sort memory...): ``default`` when unset, a clear error naming the
    variable when it is not a whole number from ``low`` to ``high``. Adapters declare theirs instead
    (``connector.engines``)."""
    value = Setting(name, int, default, "", low=low, high=high).read(env)
    assert isinstance(value, int)
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigurationError(f"environment variable {name}={value!r} must be true or false")


def _positive_int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name)
    if value is None or not value.strip():
        return None
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"environment variable {name}={value!r} must be a whole number of bytes") from None
    if number <= 0:
        raise ConfigurationError(f"environment variable {name} must be positive, got {number}")
    return number


@lazy_dataclass
class Settings:
    spill_bucket: str | None = None
    spill_prefix: str = DEFAULT_SPILL_PREFIX
    disable_spill_encryption: bool = False
    kms_key_id: str | None = None
    spill_put_request_headers_json: str | None = None
    max_block_size: int | None = None
    enable_query_passthrough: bool = True
    function_name: str | None = None
    #: ``AFQ_LOCAL_SPILL_DIR``; None: ``afq-spill`` in the temporary directory (``spill_directory``).
    local_spill_dir: str | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        if (env.get("glue_connection") or "").strip():  # Athena's console keeps the settings in a Glue connection
            from connector.glue_connection import with_glue_connection

            env = with_glue_connection(env)
        return cls(
            spill_bucket=(env.get("spill_bucket") or "").strip() or None,
            spill_prefix=(env.get("spill_prefix") or "").strip().strip("/") or DEFAULT_SPILL_PREFIX,
            disable_spill_encryption=_flag(env, "disable_spill_encryption", False),
            kms_key_id=(env.get("kms_key_id") or "").strip() or None,
            spill_put_request_headers_json=env.get("spill_put_request_headers") or None,
            max_block_size=_positive_int(env, "MAX_BLOCK_SIZE_BYTES"),
            enable_query_passthrough=_flag(env, "enable_query_passthrough", True),
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME") or None,
            local_spill_dir=env.get("AFQ_LOCAL_SPILL_DIR") or None,
            env=env,
        )

    @property
    def spill_directory(self) -> str:
        """Where the local store keeps spilled blocks."""
        if self.local_spill_dir:
            return self.local_spill_dir
        import tempfile  # with shutil, bz2 and lzma: ~3 ms of every cold start, though only a local spill needs it

        return os.path.join(tempfile.gettempdir(), "afq-spill")

    @property
    def in_lambda(self) -> bool:
        return self.function_name is not None

    def for_request(self, config_options: Mapping[str, str]) -> Settings:
        """Per-request overrides from ``identity.configOptions`` (non-blank values win)."""
        bucket = (config_options.get("spill_bucket") or "").strip()
        prefix = (config_options.get("spill_prefix") or "").strip().strip("/")
        if not bucket and not prefix:
            return self
        return replace(self, spill_bucket=bucket or self.spill_bucket, spill_prefix=prefix or self.spill_prefix)

    @property
    def effective_spill_bucket(self) -> str | None:
        """The bucket splits point at: the configured one, the local stand-in off Lambda, else none."""
        if self.spill_bucket:
            return self.spill_bucket
        return None if self.in_lambda else LOCAL_SPILL_BUCKET

    @cached_property
    def spill_put_request_headers(self) -> dict[str, str]:
        raw = self.spill_put_request_headers_json
        if not raw:
            return {}
        try:
            headers = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ConfigurationError(f"spill_put_request_headers is not valid JSON: {e.msg} at {e.pos}") from None
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in headers.items()):
            raise ConfigurationError("spill_put_request_headers must be a JSON object of string header values")
        return headers
