"""Wheels for the Lambda platform: resolve once, download once, install without the network.

pip resolves the requirements for the *target* (``--platform``/``--python-version``, binary wheels only) and
its installation report is kept as a lock file per requirement set and target; wheels are kept by file name and
checked against the report's sha256. A second build therefore runs no resolver and downloads nothing;
``--refresh`` resolves again (new releases).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from connector.packaging.requirements import RUNTIME_PROVIDED, normalize
from connector.packaging.targets import PackagingError, Target


@dataclass(frozen=True)
class Pin:
    """One resolved distribution: exactly which wheel, from where, with which hash."""

    name: str
    version: str
    url: str
    sha256: str

    @property
    def filename(self) -> str:
        return urllib.parse.unquote(urllib.parse.urlsplit(self.url).path.rsplit("/", 1)[-1])


def pip_command() -> list[str]:
    if importlib.util.find_spec("pip") is None:
        raise PackagingError(f"pip is not installed for {sys.executable}; afq package drives pip to fetch wheels")
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _run_pip(arguments: Sequence[str], what: str) -> None:
    result = subprocess.run([*pip_command(), *arguments], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip() and "is ignored" not in line]
        detail = "\n".join(lines[-12:]) or result.stdout[-2000:]
        raise PackagingError(f"pip failed to {what}:\n{detail}")


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def resolve(requirements: Sequence[str], target: Target, cache: Path, refresh: bool = False,
            exclude: frozenset[str] = RUNTIME_PROVIDED) -> list[Pin]:
    """Pinned wheels for ``requirements`` on ``target`` minus ``exclude``, from the lock cache unless ``refresh``."""
    key = digest(list(requirements), target.platform_tags(), sorted(exclude))
    lock = cache / "locks" / f"{target.name}-{key}.json"
    if lock.is_file() and not refresh:
        return [Pin(**item) for item in json.loads(lock.read_text(encoding="utf-8"))["pins"]]
    with tempfile.TemporaryDirectory(prefix="afq-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        _run_pip(["install", "--dry-run", "--quiet", "--ignore-installed", "--report", str(report),
                  "--target", str(Path(tmp) / "site"), *target.pip_target_options(), *requirements],
                 f"resolve {', '.join(requirements)} for {target.name}")
        data = json.loads(report.read_text(encoding="utf-8"))
    pins = []
    for item in data["install"]:
        info = item["download_info"]
        sha = (info.get("archive_info", {}).get("hashes") or {}).get("sha256")
        if not sha:
            raise PackagingError(f"pip reported no sha256 for {info.get('url')}; cannot pin it")
        pins.append(Pin(normalize(item["metadata"]["name"]), item["metadata"]["version"], info["url"], sha))
    pins = sorted((p for p in pins if p.name not in exclude), key=lambda p: p.name)
    _write_atomically(lock, json.dumps({"requirements": list(requirements), "target": target.name,
                                        "pins": [asdict(p) for p in pins]}, indent=1).encode())
    return pins


def fetch(pins: Sequence[Pin], target: Target, cache: Path) -> list[Path]:
    """The wheel files for ``pins``, downloading only the ones not cached yet; every file is hash-checked."""
    store = cache / "wheels"
    store.mkdir(parents=True, exist_ok=True)
    missing = [p for p in pins if not _verified(store / p.filename, p.sha256)]
    if missing:
        with tempfile.TemporaryDirectory(prefix="afq-download-", dir=cache) as tmp:
            _run_pip(["download", "--quiet", "--no-deps", "--dest", tmp, *target.pip_target_options(),
                      *(p.url for p in missing)], f"download {', '.join(p.name for p in missing)}")
            for pin in missing:
                downloaded = Path(tmp) / pin.filename
                if not _verified(downloaded, pin.sha256):
                    raise PackagingError(f"{pin.filename} does not match the sha256 pip reported when resolving")
                os.replace(downloaded, store / pin.filename)
    return [store / p.filename for p in pins]


def install(wheels: Sequence[Path], target: Target, site: Path) -> None:
    """Unpack the wheels into ``site`` (no resolver, no index, no byte-compiling by the wrong Python)."""
    _run_pip(["install", "--quiet", "--no-index", "--no-deps", "--no-compile", "--no-warn-script-location",
              "--target", str(site), *target.pip_target_options(), *map(str, wheels)],
             f"install the wheels into {site}")


def _verified(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest() == sha256


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
