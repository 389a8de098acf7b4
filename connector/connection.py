"""Connection strings: ``<engine>://<jdbc-url>`` with ``${secret-name}`` placeholders.

The grammar is the Java connectors' with the prefix anchored (the Java regex is not, so ``jdbc:snowflake://``
without an engine prefix was silently misread there). The engine picks the adapter; the rest is the adapter's
to interpret. Credentials never appear in ``repr`` or in error messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field

from connector.errors import ConfigurationError
from connector.lazy_dataclass import lazy_dataclass

_CONNECTION = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)://(.+)$", re.DOTALL)
# Secret names may carry an RDS-managed prefix ("rds!cluster-...") and full ARNs (':' and '/').
SECRET_PLACEHOLDER = re.compile(r"\$\{(([a-z-]+!)?[A-Za-z0-9:/_+=.@!-]+)\}")
_CONNECTION_SUFFIX = "_connection_string"


@lazy_dataclass
class ConnectionSpec:
    """A parsed connection string. ``url`` still holds the ``${...}`` placeholders."""

    engine: str
    url: str = field(repr=False)
    catalog: str = "default"

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(m.group(1) for m in SECRET_PLACEHOLDER.finditer(self.url))

    @property
    def secret_name(self) -> str | None:
        names = self.secret_names
        return names[0] if names else None

    def url_without_secrets(self) -> str:
        """The URL with every ``${...}`` placeholder removed (and the separators they leave dangling).

        ``...?a=1&${s}`` -> ``...?a=1``; ``...?${s}&a=1`` -> ``...?a=1``; ``.../DATABASE=x,${s}`` ->
        ``.../DATABASE=x``; ``thin:${s}@//host`` -> ``thin:@//host``.
        """
        placeholder = SECRET_PLACEHOLDER.pattern
        text = re.sub(rf"[&;,]{placeholder}(?=$|[&;,])", "", self.url)  # "a=1&${s}" and "a=1&${s}&b=2"
        text = re.sub(rf"(?<=\?){placeholder}&?", "", text)  # "?${s}&a=1" and "?${s}"
        text = SECRET_PLACEHOLDER.sub("", text)
        return text[:-1] if text.endswith("?") else text

    def redacted(self) -> str:
        """Safe to log: ``${...}`` placeholders kept, every inline credential form masked (``connector.redact``)."""
        from connector.redact import scrub

        return scrub(f"{self.engine}://{self.url}")

    def __repr__(self) -> str:
        return f"ConnectionSpec(engine={self.engine!r}, catalog={self.catalog!r})"


def parse_connection_string(value: str, catalog: str = "default") -> ConnectionSpec:
    text = value.strip()
    match = _CONNECTION.match(text)
    if not match:
        shown = text.split("://", 1)[0][:40] if "://" in text else "(no engine prefix)"
        raise ConfigurationError(
            f"connection string for catalog {catalog!r} must look like <engine>://<jdbc-url>, e.g. "
            f"sqlite://jdbc:sqlite:/path/db.sqlite; got {shown!r}...")
    return ConnectionSpec(match.group(1).lower(), match.group(2), catalog)


def connection_string_for(catalog: str, env: Mapping[str, str], function_name: str | None = None) -> ConnectionSpec:
    """The connection for an Athena catalog: ``<catalog>_connection_string``, else ``default``.

    Athena lower-cases catalog names; ``lambda:<function>`` (a query addressed to the function directly)
    uses ``default``.
    """
    name = catalog.strip()
    lookup = name.lower()
    for key, value in env.items():
        if key.lower().endswith(_CONNECTION_SUFFIX) and key[: -len(_CONNECTION_SUFFIX)].lower() == lookup:
            return parse_connection_string(value, name)
    default = env.get("default")
    if default:
        return parse_connection_string(default, name)
    configured = sorted(k[: -len(_CONNECTION_SUFFIX)] for k in env if k.lower().endswith(_CONNECTION_SUFFIX))
    hint = f" (configured catalogs: {', '.join(configured)})" if configured else ""
    via = f" or query it as \"lambda:{function_name}\"" if function_name else ""
    raise ConfigurationError(
        f"catalog {name!r} is not configured: set the environment variable {lookup}_connection_string or "
        f"default{via}{hint}")


def connection_identity(kind: str, name: str, env: Mapping[str, str], function_name: str | None = None) -> str | None:
    """The connection a catalog (``kind`` "catalog") or a connection variable (``kind`` "connection": ``default``
    or the ``<name>`` of ``<name>_connection_string``) reads: its engine and URL, compared - never shown - by the
    access policy. Catalogs resolve exactly as ``connection_string_for`` resolves them for the adapters, so
    ``lambda:<function>`` and every catalog without its own variable read ``default``. None: nothing configured.
    """
    if kind == "catalog":
        try:
            spec = connection_string_for(name, env, function_name)
        except ConfigurationError:
            return None
        return f"{spec.engine}://{spec.url.strip()}"
    lookup = name.strip().lower()
    if lookup == "default":
        value = env.get("default")
    else:
        value = next((v for k, v in env.items() if k.lower().endswith(_CONNECTION_SUFFIX)
                      and k[: -len(_CONNECTION_SUFFIX)].lower() == lookup), None)
    if not value:
        return None
    try:
        spec = parse_connection_string(value, lookup)
    except ConfigurationError:
        return None
    return f"{spec.engine}://{spec.url.strip()}"
