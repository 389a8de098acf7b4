"""What a bundle is built for: the Lambda runtime's Python version and CPU architecture.

The builder cannot see the Lambda machine, so the target is spelled out: the manylinux platform its glibc accepts,
the CPython tag of compiled modules, the ELF machine of shared objects, and an interpreter of the same minor
version to byte-compile with (a ``.pyc`` is only valid for the Python that wrote it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from connector.errors import ConnectorError


class PackagingError(ConnectorError):
    """A bundle cannot be built as asked (unknown adapter, missing tool, pip failure, size over the bar)."""


#: Lambda Python runtimes on Amazon Linux 2023 (glibc 2.34). python3.11 and older run on Amazon Linux 2 (glibc
#: 2.26), where current pyarrow and driver wheels no longer install: they are not offered.
RUNTIME_GLIBC: dict[str, tuple[int, int]] = {"3.12": (2, 34), "3.13": (2, 34), "3.14": (2, 34)}

#: Lambda's architecture names -> the machine names in wheel tags.
ARCHITECTURES: dict[str, str] = {"x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}

#: ELF ``e_machine`` values of the two Lambda architectures.
ELF_MACHINE: dict[str, int] = {"x86_64": 62, "aarch64": 183}


@dataclass(frozen=True)
class Target:
    """A Lambda runtime: ``python`` is ``"3.12"``-style, ``machine`` is the wheel-tag machine name."""

    python: str
    machine: str

    @classmethod
    def of(cls, python: str, arch: str) -> Target:
        if python not in RUNTIME_GLIBC:
            raise PackagingError(f"--python {python} is not a Lambda runtime this builder supports; "
                                 f"choose one of {', '.join(RUNTIME_GLIBC)}")
        machine = ARCHITECTURES.get(arch.lower())
        if machine is None:
            raise PackagingError(f"--arch {arch} is not a Lambda architecture; choose x86_64 or arm64")
        return cls(python, machine)

    @property
    def lambda_arch(self) -> str:
        """The name the Lambda API and SAM templates use (``x86_64`` or ``arm64``)."""
        return "arm64" if self.machine == "aarch64" else "x86_64"

    @property
    def cpython_tag(self) -> str:
        return "cp" + self.python.replace(".", "")

    @property
    def elf_machine(self) -> int:
        return ELF_MACHINE[self.machine]

    @property
    def name(self) -> str:
        return f"py{self.python.replace('.', '')}-{self.lambda_arch}"

    @property
    def uv_platform(self) -> str:
        """uv's ``--python-platform`` for the runtime: wheels for its glibc and older, never newer."""
        major, minor = RUNTIME_GLIBC[self.python]
        return f"{self.machine}-manylinux_{major}_{minor}"


def find_interpreter(python: str, explicit: str | None = None) -> str:
    """A ``python3.X`` executable of exactly the runtime's minor version, for byte-compiling the bundle."""
    candidates: list[str] = []
    if explicit:
        candidates.append(explicit)
    else:
        on_path = shutil.which(f"python{python}")
        if on_path:
            candidates.append(on_path)
        pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
        versions = sorted((pyenv_root / "versions").glob(f"{python}.*"), key=_version_key, reverse=True)
        candidates += [str(v / "bin" / f"python{python}") for v in versions
                       if re.fullmatch(rf"{re.escape(python)}\.\d+", v.name)]
    for candidate in candidates:
        if Path(candidate).is_file() and _minor_version(candidate) == python:
            return candidate
    if explicit:
        raise PackagingError(f"--interpreter {explicit} is not a Python {python} executable")
    raise PackagingError(
        f"no python{python} interpreter found (looked on PATH and in pyenv); the bundle's .pyc files must be "
        f"compiled by the runtime's Python version: install python{python} or pass --interpreter PATH")


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in path.name.split("."))


def _minor_version(executable: str) -> str | None:
    try:
        out = subprocess.run([executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()
