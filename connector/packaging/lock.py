"""Bundles install exactly the versions in the project's ``uv.lock``: nothing is resolved when a bundle is built.

``uv export`` turns the lock into a hash-pinned requirements list for one adapter's extras (universal: it keeps
the environment markers), and ``uv pip install --python-platform`` installs that list for the Lambda target -
markers evaluated for the target, wheels only, every file checked against the lock's sha256. uv's own cache
makes a second build need no network. Versions change only when ``make lock`` rewrites ``uv.lock``.
"""

from __future__ import annotations

import email.parser
import hashlib
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from connector.packaging.targets import PackagingError, Target

LOCK_FILE = "uv.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalize(name: str) -> str:
    """PEP 503 name normalisation: ``Snowflake_Connector.Python`` -> ``snowflake-connector-python``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def uv_executable() -> str:
    """The uv that ``make`` installed from the lock (``.venv/bin/uv``), else one on PATH."""
    try:
        from uv import find_uv_bin  # the uv distribution's own helper

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        raise PackagingError("afq package needs uv (it installs the locked wheels for the Lambda platform); "
                             "`make package` or `make venv` installs the locked uv into .venv")
    return found


def lock_path(source_root: Path) -> Path:
    path = source_root / LOCK_FILE
    if not path.is_file():
        raise PackagingError(f"{path} does not exist: bundles install exactly the versions of the project's lock, "
                             f"so afq package runs from a checkout of the project (make lock creates the lock)")
    return path


def locked_requirements(source_root: Path, *, extras: Sequence[str] = (), group: str | None = None,
                        prune: Iterable[str] = ()) -> str:
    """The hash-pinned requirements of ``extras`` (or of one dependency ``group``) as the lock has them.

    ``prune`` drops packages *and* what only they need (the runtime's boto3 takes botocore & co along).
    """
    lock_path(source_root)
    arguments = ["export", "--frozen", "--format", "requirements-txt", "--no-header", "--no-annotate",
                 "--no-emit-project"]
    if group is not None:
        arguments += ["--only-group", group]
    else:
        arguments += ["--no-dev", *(a for extra in extras for a in ("--extra", extra))]
    arguments += [a for name in sorted(prune) for a in ("--prune", name)]
    return _run_uv(arguments, f"export the locked requirements of {group or ', '.join(extras)}", cwd=source_root)


def pinned_versions(requirements: str) -> dict[str, str]:
    """``name -> version`` of every pin in an exported requirements text (markers not evaluated)."""
    pins: dict[str, str] = {}
    for line in requirements.splitlines():
        match = _PIN.match(line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def lock_versions(path: Path) -> dict[str, frozenset[str]]:
    """``name -> versions`` of every package in a ``uv.lock`` (read directly, not through uv). A universal lock
    may hold two versions of one package, each for other Python versions (``resolution-markers``)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    versions: dict[str, set[str]] = {}
    for package in data.get("package", []):
        if "version" in package:
            versions.setdefault(normalize(package["name"]), set()).add(str(package["version"]))
    return {name: frozenset(found) for name, found in versions.items()}


def install(requirement_files: Sequence[Path], target: Target, site: Path) -> None:
    """Install hash-pinned requirement files into ``site`` for ``target``: no resolver, wheels only.

    Files are copied, never hard-linked from uv's cache: stripping edits them in place.
    """
    # --no-config: the project's [tool.uv] settings (constraints for its dev venv) are not the bundle's.
    arguments = ["pip", "install", "--no-config", "--quiet", "--target", str(site), "--no-deps", "--require-hashes",
                 "--only-binary", ":all:", "--link-mode", "copy", "--no-compile",
                 "--python-version", target.python, "--python-platform", target.uv_platform]
    for path in requirement_files:
        arguments += ["--requirement", str(path)]
    _run_uv(arguments, f"install the locked wheels for {target.name} into {site}")


def installed_distributions(site: Path) -> dict[str, str]:
    """``name -> version`` read from the ``*.dist-info/METADATA`` files in ``site``: what the bundle really holds."""
    found: dict[str, str] = {}
    for metadata in sorted(site.glob("*.dist-info/METADATA")):
        headers = email.parser.Parser().parsestr(metadata.read_text(encoding="utf-8", errors="replace"),
                                                 headersonly=True)
        found[normalize(headers["Name"])] = headers["Version"]
    return found


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _run_uv(arguments: Sequence[str], what: str, cwd: Path | None = None) -> str:
    environment = {**os.environ, "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never"}
    environment.pop("VIRTUAL_ENV", None)  # --target and export never touch an environment
    result = subprocess.run([uv_executable(), *arguments], capture_output=True, text=True, check=False,
                            cwd=cwd, env=environment)
    if result.returncode != 0:
        detail = "\n".join(result.stderr.strip().splitlines()[-15:]) or result.stdout[-2000:]
        raise PackagingError(f"uv failed to {what}:\n{detail}")
    return result.stdout
