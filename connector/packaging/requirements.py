"""Which distributions a bundle needs: the project's own requirements plus one adapter's extra.

Bundles are declared by the engines (``adapters/<engine>/engine.py``, ``connector.engines.Bundle``). The extras
in ``pyproject.toml`` name what each adapter needs and ``uv.lock`` pins it (``connector.packaging.
lock``), so a driver update reaches the bundles through ``make lock`` without touching the builder. The AWS SDK
is left out: the Lambda Python runtime ships boto3 and botocore.
"""

from __future__ import annotations

from connector.engines import Bundle
from connector.packaging.targets import PackagingError
from connector.registry import builtin_engines

#: Distributions the Lambda Python runtime already provides; bundling them again only adds size.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})


#: A bundle is declared by the engine that ships in it (``connector.engines.Bundle``).
AdapterBundle = Bundle


def bundles() -> dict[str, Bundle]:
    """Every bundle the built-in engines declare, by bundle name."""
    return {d.bundle.name: d.bundle for d in builtin_engines().values() if d.bundle is not None}


def aliases() -> dict[str, str]:
    """Engine names that differ from their bundle's (``jdbc`` ships in ``generic``)."""
    return {d.name: d.bundle.name for d in builtin_engines().values()
            if d.bundle is not None and d.bundle.name != d.name}


def adapter_bundle(name: str) -> Bundle:
    known = bundles()
    alias = aliases()
    key = alias.get(name.lower(), name.lower())
    if key not in known:
        also = "".join(f", {engine} = {bundle}" for engine, bundle in sorted(alias.items()))
        raise PackagingError(f"unknown adapter {name!r}; choose one of {', '.join(known)}{also}")
    return known[key]

