"""Which distributions a bundle needs: the project's own requirements plus one adapter's extra.

The extras in ``pyproject.toml`` are the single source of truth (``oracle = [..., "oracledb>=2.4"]``), so a new
driver version or a new adapter dependency reaches the bundles without touching the builder. The AWS SDK is
left out: the Lambda Python runtime ships boto3 and botocore.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from connector.packaging.targets import PackagingError

PROJECT = "athena-federation-py"

#: Distributions the Lambda Python runtime already provides; bundling them again only adds size.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""^\s*extra\s*==\s*["']([^"']+)["']\s*$""")


@dataclass(frozen=True)
class AdapterBundle:
    """One Lambda bundle: the extras it installs and the adapter modules it must find in the source tree."""

    name: str
    extras: tuple[str, ...]
    modules: tuple[str, ...]
    summary: str


ADAPTERS: dict[str, AdapterBundle] = {
    "sqlite": AdapterBundle("sqlite", ("aws",), ("adapters.sqlite",), "the embedded SQLite adapter"),
    "generic": AdapterBundle(
        "generic", ("aws", "jdbc"), ("adapters.sqlite",),
        "the framework, the SQL base and SQLite, plus JPype/jaydebeapi for the jdbc adapter (which needs a JVM "
        "from a Lambda layer) - the base for adapter authors"),
    "oracle": AdapterBundle("oracle", ("aws", "oracle"), ("adapters.oracle",), "Oracle through oracledb (thin)"),
    "snowflake": AdapterBundle("snowflake", ("aws", "snowflake"), ("adapters.snowflake",),
                               "Snowflake through snowflake-connector-python"),
    "teradata": AdapterBundle("teradata", ("aws", "teradata"), ("adapters.teradata",),
                              "Teradata through teradatasql"),
}
ALIASES = {"jdbc": "generic"}


def adapter_bundle(name: str) -> AdapterBundle:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in ADAPTERS:
        raise PackagingError(f"unknown adapter {name!r}; choose one of {', '.join(ADAPTERS)} (jdbc = generic)")
    return ADAPTERS[key]


def normalize(name: str) -> str:
    """PEP 503 name normalisation: ``Snowflake_Connector.Python`` -> ``snowflake-connector-python``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    if not match:
        raise PackagingError(f"cannot read the requirement {requirement!r}")
    return normalize(match.group(1))


def declared_requirements(source_root: Path | None) -> tuple[list[str], dict[str, list[str]]]:
    """(base requirements, extra -> requirements) from pyproject.toml, else from the installed metadata."""
    pyproject = source_root / "pyproject.toml" if source_root else None
    if pyproject is not None and pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if normalize(str(project.get("name", ""))) == PROJECT:
            extras = {str(k): [str(r) for r in v] for k, v in project.get("optional-dependencies", {}).items()}
            return [str(r) for r in project.get("dependencies", [])], extras
    try:
        lines = metadata.requires(PROJECT) or []
    except metadata.PackageNotFoundError:
        raise PackagingError(f"neither a pyproject.toml nor an installed {PROJECT} distribution was found") from None
    return parse_requires_dist(lines)


def parse_requires_dist(lines: Iterable[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Split ``Requires-Dist`` lines into base requirements and per-extra requirements."""
    base: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in lines:
        requirement, _, marker = line.partition(";")
        match = _EXTRA_MARKER.match(marker) if marker.strip() else None
        if marker.strip() and not match:
            raise PackagingError(f"unsupported environment marker in requirement {line!r}")
        if match:
            extras.setdefault(normalize(match.group(1)), []).append(requirement.strip())
        else:
            base.append(requirement.strip())
    return base, extras


def bundle_requirements(bundle: AdapterBundle, source_root: Path | None,
                        additional: Iterable[str] = ()) -> list[str]:
    """The requirements to install for a bundle, self-references expanded, runtime-provided ones removed."""
    base, extras = declared_requirements(source_root)
    extras = {normalize(k): v for k, v in extras.items()}
    wanted: list[str] = []
    seen_extras: set[str] = set()

    def add(requirement: str) -> None:
        match = _NAME.match(requirement)
        if match and normalize(match.group(1)) == PROJECT:
            for extra in (match.group(2) or "").split(","):
                if extra.strip():
                    expand(extra.strip())
        elif requirement not in wanted:
            wanted.append(requirement)

    def expand(extra: str) -> None:
        key = normalize(extra)
        if key in seen_extras:
            return
        if key not in extras:
            raise PackagingError(f"{PROJECT} declares no extra {extra!r} (the {bundle.name} bundle needs it)")
        seen_extras.add(key)
        for requirement in extras[key]:
            add(requirement)

    for requirement in base:
        add(requirement)
    for extra in bundle.extras:
        expand(extra)
    for requirement in additional:
        add(requirement)
    return [r for r in wanted if requirement_name(r) not in RUNTIME_PROVIDED]
