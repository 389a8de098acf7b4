"""``make demo`` on a fresh clone: only the SQLite path is installed (from uv.lock), the commands it prints
work as printed, and it follows or precedes ``make venv`` (the first step of ``make test``) without undoing
either. Also: building the project prints no setuptools warning (``project.license``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: What only the full environment holds: drivers and dev tools the demo does not need.
NOT_FOR_THE_DEMO = ("teradatasql", "snowflake", "oracledb", "jpype", "jaydebeapi", "pytest", "moto", "hypothesis",
                    "mypy", "psycopg", "awslambdaric", "cfnlint")
DEMO_NEEDS = ("duckdb", "pyarrow", "sqlglot", "boto3", "cryptography")


def fresh_clone(tmp_path: Path, name: str) -> Path:
    if not (REPO / ".git").exists() or shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs a git checkout and make")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    root = tmp_path / name
    for file in files.decode().split("\0"):
        if file and (REPO / file).is_file():
            (root / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / file, root / file)
    return root


def env() -> dict[str, str]:
    venv_bin = (REPO / ".venv" / "bin").resolve()
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p).resolve() != venv_bin)
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "UV_CACHE_DIR", "XDG_CACHE_HOME", "TMPDIR", "LANG",
                                                          "PIP_FIND_LINKS", "PIP_CERT", "UV_INDEX_URL",
                                                          "UV_DEFAULT_INDEX", "UV_OFFLINE")}
    return {**keep, "PATH": path}


def make(clone: Path, target: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["make", target], cwd=clone, env=env(), capture_output=True, text=True, timeout=900,
                            check=False)
    assert result.returncode == 0, f"make {target}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr
    return result


def installed(clone: Path) -> set[str]:
    (site,) = (clone / ".venv" / "lib").glob("python3.*/site-packages")
    return {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}


@pytest.mark.slow
def test_make_demo_installs_the_sqlite_path_only_and_its_hints_work(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path, "demo-first")
    first = make(clone, "demo")
    have = installed(clone)
    assert set(DEMO_NEEDS) <= have, have
    assert not {name for name in have if name.startswith(NOT_FOR_THE_DEMO)}, have
    assert "project.license" not in first.stdout + first.stderr
    # The closing hint: commands that work as printed, from where make demo ran.
    hint = first.stdout.split("to query them yourself", 1)[1].split("\n\n", 1)[0]
    commands = [line.strip() for line in hint.splitlines()[1:] if line.strip() and not line.strip().startswith("(")]
    assert commands[-1].startswith(".venv/bin/afq query"), commands
    assert "source .venv/bin/activate" in hint
    shown = subprocess.run(["bash", "-ec", "\n".join(commands)], cwd=clone, env=env(), capture_output=True,
                           text=True, timeout=120, check=False)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == "(3 rows)"
    # Idempotent, and make test's own environment can follow: nothing is installed twice or removed.
    again = make(clone, "demo")
    assert "uv sync" not in again.stdout and "demo files in" in again.stdout
    make(clone, "venv")
    assert {"teradatasql", "pytest"} <= installed(clone)
    after_full = make(clone, "demo")
    assert "uv sync" not in after_full.stdout and "(4 rows)" in after_full.stdout
    assert {"teradatasql", "pytest"} <= installed(clone)


@pytest.mark.slow
def test_make_demo_after_make_venv_installs_nothing(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path, "venv-first")
    make(clone, "venv")
    result = make(clone, "demo")
    assert not re.search(r"uv sync", result.stdout), result.stdout
    assert "demo files in" in result.stdout


def test_the_project_builds_without_setuptools_warnings(tmp_path: Path) -> None:
    """The locked setuptools reads project.license as an SPDX expression (PEP 639) and finds LICENSE."""
    import sys
    import zipfile

    clone = fresh_clone(tmp_path, "build")
    result = subprocess.run([sys.executable, "-c", "from setuptools import build_meta; import sys; "
                             f"print(build_meta.build_wheel({str(tmp_path / 'dist')!r}))"],
                            cwd=clone, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert not re.search(r"(?i)warning[^\n]*licen[cs]e|licen[cs]e[^\n]*deprecat", output), output[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
