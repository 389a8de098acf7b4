"""Every environment the project creates is the lock, and the locks agree with what they were made from.

Bundles are checked against ``uv.lock`` in ``tests/packaging/test_bundles.py`` (they need a build); here: the dev venv,
uv's own bootstrap pin, and the tool venvs' requirement files.
"""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from connector.packaging.lock import lock_versions, locked_requirements, normalize, pinned_versions, uv_executable

REPO = Path(__file__).resolve().parents[2]
TOOL_LOCKS = sorted(REPO.glob("*/**/requirements-*.in"))
PROJECT = "athena-federation-py"


def test_the_dev_venv_holds_exactly_the_locked_versions() -> None:
    locked = lock_versions(REPO / "uv.lock")
    installed = {normalize(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed.pop(PROJECT)
    installed.pop("pip", None)  # the interpreter's own, used once to install uv with hash checking
    assert {name: version for name, version in installed.items() if version not in locked.get(name, ())} == {}
    for must in ("pyarrow", "sqlglot", "boto3", "botocore", "moto", "duckdb", "uv", "setuptools"):
        assert must in installed


def test_the_uv_bootstrap_pin_is_derived_from_the_lock() -> None:
    """`make` installs uv from .ci/requirements-uv.txt before it can read uv.lock: both must name one uv."""
    exported = locked_requirements(REPO, group="bootstrap")
    assert (REPO / ".ci" / "requirements-uv.txt").read_text() == exported
    (uv,) = lock_versions(REPO / "uv.lock")["uv"]
    assert pinned_versions(exported) == {"uv": uv}
    version = subprocess.run([uv_executable(), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.split()[1] == uv


def test_the_moto_and_botocore_pair_is_held_back_together() -> None:
    """moto's server routes Athena in the JSON protocol only; the constraint keeps botocore on it."""
    locked = lock_versions(REPO / "uv.lock")
    (botocore,), (boto3,) = locked["botocore"], locked["boto3"]
    assert tuple(int(p) for p in botocore.split(".")[:3]) < (1, 44, 14)
    assert boto3.split(".")[:2] == botocore.split(".")[:2]


@pytest.mark.parametrize("source", TOOL_LOCKS, ids=[p.stem for p in TOOL_LOCKS])
def test_each_tool_lock_pins_what_its_source_asks_with_hashes(source: Path) -> None:
    compiled = source.with_suffix(".txt")
    text = compiled.read_text()
    pins = pinned_versions(text)
    for line in source.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if not spec:
            continue
        requirement = Requirement(spec)
        name = normalize(requirement.name)
        assert name in pins, f"{compiled.name} does not pin {name}: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    blocks = text.replace("\\\n", " ").splitlines()
    unhashed = [b for b in blocks if pinned_versions(b) and "--hash=sha256:" not in b]
    assert pins and not unhashed
    assert re.search(r"^#\s+make lock$", text, re.MULTILINE)  # made by `make lock`, not by hand


def test_the_operations_page_lists_the_locked_versions_of_what_bundles_carry() -> None:
    page = (REPO / "docs" / "operations.md").read_text()
    section = page.split("## Versions a deployed bundle carries", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([a-z0-9-]+) \| ([0-9][^ |]*) \|", section, re.MULTILINE)
    locked = lock_versions(REPO / "uv.lock")
    assert {name for name, _ in rows} >= {"pyarrow", "sqlglot", "oracledb", "snowflake-connector-python",
                                          "teradatasql", "jpype1", "jaydebeapi", "cryptography"}
    assert [(name, version) for name, version in rows if version not in locked[name]] == []
    (boto3,) = locked["boto3"]
    assert f"boto3 {boto3}" in section


def test_a_tool_lock_names_the_python_it_needs() -> None:
    """``make lock`` compiles, and ``tool_venv`` builds, the peer SDK's venv for the Python its .in file names."""
    from tests.servers.tool_venv import required_python

    assert required_python(REPO / "bench" / "requirements-peer.txt") == "3.12"
    assert required_python(REPO / "tests" / "servers" / "requirements-fakesnow.txt") is None
    assert {p.name for p in TOOL_LOCKS} >= {"requirements-peer.in", "requirements-plot.in"}
    assert "--python-version $${py:-3.11}" in (REPO / "Makefile").read_text()
