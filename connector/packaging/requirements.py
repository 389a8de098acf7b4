"""Which distributions a bundle needs: the project's own requirements plus one adapter's extra.

The extras in ``pyproject.toml`` name what each adapter needs and ``uv.lock`` pins it (``connector.packaging.
lock``), so a driver update reaches the bundles through ``make lock`` without touching the builder. The AWS SDK
is left out: the Lambda Python runtime ships boto3 and botocore.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.packaging.targets import PackagingError

#: Distributions the Lambda Python runtime already provides; bundling them again only adds size.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})


@dataclass(frozen=True)
class AdapterBundle:
    """One Lambda bundle: the extras it installs, the adapter modules it must find in the source tree, and
    the files built for it (``module:function`` names of functions returning ``{path in the zip: bytes}``)."""

    name: str
    extras: tuple[str, ...]
    modules: tuple[str, ...]
    summary: str
    artifacts: tuple[str, ...] = ()


ADAPTERS: dict[str, AdapterBundle] = {
    "sqlite": AdapterBundle("sqlite", ("aws",), ("adapters.sqlite.adapter",), "the embedded SQLite adapter"),
    "generic": AdapterBundle(
        "generic", ("aws", "jdbc"), ("adapters.sqlite.adapter",),
        "the framework, the SQL base and SQLite, plus JPype/jaydebeapi and the compiled Java helper for the jdbc "
        "adapter (which needs a JVM from a Lambda layer) - the base for adapter authors",
        ("adapters.jdbc.helper:bundle_files",)),
    "oracle": AdapterBundle("oracle", ("aws", "oracle"), ("adapters.oracle.adapter",),
                            "Oracle through oracledb (thin)"),
    "snowflake": AdapterBundle("snowflake", ("aws", "snowflake"), ("adapters.snowflake.adapter",),
                               "Snowflake through snowflake-connector-python"),
    "teradata": AdapterBundle("teradata", ("aws", "teradata"), ("adapters.teradata.adapter",),
                              "Teradata through teradatasql"),
}
ALIASES = {"jdbc": "generic"}


def adapter_bundle(name: str) -> AdapterBundle:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in ADAPTERS:
        raise PackagingError(f"unknown adapter {name!r}; choose one of {', '.join(ADAPTERS)} (jdbc = generic)")
    return ADAPTERS[key]
