"""Byte-compiling for the runtime's Python and writing a reproducible zip.

``/var/task`` is read-only on Lambda, so a module without a usable ``.pyc`` is compiled again on every cold
start (sqlglot alone: ~50 ms with ``.pyc``, 200+ ms without). The ``.pyc`` files use *unchecked-hash*
invalidation: Python loads them without looking at the source's timestamp, which a zip (2-second DOS times,
no time zone) cannot carry faithfully anyway. A bundle is immutable, so the check would only cost time. Code
objects name ``/var/task/...`` so tracebacks point where the files really are, and the hash seed is fixed so
the same source always gives the same ``.pyc``.

The zip is deterministic: entries sorted, fixed timestamps and permissions, so the same inputs give the same
bytes (and the same CodeSha256 on Lambda).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from connector.packaging.targets import PackagingError

LAMBDA_TASK_ROOT = "/var/task"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def byte_compile(root: Path, interpreter: str, prefix: str = LAMBDA_TASK_ROOT) -> list[str]:
    """Compile every ``.py`` under ``root`` with ``interpreter``; returns the files it could not compile."""
    # Reproducible .pyc: a fixed hash seed (set constants are marshalled in hash order) and one process (marshal
    # flags shared objects by reference count, which differs between pool workers). The clean environment keeps
    # the build machine's PYTHON* settings out.
    result = subprocess.run(
        [interpreter, "-S", "-s", "-m", "compileall", "-q", "-j", "1", "--invalidation-mode", "unchecked-hash",
         "-s", str(root), "-p", prefix, str(root)],
        capture_output=True, text=True, check=False, env={"PYTHONHASHSEED": "0", "PATH": os.defpath})
    if result.returncode == 0:
        return []
    failures = [line.strip() for line in result.stdout.splitlines() if line.startswith("***")]
    if not failures:
        raise PackagingError(f"byte-compiling with {interpreter} failed: {(result.stderr or result.stdout)[-1000:]}")
    return failures


def write_zip(roots: Sequence[Path], out: Path, extra: Mapping[str, bytes] | None = None) -> tuple[int, int]:
    """Zip the union of ``roots`` (plus ``extra`` files) into ``out``; returns (unzipped bytes, entries).

    A path present in two roots is an error: one would silently shadow the other on Lambda.
    """
    entries: dict[str, Path | bytes] = {}
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            for name in files:
                path = Path(directory) / name
                arcname = path.relative_to(root).as_posix()
                if arcname in entries:
                    raise PackagingError(f"{arcname} comes from two places; a bundle cannot hold both")
                entries[arcname] = path
    for arcname, data in (extra or {}).items():
        if arcname in entries:
            raise PackagingError(f"{arcname} comes from two places; a bundle cannot hold both")
        entries[arcname] = data
    total = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for arcname in sorted(entries):
            source = entries[arcname]
            info = zipfile.ZipInfo(arcname, ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix: the permission bits below are honoured when Lambda unpacks
            if isinstance(source, bytes):
                info.external_attr = 0o100644 << 16
                archive.writestr(info, source)
                total += len(source)
                continue
            executable = os.stat(source).st_mode & 0o111
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.file_size = source.stat().st_size
            with open(source, "rb") as src, archive.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            total += info.file_size
    os.replace(tmp, out)
    return total, len(entries)

